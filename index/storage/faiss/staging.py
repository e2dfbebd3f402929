"""Building a FAISS index folder beside the old one and swapping it in: the user keeps the
index they had until the new one is complete, and a swap killed half-way is undone on the next
open."""
from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from index.storage.base import DEFAULT_LOCK_TIMEOUT, IndexStoreError
from index.storage.faiss.folder import (DB_NAME, LOCK_NAME, acquire, check_ours, file_lock,
                                        make_folder, retired_path)
from index.storage.faiss.store import Store

if TYPE_CHECKING:
    from index.storage.base import Manifest


@contextlib.contextmanager
def staged(ref: Path, manifest: Manifest, *, lock_timeout: float = DEFAULT_LOCK_TIMEOUT,
           on_wait: Callable[[str], None] | None = None) -> Iterator[Store]:
    """An empty index in `.NAME.building`, swapped in for `ref` when the block completes.

    The index's write lock is held from the start of the block to the swap (a new index's
    folder is made to hold it): an add or remove meanwhile waits, then finds the index
    replaced and writes nothing rather than committing to the old one that the swap drops;
    a second build waits for this one rather than clearing its staging folder. The caller's
    whole build (reading, embedding) runs inside the block, so no write lands between."""
    check_ours(ref)
    before = set(os.listdir(ref)) if os.path.isdir(ref) else None
    make_folder(ref)
    lock = file_lock(ref)
    with acquire(lock, ref, lock_timeout, make=True, on_wait=on_wait):
        try:
            yield from _build_and_swap(ref, manifest)
        except BaseException:
            _tidy(ref, before)  # still holding the lock: no writer is in there
            raise


def _build_and_swap(ref: Path, manifest: Manifest) -> Iterator[Store]:
    """staged's work once the lock is held: any staging folder left is a dead build's."""
    check_ours(ref)  # again, under the lock: another build may have swapped one in
    staging = ref.with_name(f".{ref.name}.building")
    if os.path.lexists(staging):  # a build that died; cleared only if it is one of ours
        check_ours(staging)
        shutil.rmtree(staging)
    try:
        with Store.create(staging, manifest) as store:
            yield store
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)  # a failed build (disk full, Ctrl-C) leaves nothing
        raise
    swap_in(staging, ref)


def _tidy(ref: Path, before: set[str] | None) -> None:
    """After a failed build: the lock file it added to a folder holding no index, and the
    folder if the build made it, are removed again, so a failed first build leaves the
    place as it found it. Anything else someone put there stays."""
    with contextlib.suppress(OSError):
        if set(os.listdir(ref)) - {LOCK_NAME}:
            return
        if before is None or LOCK_NAME not in before:
            os.unlink(ref / LOCK_NAME)
        if before is None:
            ref.rmdir()


def _holds_no_index(path: Path) -> bool:
    """An empty folder, or one holding only the lock a build took there."""
    return path.is_dir() and {entry.name for entry in os.scandir(path)} <= {LOCK_NAME}


def swap_in(staging: Path, index_dir: Path) -> None:
    """Move a finished index into place; the old one is removed only after the move.

    Only what qa can prove it wrote is renamed or deleted (`index.storage.faiss.folder.check_ours`), checked
    again here, at the last moment, however early the caller checked. A folder holding no
    index yet (empty, or only the lock its build holds) is filled rather than replaced, so
    it stays the same folder: a shell sitting in it (`--index .`), a mount point, its
    permissions, and the lock file the builder holds."""
    check_ours(index_dir)
    retired = retired_path(index_dir)
    if os.path.lexists(retired):
        check_ours(retired)
        shutil.rmtree(retired)
    if _holds_no_index(index_dir):
        # The database last: until it is there the folder is not an index, never half of one.
        entries = sorted(staging.iterdir(), key=lambda p: p.name == DB_NAME)
        for entry in entries:
            if entry.name == LOCK_NAME and os.path.lexists(index_dir / LOCK_NAME):
                entry.unlink()  # the builder's own lock stays where waiters look for it
                continue
            entry.rename(index_dir / entry.name)
        staging.rmdir()
        return
    if index_dir.exists():
        index_dir.rename(retired)
    staging.rename(index_dir)
    if retired.exists():
        shutil.rmtree(retired)


def recover_swap(index_dir: Path) -> None:
    """A swap killed between its two renames leaves no index at the path and the previous
    one beside it: put the previous one back (the new one was never committed to the path).
    A `.NAME.old` folder that is not a qa index is someone else's and is left alone."""
    retired = index_dir.with_name(f".{index_dir.name}.old")
    if os.path.lexists(index_dir) or not retired.is_dir() or retired.is_symlink():
        return
    try:
        check_ours(retired)
    except IndexStoreError:
        return
    retired.rename(index_dir)
