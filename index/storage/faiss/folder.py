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
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from index.storage.base import IndexLockedError, IndexReadOnlyError, IndexStoreError

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
    except OSError:
        return False
    # A creator holding the lock may be mid-transaction: wait for it as _connect does. On a
    # read-only mount a WAL database opens only as immutable (its -shm cannot be made): asked
    # plainly, SQLite cannot open it, and the folder would be called someone else's.
    modes = ["?mode=ro"] + ([] if os.access(db_path.parent, os.W_OK) else ["?mode=ro&immutable=1"])
    for mode in modes:
        try:
            db = sqlite3.connect(db_path.resolve().as_uri() + mode, uri=True, timeout=30)
        except (OSError, sqlite3.Error):
            continue
        try:
            tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        except sqlite3.Error:
            continue
        finally:
            db.close()
        return not tables or {"manifest", "articles", "paragraphs"} <= tables
    return False


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


def make_folder(path: Path) -> None:
    """Create `path` (and its parents) for an index, or say in one line why it cannot be: a
    parent that cannot be written (a read-only mount, /sys), or a file system that takes no
    folders at all (/proc answers "No such file or directory" for a parent that is there)."""
    import errno

    from index.safe_text import inert

    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        if exc.errno == errno.ENOENT and os.path.isdir(path.parent):
            reason = "the file system there takes no new folders"
        raise IndexStoreError(f"{inert(str(path))}: cannot create the index folder ({reason}); "
                              "choose a folder you can write to") from None


def file_lock(path: Path) -> filelock.BaseFileLock:
    import filelock

    return filelock.FileLock(str(path / LOCK_NAME))


def retired_path(path: Path) -> Path:
    """Where a build's swap puts the index it replaces, for the moment between its renames."""
    return path.with_name(f".{path.name}.old")


def take(lock: filelock.BaseFileLock, path: Path, timeout: float, *, make: bool = False) -> bool:
    """Acquire `lock` within `timeout` seconds; False when another process kept it. A lock
    file that cannot be used (a symbolic link, which the lock never follows: ELOOP; a folder;
    a file qa may not open) is a one-line error rather than a traceback.

    The folder holding the lock may be missing for a moment: a build between its two renames
    (then this waits), or a failed first build that removed the folder it had made to hold
    the lock (then one that `make`s the index makes the folder again)."""
    import errno
    import time

    import filelock

    from index.safe_text import inert

    deadline = time.monotonic() + max(timeout, 0)
    while True:
        try:
            lock.acquire(timeout=max(0.0, deadline - time.monotonic()))
            return True
        except filelock.Timeout:
            return False
        except FileNotFoundError:
            if os.path.isdir(path):
                raise IndexStoreError(f"{inert(str(path / LOCK_NAME))}: cannot use the lock "
                                      "file (it vanished as it was opened)") from None
            if time.monotonic() >= deadline:
                return False
            if make and not os.path.lexists(retired_path(path)):
                make_folder(path)
            else:
                time.sleep(0.05)
        except OSError as exc:
            where = path / LOCK_NAME
            if where.is_symlink():
                raise IndexStoreError(f"{inert(str(where))}: a symbolic link, which qa does not "
                                      "follow for its lock file; remove it and run the command "
                                      "again") from None
            if exc.errno == errno.EROFS:
                raise IndexReadOnlyError(path, "it is on a read-only file system") from None
            if exc.errno in (errno.EACCES, errno.EPERM):
                raise IndexReadOnlyError(path, f"its lock file {LOCK_NAME} cannot be opened "
                                         f"({exc.strerror})") from None
            raise IndexStoreError(f"{inert(str(where))}: cannot use the lock file "
                                  f"({exc.strerror or exc})") from None


def locked_out(path: Path, timeout: float) -> IndexLockedError:
    return IndexLockedError(
        f"another qa process is writing to the index at {path} (lock {path / LOCK_NAME}); "
        f"gave up after waiting {timeout:g}s. Try again when it has finished.")


@contextlib.contextmanager
def acquire(lock: filelock.BaseFileLock, path: Path, timeout: float, *, make: bool = False,
            on_wait: Callable[[str], None] | None = None) -> Iterator[None]:
    """Hold `lock` for the block, waiting up to `timeout` seconds for another process
    (`on_wait` hears why nothing happens meanwhile); IndexLockedError after that."""
    if not take(lock, path, 0, make=make):
        if on_wait is not None:
            on_wait(f"waiting for another qa writer to finish with {path} "
                    f"(up to {timeout:g}s)...")
        if not take(lock, path, timeout, make=make):
            raise locked_out(path, timeout)
    try:
        yield
    finally:
        lock.release()

