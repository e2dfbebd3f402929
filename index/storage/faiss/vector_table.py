"""Every stored vector as float16 in SQLite (`vectors`: FAISS id -> 768 bytes for 384 dims).

The FAISS file beside the database is a search structure; past the exact-search threshold it
holds 4-bit codes that cannot be decoded back to the vectors they approximate. This table is
the record: candidates found by the codes are rescored from it, a migration to another layout
trains on it, and an edited article's unchanged paragraphs re-use their vectors from it.
Being in SQLite, it commits and rolls back with the rows it describes, and a reader sees the
same snapshot of both. float16 keeps a vector's cosine to its float32 original above 0.99999
at half the bytes, and SQLite's page cache (not the process) holds what is read, so a
million paragraphs' five million vectors cost disk, not resident memory.

numpy is imported inside functions, like the rest of `index`, so importing stays instant.
"""
from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

_DTYPE = "<f2"


def insert(db: sqlite3.Connection, ids: Iterable[int], vecs: np.ndarray) -> None:
    import numpy as np

    half = np.ascontiguousarray(vecs, dtype=_DTYPE)
    db.executemany("INSERT OR REPLACE INTO vectors(id, vec) VALUES (?, ?)",
                   ((int(i), row.tobytes()) for i, row in zip(ids, half)))


def delete(db: sqlite3.Connection, ids: Iterable[int]) -> None:
    db.executemany("DELETE FROM vectors WHERE id = ?", ((int(i),) for i in ids))


def fetch(db: sqlite3.Connection, ids: np.ndarray, dim: int) -> tuple[np.ndarray, np.ndarray]:
    """(ids, float32 vectors) for those of `ids` the table holds, in the order given: one
    missing was removed by a writer after the caller's search, and is left out."""
    import numpy as np

    keys = [int(i) for i in ids]
    # One JSON parameter rather than an IN list of hundreds: no statement text to build and
    # no limit on how many ids one statement takes.
    found = dict(db.execute("SELECT id, vec FROM vectors WHERE id IN (SELECT value FROM json_each(?))",
                            (json.dumps(keys),)))
    kept = [k for k in keys if k in found]
    return np.asarray(kept, dtype=np.int64), _decode([found[k] for k in kept], dim)


def views(db: sqlite3.Connection, pids: list[int], slots: int,
          dim: int) -> tuple[np.ndarray, np.ndarray]:
    """(ids, float32 vectors) of every view of the paragraphs `pids`, in id order, so each
    paragraph's views are together, whole paragraph (view 0) first. One statement: a
    paragraph's views are a range of ids (paragraph id * slots + view), so no view count
    needs looking up first."""
    import numpy as np

    rows = db.execute(
        "SELECT v.id, v.vec FROM json_each(?) AS p JOIN vectors AS v "
        "ON v.id >= p.value * ?2 AND v.id < (p.value + 1) * ?2",
        (json.dumps(sorted(set(pids))), slots),
    ).fetchall()
    rows.sort()
    ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
    return ids, _decode([r[1] for r in rows], dim)


def scan(db: sqlite3.Connection, dim: int,
         chunk: int = 65_536) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Every (ids, float32 vectors) in id order, a chunk at a time (for checking the table)."""
    import numpy as np

    last = -1
    while True:
        rows = db.execute("SELECT id, vec FROM vectors WHERE id > ? ORDER BY id LIMIT ?",
                          (last, chunk)).fetchall()
        if not rows:
            return
        last = rows[-1][0]
        yield (np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows)),
               _decode([r[1] for r in rows], dim))


def _decode(blobs: list[bytes], dim: int) -> np.ndarray:
    import numpy as np

    if not blobs:
        return np.zeros((0, dim), dtype=np.float32)
    half = np.frombuffer(b"".join(blobs), dtype=_DTYPE)
    if half.size != len(blobs) * dim:
        raise ValueError(f"stored vectors are not {dim}-dimensional")
    return half.reshape(len(blobs), dim).astype(np.float32)
