"""Choosing and opening a storage backend: the only place that knows which ones exist.

An index is named by an `IndexRef`: a folder for the FAISS + SQLite backend, a `MilvusRef`
(URI and collection) for Milvus. Which one the user meant is read from the command line in
`qa.index_options`; everything above this module handles an `IndexRef` and an `IndexStore`
without looking inside.
"""
from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from index.storage.base import IndexRef, MilvusRef
from index.errors import UserError

if TYPE_CHECKING:
    from index.storage.base import IndexStore, Manifest


def folder_path(path: Path, what: str = "--index") -> Path:
    """`path` made absolute, or a one-line UserError for a path no index folder can have.

    Every command names its folder through `qa.index_options.resolve`, so this is the one
    place that refuses the filesystem root (`--index /`, whose name is empty: no place beside it to build in),
    a path that is not valid UTF-8 (SQLite opens files by UTF-8 URI), and an existing file
    where a folder should be or should go. `--index .` is the current folder, by its name."""
    raw = os.fsencode(path.expanduser())
    shown = raw.decode("utf-8", "backslashreplace")
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        raise UserError(f"{what} {shown}: the path is not valid UTF-8; rename the folder or "
                        "choose another one") from None
    folder = Path(os.path.abspath(path.expanduser()))
    if not folder.name:
        raise UserError(f"{what} {shown}: the filesystem root cannot be an index folder; "
                        "choose an empty or new folder")
    if folder.exists() and not folder.is_dir():
        raise UserError(f"{what} {shown}: a file, not an index folder; choose an empty or "
                        "new folder")
    for parent in folder.parents:
        if parent.exists():
            if not parent.is_dir():
                raise UserError(f"{what} {shown}: {parent} is a file, not a folder")
            break
    return folder


def check_replaceable(ref: IndexRef) -> None:
    """Refuse, before any work, a build or copy whose result would replace something qa did
    not write (see index.storage.faiss.folder.check_ours); a Milvus collection is always qa's own."""
    if isinstance(ref, Path):
        from index.storage.faiss.folder import check_ours

        check_ours(ref)


def _timeout(lock_timeout: float | None) -> dict:
    return {} if lock_timeout is None else {"lock_timeout": lock_timeout}


def recover(ref: IndexRef) -> None:
    """Undo a FAISS build that died between its two renames; Milvus switches in one row."""
    if isinstance(ref, Path):
        from index.storage.faiss.staging import recover_swap

        recover_swap(ref)


def exists(ref: IndexRef, lock_timeout: float | None = None) -> bool:
    """Whether a complete index is there (an interrupted first build does not count)."""
    if isinstance(ref, MilvusRef):
        from index.storage.milvus.store import MilvusStore

        return MilvusStore.exists(ref, **_timeout(lock_timeout))
    from index.storage.faiss.folder import DB_NAME, is_complete

    return is_complete(ref / DB_NAME)


def open_store(ref: IndexRef, expect: Manifest | None = None, writable: bool = False,
               lock_timeout: float | None = None,
               on_upgrade: Callable[[str], None] | None = None) -> IndexStore:
    """`on_upgrade` hears when an index from an older qa is upgraded on this open."""
    if isinstance(ref, MilvusRef):
        from index.storage.milvus.store import MilvusStore

        return MilvusStore.open(ref, expect=expect, writable=writable, **_timeout(lock_timeout))
    from index.storage.faiss.store import Store

    return Store.open(ref, expect=expect, writable=writable, on_upgrade=on_upgrade,
                      **_timeout(lock_timeout))


def create_store(ref: IndexRef, manifest: Manifest, overwrite: bool = False,
                 lock_timeout: float | None = None) -> IndexStore:
    if isinstance(ref, MilvusRef):
        from index.storage.milvus.store import MilvusStore

        return MilvusStore.create(ref, manifest, overwrite=overwrite, **_timeout(lock_timeout))
    from index.storage.faiss.store import Store

    return Store.create(ref, manifest, overwrite=overwrite, **_timeout(lock_timeout))


@contextlib.contextmanager
def staged(ref: IndexRef, manifest: Manifest) -> Iterator[IndexStore]:
    """An empty new index that replaces the one at `ref` only when the block completes, so a
    bad input, a crash or Ctrl-C during a build never costs the user the index they had."""
    if isinstance(ref, MilvusRef):
        from index.storage.milvus import store as milvus

        with milvus.staged(ref, manifest) as store:
            yield store
        return
    from index.storage.faiss.staging import staged as staged_folder

    with staged_folder(ref, manifest) as store:
        yield store
