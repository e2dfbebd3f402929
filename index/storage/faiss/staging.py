"""Building a FAISS index folder beside the old one and swapping it in: the user keeps the
index they had until the new one is complete, and a swap killed half-way is undone on the next
open."""
from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from index.storage.base import IndexStoreError
from index.storage.faiss.folder import DB_NAME, check_ours
from index.storage.faiss.store import Store

if TYPE_CHECKING:
    from index.storage.base import Manifest


@contextlib.contextmanager
def staged(ref: Path, manifest: Manifest) -> Iterator[Store]:
    """An empty index in `.NAME.building`, swapped in for `ref` when the block completes."""
    check_ours(ref)
    ref.parent.mkdir(parents=True, exist_ok=True)
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


def swap_in(staging: Path, index_dir: Path) -> None:
    """Move a finished index into place; the old one is removed only after the move.

    Only what qa can prove it wrote is renamed or deleted (`index.storage.faiss.folder.check_ours`), checked
    again here, at the last moment, however early the caller checked. An empty folder is
    filled rather than replaced, so it stays the same folder: a shell sitting in it
    (`--index .`), a mount point, its permissions."""
    check_ours(index_dir)
    retired = index_dir.with_name(f".{index_dir.name}.old")
    if os.path.lexists(retired):
        check_ours(retired)
        shutil.rmtree(retired)
    if index_dir.is_dir() and not any(index_dir.iterdir()):
        # The database last: until it is there the folder is not an index, never half of one.
        entries = sorted(staging.iterdir(), key=lambda p: p.name == DB_NAME)
        for entry in entries:
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
