"""Re-sync: make the index match the folders and files it follows, from inside `qa chat`.

The same incremental sync that `qa index sync` runs (every recorded source, or the `--corpus`
folder the chat was started with), with the model the chat already has loaded: unchanged articles embed nothing, edited ones only their
changed paragraphs, and every change lands in the store's crash-safe commits. The engine's
read-only store is reopened afterwards so it sees the new generation.
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from index.errors import UserError
from index.indexing.lifecycle import ChangeReport

if TYPE_CHECKING:
    from index.indexing import Progress
    from qa.engine import Engine


def corpus_folders(engine: Engine, corpus: Path | None = None) -> list[Path] | None:
    """The folders to sync from: `--corpus DIR` when given; None for the index's recorded
    sources; for an index from an older qa that records none, the bundled seeds when every
    indexed article came from there; otherwise the index does not say, and we refuse."""
    if corpus is not None:
        corpus = Path(corpus).expanduser()
        if not corpus.exists():
            raise UserError(f"corpus folder {corpus} does not exist")
        return [corpus]
    if engine.store.sources():
        return None
    from qa import paths

    try:
        seeds = paths.seeds_dir().resolve()
    except FileNotFoundError:
        seeds = None
    sources = [a.source for a in engine.store.articles()]
    if seeds is not None and sources and all(_inside(s, seeds) for s in sources):
        return [seeds]
    raise UserError(
        "this index records no folders to sync (it was made by an older qa); "
        "run `qa index sync DIR` once, or start the chat with: qa chat --corpus DIR"
    )


def _inside(source: str, folder: Path) -> bool:
    if "://" in source:
        return False
    try:
        Path(source).resolve().relative_to(folder)
        return True
    except (OSError, ValueError):
        return False


def resync(engine: Engine, progress: Progress | None = None,
           corpus: Path | None = None) -> ChangeReport:
    """Sync `engine`'s index with what it follows (or `corpus`) and reopen `engine.store` on the result;
    one report for all the folders.

    Runs on the caller's thread (the chat's engine worker). `progress(stage, done, total)` is
    the library's callback. Raises UserError when there is nothing to sync from; in every
    case `engine.store` is open again afterwards.
    """
    from index.indexing.build import manifest_for
    from index.indexing.lifecycle import open_writable, sync_folder, sync_recorded
    from index.storage import open_store

    folders = corpus_folders(engine, corpus)
    expect = manifest_for(engine.embedder)
    embedder = engine.indexing_model()  # indexing stays on sentence-transformers
    total = ChangeReport()
    engine.store.close()  # an embedded Milvus Lite file admits one open client per process
    try:
        with open_writable(engine.index_ref, embedder, create=False) as store:
            if folders is None:
                total.merge(sync_recorded(store, embedder, progress))
            for folder in folders or []:
                total.merge(sync_folder(store, embedder, folder, progress))
    finally:
        engine.store = open_store(engine.index_ref, expect=expect)
    return total
