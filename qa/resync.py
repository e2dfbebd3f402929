"""Re-sync: make the index match the folders and files it follows, from inside `qa chat`.

The same incremental sync that `qa index sync` runs (every recorded source, or the `--corpus`
folder the chat was started with): unchanged articles embed nothing, edited ones only their
changed paragraphs, and every change lands in the store's crash-safe commits.

It writes through a store handle of its own, so it may run on a thread beside the one
answering with `engine.store`: the FAISS store admits one writer and any number of readers
(a reader keeps answering from the generation it has and follows each commit), and a Milvus
Lite file opened twice in one process shares its embedded server (index.storage.milvus.connect
counts the clients), so a second client writes while the first one reads. What cannot be
shared is a sentence-transformers model answering and indexing at once (its tokenizer is not
safe for concurrent use): `runs_beside_answers` tells the caller when to queue instead.

The ONNX model that answers also embeds the new paragraphs (onnxruntime runs concurrent
calls safely); what a large re-sync loads beside it (the bfloat16 runner) is loaded only
once paragraphs need embedding and released when the re-sync ends, so a re-sync that finds
nothing new never grows the process.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from index.errors import UserError
from index.indexing.lifecycle import ChangeReport

if TYPE_CHECKING:
    import numpy as np

    from index.indexing import Progress
    from index.storage.base import IndexStore
    from qa.engine import Engine

Say = Callable[[str], None]


def corpus_folders(store: IndexStore, corpus: Path | None = None) -> list[Path] | None:
    """The folders to sync from: `--corpus DIR` when given; None for the index's recorded
    sources; for an index from an older qa that records none, the bundled seeds when every
    indexed article came from there; otherwise the index does not say, and we refuse."""
    if corpus is not None:
        corpus = Path(corpus).expanduser()
        if not corpus.exists():
            raise UserError(f"corpus folder {corpus} does not exist")
        return [corpus]
    if store.sources():
        return None
    from index.indexing.sources import under
    from qa import paths

    try:
        seeds = paths.seeds_dir().resolve()
    except FileNotFoundError:
        seeds = None
    sources = [a.source for a in store.articles()]
    if seeds is not None and sources and all(under(s, seeds) for s in sources):
        return [seeds]
    raise UserError(
        "this index records no folders to sync (it was made by an older qa); "
        "run `qa index sync DIR` once, or start the chat with: qa chat --corpus DIR"
    )


def runs_beside_answers(engine: Engine) -> bool:
    """Whether a re-sync may run on another thread while `engine` answers. Not when the
    model that answers is the sentence-transformers one that indexes (a model without an
    ONNX export): the two would share one tokenizer."""
    from index.models.embedder import Embedder

    return not isinstance(engine.embedder, Embedder)


class _ModelOnDemand:
    """The engine's indexing model as the library's `Embedder`, fetched at the first text to
    embed. The manifest fields come from the model that answers, which the index was opened
    with (the same model: its ONNX export carries the same fingerprint and prompts)."""

    def __init__(self, engine: Engine, progress: Progress | None) -> None:
        source = engine.embedder
        self.name, self.fingerprint, self.dim = source.name, source.fingerprint, source.dim
        self.query_prompt, self.passage_prompt = source.query_prompt, source.passage_prompt
        self._engine = engine
        self._progress = progress
        self._loaded = False  # the model itself stays the engine's, so releasing it frees it

    def embed_passages(self, texts: Sequence[str], batch_size: int = 32,
                       on_batch: Callable[[int], None] | None = None) -> np.ndarray:
        if not self._loaded:
            if self._progress is not None:
                self._progress("model", 0, 1)
            self._engine.indexing_model()
            self._loaded = True
            if self._progress is not None:
                self._progress("model", 1, 1)
            if on_batch is not None:
                on_batch(0)  # back to the embedding stage on the progress line
        return self._engine.indexing_model().embed_passages(texts, batch_size=batch_size,
                                                            on_batch=on_batch)


def resync(engine: Engine, progress: Progress | None = None, corpus: Path | None = None,
           say: Say | None = None) -> ChangeReport:
    """Sync `engine`'s index with what it follows (or `corpus`); one report for all.

    Runs on the caller's thread and leaves `engine.store` alone (the store follows the new
    generation by itself). `progress(stage, done, total)` is the library's callback, with one
    more stage, "model", while the indexing model loads; `say` hears waits for another
    writer. Raises UserError when there is nothing to sync from, before any model loads.
    """
    from index.indexing.build import manifest_for
    from index.indexing.lifecycle import sync_folder, sync_recorded
    from index.storage import open_store
    from qa.engine import lock_timeout

    total = ChangeReport()
    embedder = _ModelOnDemand(engine, progress)
    try:
        with open_store(engine.index_ref, expect=manifest_for(embedder), writable=True,
                        lock_timeout=lock_timeout()) as store:
            folders = corpus_folders(store, corpus)
            if folders is None:
                total.merge(sync_recorded(store, embedder, progress, say))
            for folder in folders or []:
                total.merge(sync_folder(store, embedder, folder, progress, say))
    finally:
        engine.release_indexing_model()
    return total
