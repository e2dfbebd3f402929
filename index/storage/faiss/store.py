"""The on-disk index: paragraphs and articles in SQLite, their vectors in a FAISS file.

An index is a folder (index.storage.faiss.folder):

    index.sqlite            manifest, articles, paragraphs, FTS5 (WAL mode)
    vectors-<gen>.faiss     ids = paragraph id * VIEW_SLOTS + view; exact IndexIDMap2(IndexFlatIP)
                            while small, IVF with 4-bit codes beyond (chosen in index.storage.faiss.vectors)
                            whose candidates are rescored from the float16 `vectors` table
                            in index.sqlite (index.storage.faiss.vector_table)
    write.lock              held by the one process allowed to write

Opening and creating the database is index.storage.faiss.connection's job, writing and
reading a generation file index.storage.faiss.vector_files's, and `verify`
index.storage.faiss.verify's; this module is the store itself: writes, searches, reads.

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
embed overlapping word windows of it (see index.corpus.passages). Windows let a question that targets
one clause of a long paragraph find it; the FAISS id packs paragraph id and view together.

faiss and numpy are imported inside functions so that importing this module (and the CLI
that names it) stays instant.
"""
from __future__ import annotations

import contextlib
import json
import os
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from index.corpus import lexical
from index.storage import checks
from index.storage.base import (DEFAULT_LOCK_TIMEOUT, VIEW_SLOTS, ArticleFilter,
                                IndexDamagedError, IndexReplacedError, IndexStoreError,
                                IndexUnrepairedError,
                                Manifest, Source, StoredArticle, StoredParagraph,
                                WordSenseTable, source_key, timestamp)
from index.storage.faiss import article_filter as filter_sql
from index.storage.faiss import vector_table
from index.storage.faiss import vectors as ann
from index.storage.faiss import verify as checkup
from index.storage.faiss.connection import create_database, open_database
from index.storage.faiss.failures import storage_error, typed_errors
from index.storage.faiss.folder import (DB_NAME, VECTORS_RE, acquire, check_ours, file_lock,
                                        make_folder, take, vectors_name)
from index.storage.faiss.vector_files import read_vectors
# Looked up here at every commit (not bound into the method), so a test can stop a writer
# right after the new generation file is on disk and before SQLite names it.
from index.storage.faiss.vector_files import write_vectors as _write_vectors

if TYPE_CHECKING:
    import faiss
    import filelock
    import numpy as np

    from index.corpus.types import Article
    from index.models.word_senses import WordSenses

_SQL_CHUNK = 500  # ids per IN (...) list, well under SQLite's variable limit
_MAX_QUERY_TOKENS = 64
# A filter passing at most this many vectors has them all scored exactly from the stored
# vectors (what an unfiltered search of codes rescores anyway); more are searched through a
# FAISS id selector, which was faster from a few hundred on: 2,535 passing vectors of a
# 300-article IndoSum slice took 1.5 ms through the selector and 9 ms scored exactly (codes),
# 6 ms and 10 ms (exact index); see benchmarks/filter_indosum.py and RESULTS.md.
_FILTER_EXACT_VIEWS = 400


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
        self._lock: filelock.BaseFileLock | None = file_lock(path) if writable else None
        # Why a write here would fail, when known (a read-only mount, a full disk): raised by
        # writers instead of a bare "opened read-only".
        self.unwritable: IndexStoreError | None = None
        self._faiss: faiss.Index | None = None
        self._faiss_generation: int | None = None
        self._faiss_mapped = False  # a read-only mapping of the file, not a writer's copy
        self._depth = 0
        self._poisoned = False
        self._changed = False
        self._vectors_changed = False
        self._dropped = False  # paragraphs deleted in this write: words may have gone
        self._senses: tuple[int, WordSenseTable | None] | None = None
        self._passing_cache = filter_sql.PassingCache()
        self._opened = self._database_file()  # see _check_not_replaced

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
        ann.flat_max()  # a bad QA_FLAT_MAX_VECTORS is refused now, not at the first commit
        if path.exists() and not path.is_dir():
            check_ours(path)  # raises: a file is never an index folder
        make_folder(path)
        check_ours(path)  # before the lock file is added to a folder that is not ours
        lock = file_lock(path)
        with acquire(lock, path, lock_timeout, make=True):
            db, stored = create_database(path, manifest, overwrite)
            store = cls(path, db, stored, writable=True, lock_timeout=lock_timeout)
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
        if writable:
            ann.flat_max()  # a bad QA_FLAT_MAX_VECTORS is refused now, not after embedding
        db, manifest, unwritable = open_database(path, expect, writable, lock_timeout, on_upgrade)
        store = cls(path, db, manifest, writable=writable, lock_timeout=lock_timeout)
        store.unwritable = unwritable
        if writable:
            store._cleanup_if_unlocked()
        return store

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
        with acquire(self._lock, self.path, self._lock_timeout):
            self._check_not_replaced()
            db = self._conn()
            self._depth = 1
            self._poisoned = self._changed = self._vectors_changed = self._dropped = False
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
                self._poisoned = self._changed = self._vectors_changed = self._dropped = False

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
        if not articles:
            return []
        import numpy as np

        ids, counts, vecs = checks.checked_batch(articles, vectors, views, self.manifest.dim)
        view_counts = iter(counts)

        new_ids: list[int] = []
        faiss_ids: list[int] = []
        with self.writer():
            db = self._conn()
            self._delete_articles(ids)
            now = timestamp()
            for article in articles:
                marks = checks.article_provenance(article)
                db.execute(
                    "INSERT INTO articles(id, title, source, metadata, content_hash, added_at, "
                    "published, outlet) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        article.id,
                        article.title,
                        article.source,
                        json.dumps(article.metadata, ensure_ascii=False, sort_keys=True),
                        article.content_hash,
                        now,
                        marks.published.isoformat() if marks.published else None,
                        marks.outlet,
                    ),
                )
                for p in article.paragraphs:
                    n_views = next(view_counts)
                    cur = db.execute(
                        'INSERT INTO paragraphs(article_id, number, text, line, start, "end", '
                        "text_hash, views) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                        (article.id, p.number, p.text, p.line, p.start, p.end, checks.text_hash(p.text),
                         n_views),
                    )
                    assert cur.lastrowid is not None
                    new_ids.append(cur.lastrowid)
                    faiss_ids.extend(cur.lastrowid * VIEW_SLOTS + v for v in range(n_views))
            self._changed = True
            if new_ids:
                assert self._faiss is not None
                keys = np.asarray(faiss_ids, dtype=np.int64)
                # The table first: its float16 copy is gone before a flat index grows (a
                # copy of the whole index while it moves, 150 MB at 100,000 vectors).
                vector_table.insert(db, keys, vecs)
                self._faiss.add_with_ids(vecs, keys)
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

    @typed_errors
    def search_dense(self, qvec: Any, k: int,
                     where: ArticleFilter | None = None) -> list[tuple[int, float]]:
        """Nearest paragraphs by their best view's cosine, each paragraph once.

        The query is normalised here like the stored rows. Views of one paragraph crowd the
        raw FAISS list, so it is searched deeper until k distinct paragraphs are found. An
        index of codes (index.storage.faiss.vectors) gives candidates, scored again from the vectors table:
        ranking by the codes alone, and rescoring only the top k, lost 3 of 200 IndoSum top
        fives against exact search (benchmarks/layout_indosum.py) and most of the recall that
        rescoring deeper buys at millions of vectors.

        With `where`, SQL names the views of the passing paragraphs: a few are scored exactly
        from their stored vectors, more are searched through a FAISS id selector, so the
        result is the best k that pass, not the top k filtered down (see `_FILTER_EXACT_VIEWS`).
        """
        q = self._unit_query(qvec)
        if q is None or k <= 0:
            return []
        index = self._current_faiss()
        if index.ntotal == 0:
            return []
        if not where:
            return self._dense(index, q, k, index.ntotal)
        passing = self._passing(where)
        if passing.vectors <= _FILTER_EXACT_VIEWS:
            return self._dense_exact(index, q, k, passing.pids, passing.views)
        if passing.selector is None:
            passing.selector = ann.selector(_view_keys(passing.pids, passing.views))
        found = self._dense(index, q, k, passing.vectors, passing.selector)
        if len(found) < k and not ann.probes_all(index):
            # The lists an IVF search probes held fewer than k passing paragraphs; the rest
            # may hold more.
            found = self._dense(index, q, k, passing.vectors, passing.selector, probe_all=True)
        return found

    def _dense(self, index: faiss.Index, q: np.ndarray, k: int, limit: int,
               selector: faiss.IDSelector | None = None,
               probe_all: bool = False) -> list[tuple[int, float]]:
        """The best k paragraphs of a FAISS search, deepened until it has k distinct ones;
        `limit`: how many vectors the search can return at most."""
        import numpy as np

        exact = ann.holds_exact(index)
        depth = min(limit, k * 4 if exact else max(k * 4, ann.rescore_depth(index.ntotal)))
        while True:
            keys, sims, exhausted = ann.search(index, q, depth, self._stored_vectors, selector,
                                               probe_all)
            pids = keys // VIEW_SLOTS
            # Results come best first, so a paragraph's first view is its best one.
            _, first = np.unique(pids, return_index=True)
            first.sort()
            if len(first) >= k or exhausted or depth >= limit:
                return [(int(pids[i]), float(sims[i])) for i in first[:k]]
            depth = min(limit, depth * 4)

    def _dense_exact(self, index: faiss.Index, q: np.ndarray, k: int, pids: np.ndarray,
                     views: np.ndarray) -> list[tuple[int, float]]:
        """The best k of these paragraphs by their best view, every view scored."""
        import numpy as np

        keys = _view_keys(pids, views)
        if ann.holds_exact(index):
            try:
                vecs = index.reconstruct_batch(keys)
            except RuntimeError:  # a concurrent writer removed one: score what is left
                keys, vecs = self._stored_vectors(keys)
        else:
            keys, vecs = self._stored_vectors(keys)
        if not len(keys):
            return []
        sims = vecs @ q[0]
        owner = keys // VIEW_SLOTS
        starts = np.flatnonzero(np.r_[True, owner[1:] != owner[:-1]])
        best = np.maximum.reduceat(sims, starts)
        order = np.lexsort((owner[starts], -best))[:k]
        return [(int(owner[starts][i]), float(best[i])) for i in order]

    def _passing(self, where: ArticleFilter) -> filter_sql.Passing:
        """The paragraphs whose article passes `where`, kept while the index is unchanged
        (index.storage.faiss.article_filter); read afresh inside a write."""
        generation = self._read_generation()

        def read() -> filter_sql.Passing:
            return filter_sql.passing(self._conn(), where, generation)

        return read() if self._depth else self._passing_cache.get(where, generation, read)

    @typed_errors
    def count_matching(self, where: ArticleFilter | None) -> tuple[int, int]:
        """(articles, paragraphs) that pass `where`."""
        if not where:
            return self.counts()
        condition, params = filter_sql.where_sql(where)
        row = self._conn().execute(
            "SELECT count(DISTINCT a.id), count(p.id) FROM articles a "
            f"LEFT JOIN paragraphs p ON p.article_id = a.id WHERE {condition}", params).fetchone()
        return int(row[0]), int(row[1])

    @typed_errors
    def published_span(self) -> tuple[date, date] | None:
        row = self._conn().execute("SELECT min(published), max(published) FROM articles "
                                   "WHERE published IS NOT NULL").fetchone()
        if row is None or row[0] is None:
            return None
        return date.fromisoformat(row[0]), date.fromisoformat(row[1])

    @typed_errors
    def view_scores(self, qvec: Any, ids: Sequence[int]) -> dict[int, tuple[float, float]]:
        """(whole-paragraph cosine, best window cosine) for each paragraph id, computed from
        the stored vectors (float32 in an exact index, else float16 from the vectors table);
        a paragraph without windows repeats its whole score."""
        q = self._unit_query(qvec)
        ids = list(dict.fromkeys(int(i) for i in ids))
        if q is None or not ids:
            return {}
        keys, vecs = self._views(ids)
        if not len(keys):
            return {}
        return checks.whole_and_best(keys, vecs @ q[0])

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

    def _unit_query(self, qvec: Any) -> np.ndarray | None:
        """The query as one unit row, the shape FAISS searches with."""
        q = checks.unit_query(qvec, self.manifest.dim)
        return None if q is None else q.reshape(1, -1)

    @typed_errors
    def search_lexical(self, query: str, k: int,
                       where: ArticleFilter | None = None) -> list[tuple[int, float]]:
        """BM25 over paragraph text and title (title weighted lower, as it repeats per
        paragraph); the score is negated bm25 so higher is better, like the dense score.

        Every word of the user's text is quoted and the words OR-ed, so FTS5 operators and
        punctuation in a question are searched for as plain words instead of raising. With
        `where`, one statement keeps only the rows of passing paragraphs before ranking
        (BM25's statistics stay those of the whole corpus, as unfiltered).
        """
        tokens = lexical.query_terms(query, _MAX_QUERY_TOKENS)
        if not tokens or k <= 0:
            return []
        match = " OR ".join(f'"{t}"' for t in tokens)
        condition, params = "", []
        if where:
            # `+rowid`: a test on each match, not a constraint offered to FTS5, which would
            # run the full-text query once per passing id (100 ms instead of 1 on a slice).
            condition = "AND +rowid IN (SELECT value FROM json_each(?)) "
            params = [self._passing(where).ids_json]
        rows = self._conn().execute(
            "SELECT rowid, bm25(paragraphs_fts, 1.0, 0.5) AS score FROM paragraphs_fts "
            f"WHERE paragraphs_fts MATCH ? {condition}ORDER BY score, rowid LIMIT ?",
            (match, *params, k),
        )
        return [(int(rowid), -float(score)) for rowid, score in rows]

    @typed_errors
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

    @typed_errors
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

    @typed_errors
    def article_paragraphs(self, article_id: str) -> list[StoredParagraph]:
        """Every stored paragraph of one article in reading order, for showing it whole."""
        rows = self._conn().execute(
            "SELECT id FROM paragraphs WHERE article_id = ? ORDER BY number, id", (article_id,)
        ).fetchall()
        return self.paragraphs([r[0] for r in rows])

    @typed_errors
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

    @typed_errors
    def counts(self) -> tuple[int, int]:
        """(articles, paragraphs)."""
        row = self._conn().execute(
            "SELECT (SELECT count(*) FROM articles), (SELECT count(*) FROM paragraphs)"
        ).fetchone()
        return int(row[0]), int(row[1])

    @typed_errors
    def verify(self) -> list[str]:
        """Cross-check SQLite, FTS and the FAISS file on disk; an empty list means healthy
        (index.storage.faiss.verify)."""
        return checkup.verify(self._conn(), self.path, self.manifest.dim, self.writable)

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
                # Mapped, for a writer too: between its writes it only reads, and a copy of a
                # flat index would hold 1.5 KB a vector for the rest of its run.
                index = read_vectors(self.path, generation, mmap=True)
            except FileNotFoundError:
                if self._read_generation() != generation:
                    continue  # a writer committed and cleaned up in between; try the new one
                raise IndexDamagedError(self.path, f"{vectors_name(generation)} is missing",
                                        text_intact=True) from None
            self._check_dim(index, generation)
            self._faiss, self._faiss_generation, self._faiss_mapped = index, generation, True
            return index
        raise IndexStoreError(f"the index at {self.path} keeps changing; try again")

    def _load_faiss_in_transaction(self) -> None:
        # Inside BEGIN IMMEDIATE and the file lock nobody else can commit, so this generation
        # is the one to build on; another process may have committed since we last loaded.
        generation = self._read_generation()
        if self._faiss is None or self._faiss_generation != generation or self._faiss_mapped:
            try:
                index = read_vectors(self.path, generation)
            except FileNotFoundError:
                raise IndexDamagedError(self.path, f"{vectors_name(generation)} is missing",
                                        text_intact=True) from None
            self._check_dim(index, generation)
            self._faiss, self._faiss_generation, self._faiss_mapped = index, generation, False

    def _check_dim(self, index: faiss.Index, generation: int) -> None:
        if index.d != self.manifest.dim:
            raise IndexDamagedError(
                self.path, f"{vectors_name(generation)} has dimension {index.d} but the "
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
            self._vectors_changed = self._dropped = True
        if removed:
            self._changed = True
        return removed

    def _commit(self) -> None:
        db = self._conn()
        if not self._changed and not self._vectors_changed:
            db.execute("COMMIT")
            return
        updates = {"updated_at": timestamp()}
        new_generation = None
        if self._dropped:
            # A word no paragraph holds any more bridges to nothing the search can find
            # (qa.bridge): its sense goes with its last paragraph. Here, once the whole write
            # is in, so an edited article's unchanged paragraphs keep theirs.
            db.execute("DELETE FROM word_senses WHERE term NOT IN "
                       "(SELECT term FROM paragraphs_vocab)")
            self._senses = None
        if self._vectors_changed:
            assert self._faiss is not None and self._faiss_generation is not None
            new_generation = self._faiss_generation + 1
            # Crossing a size threshold migrates here, before anything names the new file.
            move = ann.migration(self._faiss)
            try:
                if move is not None:  # the old layout goes first; a failure reloads the file
                    self._faiss = None
                    self._faiss = ann.migrate(move, self._table_vectors)
            except KeyError as exc:
                raise IndexUnrepairedError(self.path, exc.args[0]) from None
            _write_vectors(self.path, new_generation, self._faiss)
            updates["generation"] = str(new_generation)
        db.executemany("INSERT OR REPLACE INTO manifest(key, value) VALUES (?, ?)", updates.items())
        db.execute("COMMIT")  # the commit point
        if new_generation is not None:
            # Let go of the copy just written: a long add embeds its next chunk meanwhile, and
            # a flat index of 100,000 vectors is 150 MB. The next write reads the file again
            # (a fraction of a second, against the seconds of embedding before it).
            self._faiss = self._faiss_generation = None
            self._cleanup_stale()

    def _cleanup_stale(self) -> None:
        """Delete vector files SQLite does not name: older generations and uncommitted ones.
        Caller holds the write lock, so no writer is about to commit one of them."""
        current = self._read_generation()
        for entry in os.scandir(self.path):
            m = VECTORS_RE.match(entry.name)
            stale = (m is not None and int(m.group(1)) != current) or (
                entry.name.startswith("vectors-") and entry.name.endswith(".tmp")
            )
            if stale:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(entry.path)

    def _cleanup_if_unlocked(self) -> None:
        # Opening for writing should not block on another writer just to tidy up.
        assert self._lock is not None
        if not take(self._lock, self.path, 0):
            return
        try:
            self._cleanup_stale()
        finally:
            self._lock.release()


    # ---- for index.indexing.lifecycle (incremental add/sync, status) ------------------------------

    @typed_errors
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

    @typed_errors
    def summary(self) -> dict[str, Any]:
        """Figures for a status line, from SQLite alone (no need to load the vectors)."""
        db = self._conn()
        articles, paragraphs, views = db.execute(
            "SELECT (SELECT count(*) FROM articles), (SELECT count(*) FROM paragraphs), "
            "(SELECT coalesce(sum(views), 0) FROM paragraphs)"
        ).fetchone()
        values = dict(db.execute("SELECT key, value FROM manifest").fetchall())
        senses = db.execute("SELECT count(*) FROM word_senses").fetchone()[0]
        return {
            "articles": int(articles),
            "paragraphs": int(paragraphs),
            "vectors": int(views),
            "word_senses": int(senses),
            "generation": int(values.get("generation", "0") or 0),
            "created_at": values.get("created_at", ""),
            "updated_at": values.get("updated_at", ""),
        }

    @typed_errors
    def sources(self) -> list[Source]:
        """The folders and files added, oldest first; kept as manifest rows (`source:<hash>`)
        so an index from an older qa needs no migration: it simply has none yet."""
        rows = self._conn().execute(
            "SELECT value FROM manifest WHERE key LIKE 'source:%'").fetchall()
        found = [s for (value,) in rows if (s := Source.from_json(value)) is not None]
        return sorted(found, key=lambda s: (s.added_at, s.path))

    def record_sources(self, sources: Iterable[Source]) -> None:
        """Remember `sources` (one already recorded keeps its first `added_at`)."""
        rows = [(source_key(s.path), s.to_json()) for s in sources]
        if not rows:
            return
        with self.writer():
            self._conn().executemany(
                "INSERT OR IGNORE INTO manifest(key, value) VALUES (?, ?)", rows)
            self._changed = True

    def forget_sources(self, paths: Iterable[str]) -> int:
        keys = [(source_key(p),) for p in dict.fromkeys(paths)]
        if not keys:
            return 0
        with self.writer():
            db = self._conn()
            before = db.total_changes
            db.executemany("DELETE FROM manifest WHERE key = ?", keys)
            removed = db.total_changes - before
            self._changed = self._changed or bool(removed)
        return removed

    keeps_word_senses = True

    def add_word_senses(self, senses: WordSenses) -> None:
        """Merge a batch's word senses into the stored ones: each stored row is the mean of
        the unit states read so far; a word read `CONTEXTS` times already is left as it is."""
        if not senses.counts:
            return
        import numpy as np

        from index.models.word_senses import CONTEXTS

        with self.writer():
            db = self._conn()
            terms = list(senses.counts)
            stored: dict[str, tuple[int, bytes]] = {}
            for chunk in _chunks(terms, _SQL_CHUNK):
                marks = ",".join("?" * len(chunk))
                stored.update((t, (c, v)) for t, c, v in db.execute(
                    f"SELECT term, count, vec FROM word_senses WHERE term IN ({marks})", chunk))
            rows = []
            for term in terms:
                count, added = stored.get(term, (0, b""))[0], senses.counts[term]
                if count >= CONTEXTS:
                    continue
                total = senses.sums[term]
                if count:
                    total = total + count * np.frombuffer(stored[term][1], dtype=np.float16)
                mean = (total / (count + added)).astype(np.float16)
                rows.append((term, count + added, mean.tobytes()))
            db.executemany("INSERT OR REPLACE INTO word_senses(term, count, vec) VALUES (?, ?, ?)",
                           rows)
            self._changed = self._changed or bool(rows)
        self._senses = None

    @typed_errors
    def word_senses(self) -> WordSenseTable | None:
        """The senses of the words the corpus holds (a word's row goes with its last
        paragraph), as unit rows; None when none are kept. Read once per committed
        generation."""
        generation = self._read_generation()
        if self._senses is not None and self._senses[0] == generation:
            return self._senses[1]
        import numpy as np

        rows = self._conn().execute("SELECT term, vec FROM word_senses").fetchall()
        table = None
        if rows:
            matrix = np.frombuffer(b"".join(v for _, v in rows), dtype=np.float16)
            matrix = matrix.reshape(len(rows), -1).astype(np.float32)
            matrix /= np.maximum(np.linalg.norm(matrix, axis=1, keepdims=True), 1e-12)
            table = WordSenseTable(terms=tuple(t for t, _ in rows), vectors=matrix)
        self._senses = (generation, table)
        return table

    @contextlib.contextmanager
    def locked(self, on_wait: Callable[[str], None] | None = None) -> Iterator[Store]:
        """Hold the write lock around a longer job (writer() inside joins it: the lock is
        re-entrant), telling the user why nothing happens while another writer holds it."""
        self._require_writable()
        assert self._lock is not None
        with acquire(self._lock, self.path, self._lock_timeout, on_wait=on_wait):
            self._check_not_replaced()
            yield self

    def _database_file(self) -> tuple[int, int] | None:
        try:
            st = os.stat(self.path / DB_NAME)
        except OSError:
            return None
        return st.st_dev, st.st_ino

    def _check_not_replaced(self) -> None:
        """Under the lock: the database at the path must still be the one this store opened.
        A build swaps a whole new folder in (holding the lock while it does); a writer that
        waited through it would otherwise commit to the old, deleted files and report
        success for work nobody will see."""
        if self._opened is not None and self._database_file() != self._opened:
            raise IndexReplacedError(self.path)

    # ---- the rest of the backend interface (index.storage.base.IndexStore) --------------

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


def _view_keys(pids: np.ndarray, views: np.ndarray) -> np.ndarray:
    """The vector ids of every view of these paragraphs, grouped by paragraph, in order."""
    import numpy as np

    starts = np.repeat(np.cumsum(views) - views, views)
    return np.repeat(pids * VIEW_SLOTS, views) + (np.arange(int(views.sum())) - starts)


def _chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]

