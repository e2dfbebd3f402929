"""read -> paragraphs -> embed -> store, for whole corpora.

A build writes a complete new index beside the old one and swaps it in only when it is
finished, so a bad file, a crash or Ctrl-C never leaves the user without the index they had.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from index.corpus.passages import RECIPE
from index.corpus.types import Article
from index.errors import ReadError, UserError

if TYPE_CHECKING:
    from index.indexing import Progress
    from index.models.embedder import Embedder
    from index.storage.base import IndexRef, IndexStore, Manifest


@dataclass
class BuildReport:
    articles: int = 0
    paragraphs: int = 0
    embedded: int = 0  # vectors embedded: a text repeated in the corpus is embedded once
    seconds: float = 0.0
    embed_seconds: float = 0.0  # of `seconds`, spent embedding
    tokens_embedded: int = 0  # 0 where the model does not count them (sentence-transformers)
    errors: list[ReadError] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        from index.indexing.chunked import per_second

        return {"articles": self.articles, "paragraphs": self.paragraphs,
                "vectors_embedded": self.embedded, "seconds": round(self.seconds, 3),
                "texts_per_second": per_second(self.embedded, self.embed_seconds),
                "tokens_per_second": per_second(self.tokens_embedded, self.embed_seconds),
                "errors": [str(e) for e in self.errors]}


def manifest_for(embedder: Embedder) -> Manifest:
    from index.storage.base import Manifest

    return Manifest(
        model=embedder.name,
        fingerprint=f"{embedder.fingerprint}+{RECIPE}",
        dim=embedder.dim,
        query_prompt=embedder.query_prompt,
        passage_prompt=embedder.passage_prompt,
    )


def build_index(paths: list[Path], index_ref: IndexRef, embedder: Embedder,
                progress: Progress | None = None, *, lock_timeout: float | None = None,
                say: Callable[[str], None] | None = None) -> BuildReport:
    """Replace the index at `index_ref` with one built from `paths`: a sync into an empty
    index, so articles get the ids `add` and `sync` would give them.

    The index's writer lock is held from before the first file is read to the swap (see
    `index.storage.staged`): an add meanwhile waits and then finds the index replaced, a
    second build waits for this one, and the built index follows `paths` and nothing else."""
    from index.indexing.recorded import record_sources
    from index.indexing.sources import read_articles
    from index.storage import check_replaceable, staged

    check_replaceable(index_ref)  # before minutes of reading and embedding, not after
    started = time.perf_counter()
    with staged(index_ref, manifest_for(embedder), lock_timeout, say) as store:
        sources = read_articles(paths, progress=progress)
        errors = sources.errors
        if not sources.articles:
            raise UserError("nothing to index: " + (errors[0].args[0] if errors else "no readable articles found"))
        report = fill(store, sources.articles, embedder, progress)
        with store.writer():
            record_sources(store, paths)
    report.errors = errors
    report.seconds = time.perf_counter() - started
    return report


def build_from_articles(articles: list[Article], index_ref: IndexRef, embedder: Embedder,
                        progress: Progress | None = None, *, lock_timeout: float | None = None,
                        say: Callable[[str], None] | None = None) -> BuildReport:
    """A new index of `articles` beside the old one, swapped in when complete."""
    from index.storage import check_replaceable, staged

    check_replaceable(index_ref)
    started = time.perf_counter()
    with staged(index_ref, manifest_for(embedder), lock_timeout, say) as store:
        report = fill(store, articles, embedder, progress)
    report.seconds = time.perf_counter() - started
    return report


def fill(store: IndexStore, articles: list[Article], embedder: Embedder,
         progress: Progress | None = None) -> BuildReport:
    """Write `articles` into the new, empty `store` as an add writes, a chunk at a time, so
    a build's memory does not grow with the corpus."""
    from index.heap import hand_back_free_memory
    from index.indexing.chunked import ChunkedEmbedding, commit_chunks, save_senses

    started = time.perf_counter()
    report = BuildReport()
    embedding = ChunkedEmbedding(store, embedder, articles, progress)
    chunks = commit_chunks(articles)
    for n, chunk in enumerate(chunks):
        rows, views = embedding.rows(chunk)
        with store.writer():
            store.add_articles(chunk, rows, views)
            save_senses(store, embedding)
        del rows
        hand_back_free_memory()
        if progress:
            progress("save", n + 1, len(chunks))
    report.articles = len(articles)
    report.paragraphs = sum(len(a.paragraphs) for a in articles)
    report.embedded = embedding.total
    report.embed_seconds, report.tokens_embedded = embedding.seconds, embedding.tokens
    report.seconds = time.perf_counter() - started
    return report
