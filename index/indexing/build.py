"""read -> paragraphs -> embed -> store, for whole corpora.

A build writes a complete new index beside the old one and swaps it in only when it is
finished, so a bad file, a crash or Ctrl-C never leaves the user without the index they had.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from index.corpus.passages import RECIPE, passage_views
from index.corpus.types import Article
from index.errors import ReadError, UserError

if TYPE_CHECKING:
    from index.indexing import Progress
    from index.models.embedder import Embedder
    from index.storage.base import IndexRef, Manifest


@dataclass
class BuildReport:
    articles: int = 0
    paragraphs: int = 0
    embedded: int = 0
    seconds: float = 0.0
    errors: list[ReadError] = field(default_factory=list)


def manifest_for(embedder: Embedder) -> Manifest:
    from index.storage.base import Manifest

    return Manifest(
        model=embedder.name,
        fingerprint=f"{embedder.fingerprint}+{RECIPE}",
        dim=embedder.dim,
        query_prompt=embedder.query_prompt,
        passage_prompt=embedder.passage_prompt,
    )


def embed_articles(articles: list[Article], embedder: Embedder, progress: Progress | None = None):
    """Vectors for every view of every paragraph, and each paragraph's number of views."""
    per_paragraph = [passage_views(a, p) for a in articles for p in a.paragraphs]
    texts = [t for views in per_paragraph for t in views]
    total = len(texts)
    if progress:
        progress("embed", 0, total)
    on_batch = (lambda done: progress("embed", done, total)) if progress else None
    return embedder.embed_passages(texts, on_batch=on_batch), [len(v) for v in per_paragraph]


def build_index(paths: list[Path], index_ref: IndexRef, embedder: Embedder,
                progress: Progress | None = None) -> BuildReport:
    """Replace the index at `index_ref` with one built from `paths`: a sync into an empty
    index, so articles get the ids `add` and `sync` would give them."""
    from index.indexing.sources import read_articles
    from index.storage import check_replaceable

    check_replaceable(index_ref)  # before minutes of reading and embedding, not after
    started = time.perf_counter()
    sources = read_articles(paths, progress=progress)
    errors = sources.errors
    if not sources.articles:
        raise UserError("nothing to index: " + (errors[0].args[0] if errors else "no readable articles found"))
    report = build_from_articles(sources.articles, index_ref, embedder, progress)
    follow_only(index_ref, paths)
    report.errors = errors
    report.seconds = time.perf_counter() - started
    return report


def follow_only(index_ref: IndexRef, paths: list[Path]) -> None:
    """After a build, the index follows the paths it was built from and nothing else."""
    from index.indexing.recorded import record_sources
    from index.storage import open_store

    with open_store(index_ref, writable=True) as store, store.writer():
        store.forget_sources([s.path for s in store.sources()])
        record_sources(store, paths)


def build_from_articles(articles: list[Article], index_ref: IndexRef, embedder: Embedder,
                        progress: Progress | None = None) -> BuildReport:
    from index.storage import check_replaceable, staged

    check_replaceable(index_ref)
    started = time.perf_counter()
    report = BuildReport()
    vectors, views = embed_articles(articles, embedder, progress)
    with staged(index_ref, manifest_for(embedder)) as store:
        store.add_articles(articles, vectors, views)
    report.articles = len(articles)
    report.paragraphs = sum(len(a.paragraphs) for a in articles)
    report.embedded = len(vectors)
    report.seconds = time.perf_counter() - started
    return report
