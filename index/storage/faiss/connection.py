"""Opening an index folder's SQLite database: a writer's connection, a reader's (read-only,
or immutable where the folder refuses even a reader's files), creating one, checking its
manifest, and the one-time upgrade of an index an older qa wrote."""
from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Callable
from pathlib import Path

from index.corpus import lexical
from index.storage.checks import check_model
from index.storage.base import (MODEL_KEYS, IndexDamagedError, IndexMissingError,
                                IndexReadOnlyError, IndexStoreError, Manifest, timestamp)
from index.storage.faiss import schema
from index.storage.faiss import vectors as ann
from index.storage.faiss.failures import (SQLITE_CANTOPEN, SQLITE_ERROR, SQLITE_IOERR,
                                          SQLITE_READONLY, storage_error)
from index.storage.faiss.folder import (DB_NAME, acquire, check_ours, file_lock,
                                        folder_writable, is_complete, remove_index_files)
from index.storage.faiss.vector_files import write_vectors

CURRENT = schema.CURRENT


def create_database(path: Path, manifest: Manifest, overwrite: bool
                    ) -> tuple[sqlite3.Connection, Manifest]:
    """A new, empty index database in `path` with its first (empty) vectors generation, and
    its manifest as stored. The caller holds the write lock."""
    db_path = path / DB_NAME
    check_ours(path)
    if db_path.exists():
        if not overwrite and is_complete(db_path):
            raise IndexStoreError(
                f"an index already exists at {path}; remove it, choose another "
                "folder, or overwrite it"
            )
        remove_index_files(path)
    db = connect(db_path, create=True)
    try:
        db.execute("PRAGMA journal_mode = WAL")
        db.execute("PRAGMA synchronous = FULL")
        schema.migrate(db)
        write_vectors(path, 1, ann.empty(manifest.dim))
        stamp = timestamp()
        values = {
            "model": manifest.model,
            "fingerprint": manifest.fingerprint,
            "dim": str(manifest.dim),
            "query_prompt": manifest.query_prompt,
            "passage_prompt": manifest.passage_prompt,
            "schema_version": str(schema.version(db)),
            "created_at": stamp,
            "updated_at": stamp,
            "generation": "1",
        }
        db.execute("BEGIN IMMEDIATE")
        db.executemany(
            "INSERT OR REPLACE INTO manifest(key, value) VALUES (?, ?)", values.items()
        )
        db.execute("COMMIT")
    except BaseException as exc:
        db.close()
        error = storage_error(path, exc) if isinstance(exc, Exception) else None
        if error is None or error is exc:
            raise
        raise error from exc
    return db, manifest_from(values, schema.version(db))


def open_database(path: Path, expect: Manifest | None, writable: bool, lock_timeout: float,
                  on_upgrade: Callable[[str], None] | None
                  ) -> tuple[sqlite3.Connection, Manifest, IndexStoreError | None]:
    """The connection to an existing index, its manifest, and why writing would fail when a
    reader found the folder unwritable (None otherwise)."""
    db_path = path / DB_NAME
    if not db_path.is_file():
        raise IndexMissingError(path)
    if writable and not folder_writable(path):
        raise IndexReadOnlyError(path)
    unwritable: IndexStoreError | None = None
    try:
        if writable:
            db = connect(db_path, create=False)
        else:
            db, unwritable = connect_reader(db_path)
    except sqlite3.Error as exc:
        raise storage_error(path, exc) or IndexStoreError(
            f"cannot open the index at {path}: {exc}") from exc
    try:
        version = schema.version(db)
        if version > CURRENT:
            raise IndexStoreError(
                f"the index at {path} has schema version {version}, newer than this qa "
                f"supports ({CURRENT}); upgrade qa"
            )
        if version == 0:
            raise IndexMissingError(path, incomplete=True)
        if version < CURRENT:
            version = _upgrade(path, db, writable, unwritable, lock_timeout, on_upgrade)
        values = dict(db.execute("SELECT key, value FROM manifest").fetchall())
        if not values and not db.execute("SELECT EXISTS(SELECT 1 FROM articles)").fetchone()[0]:
            # a create killed between writing the schema and the manifest
            raise IndexMissingError(path, incomplete=True)
        manifest = _checked_manifest(path, values, version)
        if expect is not None:
            check_model(path, manifest, expect)
        if writable:
            db.execute("PRAGMA journal_mode = WAL")
            db.execute("PRAGMA synchronous = FULL")
        else:
            db.execute("PRAGMA query_only = ON")
    except BaseException as exc:
        db.close()
        error = storage_error(path, exc)
        if error is None and isinstance(exc, sqlite3.DatabaseError) and (
                (getattr(exc, "sqlite_errorcode", None) or 0) & 0xFF == SQLITE_ERROR):
            # e.g. "no such table: manifest": a database, but not one qa could have left
            error = IndexDamagedError(path, f"{DB_NAME}: {exc}")
        if error is None or error is exc:
            raise
        raise error from exc
    return db, manifest, unwritable


def manifest_from(values: dict[str, str], version: int) -> Manifest:
    return Manifest(
        model=values.get("model", ""),
        fingerprint=values.get("fingerprint", ""),
        dim=int(values.get("dim", "0")),
        query_prompt=values.get("query_prompt", ""),
        passage_prompt=values.get("passage_prompt", ""),
        schema_version=version,
    )


def _checked_manifest(path: Path, values: dict[str, str], version: int) -> Manifest:
    """The manifest of an index being opened, refused as damage when a row is missing or
    unreadable: an empty model name would be suggested back to the user as `--model ''`."""
    missing = [key for key in (*MODEL_KEYS, "generation") if key not in values]
    if missing:
        raise IndexDamagedError(path, f"its manifest lacks {', '.join(missing)}")
    if not values["model"].strip():
        raise IndexDamagedError(path, "its manifest names no model")
    for key in ("dim", "generation"):
        if not values[key].strip().isdigit() or int(values[key]) <= 0:
            raise IndexDamagedError(path, f"its manifest {key} is not a positive number: "
                                          f"{values[key]!r}")
    return manifest_from(values, version)


def _upgrade(path: Path, db: sqlite3.Connection, writable: bool,
             unwritable: IndexStoreError | None, lock_timeout: float,
             on_upgrade: Callable[[str], None] | None) -> int:
    """Bring an index from an older qa to the current schema, once, whoever opens it first.
    A reader's connection is read-only, so the migration gets a connection of its own."""
    if unwritable is not None or not folder_writable(path):
        raise IndexReadOnlyError(path, "it was written by an older qa and needs a one-time "
                                       "upgrade, which has to write to it")
    if on_upgrade is not None:
        on_upgrade(f"upgrading the index at {path} to this version of qa "
                   "(once; nothing is re-embedded)...")
    with acquire(file_lock(path), path, lock_timeout):
        writer = db if writable else connect(path / DB_NAME, create=False)
        try:
            version = schema.migrate(writer)
            writer.execute(
                "INSERT OR REPLACE INTO manifest(key, value) VALUES ('schema_version', ?)",
                (str(version),),
            )
        finally:
            if writer is not db:
                writer.close()
    return schema.version(db)


def connect(db_path: Path, *, create: bool, read_only: bool = False,
            immutable: bool = False) -> sqlite3.Connection:
    # mode=rw so opening a missing index never leaves an empty database file behind.
    mode = "ro" if read_only or immutable else "rwc" if create else "rw"
    uri = db_path.resolve().as_uri() + f"?mode={mode}" + ("&immutable=1" if immutable else "")
    db = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False, timeout=30)
    db.execute("PRAGMA foreign_keys = ON")
    # The FTS triggers and migration 3 call this, so every connection that may write a
    # paragraph tokenises it exactly as queries are tokenised.
    db.create_function("qa_lexical", 1, lexical.index_text, deterministic=True)
    return db


def connect_reader(db_path: Path) -> tuple[sqlite3.Connection, IndexStoreError | None]:
    """A read-only connection, and why writing would fail when the folder refuses even a
    reader's files.

    SQLite shares a WAL database through `-wal` and `-shm` files beside it, which even a
    reader must create; on a read-only mount or a full disk it cannot. The database is then
    read as immutable (no locks, no shared memory): right only because no writer can be at
    work there (a writer would need those same files), and only when no `-wal` holds
    committed changes the database file lacks. A writer that died leaves such a log; then
    the reader is refused rather than shown an older or half-checkpointed state."""
    db = connect(db_path, create=False, read_only=True)
    try:
        db.execute("PRAGMA user_version").fetchone()  # the first read opens -wal and -shm
        return db, None
    except sqlite3.OperationalError as exc:
        db.close()
        code = (exc.sqlite_errorcode or 0) & 0xFF
        if code not in (SQLITE_CANTOPEN, SQLITE_IOERR, SQLITE_READONLY):
            raise
        reason = storage_error(db_path.parent, exc)
        if reason is None:
            raise
        wal = db_path.with_name(db_path.name + "-wal")
        with contextlib.suppress(FileNotFoundError):
            if wal.stat().st_size > 0:
                raise IndexStoreError(
                    f"cannot read the index at {db_path.parent}: {wal.name} holds changes not "
                    f"yet merged into {DB_NAME}, which needs a writable folder with free space; "
                    "open it once where it can be written")
    return connect(db_path, create=False, immutable=True), reason

