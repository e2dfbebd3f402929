"""Embed many articles a commit's chunk at a time, embedding only what the index lacks.

Shared by `index.indexing.lifecycle` (add, sync) and `index.indexing.build` (build, rebuild),
so every way of indexing holds one chunk's vectors at most, whatever the size of the corpus.
"""
from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from index.corpus.types import Article
from index.models import DEFAULT_MODEL
from index.models.word_senses import WordSenses

if TYPE_CHECKING:
    from index.indexing import Progress
    from index.models.embedder import Embedder
    from index.storage.base import IndexStore as Store

# An add of a whole corpus commits every so many paragraphs, so an interrupted first add
# (Ctrl-C, a crash, a laptop lid) keeps what was embedded and the next add resumes there.
# The chunk grows with the work done, because every commit rewrites the whole vectors file:
# doubling keeps the total written within about twice the final file. It stops growing at
# COMMIT_MAX_PARAGRAPHS, whose vectors (about 15,000 with their windows, 23 MB, held twice
# while they are put in order) are what a chunk holds in memory: past that, rewriting the file
# once more costs less than the memory. The chunk's vectors add to the largest moment of an
# add, when a flat index near its threshold grows (benchmarks/index_memory.py, RESULTS.md).
COMMIT_MIN_PARAGRAPHS = 2000
COMMIT_MAX_PARAGRAPHS = 3000
_REUSE_SLICE = 2000  # text hashes per lookup of reusable vectors


def _text_hash(text: str) -> str:
    # The store's own hash, so lookups by text_hash match what it recorded.
    from index.storage.checks import text_hash as store_hash

    return store_hash(text)


class ChunkedEmbedding:
    """Vectors for the paragraphs of articles to write, embedding only texts the index
    lacks; a text repeated in a chunk is embedded once. Planned for all articles first, so
    the progress bar has one total however many commits the work is split into.

    Memory is bounded by a commit's chunk, not by the corpus: the plan keeps a hash and a
    view count per paragraph (the window texts are made again when their chunk is embedded),
    reusable vectors are read from the store chunk by chunk, and a chunk's vectors are let go
    once it is committed. A text embedded for an earlier chunk is read back from the store."""

    def __init__(self, store: Store, embedder: Embedder, articles: list[Article],
                 progress: Progress | None) -> None:
        from index.corpus.passages import passage_views

        self.store = store
        self.embedder = embedder
        self.progress = progress
        self.views = {id(p): (_text_hash(p.text), len(passage_views(a, p)))
                      for a in articles for p in a.paragraphs}
        wanted = dict(self.views.values())
        reusable = self._stored(wanted)
        todo = {h: n for h, n in wanted.items() if h not in reusable}
        self.total = sum(todo.values())
        self.paragraphs_embedded = len(todo)
        self.paragraphs_reused = len(self.views) - len(todo)
        self.done = 0
        self.seconds = 0.0  # spent in the model, for the rate a report gives
        self.tokens = 0
        # The last chunk's word senses (index.models.word_senses), read from the same encoder
        # run for the model the bridge was measured with, where the store keeps them.
        self.senses: WordSenses | None = None
        self._read_senses = (getattr(store, "keeps_word_senses", False)
                             and getattr(embedder, "reads_word_senses", False)
                             and embedder.name == DEFAULT_MODEL)
        if progress and self.total:
            progress("embed", 0, self.total)

    def _stored(self, wanted: dict[str, int], keep: bool = False) -> dict[str, Any]:
        """Stored vectors for the hashes in `wanted` whose view count matches (one embedded
        under another recipe cannot be reused), looked up in slices; `keep` False keeps only
        the view counts, so planning a huge add never holds its reusable vectors."""
        found: dict[str, Any] = {}
        hashes = list(wanted)
        for start in range(0, len(hashes), _REUSE_SLICE):
            for text_hash, vecs in self.store.stored_views(hashes[start:start + _REUSE_SLICE]).items():
                if len(vecs) == wanted[text_hash]:
                    found[text_hash] = vecs if keep else len(vecs)
        return found

    def rows(self, articles: list[Article]):
        """(vectors in article/paragraph/view order, views per paragraph) for `articles`;
        the words of the paragraphs embedded for them are in `senses` until the next call."""
        import numpy as np

        from index.corpus.passages import passage_views

        self.senses = None
        wanted = {self.views[id(p)][0]: self.views[id(p)][1] for a in articles for p in a.paragraphs}
        have = self._stored(wanted, keep=True)
        todo: dict[str, list[str]] = {}
        for a in articles:
            for p in a.paragraphs:
                text_hash = self.views[id(p)][0]
                if text_hash not in have and text_hash not in todo:
                    todo[text_hash] = passage_views(a, p)
        texts = [t for views in todo.values() for t in views]
        if texts:
            base, total, progress = self.done, self.total, self.progress
            on_batch = (lambda n: progress("embed", base + n, total)) if progress else None
            counted = getattr(self.embedder, "tokens_embedded", None)
            started = time.perf_counter()
            if self._read_senses:
                # Each paragraph's whole text (its first view); its windows repeat its words.
                read = [n == 0 for views in todo.values() for n in range(len(views))]
                self.senses = WordSenses()
                fresh = self.embedder.embed_passages(texts, on_batch=on_batch,
                                                     senses=self.senses, read=read)
            else:
                fresh = self.embedder.embed_passages(texts, on_batch=on_batch)
            self.seconds += time.perf_counter() - started
            after = getattr(self.embedder, "tokens_embedded", None)
            if isinstance(counted, int) and isinstance(after, int):
                self.tokens += after - counted
            start = 0
            for text_hash, views in todo.items():
                have[text_hash] = fresh[start:start + len(views)]
                start += len(views)
            self.done += len(texts)
        keys = [self.views[id(p)] for a in articles for p in a.paragraphs]
        if not keys:
            return np.zeros((0, self.embedder.dim), dtype=np.float32), []
        return np.concatenate([have[h] for h, _ in keys]), [n for _, n in keys]


def kept_rows(articles: list[Article], keep: list[bool], rows: Any,
              views: list[int]) -> tuple[Any, list[int]]:
    """The rows and view counts of the kept articles, out of those of all `articles`."""
    take: list[int] = []
    counts: list[int] = []
    row = paragraph = 0
    for article, kept in zip(articles, keep):
        mine = views[paragraph:paragraph + len(article.paragraphs)]
        if kept:
            take.extend(range(row, row + sum(mine)))
            counts.extend(mine)
        row += sum(mine)
        paragraph += len(article.paragraphs)
    return rows[take], counts


def commit_chunks(articles: list[Article]) -> list[list[Article]]:
    """The articles in commit-sized runs, in order (see COMMIT_MAX_PARAGRAPHS)."""
    chunks: list[list[Article]] = []
    current: list[Article] = []
    size = done = 0
    for article in articles:
        current.append(article)
        size += len(article.paragraphs)
        if size >= min(max(COMMIT_MIN_PARAGRAPHS, done), COMMIT_MAX_PARAGRAPHS):
            chunks.append(current)
            done += size
            current, size = [], 0
    if current or not chunks:
        chunks.append(current)
    return chunks


def per_second(count: int, seconds: float) -> float | None:
    """A report's rate (texts or tokens a second), or None where nothing was embedded."""
    return round(count / seconds, 1) if count and seconds > 0 else None


def save_senses(store: Store, embedding: ChunkedEmbedding) -> None:
    """Store the last chunk's word senses, inside the caller's write when it holds one."""
    if embedding.senses is not None:
        store.add_word_senses(embedding.senses)
