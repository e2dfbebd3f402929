"""read -> paragraphs -> embed -> store, for whole corpora.

A build writes a complete new index beside the old one and swaps it in only when it is
finished, so a bad file, a crash or Ctrl-C never leaves the user without the index they had.
"""
from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from index.errors import ReadError, UserError
from index.passages import RECIPE, passage_views
from index.types import Article

if TYPE_CHECKING:
    from index.backends.base import IndexRef
    from index.embedder import Embedder
    from index.store import Manifest

# (stage, done, total): the CLI turns these into a progress bar, tests ignore them.
Progress = Callable[[str, int, int], None]


@dataclass
class BuildReport:
    articles: int = 0
    paragraphs: int = 0
    embedded: int = 0
    seconds: float = 0.0
    errors: list[ReadError] = field(default_factory=list)


def manifest_for(embedder: Embedder) -> Manifest:
    from index.store import Manifest

    return Manifest(
        model=embedder.name,
        fingerprint=f"{embedder.fingerprint}+{RECIPE}",
        dim=embedder.dim,
        query_prompt=embedder.query_prompt,
        passage_prompt=embedder.passage_prompt,
    )


def unique_ids(articles: list[Article]) -> None:
    """Two files with the same name in different folders must not replace each other."""
    import hashlib

    seen: set[str] = set()
    for article in articles:
        if article.id in seen:
            suffix = hashlib.sha1(article.source.encode()).hexdigest()[:8]
            article.id = f"{article.id}-{suffix}"
            for i, p in enumerate(article.paragraphs):
                article.paragraphs[i] = type(p)(**{**p.__dict__, "article_id": article.id})
        seen.add(article.id)


def read_all(paths: list[Path], progress: Progress | None = None) -> tuple[list[Article], list[ReadError]]:
    """Sources are stored absolute, so `qa index sync DIR` later knows which articles lie
    under DIR whatever folder either command ran from; errors keep the path as typed."""
    # Imported here: the readers (HTML, Markdown) are not needed by `qa ask`, which imports
    # this module for `manifest_for` only.
    from index.read import read_paths

    articles: list[Article] = []
    errors: list[ReadError] = []
    for item in read_paths(paths):
        if isinstance(item, ReadError):
            errors.append(item)
        else:
            item.source = os.path.abspath(item.source)
            articles.append(item)
            if progress:
                progress("read", len(articles), 0)
    unique_ids(articles)
    return articles, errors


def embed_articles(articles: list[Article], embedder: Embedder, progress: Progress | None = None):
    """Vectors for every view of every paragraph, and each paragraph's number of views."""
    per_paragraph = [passage_views(a, p) for a in articles for p in a.paragraphs]
    texts = [t for views in per_paragraph for t in views]
    total = len(texts)
    if progress:
        progress("embed", 0, total)
    on_batch = (lambda done: progress("embed", done, total)) if progress else None
    return embedder.embed_passages(texts, on_batch=on_batch), [len(v) for v in per_paragraph]


def build_index(paths: list[Path], index_dir: IndexRef, embedder: Embedder,
                progress: Progress | None = None) -> BuildReport:
    """Replace the index at `index_dir` with one built from `paths`."""
    from index.backends import check_replaceable

    check_replaceable(index_dir)  # before minutes of reading and embedding, not after
    started = time.perf_counter()
    articles, errors = read_all(paths, progress)
    if not articles:
        raise UserError("nothing to index: " + (errors[0].args[0] if errors else "no readable articles found"))
    report = build_from_articles(articles, index_dir, embedder, progress)
    report.errors = errors
    report.seconds = time.perf_counter() - started
    return report


def build_from_articles(articles: list[Article], index_dir: IndexRef, embedder: Embedder,
                        progress: Progress | None = None) -> BuildReport:
    from index.backends import check_replaceable, staged

    check_replaceable(index_dir)
    started = time.perf_counter()
    report = BuildReport()
    vectors, views = embed_articles(articles, embedder, progress)
    with staged(index_dir, manifest_for(embedder)) as store:
        store.add_articles(articles, vectors, views)
    report.articles = len(articles)
    report.paragraphs = sum(len(a.paragraphs) for a in articles)
    report.embedded = len(vectors)
    report.seconds = time.perf_counter() - started
    return report


def swap_in(staging: Path, index_dir: Path) -> None:
    """Move a finished index into place; the old one is removed only after the move.

    Only what qa can prove it wrote is renamed or deleted (`index.store.check_ours`), checked
    again here, at the last moment, however early the caller checked. An empty folder is
    filled rather than replaced, so it stays the same folder: a shell sitting in it
    (`--index .`), a mount point, its permissions."""
    from index.store import DB_NAME, check_ours

    check_ours(index_dir)
    retired = index_dir.with_name(f".{index_dir.name}.old")
    if os.path.lexists(retired):
        check_ours(retired)
        shutil.rmtree(retired)
    if index_dir.is_dir() and not any(index_dir.iterdir()):
        # The database last: until it is there the folder is not an index, never half of one.
        entries = sorted(staging.iterdir(), key=lambda p: p.name == DB_NAME)
        for entry in entries:
            entry.rename(index_dir / entry.name)
        staging.rmdir()
        return
    if index_dir.exists():
        index_dir.rename(retired)
    staging.rename(index_dir)
    if retired.exists():
        shutil.rmtree(retired)


def recover_swap(index_dir: Path) -> None:
    """A swap killed between its two renames leaves no index at the path and the previous
    one beside it: put the previous one back (the new one was never committed to the path).
    A `.NAME.old` folder that is not a qa index is someone else's and is left alone."""
    from index.store import IndexStoreError, check_ours

    retired = index_dir.with_name(f".{index_dir.name}.old")
    if os.path.lexists(index_dir) or not retired.is_dir() or retired.is_symlink():
        return
    try:
        check_ours(retired)
    except IndexStoreError:
        return
    retired.rename(index_dir)
