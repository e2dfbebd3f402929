"""Re-sync: make the index match its corpus folder again, from inside `qa chat`.

`index.build` has no incremental sync yet, so this is an honest full rebuild: the same
`build_index` that `qa index build` runs (read -> embed -> write beside the old index ->
swap), using the model the chat already has loaded, followed by reopening the store. The
old index stays in place until the new one is complete, so a failure leaves it untouched.
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from index.errors import UserError

if TYPE_CHECKING:
    from index.build import BuildReport, Progress
    from qa.engine import Engine


def corpus_folders(engine: Engine, corpus: Path | None = None) -> list[Path]:
    """The folder to rebuild from: `--corpus DIR` when given; the bundled seeds when every
    indexed article came from there; otherwise the index does not say, and we refuse."""
    if corpus is not None:
        corpus = Path(corpus).expanduser()
        if not corpus.exists():
            raise UserError(f"corpus folder {corpus} does not exist")
        return [corpus]
    from qa import paths

    try:
        seeds = paths.seeds_dir().resolve()
    except FileNotFoundError:
        seeds = None
    sources = [a.source for a in engine.store.articles()]
    if seeds is not None and sources and all(_inside(s, seeds) for s in sources):
        return [seeds]
    raise UserError(
        "this index does not record which folder it was built from; "
        "start the chat with: qa chat --corpus DIR"
    )


def _inside(source: str, folder: Path) -> bool:
    if "://" in source:
        return False
    try:
        Path(source).resolve().relative_to(folder)
        return True
    except (OSError, ValueError):
        return False


def sync_corpus(engine: Engine, progress: Progress | None = None,
                corpus: Path | None = None) -> BuildReport:
    """Rebuild `engine`'s index from its corpus folder and point `engine.store` at the result.

    Runs on the caller's thread (the chat's engine worker). `progress(stage, done, total)` is
    the library's build callback. Raises UserError when there is nothing to build from; in
    every case `engine.store` is open again afterwards (on the new index, or the old one).
    """
    from index.build import build_index, manifest_for
    from index.store import Store

    folders = corpus_folders(engine, corpus)
    expect = manifest_for(engine.embedder)
    embedder = engine.indexing_model()  # indexing stays on sentence-transformers
    engine.store.close()  # let the build swap the folder even where open files pin it
    try:
        return build_index(folders, engine.index_dir, embedder, progress)
    finally:
        engine.store = Store.open(engine.index_dir, expect=expect)
