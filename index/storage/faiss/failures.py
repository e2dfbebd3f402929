"""SQLite's and the file system's failures under an index folder, as the typed storage
errors a user can act on (damaged, read-only, disk full, locked)."""
from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

from index.storage.base import (DiskFullError, IndexDamagedError, IndexLockedError,
                                IndexReadOnlyError, IndexStoreError)
from index.storage.faiss.folder import DB_NAME, folder_writable

SQLITE_ERROR, SQLITE_BUSY, SQLITE_LOCKED = 1, 5, 6
SQLITE_READONLY, SQLITE_IOERR, SQLITE_CORRUPT, SQLITE_FULL = 8, 10, 11, 13
SQLITE_CANTOPEN, SQLITE_NOTADB = 14, 26
_FULL_BELOW = 1 << 20  # free bytes under which an I/O error is taken for a full disk


def storage_error(path: Path, exc: BaseException) -> IndexStoreError | None:
    """The user-facing error for a failure of SQLite or the file system under the index at
    `path`, or None when it is none of the kinds a user can act on (then it stays a bug).

    SQLite reports a full disk as SQLITE_FULL only where it notices it itself; creating its
    shared-memory file on a full disk surfaces as a plain I/O error, so free space decides."""
    if isinstance(exc, IndexStoreError):
        return exc
    if isinstance(exc, OSError):
        import errno

        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            return DiskFullError(path)
        if exc.errno == errno.EROFS:
            return IndexReadOnlyError(path, "it is on a read-only file system")
        return None
    if not isinstance(exc, sqlite3.DatabaseError):
        return None
    code = (getattr(exc, "sqlite_errorcode", None) or 0) & 0xFF
    if code == SQLITE_FULL or (code in (SQLITE_IOERR, SQLITE_CANTOPEN) and _disk_full(path)):
        return DiskFullError(path)
    if code == SQLITE_READONLY or (code == SQLITE_CANTOPEN and not folder_writable(path)):
        return IndexReadOnlyError(path)
    if code in (SQLITE_BUSY, SQLITE_LOCKED):
        return IndexLockedError(f"another process kept the index at {path} locked ({exc}); "
                                "try again when it has finished")
    if code in (SQLITE_CORRUPT, SQLITE_NOTADB):
        return IndexDamagedError(path, f"{DB_NAME}: {exc}")
    if code == SQLITE_IOERR:
        return IndexStoreError(f"cannot read or write the index at {path}: {exc}; check the "
                               "disk it is on")
    return None


def _disk_full(path: Path) -> bool:
    import shutil

    try:
        return shutil.disk_usage(path).free < _FULL_BELOW
    except OSError:
        return False



def typed_errors(method: Callable[..., Any]) -> Callable[..., Any]:
    """Turn SQLite's and the file system's failures inside a FAISS store method into the typed
    errors above (damaged, read-only, disk full), so no caller sees a bare sqlite3 error
    for a page that went bad after the index was opened."""
    import functools

    @functools.wraps(method)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except (sqlite3.DatabaseError, OSError) as exc:
            error = storage_error(self.path, exc)
            if error is None:
                raise
            raise error from exc

    return wrapper
