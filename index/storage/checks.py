"""Checks and preparation every backend applies the same way: a batch of articles and their
vectors before it is written, a query vector before it is searched, the model an index was
built with, and the view ids `verify` compares. Written once here so that the backends agree
to the bit (a vector re-used from one index and written to another must not move).

numpy is imported inside functions so that importing this module stays instant.
"""
from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from index.corpus.published import DATELINE_PARAGRAPHS, Provenance, provenance
from index.storage.base import MODEL_KEYS, VIEW_SLOTS, ModelMismatchError

if TYPE_CHECKING:
    import numpy as np

    from index.corpus.types import Article
    from index.storage.base import IndexRef, Manifest

_FLOAT32_NORM_TOLERANCE = 1e-3  # how far from unit length a vector may come back
# |norm - 1| up to which a row counts as already normalised: what verify accepts as unit.
UNIT_TOLERANCE = _FLOAT32_NORM_TOLERANCE


def text_hash(text: str) -> str:
    """The hash a paragraph's text is stored under, so an unchanged paragraph's vectors can
    be found again (by a sync, or a migration to another backend)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def checked_batch(articles: Sequence[Article], vectors: Any, views: Sequence[int] | None,
                  dim: int) -> tuple[list[str], list[int], np.ndarray]:
    """(article ids, views per paragraph, unit vectors) of a batch `add_articles` was given,
    or ValueError for one that no backend may store: an article id twice, view counts that
    do not fit the paragraphs, vectors of the wrong shape or without a direction."""
    ids = [a.id for a in articles]
    if len(set(ids)) != len(ids):
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        raise ValueError(f"article ids repeated in one batch: {dupes}")
    n_paragraphs = sum(len(a.paragraphs) for a in articles)
    counts = [1] * n_paragraphs if views is None else [int(v) for v in views]
    if len(counts) != n_paragraphs or any(not 1 <= c <= VIEW_SLOTS for c in counts):
        raise ValueError(f"views must give 1..{VIEW_SLOTS} vectors for each of the "
                         f"{n_paragraphs} paragraphs")
    return ids, counts, prepare_vectors(vectors, sum(counts), dim)


def article_provenance(article: Article) -> Provenance:
    """The publication date and outlet key an article is stored with, which filters compare
    (index.corpus.published; the FAISS upgrade to schema 6 computes them from the same
    metadata and first paragraphs)."""
    return provenance(article.metadata, [p.text for p in article.paragraphs[:DATELINE_PARAGRAPHS]])


def prepare_vectors(vectors: Any, rows: int, dim: int) -> np.ndarray:
    import numpy as np

    vecs = np.asarray(vectors, dtype=np.float32)
    if rows == 0 and vecs.size == 0:
        return np.zeros((0, dim), dtype=np.float32)
    if vecs.ndim != 2 or vecs.shape != (rows, dim):
        raise ValueError(f"expected vectors of shape ({rows}, {dim}), got {vecs.shape}")
    if not np.all(np.isfinite(vecs)):
        raise ValueError("vectors contain NaN or infinity")
    norms = np.linalg.norm(vecs, axis=1, keepdims=True)
    if np.any(norms == 0):
        raise ValueError("vectors contain an all-zero row, which has no direction to compare")
    # Rows already of unit length are kept bit for bit: dividing a unit vector by its norm
    # again moves its last bits (differently on another CPU), so a paragraph's re-used or
    # migrated vectors would no longer be the ones stored. float16 (the FAISS backend's
    # vectors table) keeps a unit vector's norm within 2**-11 of 1, well inside the tolerance.
    far = np.abs(norms - 1.0) > UNIT_TOLERANCE
    if not far.any():
        return np.ascontiguousarray(vecs)
    return np.ascontiguousarray(np.where(far, vecs / norms, vecs), dtype=np.float32)


def unit_query(qvec: Any, dim: int) -> np.ndarray | None:
    """The query as a unit float32 row of `dim` values; None for one without a direction
    (all zero, or not finite), which matches nothing."""
    import numpy as np

    q = np.asarray(qvec, dtype=np.float32).reshape(-1)
    if q.shape[0] != dim:
        raise ValueError(f"query vector has dimension {q.shape[0]}, the index expects {dim}")
    norm = float(np.linalg.norm(q))
    if not np.isfinite(norm) or norm == 0.0:
        return None
    return np.ascontiguousarray(q / norm, dtype=np.float32)


def check_model(ref: IndexRef, have: Manifest, want: Manifest) -> None:
    """Refuse (ModelMismatchError) to mix vectors of the model an index was built with and
    queries or articles embedded with another model or other prompts."""
    diffs = [f"{key}: index has {getattr(have, key)!r}, asked for {getattr(want, key)!r}"
             for key in MODEL_KEYS if getattr(have, key) != getattr(want, key)]
    if diffs:
        raise ModelMismatchError(ref, have, want, diffs)


def check_model_name(ref: IndexRef, have: Manifest, name: str) -> None:
    """`check_model` for a model known only by name, before it is loaded: another name than
    the index's already refuses, and loading a model through sentence-transformers takes
    seconds only to be told no."""
    if name != have.model:
        check_model(ref, have, replace(have, model=name))


def view_id_problems(where: str, missing: set[int], unknown: set[int],
                     unknown_label: str = "unknown to SQLite in") -> list[str]:
    """`verify` lines for paragraph views one side holds and the other lacks, shown as
    paragraph/view (the way a user can look them up) rather than as packed vector ids."""
    problems = []
    for label, ids in (("missing from", missing), (unknown_label, unknown)):
        if ids:
            shown = ", ".join(f"{i // VIEW_SLOTS}/{i % VIEW_SLOTS}" for i in sorted(ids)[:5])
            problems.append(f"{len(ids)} paragraph views (paragraph/view) {label} {where}: {shown}")
    return problems


def whole_and_best(view_ids: Any, sims: Any) -> dict[int, tuple[float, float]]:
    """(whole-paragraph cosine, best window cosine) per paragraph from the cosines of its
    views, in any order. The ranking mixes the two, so both backends must reduce alike: a
    paragraph without windows repeats its whole score, and one whose whole view (view 0) was
    not scored is left out rather than ranked on a window alone."""
    import numpy as np

    keys = np.asarray(view_ids, dtype=np.int64)
    if not len(keys):
        return {}
    order = np.argsort(keys, kind="stable")
    keys, sims = keys[order], np.asarray(sims)[order]
    pids = keys // VIEW_SLOTS
    starts = np.flatnonzero(np.r_[True, pids[1:] != pids[:-1]])
    has_whole = keys[starts] % VIEW_SLOTS == 0
    whole = sims[starts]
    windows = sims.copy()
    windows[starts[has_whole]] = -np.inf
    best = np.maximum.reduceat(windows, starts)
    best = np.where(np.isneginf(best), whole, best)
    return {int(pid): (float(w), float(b))
            for pid, w, b, ok in zip(pids[starts], whole, best, has_whole) if ok}
