"""A FAISS index folder as files: what it holds, whether qa can prove it wrote it, and the
lock its one writer holds.

    index.sqlite            manifest, articles, paragraphs, FTS5 (WAL mode)
    vectors-<gen>.faiss     the vectors of one committed generation
    write.lock              held by the one process allowed to write

Nothing is replaced or deleted unless `check_ours` says qa wrote it: the registry, the
staging of a build and the store itself all ask it first.
"""
from __future__ import annotations

import contextlib
import os
import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from index.storage.base import IndexLockedError, IndexStoreError

if TYPE_CHECKING:
    import filelock

DB_NAME = "index.sqlite"
LOCK_NAME = "write.lock"
VECTORS_RE = re.compile(r"^vectors-(\d+)\.faiss$")


def vectors_name(generation: int) -> str:
    return f"vectors-{generation}.faiss"


def folder_writable(path: Path) -> bool:
    """Whether files can be created in `path` and its database written. access(2) answers
    EROFS for a read-only mount even to root, for whom permission bits do not count."""
    db_path = path / DB_NAME
    return os.access(path, os.W_OK) and (not db_path.exists() or os.access(db_path, os.W_OK))


def is_complete(db_path: Path) -> bool:
    try:
        db = sqlite3.connect(db_path.resolve().as_uri() + "?mode=ro", uri=True)
    except sqlite3.Error:
        return False
    try:
        row = db.execute("SELECT value FROM manifest WHERE key = 'generation'").fetchone()
        return row is not None
    except sqlite3.Error:
        return False
    finally:
        db.close()


def _is_qa_database(db_path: Path) -> bool:
    """Whether the file at `db_path` is one qa wrote: its tables, or nothing yet (a create
    killed before the schema was written leaves an empty database)."""
    try:
        if db_path.stat().st_size == 0:
            return True
        # A creator holding the lock may be mid-transaction: wait for it as _connect does.
        db = sqlite3.connect(db_path.resolve().as_uri() + "?mode=ro", uri=True, timeout=30)
    except (OSError, sqlite3.Error):
        return False
    try:
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    except sqlite3.Error:
        return False
    finally:
        db.close()
    return not tables or {"manifest", "articles", "paragraphs"} <= tables


def _foreign_entries(path: Path) -> list[str]:
    """Names in the folder `path` that qa did not write there, sorted."""
    own = {DB_NAME + suffix for suffix in ("", "-wal", "-shm", "-journal")} | {LOCK_NAME}
    foreign: list[str] = []
    with os.scandir(path) as entries:
        for entry in entries:
            is_file = entry.is_file(follow_symlinks=False)
            ours = is_file and (entry.name in own or bool(VECTORS_RE.match(entry.name)) or (
                entry.name.startswith("vectors-") and entry.name.endswith(".tmp")))
            if entry.name == DB_NAME and ours:
                ours = _is_qa_database(Path(entry.path))
            if not ours:
                foreign.append(entry.name + ("/" if entry.is_dir(follow_symlinks=False) else ""))
    return sorted(foreign)


def check_ours(path: Path) -> None:
    """Refuse (IndexStoreError) to replace or delete `path` unless qa can prove it wrote it:
    it is absent, an empty folder, or a folder holding only an index's files with a database
    of qa's own schema. A user who points --index at their documents gets this one line and
    keeps every file."""
    from index.safe_text import inert

    path = Path(path)
    if path.is_symlink():
        raise IndexStoreError(f"{inert(str(path))}: a symbolic link, which qa does not replace; "
                              f"name the folder it points to ({inert(os.path.realpath(path))})")
    if not path.exists():
        return
    if not path.is_dir():
        raise IndexStoreError(f"{inert(str(path))}: a file, not an index folder; choose an empty "
                              "or new folder for the index")
    try:
        foreign = _foreign_entries(path)
    except OSError as exc:
        raise IndexStoreError(f"{inert(str(path))}: cannot list the folder "
                              f"({exc.strerror or exc})") from None
    if foreign:
        shown = ", ".join(inert(name) for name in foreign[:3]) + (", …" if len(foreign) > 3 else "")
        raise IndexStoreError(f"{inert(str(path))}: not a qa index (holds {shown}); choose an "
                              "empty or new folder")


def remove_index_files(path: Path) -> None:
    check_ours(path)  # never delete a database some other program keeps under our file name
    names = [DB_NAME + suffix for suffix in ("", "-wal", "-shm", "-journal")]
    for entry in os.scandir(path):
        if entry.name in names or (
            entry.name.startswith("vectors-")
            and (entry.name.endswith(".faiss") or entry.name.endswith(".tmp"))
        ):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(entry.path)


def file_lock(path: Path) -> filelock.BaseFileLock:
    import filelock

    return filelock.FileLock(str(path / LOCK_NAME))


@contextlib.contextmanager
def acquire(lock: filelock.BaseFileLock, path: Path, timeout: float) -> Iterator[None]:
    import filelock

    try:
        lock.acquire(timeout=timeout)
    except filelock.Timeout:
        raise IndexLockedError(
            f"another qa process is writing to the index at {path} (lock {path / LOCK_NAME}); "
            f"gave up after waiting {timeout:g}s. Try again when it has finished."
        ) from None
    try:
        yield
    finally:
        lock.release()

