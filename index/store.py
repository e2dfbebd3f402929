"""The on-disk index: paragraphs and articles in SQLite, their vectors in a FAISS file.

An index is a folder:

    index.sqlite            manifest, articles, paragraphs, FTS5 (WAL mode)
    vectors-<gen>.faiss     ids = paragraph id * VIEW_SLOTS + view; exact IndexIDMap2(IndexFlatIP)
                            while small, IVF with 4-bit codes beyond (chosen in index.vectors)
                            whose candidates are rescored from the float16 `vectors` table
                            in index.sqlite (index.vector_table)
    write.lock              held by the one process allowed to write

Crash safety rests on one rule: the SQLite transaction that names a new FAISS generation in
the manifest is the commit point. A writer first writes `vectors-<gen+1>.faiss` completely
(temp file, fsync, rename), then commits the SQLite changes together with `generation =
gen+1`, and only then deletes older generation files. Killed before the commit, the
previous generation and the previous rows are still what SQLite names; killed after, the new
ones are. Leftover files from either case are removed by the next writer.

Readers never take the lock: they read the generation from SQLite and load that file. If a
writer deletes it between those two steps, the reader re-reads the generation and retries.
Paragraph ids are never reused (AUTOINCREMENT), so a reader still holding an older
generation can miss rows, but never maps an id to the wrong paragraph.

A paragraph has one or more vectors ("views"): view 0 embeds the whole paragraph, later views
embed overlapping word windows of it (see index.passages). Windows let a question that targets
one clause of a long paragraph find it; the FAISS id packs paragraph id and view together.

faiss and numpy are imported inside functions so that importing this module (and the CLI
that names it) stays instant.
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shlex
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from index import lexical, schema, vector_table
from index import vectors as ann
from index.errors import UserError
from index.types import Article

if TYPE_CHECKING:
    import faiss
    import filelock
    import numpy as np

CURRENT = schema.CURRENT
DB_NAME = "index.sqlite"
LOCK_NAME = "write.lock"
DEFAULT_LOCK_TIMEOUT = 30.0
_VECTORS_RE = re.compile(r"^vectors-(\d+)\.faiss$")
_SQL_CHUNK = 500  # ids per IN (...) list, well under SQLite's variable limit
_MAX_QUERY_TOKENS = 64
VIEW_SLOTS = 64  # vectors per paragraph at most: view 0 (whole) + up to 63 windows
_FLOAT32_NORM_TOLERANCE = 1e-3  # how far from unit length a vector may come back
_FLOAT16_NORM_TOLERANCE = 2e-3  # float16 rounds each component to 1 part in 2,048
_MODEL_KEYS = ("model", "fingerprint", "dim", "query_prompt", "passage_prompt")


@dataclass(frozen=True)
class Manifest:
    """What an index's vectors mean: a query embedded any other way is not comparable."""

    model: str
    fingerprint: str
    dim: int
    query_prompt: str
    passage_prompt: str
    schema_version: int = CURRENT


class IndexStoreError(UserError):
    """Anything wrong with an index folder that the user may need to act on; a UserError so
    the CLI prints the message alone, without a traceback."""


class IndexMissingError(IndexStoreError):
    pass


class ModelMismatchError(IndexStoreError):
    pass


class IndexLockedError(IndexStoreError):
    pass


class IndexDamagedError(IndexStoreError):
    """The index is there but its files cannot be trusted: a corrupt or truncated database, a
    damaged manifest, a missing or unreadable vectors file. Never reported as "no index",
    which would invite a build over what may still be recovered. `text_intact` says whether
    the stored text is still readable, i.e. whether re-embedding it can repair the index or
    only a backup or the original sources can; the CLI words the advice from it."""

    def __init__(self, path: Path | str, reason: str, *, text_intact: bool = False) -> None:
        self.path = Path(path)
        self.reason = reason
        self.text_intact = text_intact
        super().__init__(f"the index at {path} is damaged ({reason})")


class IndexReadOnlyError(IndexStoreError):
    """A write to an index on a read-only mount or in a folder this user cannot write to.
    Readers are not refused: they open the database read-only instead."""

    def __init__(self, path: Path | str, reason: str = "its folder cannot be written to") -> None:
        self.path = Path(path)
        super().__init__(f"the index at {path} is read-only ({reason})")


class DiskFullError(IndexStoreError):
    """A write ran out of space; it was rolled back and its files removed, so the index is
    as it was before and still answers."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        super().__init__(f"disk full: no space left on the device holding {path}; "
                         "the index was not changed")


_SQLITE_ERROR, _SQLITE_BUSY, _SQLITE_LOCKED = 1, 5, 6
_SQLITE_READONLY, _SQLITE_IOERR, _SQLITE_CORRUPT, _SQLITE_FULL = 8, 10, 11, 13
_SQLITE_CANTOPEN, _SQLITE_NOTADB = 14, 26
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
    if code == _SQLITE_FULL or (code in (_SQLITE_IOERR, _SQLITE_CANTOPEN) and _disk_full(path)):
        return DiskFullError(path)
    if code == _SQLITE_READONLY or (code == _SQLITE_CANTOPEN and not _folder_writable(path)):
        return IndexReadOnlyError(path)
    if code in (_SQLITE_BUSY, _SQLITE_LOCKED):
        return IndexLockedError(f"another process kept the index at {path} locked ({exc}); "
                                "try again when it has finished")
    if code in (_SQLITE_CORRUPT, _SQLITE_NOTADB):
        return IndexDamagedError(path, f"{DB_NAME}: {exc}")
    if code == _SQLITE_IOERR:
        return IndexStoreError(f"cannot read or write the index at {path}: {exc}; check the "
                               "disk it is on")
    return None


def _disk_full(path: Path) -> bool:
    import shutil

    try:
        return shutil.disk_usage(path).free < _FULL_BELOW
    except OSError:
        return False


def _folder_writable(path: Path) -> bool:
    """Whether files can be created in `path` and its database written. access(2) answers
    EROFS for a read-only mount even to root, for whom permission bits do not count."""
    db_path = path / DB_NAME
    return os.access(path, os.W_OK) and (not db_path.exists() or os.access(db_path, os.W_OK))


def _typed_errors(method: Callable[..., Any]) -> Callable[..., Any]:
    """Turn SQLite's and the file system's failures inside a Store method into the typed
    errors above (damaged, read-only, disk full), so no caller sees a bare sqlite3 error
    for a page that went bad after the index was opened."""
    import functools

    @functools.wraps(method)
    def wrapper(self: Store, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except (sqlite3.DatabaseError, OSError) as exc:
            error = storage_error(self.path, exc)
            if error is None:
                raise
            raise error from exc

    return wrapper


@dataclass(frozen=True)
class StoredParagraph:
    id: int
    article_id: str
    title: str
    source: str
    number: int
    line: int
    start: int
    end: int
    text: str
    metadata: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class StoredArticle:
    """An article as recorded; `content_hash` lets a sync skip articles that did not change."""

    id: str
    title: str
    source: str
    metadata: dict[str, str]
    content_hash: str
    added_at: str
    paragraphs: int


class Store:
    """One open index folder. Not safe for concurrent use from several threads at once."""

    def __init__(
        self,
        path: Path,
        db: sqlite3.Connection,
        manifest: Manifest,
        *,
        writable: bool,
        lock_timeout: float,
    ) -> None:
        # Use Store.create / Store.open; this only wires up an already-validated connection.
        self.path = path
        self.manifest = manifest
        self.writable = writable
        self._db: sqlite3.Connection | None = db
        self._lock_timeout = lock_timeout
        self._lock: filelock.BaseFileLock | None = _file_lock(path) if writable else None
        # Why a write here would fail, when known (a read-only mount, a full disk): raised by
        # writers instead of a bare "opened read-only".
        self.unwritable: IndexStoreError | None = None
        self._faiss: faiss.Index | None = None
        self._faiss_generation: int | None = None
        self._depth = 0
        self._poisoned = False
        self._changed = False
        self._vectors_changed = False

    # ---- opening -------------------------------------------------------------------------

    @classmethod
    def create(
        cls,
        path: str | os.PathLike[str],
        manifest: Manifest,
        *,
        overwrite: bool = False,
        lock_timeout: float = DEFAULT_LOCK_TIMEOUT,
    ) -> Store:
        """Start an empty index. An interrupted earlier create is not "existing" and is replaced.

        Only in a new or empty folder, or one holding nothing but qa's own files: an index
        created among a user's files would later make a rebuild (which replaces the folder)
        either refuse or cost them those files."""
        path = Path(path)
        if manifest.dim <= 0:
            raise ValueError(f"dim must be positive, got {manifest.dim}")
        if path.exists() and not path.is_dir():
            check_ours(path)  # raises: a file is never an index folder
        path.mkdir(parents=True, exist_ok=True)
        check_ours(path)  # before the lock file is added to a folder that is not ours
        lock = _file_lock(path)
        with _acquire(lock, path, lock_timeout):
            db_path = path / DB_NAME
            check_ours(path)
            if db_path.exists():
                if not overwrite and _is_complete(db_path):
                    raise IndexStoreError(
                        f"an index already exists at {path}; remove it, choose another "
                        "folder, or overwrite it"
                    )
                _remove_index_files(path)
            db = _connect(db_path, create=True)
            try:
                db.execute("PRAGMA journal_mode = WAL")
                db.execute("PRAGMA synchronous = FULL")
                schema.migrate(db)
                _write_vectors(path, 1, ann.empty(manifest.dim))
                now = _now()
                values = {
                    "model": manifest.model,
                    "fingerprint": manifest.fingerprint,
                    "dim": str(manifest.dim),
                    "query_prompt": manifest.query_prompt,
                    "passage_prompt": manifest.passage_prompt,
                    "schema_version": str(schema.version(db)),
                    "created_at": now,
                    "updated_at": now,
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
            store = cls(
                path,
                db,
                _manifest_from(values, schema.version(db)),
                writable=True,
                lock_timeout=lock_timeout,
            )
            store._cleanup_stale()
        return store

    @classmethod
    def open(
        cls,
        path: str | os.PathLike[str],
        expect: Manifest | None = None,
        writable: bool = False,
        *,
        lock_timeout: float = DEFAULT_LOCK_TIMEOUT,
        on_upgrade: Callable[[str], None] | None = None,
    ) -> Store:
        """Open an existing index; `expect` guards against mixing vectors of different models.
        An index written by an older qa is upgraded first, once; `on_upgrade` hears why the
        open takes longer then (seconds on a 36k-paragraph index)."""
        path = Path(path)
        db_path = path / DB_NAME
        if not db_path.is_file():
            raise IndexMissingError(
                f"no index at {path}; build one with: qa index build --index {_q(path)} PATH..."
            )
        if writable and not _folder_writable(path):
            raise IndexReadOnlyError(path)
        unwritable: IndexStoreError | None = None
        try:
            if writable:
                db = _connect(db_path, create=False)
            else:
                db, unwritable = _connect_reader(db_path)
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
                raise IndexMissingError(
                    f"the index at {path} is incomplete (an earlier build was interrupted); "
                    f"rebuild it with: qa index build --index {_q(path)} PATH..."
                )
            if version < CURRENT:
                version = _upgrade(path, db, writable, unwritable, lock_timeout, on_upgrade)
            values = dict(db.execute("SELECT key, value FROM manifest").fetchall())
            if not values and not db.execute("SELECT EXISTS(SELECT 1 FROM articles)").fetchone()[0]:
                # a create killed between writing the schema and the manifest
                raise IndexMissingError(
                    f"the index at {path} is incomplete (an earlier build was interrupted); "
                    f"rebuild it with: qa index build --index {_q(path)} PATH..."
                )
            manifest = _checked_manifest(path, values, version)
            if expect is not None:
                _check_model(path, manifest, expect)
            if writable:
                db.execute("PRAGMA journal_mode = WAL")
                db.execute("PRAGMA synchronous = FULL")
            else:
                db.execute("PRAGMA query_only = ON")
        except BaseException as exc:
            db.close()
            error = storage_error(path, exc)
            if error is None and isinstance(exc, sqlite3.DatabaseError) and (
                    (getattr(exc, "sqlite_errorcode", None) or 0) & 0xFF == _SQLITE_ERROR):
                # e.g. "no such table: manifest": a database, but not one qa could have left
                error = IndexDamagedError(path, f"{DB_NAME}: {exc}")
            if error is None or error is exc:
                raise
            raise error from exc
        store = cls(path, db, manifest, writable=writable, lock_timeout=lock_timeout)
        store.unwritable = unwritable
        if writable:
            store._cleanup_if_unlocked()
        return store

    # ---- lifecycle -----------------------------------------------------------------------

    def close(self) -> None:
        if self._db is not None:
            if self._db.in_transaction:
                self._db.execute("ROLLBACK")
            self._db.close()
            self._db = None
        self._faiss = None
        self._faiss_generation = None

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def generation(self) -> int:
        """The committed FAISS generation, as readers in any process would see it now."""
        return self._read_generation()

    # ---- writing -------------------------------------------------------------------------

    @contextlib.contextmanager
    def writer(self) -> Iterator[Store]:
        """Group several writes into one atomic commit: one lock hold, one new FAISS file.

        Nested use joins the outer batch. If an exception escapes any nested block the whole
        batch is rolled back, even if an outer block catches it, because the in-memory FAISS
        index cannot be partially undone.
        """
        self._require_writable()
        if self._depth:
            self._depth += 1
            try:
                yield self
            except BaseException:
                self._poisoned = True
                raise
            finally:
                self._depth -= 1
            return
        assert self._lock is not None
        with _acquire(self._lock, self.path, self._lock_timeout):
            db = self._conn()
            self._depth = 1
            self._poisoned = self._changed = self._vectors_changed = False
            try:
                db.execute("BEGIN IMMEDIATE")
                self._load_faiss_in_transaction()
                yield self
                if self._poisoned:
                    raise IndexStoreError("a nested write failed; the whole batch was rolled back")
                self._commit()
            except BaseException as exc:
                self._roll_back(db)
                error = storage_error(self.path, exc)
                if error is None or error is exc:
                    raise
                raise error from exc
            finally:
                self._depth = 0
                self._poisoned = self._changed = self._vectors_changed = False

    def _roll_back(self, db: sqlite3.Connection) -> None:
        """Undo a failed batch, including the generation file it may have written: on a full
        disk that file is what the user needs back. The write lock is still held, so any
        file SQLite does not name is this batch's own."""
        self._faiss = None  # may hold uncommitted changes; reload from disk when needed
        self._faiss_generation = None
        with contextlib.suppress(sqlite3.Error):
            if db.in_transaction:
                db.execute("ROLLBACK")
        if not db.in_transaction:
            with contextlib.suppress(sqlite3.Error, OSError, IndexStoreError):
                self._cleanup_stale()

    def add_articles(self, articles: Sequence[Article], vectors: Any,
                     views: Sequence[int] | None = None) -> list[int]:
        """Store articles with their paragraph vectors, replacing any stored with the same id.

        `vectors` has one row per view, in article order, then paragraph order, then view
        order; `views` gives each paragraph's number of views (default: one each). Rows are
        L2-normalised here so that inner product is cosine whatever the caller passed; rows
        already of unit length (the model's output, vectors re-used from the index) are
        stored exactly as given.
        Paragraph.article_id is ignored in favour of the Article's id.
        """
        self._require_writable()
        ids = [a.id for a in articles]
        if len(set(ids)) != len(ids):
            dupes = sorted({i for i in ids if ids.count(i) > 1})
            raise ValueError(f"article ids repeated in one batch: {dupes}")
        if not articles:
            return []
        import numpy as np

        n_paragraphs = sum(len(a.paragraphs) for a in articles)
        counts = [1] * n_paragraphs if views is None else [int(v) for v in views]
        if len(counts) != n_paragraphs or any(not 1 <= c <= VIEW_SLOTS for c in counts):
            raise ValueError(f"views must give 1..{VIEW_SLOTS} vectors for each of the "
                             f"{n_paragraphs} paragraphs")
        vecs = _prepare_vectors(vectors, sum(counts), self.manifest.dim)
        view_counts = iter(counts)

        new_ids: list[int] = []
        faiss_ids: list[int] = []
        with self.writer():
            db = self._conn()
            self._delete_articles(ids)
            now = _now()
            for article in articles:
                db.execute(
                    "INSERT INTO articles(id, title, source, metadata, content_hash, added_at) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    (
                        article.id,
                        article.title,
                        article.source,
                        json.dumps(article.metadata, ensure_ascii=False, sort_keys=True),
                        article.content_hash,
                        now,
                    ),
                )
                for p in article.paragraphs:
                    n_views = next(view_counts)
                    cur = db.execute(
                        'INSERT INTO paragraphs(article_id, number, text, line, start, "end", '
                        "text_hash, views) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                        (article.id, p.number, p.text, p.line, p.start, p.end, _text_hash(p.text),
                         n_views),
                    )
                    assert cur.lastrowid is not None
                    new_ids.append(cur.lastrowid)
                    faiss_ids.extend(cur.lastrowid * VIEW_SLOTS + v for v in range(n_views))
            self._changed = True
            if new_ids:
                assert self._faiss is not None
                keys = np.asarray(faiss_ids, dtype=np.int64)
                self._faiss.add_with_ids(vecs, keys)
                vector_table.insert(db, keys, vecs)
                self._vectors_changed = True
        return new_ids

    def remove_articles(self, ids: Iterable[str]) -> int:
        """Drop articles, their paragraphs and their vectors; returns how many existed."""
        self._require_writable()
        ids = list(dict.fromkeys(ids))
        if not ids:
            return 0
        with self.writer():
            return self._delete_articles(ids)

    # ---- reading -------------------------------------------------------------------------

    @_typed_errors
    def search_dense(self, qvec: Any, k: int) -> list[tuple[int, float]]:
        """Nearest paragraphs by their best view's cosine, each paragraph once.

        The query is normalised here like the stored rows. Views of one paragraph crowd the
        raw FAISS list, so it is searched deeper until k distinct paragraphs are found. An
        index of codes (index.vectors) gives candidates, scored again from the vectors table:
        ranking by the codes alone, and rescoring only the top k, lost 3 of 200 IndoSum top
        fives against exact search (benchmarks/layout_indosum.py) and most of the recall that
        rescoring deeper buys at millions of vectors.
        """
        import numpy as np

        q = self._unit_query(qvec)
        if q is None or k <= 0:
            return []
        index = self._current_faiss()
        if index.ntotal == 0:
            return []
        exact = ann.holds_exact(index)
        depth = min(index.ntotal, k * 4 if exact else max(k * 4, ann.rescore_depth(index.ntotal)))
        while True:
            keys, sims, exhausted = ann.search(index, q, depth, self._stored_vectors)
            pids = keys // VIEW_SLOTS
            # Results come best first, so a paragraph's first view is its best one.
            _, first = np.unique(pids, return_index=True)
            first.sort()
            if len(first) >= k or exhausted:
                return [(int(pids[i]), float(sims[i])) for i in first[:k]]
            depth = min(index.ntotal, depth * 4)

    @_typed_errors
    def view_scores(self, qvec: Any, ids: Sequence[int]) -> dict[int, tuple[float, float]]:
        """(whole-paragraph cosine, best window cosine) for each paragraph id, computed from
        the stored vectors (float32 in an exact index, else float16 from the vectors table);
        a paragraph without windows repeats its whole score."""
        import numpy as np

        q = self._unit_query(qvec)
        ids = list(dict.fromkeys(int(i) for i in ids))
        if q is None or not ids:
            return {}
        keys, vecs = self._views(ids)
        if not len(keys):
            return {}
        # Views come grouped by paragraph, whole paragraph (view 0) first in each group.
        pids = keys // VIEW_SLOTS
        starts = np.flatnonzero(np.r_[True, pids[1:] != pids[:-1]])
        n_views = np.diff(np.r_[starts, len(pids)])
        sims = vecs @ q[0]
        whole = sims[starts]
        windows = sims.copy()
        windows[starts] = -np.inf
        best = np.maximum.reduceat(windows, starts)
        best = np.where(n_views > 1, best, whole)
        return {int(pid): (float(w), float(b)) for pid, w, b in zip(pids[starts], whole, best)}

    def _views(self, ids: list[int]) -> tuple[np.ndarray, np.ndarray]:
        """(view ids, vectors) of every view of these paragraphs, grouped by paragraph."""
        import numpy as np

        index = self._current_faiss()
        if not ann.holds_exact(index):
            return vector_table.views(self._conn(), ids, VIEW_SLOTS, self.manifest.dim)
        counts = self._view_counts(ids)
        pids = np.asarray([pid for pid in ids if counts.get(pid, 0) > 0], dtype=np.int64)
        n_views = np.asarray([counts[int(pid)] for pid in pids], dtype=np.int64)
        starts = np.concatenate(([0], np.cumsum(n_views)[:-1])).astype(np.int64)
        view = np.arange(int(n_views.sum())) - np.repeat(starts, n_views)
        keys = np.repeat(pids, n_views) * VIEW_SLOTS + view
        try:
            return keys, index.reconstruct_batch(keys)
        except RuntimeError:  # a concurrent writer removed one; score nothing rather than guess
            return keys[:0], np.zeros((0, self.manifest.dim), dtype=np.float32)

    def _stored_vectors(self, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return vector_table.fetch(self._conn(), keys, self.manifest.dim)

    def _table_vectors(self, keys: np.ndarray) -> np.ndarray:
        """Vectors for every one of `keys`; KeyError if the table lacks one."""
        found, vecs = self._stored_vectors(keys)
        if len(found) != len(keys):
            missing = sorted(set(int(k) for k in keys) - set(found.tolist()))
            raise KeyError(f"the vectors table lacks paragraph view "
                           f"{missing[0] // VIEW_SLOTS}/{missing[0] % VIEW_SLOTS}")
        return vecs

    def _view_counts(self, ids: list[int]) -> dict[int, int]:
        counts: dict[int, int] = {}
        db = self._conn()
        for chunk in _chunks(ids, _SQL_CHUNK):
            marks = ",".join("?" * len(chunk))
            counts.update(db.execute(f"SELECT id, views FROM paragraphs WHERE id IN ({marks})", chunk))
        return counts

    def _unit_query(self, qvec: Any):
        import numpy as np

        q = np.asarray(qvec, dtype=np.float32).reshape(1, -1)
        if q.shape[1] != self.manifest.dim:
            raise ValueError(
                f"query vector has dimension {q.shape[1]}, the index expects {self.manifest.dim}"
            )
        norm = float(np.linalg.norm(q))
        if not np.isfinite(norm) or norm == 0.0:
            return None
        return np.ascontiguousarray(q / norm, dtype=np.float32)

    @_typed_errors
    def search_lexical(self, query: str, k: int) -> list[tuple[int, float]]:
        """BM25 over paragraph text and title (title weighted lower, as it repeats per
        paragraph); the score is negated bm25 so higher is better, like the dense score.

        Every word of the user's text is quoted and the words OR-ed, so FTS5 operators and
        punctuation in a question are searched for as plain words instead of raising.
        """
        tokens = lexical.query_terms(query, _MAX_QUERY_TOKENS)
        if not tokens or k <= 0:
            return []
        match = " OR ".join(f'"{t}"' for t in tokens)
        rows = self._conn().execute(
            "SELECT rowid, bm25(paragraphs_fts, 1.0, 0.5) AS score FROM paragraphs_fts "
            "WHERE paragraphs_fts MATCH ? ORDER BY score LIMIT ?",
            (match, k),
        )
        return [(int(rowid), -float(score)) for rowid, score in rows]

    @_typed_errors
    def vocabulary_coverage(self, query: str) -> float:
        """Share of the query's words that occur anywhere in the corpus (0..1).

        Low when the question is in another language than the articles: lexical matches are
        then incidental (a name, a stray English word) and should count for little.
        """
        tokens = lexical.query_terms(query, _MAX_QUERY_TOKENS)
        if not tokens:
            return 0.0
        marks = ",".join("?" * len(tokens))
        found = self._conn().execute(
            f"SELECT count(*) FROM paragraphs_vocab WHERE term IN ({marks})", tokens
        ).fetchone()[0]
        return found / len(tokens)

    @_typed_errors
    def paragraphs(self, ids: Sequence[int]) -> list[StoredParagraph]:
        """Rows for search hits, in the order given. Ids no longer stored (a concurrent writer
        removed them after the search) are skipped rather than raising."""
        found: dict[int, StoredParagraph] = {}
        metadata_cache: dict[str, dict[str, str]] = {}
        db = self._conn()
        for chunk in _chunks(list(dict.fromkeys(int(i) for i in ids)), _SQL_CHUNK):
            marks = ",".join("?" * len(chunk))
            rows = db.execute(
                'SELECT p.id, p.article_id, a.title, a.source, p.number, p.line, p.start, p."end", '
                "p.text, a.metadata FROM paragraphs p JOIN articles a ON a.id = p.article_id "
                f"WHERE p.id IN ({marks})",
                chunk,
            )
            for pid, aid, title, source, number, line, start, end, text, meta in rows:
                if aid not in metadata_cache:
                    metadata_cache[aid] = json.loads(meta)
                found[pid] = StoredParagraph(
                    id=pid,
                    article_id=aid,
                    title=title,
                    source=source,
                    number=number,
                    line=line,
                    start=start,
                    end=end,
                    text=text,
                    metadata=dict(metadata_cache[aid]),
                )
        return [found[int(i)] for i in ids if int(i) in found]

    @_typed_errors
    def article_paragraphs(self, article_id: str) -> list[StoredParagraph]:
        """Every stored paragraph of one article in reading order, for showing it whole."""
        rows = self._conn().execute(
            "SELECT id FROM paragraphs WHERE article_id = ? ORDER BY number, id", (article_id,)
        ).fetchall()
        return self.paragraphs([r[0] for r in rows])

    @_typed_errors
    def articles(self) -> list[StoredArticle]:
        rows = self._conn().execute(
            "SELECT a.id, a.title, a.source, a.metadata, a.content_hash, a.added_at, "
            "(SELECT count(*) FROM paragraphs p WHERE p.article_id = a.id) "
            "FROM articles a ORDER BY a.id"
        )
        return [
            StoredArticle(aid, title, source, json.loads(meta), chash, added, n)
            for aid, title, source, meta, chash, added, n in rows
        ]

    @_typed_errors
    def counts(self) -> tuple[int, int]:
        """(articles, paragraphs)."""
        row = self._conn().execute(
            "SELECT (SELECT count(*) FROM articles), (SELECT count(*) FROM paragraphs)"
        ).fetchone()
        return int(row[0]), int(row[1])

    @_typed_errors
    def verify(self) -> list[str]:
        """Cross-check SQLite, FTS and the FAISS file on disk; an empty list means healthy.

        Reads the FAISS file afresh rather than trusting the copy in memory, and reads SQLite
        in one snapshot, so the comparison is between the committed states only.
        """
        import numpy as np

        problems: list[str] = []
        db = self._conn()
        if self.writable and not db.in_transaction:
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
            missing_keys = [k for k in (*_MODEL_KEYS, "generation") if k not in values]
            if missing_keys:
                problems.append(f"manifest lacks {', '.join(missing_keys)}")
            try:
                dim = int(values.get("dim", ""))
            except ValueError:
                problems.append(f"manifest dim is not a number: {values.get('dim')!r}")
                dim = self.manifest.dim
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
            problems += self._verify_table(sql_view_ids, dim)  # in the same snapshot
        finally:
            if own_txn:
                db.execute("COMMIT")

        name = _vectors_name(generation)
        try:
            index = _read_vectors(self.path, generation, mmap=True)
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
            bad = int(np.count_nonzero(np.abs(norms - 1.0) > _FLOAT32_NORM_TOLERANCE))
            if bad:
                problems.append(f"{bad} vectors in {name} are not unit length")
        return problems

    def _verify_table(self, sql_view_ids: set[int], dim: int) -> list[str]:
        """The float16 vectors table holds one unit vector per paragraph view, no more."""
        import numpy as np

        problems: list[str] = []
        table_ids: set[int] = set()
        bad_norms = 0
        db = self._conn()
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

    # ---- internals -----------------------------------------------------------------------

    def _conn(self) -> sqlite3.Connection:
        if self._db is None:
            raise IndexStoreError("the index store is closed")
        return self._db

    def _require_writable(self) -> None:
        if not self.writable:
            raise self.unwritable or IndexStoreError(f"the index at {self.path} was opened read-only")

    def _read_generation(self) -> int:
        try:
            row = self._conn().execute(
                "SELECT value FROM manifest WHERE key = 'generation'").fetchone()
        except sqlite3.DatabaseError as exc:
            error = storage_error(self.path, exc)
            if error is None:
                raise
            raise error from exc
        if row is None or not str(row[0]).isdigit():
            raise IndexDamagedError(self.path, "its manifest names no vectors generation")
        return int(row[0])

    def _current_faiss(self) -> faiss.Index:
        """The FAISS index matching what SQLite has committed, reloaded if a writer moved on."""
        if self._depth:
            assert self._faiss is not None
            return self._faiss
        for _ in range(10):
            generation = self._read_generation()
            if self._faiss is not None and generation == self._faiss_generation:
                return self._faiss
            try:
                index = _read_vectors(self.path, generation, mmap=not self.writable)
            except FileNotFoundError:
                if self._read_generation() != generation:
                    continue  # a writer committed and cleaned up in between; try the new one
                raise IndexDamagedError(self.path, f"{_vectors_name(generation)} is missing",
                                        text_intact=True) from None
            self._check_dim(index, generation)
            self._faiss, self._faiss_generation = index, generation
            return index
        raise IndexStoreError(f"the index at {self.path} keeps changing; try again")

    def _load_faiss_in_transaction(self) -> None:
        # Inside BEGIN IMMEDIATE and the file lock nobody else can commit, so this generation
        # is the one to build on; another process may have committed since we last loaded.
        generation = self._read_generation()
        if self._faiss is None or self._faiss_generation != generation:
            try:
                index = _read_vectors(self.path, generation)
            except FileNotFoundError:
                raise IndexDamagedError(self.path, f"{_vectors_name(generation)} is missing",
                                        text_intact=True) from None
            self._check_dim(index, generation)
            self._faiss, self._faiss_generation = index, generation

    def _check_dim(self, index: faiss.Index, generation: int) -> None:
        if index.d != self.manifest.dim:
            raise IndexDamagedError(
                self.path, f"{_vectors_name(generation)} has dimension {index.d} but the "
                f"manifest says {self.manifest.dim}", text_intact=True)

    def _delete_articles(self, ids: list[str]) -> int:
        import numpy as np

        db = self._conn()
        paragraph_ids: list[int] = []
        removed = 0
        for chunk in _chunks(ids, _SQL_CHUNK):
            marks = ",".join("?" * len(chunk))
            paragraph_ids += [
                pid * VIEW_SLOTS + v
                for pid, n in db.execute(
                    f"SELECT id, views FROM paragraphs WHERE article_id IN ({marks})", chunk
                )
                for v in range(n)
            ]
            # Explicit, so correctness does not hinge on foreign_keys being ON in this connection.
            db.execute(f"DELETE FROM paragraphs WHERE article_id IN ({marks})", chunk)
            removed += db.execute(f"DELETE FROM articles WHERE id IN ({marks})", chunk).rowcount
        if paragraph_ids:
            assert self._faiss is not None
            self._faiss.remove_ids(np.asarray(paragraph_ids, dtype=np.int64))
            vector_table.delete(db, paragraph_ids)
            self._vectors_changed = True
        if removed:
            self._changed = True
        return removed

    def _commit(self) -> None:
        db = self._conn()
        if not self._changed and not self._vectors_changed:
            db.execute("COMMIT")
            return
        updates = {"updated_at": _now()}
        new_generation = None
        if self._vectors_changed:
            assert self._faiss is not None and self._faiss_generation is not None
            new_generation = self._faiss_generation + 1
            # Crossing a size threshold migrates here, before anything names the new file.
            try:
                self._faiss = ann.fit(self._faiss, self._table_vectors)
            except KeyError as exc:
                raise IndexStoreError(
                    f"{exc.args[0]} in {self.path}; the index is damaged, rebuild it with: "
                    f"qa index build --index {_q(self.path)} PATH..."
                ) from None
            _write_vectors(self.path, new_generation, self._faiss)
            updates["generation"] = str(new_generation)
        db.executemany("INSERT OR REPLACE INTO manifest(key, value) VALUES (?, ?)", updates.items())
        db.execute("COMMIT")  # the commit point
        if new_generation is not None:
            self._faiss_generation = new_generation
            self._cleanup_stale()

    def _cleanup_stale(self) -> None:
        """Delete vector files SQLite does not name: older generations and uncommitted ones.
        Caller holds the write lock, so no writer is about to commit one of them."""
        current = self._read_generation()
        for entry in os.scandir(self.path):
            m = _VECTORS_RE.match(entry.name)
            stale = (m is not None and int(m.group(1)) != current) or (
                entry.name.startswith("vectors-") and entry.name.endswith(".tmp")
            )
            if stale:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(entry.path)

    def _cleanup_if_unlocked(self) -> None:
        # Opening for writing should not block on another writer just to tidy up.
        import filelock

        assert self._lock is not None
        try:
            self._lock.acquire(timeout=0)
        except filelock.Timeout:
            return
        try:
            self._cleanup_stale()
        finally:
            self._lock.release()


    # ---- for index.lifecycle (incremental add/sync, status) ------------------------------

    @_typed_errors
    def stored_views(self, text_hashes: Iterable[str]) -> dict[str, np.ndarray]:
        """Stored vectors, (views, dim) each, for paragraphs whose text hash is given, so an
        edited article re-embeds only the paragraphs whose text changed. A vector depends on
        the text alone, so any paragraph with that text will do; one that a concurrent writer
        removed meanwhile is simply left out, and its text gets embedded again."""
        hashes = list(dict.fromkeys(text_hashes))
        if not hashes:
            return {}
        db = self._conn()
        rows: dict[str, tuple[int, int]] = {}
        for chunk in _chunks(hashes, _SQL_CHUNK):
            marks = ",".join("?" * len(chunk))
            for text_hash, pid, n in db.execute(
                f"SELECT text_hash, max(id), views FROM paragraphs WHERE text_hash IN ({marks}) "
                "GROUP BY text_hash",
                chunk,
            ):
                rows[text_hash] = (pid, n)
        if not rows:
            return {}
        import numpy as np

        index = self._current_faiss()
        read = index.reconstruct_batch if ann.holds_exact(index) else self._table_vectors
        out: dict[str, np.ndarray] = {}
        for text_hash, (pid, n) in rows.items():
            keys = np.arange(pid * VIEW_SLOTS, pid * VIEW_SLOTS + n, dtype=np.int64)
            try:
                out[text_hash] = read(keys)
            except (RuntimeError, KeyError):
                continue
        return out

    @_typed_errors
    def summary(self) -> dict[str, Any]:
        """Figures for a status line, from SQLite alone (no need to load the vectors)."""
        db = self._conn()
        articles, paragraphs, views = db.execute(
            "SELECT (SELECT count(*) FROM articles), (SELECT count(*) FROM paragraphs), "
            "(SELECT coalesce(sum(views), 0) FROM paragraphs)"
        ).fetchone()
        values = dict(db.execute("SELECT key, value FROM manifest").fetchall())
        return {
            "articles": int(articles),
            "paragraphs": int(paragraphs),
            "vectors": int(views),
            "generation": int(values.get("generation", "0") or 0),
            "created_at": values.get("created_at", ""),
            "updated_at": values.get("updated_at", ""),
        }

    @contextlib.contextmanager
    def locked(self, on_wait: Callable[[str], None] | None = None) -> Iterator[Store]:
        """Hold the write lock around a longer job (writer() inside joins it: the lock is
        re-entrant), telling the user why nothing happens while another writer holds it."""
        import filelock

        self._require_writable()
        assert self._lock is not None
        try:
            self._lock.acquire(timeout=0)
        except filelock.Timeout:
            if on_wait is not None:
                on_wait(f"waiting for another qa writer to finish with {self.path} "
                        f"(up to {self._lock_timeout:g}s)...")
            with _acquire(self._lock, self.path, self._lock_timeout):
                yield self
            return
        try:
            yield self
        finally:
            self._lock.release()

    # ---- the rest of the backend interface (index.backends.base.IndexStore) --------------

    backend = "faiss"

    @property
    def location(self) -> str:
        return str(self.path)

    def identity(self) -> str:
        """The database file's inode: a rebuild swaps in a new folder, so it changes."""
        try:
            return str(os.stat(self.path / DB_NAME).st_ino)
        except OSError:
            return ""

    def size_bytes(self) -> int:
        return sum(e.stat(follow_symlinks=False).st_size for e in os.scandir(self.path)
                   if e.is_file(follow_symlinks=False))

# ---- module helpers ----------------------------------------------------------------------


def _q(path: Path) -> str:
    return shlex.quote(str(path))


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def view_id_problems(where: str, missing: set[int], unknown: set[int],
                     unknown_label: str = "unknown to SQLite in") -> list[str]:
    """`verify` lines for paragraph views one side holds and the other lacks, shown as
    paragraph/view (the way a user can look them up) rather than as packed vector ids."""
    problems = []
    for label, ids in (("missing from", missing), (unknown_label, unknown)):
        if ids:
            shown = ", ".join(f"{i // VIEW_SLOTS}/{i % VIEW_SLOTS}" for i in sorted(ids)[:5])
            problems.append(f"{len(ids)} paragraph views (paragraph/view) {label} {where}: {shown}")
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


def _manifest_from(values: dict[str, str], version: int) -> Manifest:
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
    missing = [key for key in (*_MODEL_KEYS, "generation") if key not in values]
    if missing:
        raise IndexDamagedError(path, f"its manifest lacks {', '.join(missing)}")
    if not values["model"].strip():
        raise IndexDamagedError(path, "its manifest names no model")
    for key in ("dim", "generation"):
        if not values[key].strip().isdigit() or int(values[key]) <= 0:
            raise IndexDamagedError(path, f"its manifest {key} is not a positive number: "
                                          f"{values[key]!r}")
    return _manifest_from(values, version)


def _upgrade(path: Path, db: sqlite3.Connection, writable: bool,
             unwritable: IndexStoreError | None, lock_timeout: float,
             on_upgrade: Callable[[str], None] | None) -> int:
    """Bring an index from an older qa to the current schema, once, whoever opens it first.
    A reader's connection is read-only, so the migration gets a connection of its own."""
    if unwritable is not None or not _folder_writable(path):
        raise IndexReadOnlyError(path, "it was written by an older qa and needs a one-time "
                                       "upgrade, which has to write to it")
    if on_upgrade is not None:
        on_upgrade(f"upgrading the index at {path} to this version of qa "
                   "(once; nothing is re-embedded)...")
    with _acquire(_file_lock(path), path, lock_timeout):
        writer = db if writable else _connect(path / DB_NAME, create=False)
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


def _check_model(path: Path, have: Manifest, want: Manifest) -> None:
    diffs = [
        f"{key}: index has {getattr(have, key)!r}, asked for {getattr(want, key)!r}"
        for key in _MODEL_KEYS
        if getattr(have, key) != getattr(want, key)
    ]
    if not diffs:
        return
    if have.model == want.model:
        what = f"model {have.model!r} with different settings"
    else:
        what = f"model {want.model!r}"
    raise ModelMismatchError(
        f"the index at {path} was built with model {have.model!r}, but {what} was asked for "
        f"({'; '.join(diffs)}). Its vectors cannot be compared with this model's queries.\n"
        f"Rebuild it for the new model:  qa index build --index {shlex.quote(str(path))} "
        f"--model {shlex.quote(want.model)} PATH...\n"
        f"or ask with the model it was built with:  qa ask --model {shlex.quote(have.model)} "
        "QUESTION"
    )


def _connect(db_path: Path, *, create: bool, read_only: bool = False,
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


def _connect_reader(db_path: Path) -> tuple[sqlite3.Connection, IndexStoreError | None]:
    """A read-only connection, and why writing would fail when the folder refuses even a
    reader's files.

    SQLite shares a WAL database through `-wal` and `-shm` files beside it, which even a
    reader must create; on a read-only mount or a full disk it cannot. The database is then
    read as immutable (no locks, no shared memory): right only because no writer can be at
    work there (a writer would need those same files), and only when no `-wal` holds
    committed changes the database file lacks. A writer that died leaves such a log; then
    the reader is refused rather than shown an older or half-checkpointed state."""
    db = _connect(db_path, create=False, read_only=True)
    try:
        db.execute("PRAGMA user_version").fetchone()  # the first read opens -wal and -shm
        return db, None
    except sqlite3.OperationalError as exc:
        db.close()
        code = (exc.sqlite_errorcode or 0) & 0xFF
        if code not in (_SQLITE_CANTOPEN, _SQLITE_IOERR, _SQLITE_READONLY):
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
    return _connect(db_path, create=False, immutable=True), reason


def _is_complete(db_path: Path) -> bool:
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
            ours = is_file and (entry.name in own or bool(_VECTORS_RE.match(entry.name)) or (
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
    from qa.safe_text import inert

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


def _remove_index_files(path: Path) -> None:
    check_ours(path)  # never delete a database some other program keeps under our file name
    names = [DB_NAME + suffix for suffix in ("", "-wal", "-shm", "-journal")]
    for entry in os.scandir(path):
        if entry.name in names or (
            entry.name.startswith("vectors-")
            and (entry.name.endswith(".faiss") or entry.name.endswith(".tmp"))
        ):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(entry.path)


def _file_lock(path: Path) -> filelock.BaseFileLock:
    import filelock

    return filelock.FileLock(str(path / LOCK_NAME))


@contextlib.contextmanager
def _acquire(lock: filelock.BaseFileLock, path: Path, timeout: float) -> Iterator[None]:
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


def _vectors_name(generation: int) -> str:
    return f"vectors-{generation}.faiss"


def _write_vectors(path: Path, generation: int, index: faiss.Index) -> None:
    """Durably publish a generation file; it only counts once SQLite names it."""
    final = path / _vectors_name(generation)
    tmp = path / f"{_vectors_name(generation)}.{os.getpid()}.tmp"
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


def _read_vectors(path: Path, generation: int, *, mmap: bool = False) -> faiss.Index:
    """Load a generation: copied into memory for a writer, which changes it; mapped for a
    reader (index.vectors.read says why that is safe). Raises FileNotFoundError for a
    missing file, IndexStoreError for an unreadable one."""
    try:
        return ann.read(path / _vectors_name(generation), mmap=mmap)
    except RuntimeError as exc:
        reason = " ".join(str(exc).split())  # FAISS's messages span lines
        raise IndexDamagedError(path, f"{_vectors_name(generation)} is unreadable: {reason}",
                                text_intact=True) from exc


# |norm - 1| up to which a row counts as already normalised: what verify accepts as unit.
UNIT_TOLERANCE = _FLOAT32_NORM_TOLERANCE


def _prepare_vectors(vectors: Any, rows: int, dim: int) -> np.ndarray:
    import numpy as np

    vecs = np.asarray(vectors, dtype=np.float32)
    if rows == 0 and vecs.size == 0:
        return np.zeros((0, dim), dtype=np.float32)
    if vecs.ndim != 2 or vecs.shape != (rows, dim):
        raise ValueError(f"expected vectors of shape ({rows}, {dim}), got {vecs.shape}")
    if not np.all(np.isfinite(vecs)):
        raise ValueError("vectors contain NaN or infinity")
    norms = np.linalg.norm(vecs, axis=1, keepdims=True)
    if np.any(norms == 0):
        raise ValueError("vectors contain an all-zero row, which has no direction to compare")
    # Rows already of unit length are kept bit for bit: dividing a unit vector by its norm
    # again moves its last bits (differently on another CPU), so a paragraph's re-used or
    # migrated vectors would no longer be the ones stored. float16 (the vectors table) keeps
    # a unit vector's norm within 2**-11 of 1, well inside the tolerance.
    far = np.abs(norms - 1.0) > UNIT_TOLERANCE
    if not far.any():
        return np.ascontiguousarray(vecs)
    return np.ascontiguousarray(np.where(far, vecs / norms, vecs), dtype=np.float32)
