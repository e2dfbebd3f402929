"""What a failure of the conversations database means to its user: SQLite's and the file
system's errors read as one `StoreFault` that says, after the file's path, what is wrong
(damaged, read-only, the disk full, locked by another process) in words a user can act on.
Kept apart from the store so every method of it reports alike, and so what is a fault of
the file (the caller answers without the record) stays apart from what is a bug (a
misused API, left a traceback).
"""
from __future__ import annotations

import functools
import os
import sqlite3
from collections.abc import Callable
from pathlib import Path

from index.errors import UserError


class NewerStoreError(UserError):
    """The database was written by a newer qa: this one must not migrate or write it."""


# SQLite's primary result codes the store tells apart (sqlite3 exceptions carry the extended
# code; the low byte is the primary one).
SQLITE_BUSY, SQLITE_LOCKED, SQLITE_READONLY, SQLITE_IOERR = 5, 6, 8, 10
SQLITE_CORRUPT, SQLITE_FULL, SQLITE_CANTOPEN, SQLITE_NOTADB = 11, 13, 14, 26
_FULL_BELOW = 1 << 20  # free bytes under which an I/O error is taken for a full disk


class StoreFault(UserError):
    """The conversations database cannot be used now; the message reads "<path> <reason>".

    `damaged` marks a file waiting will not mend (corrupt, or not a database at all): it is
    to be moved aside, never written over (qa.conversation_keeper does that and raises a new
    fault with `replaced` set, naming where the file went). `inode` is the damaged file's, so
    a file another process has already replaced is not moved aside in its turn."""

    def __init__(self, path: Path | str, reason: str, *, damaged: bool = False,
                 inode: int | None = None, replaced: bool = False) -> None:
        self.path = Path(path)
        self.reason = reason
        self.damaged = damaged
        self.inode = inode
        self.replaced = replaced
        super().__init__(f"{path} {reason}")


def inode_of(path: Path | str) -> int | None:
    try:
        return os.stat(path).st_ino
    except OSError:
        return None


def store_fault(path: Path | str, exc: BaseException, timeout: float,
                inode: int | None = None) -> StoreFault | None:
    """The fault a failure of SQLite or of the file system means for the store at `path`;
    None for one that is a bug (a misused API), which stays a traceback."""
    if isinstance(exc, StoreFault):
        return exc
    if isinstance(exc, NewerStoreError):
        return StoreFault(path, f"cannot be used: {exc}")
    if isinstance(exc, OSError):
        return StoreFault(path, f"cannot be opened ({exc.strerror or exc})")
    if not isinstance(exc, sqlite3.DatabaseError) or type(exc) not in (
            sqlite3.DatabaseError, sqlite3.OperationalError):
        return None
    code = (getattr(exc, "sqlite_errorcode", None) or 0) & 0xFF
    if code in (SQLITE_CORRUPT, SQLITE_NOTADB):
        return StoreFault(path, f"is damaged ({exc})", damaged=True, inode=inode)
    if code == SQLITE_READONLY:
        return StoreFault(path, f"is read-only ({exc})")
    if code == SQLITE_FULL or (code in (SQLITE_IOERR, SQLITE_CANTOPEN) and _disk_full(path)):
        return StoreFault(path, f"cannot grow: the disk is full ({exc})")
    if code in (SQLITE_BUSY, SQLITE_LOCKED):
        return StoreFault(path, f"is locked by another process (waited {timeout:g} s)")
    if code == SQLITE_CANTOPEN:
        return StoreFault(path, f"cannot be opened ({exc})")
    return StoreFault(path, f"cannot be read or written ({exc})")


def _disk_full(path: Path | str) -> bool:
    """SQLite names a full disk SQLITE_FULL only where it notices it itself; creating its
    shared-memory file on a full disk is a plain I/O error, so free space decides."""
    import shutil

    try:
        return shutil.disk_usage(Path(path).parent).free < _FULL_BELOW
    except OSError:
        return False


def faults(method: Callable) -> Callable:
    """A store method whose SQLite and file-system failures leave as StoreFault (the store
    has `path`, `timeout` and `inode`)."""

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except (sqlite3.DatabaseError, OSError) as exc:
            fault = store_fault(self.path, exc, self.timeout, self.inode)
            if fault is None:
                raise
            raise fault from None

    return wrapper
