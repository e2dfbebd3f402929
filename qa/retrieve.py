"""Rank paragraphs for a question: dense similarity over whole paragraphs and their word
windows, with lexical evidence where it helps.

Dense search crosses languages but blurs exact names and numbers; lexical search is sharp on
names but blind across languages. Candidates come from both; each is then scored exactly
from its stored vectors: the whole paragraph's cosine mixed with its best window's (a question
usually targets one clause), plus a bounded lexical bonus. A bonus rather than rank fusion,
because rank fusion lets a lexical-only match of a common word outrank a paragraph the dense
model is sure about. The bonus shrinks with the square of the share of the question's words
the corpus knows at all: an English question over Indonesian articles shares only names and
stray words with them, and trusting those wrecked cross-language ranking (measured on the
dev sets: benchmarks/fusion_dev.py, benchmarks/RESULTS.md). Where the index keeps word
senses, such a question's unknown words are mapped to corpus words first (qa.bridge), and
that search speaks at its own measured weight.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from qa import bridge
from qa.types import Hit

if TYPE_CHECKING:
    from concurrent.futures import Executor

    from index.storage.base import ArticleFilter
    from index.storage.faiss.store import Store
    from qa.bridge import Crossing


@dataclass(frozen=True)
class Fusion:
    """Weights chosen on the dev sets. `window_mix` 0 uses whole paragraphs only;
    `lexical_weight` 0 means dense only."""

    window_mix: float = 0.5
    lexical_weight: float = 0.05
    coverage_power: float = 2.0
    candidates: int = 100


DEFAULT_FUSION = Fusion()

Ranked = tuple[int, float, "float | None", "float | None"]  # id, fused, dense, lexical


def dense_score(whole: float, best_window: float, fusion: Fusion = DEFAULT_FUSION) -> float:
    return fusion.window_mix * max(whole, best_window) + (1 - fusion.window_mix) * whole


def fuse(dense: dict[int, float], lexical: list[tuple[int, float]],
         fusion: Fusion = DEFAULT_FUSION) -> list[Ranked]:
    """(paragraph id, fused, dense, lexical), best first.

    Lexical scores are scaled by the best lexical score for this question, so the bonus is
    relative to how well anything matched the words.
    """
    lex_map = dict(lexical)
    top_lex = max(lex_map.values(), default=0.0)
    floor = min(dense.values(), default=0.0)
    rows = []
    for pid in dense.keys() | lex_map.keys():
        d = dense.get(pid)
        lx = lex_map.get(pid)
        score = d if d is not None else floor
        if lx is not None and top_lex > 0:
            score += fusion.lexical_weight * (lx / top_lex)
        rows.append((pid, score, d, lx))
    rows.sort(key=lambda r: (-r[1], r[0]))
    return rows


def lexical_trust(store: Store, question: str, fusion: Fusion = DEFAULT_FUSION,
                  coverage: float | None = None) -> Fusion:
    """The fusion for this question: lexical weight scaled by the corpus's vocabulary coverage
    (looked up unless the caller already has it)."""
    if not fusion.lexical_weight:
        return fusion
    if coverage is None:
        coverage = store.vocabulary_coverage(question)
    return replace(fusion, lexical_weight=fusion.lexical_weight * coverage ** fusion.coverage_power)


def candidates(store: Store, qvec, question: str, n: int, fusion: Fusion = DEFAULT_FUSION,
               lexical: list[tuple[int, float]] | None = None,
               where: ArticleFilter | None = None
               ) -> tuple[dict[int, float], list[tuple[int, float]]]:
    """Exact dense scores for the union of dense and lexical candidates, and the lexical list
    (searched here unless the caller already has it). With `where`, both searches keep only
    paragraphs of articles that pass it, in the store, before taking their best n."""
    dense_ids = [pid for pid, _ in store.search_dense(qvec, n, where)]
    if lexical is None:
        lexical = store.search_lexical(question, n, where) if fusion.lexical_weight else []
    views = store.view_scores(qvec, dense_ids + [pid for pid, _ in lexical])
    return {pid: dense_score(w, b, fusion) for pid, (w, b) in views.items()}, lexical


def rank(store: Store, qvec, question: str, k: int, fusion: Fusion = DEFAULT_FUSION,
         coverage: float | None = None, lexical: list[tuple[int, float]] | None = None,
         where: ArticleFilter | None = None) -> list[Ranked]:
    fusion = lexical_trust(store, question, fusion, coverage)
    dense, lexical = candidates(store, qvec, question, max(k, fusion.candidates), fusion, lexical,
                                where)
    return fuse(dense, lexical, fusion)[:k]


def retrieve(store: Store, qvec, question: str, k: int = 5,
             fusion: Fusion = DEFAULT_FUSION, coverage: float | None = None,
             lexical: list[tuple[int, float]] | None = None,
             where: ArticleFilter | None = None) -> list[Hit]:
    """`qvec` is the question's embedding, computed once by the caller and reused for
    choosing answer sentences; `coverage` and `lexical` (the store's word search at this
    fusion's depth, under the same `where`) likewise, when the caller already has them
    (see `search`)."""
    ranked = rank(store, qvec, question, k, fusion, coverage, lexical, where)
    stored = store.paragraphs([r[0] for r in ranked])
    by_id = {r[0]: r for r in ranked}
    return [
        Hit(paragraph_id=p.id, article_id=p.article_id, title=p.title, source=p.source,
            paragraph=p.number, line=p.line, text=p.text, score=by_id[p.id][1],
            dense_score=by_id[p.id][2], lexical_score=by_id[p.id][3], metadata=dict(p.metadata))
        for p in stored
    ]


@dataclass(frozen=True)
class Query:
    """A question's embedding, its vocabulary coverage and its hits: what the answer step
    reuses (sentence choice, confidence) after retrieval. A question searched across the
    languages (qa.bridge) also carries its crossing: its token states and mapped words."""

    vector: Any
    coverage: float
    hits: list[Hit]
    crossing: Crossing | None = None


_lexical_pool: Executor | None = None


def _pool() -> Executor:
    global _lexical_pool
    if _lexical_pool is None:
        from concurrent.futures import ThreadPoolExecutor

        _lexical_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="qa-lexical")
    return _lexical_pool


def _lexical_side(store: Store, question: str, n: int, fusion: Fusion,
                  where: ArticleFilter | None) -> tuple[float, list[tuple[int, float]]]:
    coverage = store.vocabulary_coverage(question)
    trusted = lexical_trust(store, question, fusion, coverage)
    return coverage, store.search_lexical(question, n, where) if trusted.lexical_weight else []


def search(store: Store, embedder: Any, question: str, k: int = 5,
           fusion: Fusion = DEFAULT_FUSION, where: ArticleFilter | None = None) -> Query:
    """Embed the question and retrieve, the word search running while the model embeds.

    Neither needs the other's result, and onnxruntime and SQLite both release the GIL, so
    the word side (stemming, vocabulary coverage, BM25: ~1.5 ms a question on IndoSum) hides
    behind the embedding instead of following it. Same hits as embedding, then `retrieve`.
    """
    depth = max(k, fusion.candidates)
    pending = _pool().submit(_lexical_side, store, question, depth, fusion, where)
    qvec = embedder.embed_queries([question])[0]
    coverage, lexical = pending.result()
    crossed = crossed_side(store, embedder, question, coverage, depth, fusion, where)
    if crossed is None:
        return Query(qvec, coverage, retrieve(store, qvec, question, k, fusion, coverage, lexical,
                                              where))
    crossing, bridged, lexical = crossed
    # Coverage 1: the bridged word search has its own measured weight.
    return Query(qvec, coverage, retrieve(store, qvec, question, k, bridged, 1.0, lexical, where),
                 crossing)


def crossed_side(store: Store, embedder: Any, question: str, coverage: float, n: int,
                 fusion: Fusion, where: ArticleFilter | None
                 ) -> tuple[Crossing, Fusion, list[tuple[int, float]]] | None:
    """For a question the bridge maps (qa.bridge): its crossing, the fusion to rank it with,
    and the word search for its known and mapped words; None for any other question."""
    crossing = bridge.cross(store, embedder, question, coverage)
    if crossing is None:
        return None
    weight = bridge.WEIGHT if fusion.lexical_weight else 0.0
    lexical = (store.search_lexical(" ".join(crossing.terms), n, where)
               if crossing.terms and weight else [])
    return crossing, replace(fusion, lexical_weight=weight), lexical
