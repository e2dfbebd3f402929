"""Open an index together with the model that built it: the one entry point for CLI and TUI.

The index's manifest names its model, so a user who never passes `--model` always queries
with the right one; an explicit `--model`/`QA_MODEL` that differs is refused with the
rebuild command instead of returning confident nonsense.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from index.errors import UserError
from qa import paths

if TYPE_CHECKING:
    from index.backends.base import IndexRef, IndexStore
    from index.build import BuildReport, Progress
    from index.embedder import Embedder


@dataclass
class Engine:
    store: IndexStore
    embedder: Embedder
    index_dir: IndexRef  # a folder, or a Milvus location: see index.backends

    def close(self) -> None:
        self.store.close()


def load_model(name: str | None, say: Callable[[str], None] | None = None) -> Embedder:
    from index.embedder import load_embedder

    try:
        return load_embedder(name or paths.model_name(), paths.cache_dir(), progress=say)
    except UserError:
        raise
    except (OSError, ValueError) as exc:
        raise UserError(f"cannot load model '{name or paths.model_name()}': {exc}") from None


def recover_interrupted_swap(index_dir: IndexRef) -> None:
    """A build that died between its two renames leaves the old index beside the path."""
    from index.backends import recover

    recover(index_dir)


def build(sources: list[Path] | None, index_dir: IndexRef, model: str | None,
          progress: Progress | None = None, say: Callable[[str], None] | None = None) -> BuildReport:
    from index.build import build_index

    embedder = load_model(model, say)
    return build_index(sources or [paths.seeds_dir()], index_dir, embedder, progress)


def open_engine(index_dir: IndexRef, model: str | None, *, build_default: bool,
                progress: Progress | None = None,
                say: Callable[[str], None] | None = None) -> Engine:
    """`model` is what the user asked for explicitly (None: use the index's own model)."""
    from index.backends import cli_args, exists, open_store
    from index.build import build_index, manifest_for
    from index.store import IndexMissingError

    recover_interrupted_swap(index_dir)
    if not exists(index_dir):
        if not build_default:
            raise UserError(
                f"no index at {index_dir}; create one with: qa index build "
                f"{cli_args(index_dir)} PATH..."
            )
        if say:
            say(f"No index yet: building the default index from the bundled articles in {index_dir}")
        embedder = load_model(model, say)
        build_index([paths.seeds_dir()], index_dir, embedder, progress)
        return Engine(store=open_store(index_dir, expect=manifest_for(embedder)),
                      embedder=embedder, index_dir=index_dir)
    try:
        peek = open_store(index_dir)
    except IndexMissingError as exc:
        raise UserError(str(exc)) from None
    wanted = model or peek.manifest.model
    peek.close()
    embedder = load_model(wanted, say)
    store = open_store(index_dir, expect=manifest_for(embedder))
    return Engine(store=store, embedder=embedder, index_dir=index_dir)
