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
    shown = _shortened(shown)
    _check_lengths(folder, what, shown)
    try:
        if folder.exists() and not folder.is_dir():
            raise UserError(f"{what} {shown}: a file, not an index folder; choose an empty or "
                            "new folder")
        for parent in folder.parents:
            if parent.exists():
                if not parent.is_dir():
                    raise UserError(f"{what} {shown}: {parent} is a file, not a folder")
                break
    except OSError as exc:  # a symlink loop, a folder that cannot be looked into
        raise UserError(f"{what} {shown}: cannot be used as an index folder "
                        f"({exc.strerror or exc})") from None
    return folder


# qa puts `.NAME.building` and `.NAME.old` beside an index folder and files of up to about 50
# bytes in them: a name or a path without room for those would fail half-way through a build.
_BESIDE_BYTES = len("..building")
_INSIDE_BYTES = 64


def _check_lengths(folder: Path, what: str, shown: str) -> None:
    """Refuse a folder name or path the file system cannot hold (ENAMETOOLONG), with room
    for what qa writes beside and in it, before any work."""
    name_max, path_max = _limits(folder)
    parts = folder.parts[1:]
    for n, part in enumerate(parts):
        beside = _BESIDE_BYTES if n == len(parts) - 1 else 0
        if len(os.fsencode(part)) + beside > name_max:
            allowed = name_max - beside
            raise UserError(f"{what} {shown}: the name {_shortened(part, 40)} is "
                            f"{len(os.fsencode(part))} bytes; a folder name may have at most "
                            f"{allowed} here")
    size = len(os.fsencode(folder)) + _BESIDE_BYTES + _INSIDE_BYTES
    if size >= path_max:
        most = path_max - 1 - _BESIDE_BYTES - _INSIDE_BYTES
        raise UserError(f"{what} {shown}: the path is {len(os.fsencode(folder))} bytes, too "
                        f"long for the file system (at most {most} for an index folder); "
                        "choose a shorter one")


def _limits(folder: Path) -> tuple[int, int]:
    """The longest name and path the file system holding `folder` takes."""
    for parent in (folder, *folder.parents):
        if os.path.isdir(parent):  # False for a path too long to look up
            try:
                return os.pathconf(parent, "PC_NAME_MAX"), os.pathconf(parent, "PC_PATH_MAX")
            except (OSError, ValueError):
                break
    return 255, 4096


def _shortened(text: str, keep: int = 120) -> str:
    """A path of thousands of characters, cut in the middle so the line stays readable."""
    return text if len(text) <= keep else f"{text[:keep * 2 // 3]}…{text[-(keep // 3):]}"


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


def wait_for_writer(ref: IndexRef, lock_timeout: float | None = None,
                    on_wait: Callable[[str], None] | None = None) -> None:
    """Return once no other process holds the index's writer lock (IndexLockedError after
    `lock_timeout`). An add opens the index after this, so one that starts while a build
    runs waits for the build and then adds to the index it made, instead of reading and
    embedding against the index the build is about to replace. Milvus Lite waits in its
    own open; a Milvus server has no lock to wait for."""
    if not isinstance(ref, Path):
        return
    from index.storage.base import DEFAULT_LOCK_TIMEOUT
    from index.storage.faiss.folder import LOCK_NAME, acquire, file_lock

    if not os.path.lexists(ref / LOCK_NAME):  # nobody holds it; never add one to a user's folder
        return
    timeout = DEFAULT_LOCK_TIMEOUT if lock_timeout is None else lock_timeout
    with acquire(file_lock(ref), ref, timeout, on_wait=on_wait):
        pass


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
def staged(ref: IndexRef, manifest: Manifest, lock_timeout: float | None = None,
           on_wait: Callable[[str], None] | None = None) -> Iterator[IndexStore]:
    """An empty new index that replaces the one at `ref` only when the block completes, so a
    bad input, a crash or Ctrl-C during a build never costs the user the index they had.

    The index's writer lock is held from entry to the swap (waiting up to `lock_timeout`
    seconds for another writer, `on_wait` told why): a build's reading and embedding belong
    inside the block, so nothing another process commits meanwhile is lost in the swap, and
    two builds of one index run one after the other."""
    if isinstance(ref, MilvusRef):
        from index.storage.milvus import store as milvus

        with milvus.staged(ref, manifest, on_wait=on_wait, **_timeout(lock_timeout)) as store:
            yield store
        return
    from index.storage.faiss.staging import staged as staged_folder

    with staged_folder(ref, manifest, on_wait=on_wait, **_timeout(lock_timeout)) as store:
        yield store
