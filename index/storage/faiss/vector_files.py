"""Publishing and loading the FAISS file of one generation. A file only counts once SQLite
names its generation in the manifest (see index.storage.faiss.store), so a write killed
half-way leaves a file nobody reads, which the next writer removes."""
from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import TYPE_CHECKING

from index.storage.base import IndexDamagedError
from index.storage.faiss import vectors as ann
from index.storage.faiss.failures import storage_error
from index.storage.faiss.folder import vectors_name

if TYPE_CHECKING:
    import faiss


def write_vectors(path: Path, generation: int, index: faiss.Index) -> None:
    """Durably publish a generation file; it only counts once SQLite names it."""
    final = path / vectors_name(generation)
    tmp = path / f"{vectors_name(generation)}.{os.getpid()}.tmp"
    try:
        with open(tmp, "wb") as f:
            ann.write(index, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, final)
        _fsync_dir(path)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        error = storage_error(path, exc) if isinstance(exc, OSError) else None
        if error is None:
            raise
        raise error from exc


def _fsync_dir(path: Path) -> None:
    # Makes the rename itself durable before SQLite commits a reference to the new name.
    if os.name != "posix":
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def read_vectors(path: Path, generation: int, *, mmap: bool = False) -> faiss.Index:
    """Load a generation: copied into memory for a writer, which changes it; mapped for a
    reader (index.storage.faiss.vectors.read says why that is safe). Raises FileNotFoundError for a
    missing file, IndexStoreError for an unreadable one."""
    try:
        return ann.read(path / vectors_name(generation), mmap=mmap)
    except RuntimeError as exc:
        reason = " ".join(str(exc).split())  # FAISS's messages span lines
        raise IndexDamagedError(path, f"{vectors_name(generation)} is unreadable: {reason}",
                                text_intact=True) from exc

