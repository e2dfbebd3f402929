"""Cross-checking a FAISS index folder: SQLite, its full-text index, the float16 vectors
table and the committed FAISS file must agree on every paragraph view."""
from __future__ import annotations

import sqlite3
from pathlib import Path

from index.storage.checks import UNIT_TOLERANCE, view_id_problems
from index.storage.base import MODEL_KEYS, VIEW_SLOTS, IndexStoreError
from index.storage.faiss import vector_table
from index.storage.faiss import vectors as ann
from index.storage.faiss.folder import DB_NAME, vectors_name
from index.storage.faiss.vector_files import read_vectors

_FLOAT16_NORM_TOLERANCE = 2e-3  # float16 rounds each component to 1 part in 2,048


def verify(db: sqlite3.Connection, path: Path, dim_expected: int, writable: bool
           ) -> list[str]:
    """Cross-check SQLite, FTS and the FAISS file on disk; an empty list means healthy.

    Reads the FAISS file afresh rather than trusting the copy in memory, and reads SQLite
    in one snapshot, so the comparison is between the committed states only.
    """
    import numpy as np

    problems: list[str] = []
    if writable and not db.in_transaction:
        # FTS5's own check is issued as an INSERT, so a query_only reader cannot run it.
        try:
            db.execute("INSERT INTO paragraphs_fts(paragraphs_fts) VALUES ('integrity-check')")
        except sqlite3.DatabaseError as exc:
            problems.append(f"FTS index is corrupt: {exc}")
    own_txn = not db.in_transaction
    if own_txn:
        db.execute("BEGIN")
    try:
        check = [r[0] for r in db.execute("PRAGMA quick_check").fetchall()]
        if check != ["ok"]:
            problems.append("SQLite quick_check: " + "; ".join(check[:5]))
        orphans = db.execute("PRAGMA foreign_key_check").fetchall()
        if orphans:
            problems.append(f"{len(orphans)} rows point to missing articles")
        values = dict(db.execute("SELECT key, value FROM manifest").fetchall())
        missing_keys = [k for k in (*MODEL_KEYS, "generation") if k not in values]
        if missing_keys:
            problems.append(f"manifest lacks {', '.join(missing_keys)}")
        try:
            dim = int(values.get("dim", ""))
        except ValueError:
            problems.append(f"manifest dim is not a number: {values.get('dim')!r}")
            dim = dim_expected
        generation = int(values.get("generation", "0") or 0)
        view_rows = db.execute("SELECT id, views FROM paragraphs").fetchall()
        sql_ids = {r[0] for r in view_rows}
        n_views = sum(r[1] for r in view_rows)
        sql_view_ids = {pid * VIEW_SLOTS + v for pid, n in view_rows for v in range(n)}
        fts_ids = {r[0] for r in db.execute("SELECT rowid FROM paragraphs_fts")}
        _compare_ids(problems, "FTS", sql_ids, fts_ids)
        stale_fts = db.execute(
            "SELECT count(*) FROM paragraphs p JOIN paragraphs_fts f ON f.rowid = p.id "
            "JOIN articles a ON a.id = p.article_id "
            "WHERE f.text IS NOT qa_lexical(p.text) OR f.title IS NOT qa_lexical(a.title)"
        ).fetchone()[0]
        if stale_fts:
            problems.append(f"{stale_fts} FTS rows hold text or title that differs from SQLite")
        problems += _verify_table(db, sql_view_ids, dim)  # in the same snapshot
    finally:
        if own_txn:
            db.execute("COMMIT")

    name = vectors_name(generation)
    try:
        index = read_vectors(path, generation, mmap=True)
    except FileNotFoundError:
        problems.append(f"{name}, the committed vectors file, is missing")
        return problems
    except IndexStoreError as exc:
        problems.append(str(exc))
        return problems
    if index.d != dim:
        problems.append(f"{name} has dimension {index.d}, the manifest says {dim}")
    if index.ntotal != n_views:
        problems.append(
            f"{name} holds {index.ntotal} vectors, SQLite {n_views} paragraph views"
        )
    try:
        ann.layout_of(index)
    except ValueError as exc:
        problems.append(f"{name}: {exc}")
        return problems
    faiss_id_list = ann.ids(index)
    faiss_ids = set(faiss_id_list.tolist())
    if len(faiss_ids) != len(faiss_id_list):
        problems.append(f"{name} holds {len(faiss_id_list) - len(faiss_ids)} duplicate ids")
    problems += view_id_problems(name, sql_view_ids - faiss_ids, faiss_ids - sql_view_ids)
    if (ann.holds_exact(index) and len(faiss_id_list) and index.d == dim
            and len(faiss_ids) == len(faiss_id_list)):
        norms = ann.norms(index, faiss_id_list)
        bad = int(np.count_nonzero(np.abs(norms - 1.0) > UNIT_TOLERANCE))
        if bad:
            problems.append(f"{bad} vectors in {name} are not unit length")
    return problems

def _verify_table(db: sqlite3.Connection, sql_view_ids: set[int], dim: int) -> list[str]:
    """The float16 vectors table holds one unit vector per paragraph view, no more."""
    import numpy as np

    problems: list[str] = []
    table_ids: set[int] = set()
    bad_norms = 0
    own_txn = not db.in_transaction
    if own_txn:
        db.execute("BEGIN")
    try:
        for keys, vecs in vector_table.scan(db, dim):
            table_ids.update(keys.tolist())
            norms = np.linalg.norm(vecs, axis=1)
            bad_norms += int(np.count_nonzero(np.abs(norms - 1.0) > _FLOAT16_NORM_TOLERANCE))
    except ValueError as exc:
        return [f"the vectors table in {DB_NAME}: {exc}"]
    finally:
        if own_txn:
            db.execute("COMMIT")
    problems += view_id_problems("the vectors table", sql_view_ids - table_ids,
                                 table_ids - sql_view_ids)
    if bad_norms:
        problems.append(f"{bad_norms} vectors in the vectors table are not unit length")
    return problems



def _compare_ids(problems: list[str], what: str, sql_ids: set[int], other: set[int]) -> None:
    missing = sql_ids - other
    extra = other - sql_ids
    if missing:
        problems.append(
            f"{len(missing)} paragraphs in SQLite are missing from {what}: {sorted(missing)[:5]}"
        )
    if extra:
        problems.append(f"{len(extra)} ids in {what} have no SQLite paragraph: {sorted(extra)[:5]}")

