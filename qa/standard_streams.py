"""Standard output that says when it cannot be written, and closed standard streams made safe.

`qa index list > /dev/full` or `qa ask ... >&-` must end with one line and a non-zero exit,
not a traceback nor Python's "Exception ignored ... BrokenPipeError" at exit. A failed write
to stdout raises `OutputError`, so the CLI tells it from every other OSError (a file that
cannot be read, an index that cannot be written) without guessing from an errno.

A standard descriptor that was closed when qa started would be handed to the next file qa
opens: the index's SQLite database could become fd 1, and a stray write to "stdout" would
land in it. Each closed one is taken by /dev/null first, opened read-only for stdout and
stderr so that writing there still fails as writing to a closed descriptor does.

Only the standard library is imported.
"""
from __future__ import annotations

import io
import os
import sys


class OutputError(OSError):
    """Standard output could not be written (a full disk, a closed descriptor, a pipe gone)."""


class _Stdout(io.FileIO):
    """fd 1, whose write failures are OutputErrors."""

    def write(self, data) -> int:  # type: ignore[override]
        try:
            return super().write(data)
        except OSError as exc:
            raise OutputError(exc.errno, exc.strerror) from None


class _Stderr(io.FileIO):
    """fd 2, where a failed write is dropped: progress and notes that cannot be shown
    (`2>&-`, `2>/dev/full`, a reader that went away) must not stop an index half-way."""

    def write(self, data) -> int:  # type: ignore[override]
        try:
            return super().write(data)
        except OSError:
            return len(data)


def _occupy_closed(fd: int, mode: int) -> bool:
    """Put /dev/null on `fd` if it is closed; whether it was."""
    try:
        os.fstat(fd)
        return False
    except OSError:
        pass
    null = os.open(os.devnull, mode)
    if null != fd:
        os.dup2(null, fd)
        os.close(null)
    return True


def install() -> None:
    """Guard the standard descriptors and route sys.stdout through `_Stdout`. Called once, by
    the CLI's entry point, before anything is opened."""
    _occupy_closed(0, os.O_RDONLY)
    _occupy_closed(1, os.O_RDONLY)  # writes fail with EBADF, as to the closed descriptor
    _occupy_closed(2, os.O_WRONLY)  # what qa would say there is dropped, as the user chose
    sys.stdout = _wrapped(sys.stdout, _Stdout(1, "w", closefd=False), "strict", False)
    sys.stderr = _wrapped(sys.stderr, _Stderr(2, "w", closefd=False), "backslashreplace", True)


def _wrapped(old, raw: io.FileIO, errors: str, write_through: bool) -> io.TextIOWrapper:
    """`raw` as a text stream with `old`'s encoding and buffering (Python's own stream for
    the descriptor, or None when it was closed at start)."""
    return io.TextIOWrapper(io.BufferedWriter(raw), encoding=getattr(old, "encoding", None) or "utf-8",
                            errors=getattr(old, "errors", None) or errors,
                            line_buffering=bool(getattr(old, "line_buffering", False)),
                            write_through=write_through)


def silence_stdout() -> None:
    """After a failed write: what is still buffered is dropped, and nothing more is tried,
    also not by the interpreter's last flush at exit."""
    null = open(os.devnull, "w")  # noqa: SIM115 - lives as long as the process
    try:
        os.dup2(null.fileno(), 1)
    except OSError:
        pass
    sys.stdout = null


def describe(exc: OSError) -> str:
    """The reason a write to stdout failed, in a few words."""
    import errno

    if exc.errno == errno.EBADF:
        return "standard output is closed"
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return "no space left on the device standard output goes to"
    if exc.errno == errno.EPIPE:
        return "the program reading it stopped"
    return exc.strerror or str(exc)
