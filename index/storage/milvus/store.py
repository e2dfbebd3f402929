"""A qa index stored in Milvus (Milvus Lite file or server/cluster): the `IndexStore` interface.

Layout: see index.storage.milvus.layout. Vector ids pack paragraph id and view exactly as the
FAISS store does, and paragraph ids come from a counter in the root collection, so they are
never reused and a stale id from a search names nothing rather than the wrong paragraph.

Commit and crash safety. Milvus has no transaction across rows, so the unit of atomicity is
one article: its paragraphs and vectors are written first under a fresh `batch` number, then
its one article row is upserted naming that batch (the commit point), then the rows of the
batch it replaced are deleted. Readers only show paragraphs whose batch is the one their
article row names, so a reader never sees half an article or an article twice. A writer
records the article ids it is about to touch in a journal row first; a write killed half-way
leaves rows of a batch nobody names, and the next writer (or the same one, on an exception)
deletes them using that journal. A `writer()` batch is therefore not all-or-nothing as it is
on FAISS: each article in it is either wholly old or wholly new.

Writers. Milvus Lite lets one process open a file at a time (it holds an OS lock), and
inside the process a lock serialises writers, so there is one writer. A Milvus server has no
such lock: run one writer at a time against an index (one scheduled job); readers may run
anywhere, at any time. Two concurrent writers on a server would not corrupt what readers see
(each article is still whole, last writer wins), but may leave unreferenced rows.

pymilvus is imported inside functions, so importing this module stays instant.
"""
from __future__ import annotations

import contextlib
import functools
import json
import os
import secrets
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import date
from typing import TYPE_CHECKING, Any

from index.storage import checks
from index.storage.base import (DEFAULT_LOCK_TIMEOUT, MODEL_KEYS, SCHEMA_VERSION, VIEW_SLOTS,
                                ArticleFilter, IndexLockedError, IndexMissingError,
                                IndexOutdatedError, IndexStoreError, Manifest, MilvusRef, Source,
                                StoredArticle, StoredParagraph, cli_args, source_key, timestamp)
from index.storage.milvus import connect as milvus_connect, layout
from index.storage.milvus.lexical import (RowWords, bm25, frequency_deltas, index_text,
                                           query_terms, question_tokens)

if TYPE_CHECKING:
    import numpy as np
    from pymilvus import MilvusClient

    from index.corpus.types import Article
    from index.models.word_senses import WordSenses

_CHUNK = 1000  # ids per filter list or rows per insert: keeps requests well under gRPC limits
_JOURNAL_IDS = 200  # article ids per journal row (ids may be long; a VARCHAR holds 64 KB)
_P_FIELDS = ["pid", "article_id", "batch", "number", "line", "start", "end", "text", "views"]
_DROP_FIELDS = ["pid", "article_id", "batch", "views", "lex_text", "lex_title"]
# The schema version whose index.corpus.lexical wrote a collection's words (migration 4:
# accented names left unstemmed); older collections must be rebuilt.
_LEXICAL_SCHEMA = 4
_LEXICAL_DEPTH = 4  # Milvus BM25 candidates per field, as a multiple of k (at least 200)
_A_FIELDS = ["id", "title", "source", "metadata", "content_hash", "added_at", "paragraphs",
             "batch"]
_writer_locks: dict[str, threading.RLock] = {}
_writer_locks_guard = threading.Lock()


def _chunks(items: Sequence[Any], size: int = _CHUNK) -> Iterator[Sequence[Any]]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


def _writer_lock(ref: MilvusRef) -> threading.RLock:
    with _writer_locks_guard:
        return _writer_locks.setdefault(f"{ref.uri}#{ref.collection}", threading.RLock())


def _milvus_errors(method: Callable) -> Callable:
    """Server failures become one-line user errors; a read that finds its collections gone
    (a rebuild switched families meanwhile) reloads the live family and tries once more."""

    @functools.wraps(method)
    def wrapper(self: MilvusStore, *args: Any, **kwargs: Any) -> Any:
        from pymilvus.exceptions import MilvusException

        try:
            return method(self, *args, **kwargs)
        except MilvusException as exc:
            if self._depth or "not exist" not in str(exc.message) or not self._reload():
                raise IndexStoreError(f"Milvus at {self.ref.uri}: {exc.message}") from None
        try:
            return method(self, *args, **kwargs)
        except MilvusException as exc:
            raise IndexStoreError(f"Milvus at {self.ref.uri}: {exc.message}") from None

    return wrapper


class MilvusStore:
    """One open index in Milvus. Like the FAISS store, not for concurrent use by threads."""

    backend = "milvus"

    def __init__(self, ref: MilvusRef, client: MilvusClient, manifest: Manifest, tag: str,
                 *, writable: bool, lock_timeout: float, owns_client: bool = True) -> None:
        # Use MilvusStore.create / MilvusStore.open.
        self.ref = ref
        self.manifest = manifest
        self.writable = writable
        self._client: MilvusClient | None = client
        self._owns_client = owns_client
        self._family = layout.Family(ref.collection, tag)
        self._lock_timeout = lock_timeout
        self._lock = _writer_lock(ref)
        self._depth = 0
        self._journal: str | None = None
        self._notes = 0
        self._changed = False
        self._filterable: tuple[str, bool] | None = None  # (family tag, its answer)

    # ---- opening -------------------------------------------------------------------------

    @classmethod
    def create(cls, ref: MilvusRef, manifest: Manifest, *, overwrite: bool = False,
               lock_timeout: float = DEFAULT_LOCK_TIMEOUT) -> MilvusStore:
        """An empty index named `ref.collection`; an existing one is refused unless
        `overwrite`, in which case it is replaced only once the new one is in place."""
        if manifest.dim <= 0:
            raise ValueError(f"dim must be positive, got {manifest.dim}")
        client = milvus_connect.connect(ref, lock_timeout)
        try:
            with _writer_lock(ref):
                state = _read_state(client, ref.collection)
                if state is not None and not overwrite:
                    raise IndexStoreError(
                        f"an index already exists at {ref}; remove it, choose another "
                        "collection, or overwrite it")
                store = _new_family(client, ref, manifest, lock_timeout)
                store._publish()
                if state is not None:
                    layout.drop_family(client, layout.Family(ref.collection, state[1]))
                store._owns_client = True
                return store
        except BaseException:
            milvus_connect.release(ref, client)
            raise

    @classmethod
    def open(cls, ref: MilvusRef, expect: Manifest | None = None, writable: bool = False, *,
             lock_timeout: float = DEFAULT_LOCK_TIMEOUT) -> MilvusStore:
        """Open an existing index; `expect` guards against mixing vectors of different models."""
        client = milvus_connect.connect(ref, lock_timeout)
        try:
            state = _read_state(client, ref.collection)
            if state is None:
                raise IndexMissingError(ref)
            manifest, tag = state
            if manifest.schema_version < _LEXICAL_SCHEMA:
                # Its stored words came from an older index.corpus.lexical; queries would no longer
                # meet them. SQLite indexes re-tokenise in a migration; here the text must be
                # written again.
                raise IndexOutdatedError(ref, "word index splits accented names")
            if expect is not None:
                checks.check_model(ref, manifest, expect)
            store = cls(ref, client, manifest, tag, writable=writable, lock_timeout=lock_timeout)
            store._load()
            return store
        except BaseException:
            milvus_connect.release(ref, client)
            raise

    @staticmethod
    def exists(ref: MilvusRef, lock_timeout: float = DEFAULT_LOCK_TIMEOUT) -> bool:
        client = milvus_connect.connect(ref, lock_timeout)
        try:
            return _read_state(client, ref.collection) is not None
        finally:
            milvus_connect.release(ref, client)

    # ---- lifecycle -----------------------------------------------------------------------

    def close(self) -> None:
        if self._client is not None and self._owns_client:
            milvus_connect.release(self.ref, self._client)
        self._client = None

    def __enter__(self) -> MilvusStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def location(self) -> str:
        return str(self.ref)

    @property
    @_milvus_errors
    def generation(self) -> int:
        return int(self._meta(["generation"]).get("generation", "0"))

    @_milvus_errors
    def identity(self) -> str:
        state = _read_state(self._conn(), self.ref.collection)
        return state[1] if state else ""

    def size_bytes(self) -> int | None:
        """The Milvus Lite folder (all collections in that file); None for a server."""
        if not self.ref.local:
            return None
        total = 0
        for root, _, files in os.walk(self.ref.uri):
            for name in files:
                with contextlib.suppress(OSError):
                    total += os.lstat(os.path.join(root, name)).st_size
        return total

    # ---- writing -------------------------------------------------------------------------

    @contextlib.contextmanager
    def writer(self) -> Iterator[MilvusStore]:
        """Group writes under one lock hold and one generation step (see the module docstring
        for what is atomic)."""
        self._require_writable()
        if self._depth:
            self._depth += 1
            try:
                yield self
            finally:
                self._depth -= 1
            return
        with self._lock:
            self._recover()
            self._depth = 1
            self._journal = f"journal:{secrets.token_hex(8)}"
            self._notes = 0
            self._changed = False
            ok = False
            try:
                yield self
                ok = True
            finally:
                self._depth = 0
                journal, self._journal = self._journal, None
                try:
                    if not ok:
                        self._recover(journal)
                    elif self._notes:
                        self._conn().delete(self.ref.collection, ids=[
                            f"{journal}:{n}" for n in range(1, self._notes + 1)])
                    if self._changed:
                        generation = self.generation + 1
                        self._set_meta({"generation": str(generation), "updated_at": timestamp()})
                finally:
                    self._changed = False

    @contextlib.contextmanager
    def locked(self, on_wait: Callable[[str], None] | None = None) -> Iterator[MilvusStore]:
        """Hold the writer lock around a longer job; writer() inside joins it."""
        self._require_writable()
        if not self._lock.acquire(blocking=False):
            if on_wait is not None:
                on_wait(f"waiting for another writer to finish with {self.ref} "
                        f"(up to {self._lock_timeout:g}s)...")
            if not self._lock.acquire(timeout=self._lock_timeout):
                raise IndexLockedError(f"another writer is using {self.ref}; gave up after "
                                       f"waiting {self._lock_timeout:g}s")
        try:
            yield self
        finally:
            self._lock.release()

    @_milvus_errors
    def add_articles(self, articles: Sequence[Article], vectors: Any,
                     views: Sequence[int] | None = None) -> list[int]:
        """Store articles with their paragraph vectors, replacing any stored with the same id;
        the same contract as the FAISS store's (vectors in article/paragraph/view order)."""
        self._require_writable()
        if not articles:
            return []
        ids, counts, vecs = checks.checked_batch(articles, vectors, views, self.manifest.dim)
        n_paragraphs = len(counts)
        for a in articles:
            for p in a.paragraphs:
                if len(p.text.encode("utf-8")) > layout.MAX_TEXT:
                    raise IndexStoreError(f"{a.source}: paragraph {p.number} is longer than "
                                          f"Milvus allows ({layout.MAX_TEXT} bytes)")
        client = self._conn()
        filterable = self._is_filterable()
        marks: dict[str, dict[str, Any]] = {}
        for a in articles:
            found = checks.article_provenance(a)
            marks[a.id] = ({"published": layout.published_number(found.published),
                            "outlet": found.outlet} if filterable else {})
        with self.writer():
            self._note(ids)
            replaced = self._live_batches(ids)
            batch = secrets.randbits(62)
            first = self._allocate(n_paragraphs)
            rows, vec_rows, new_ids = [], [], []
            pid, row, view_counts = first, 0, iter(counts)
            for a in articles:
                lex_title = index_text(a.title)
                mark = marks[a.id]
                owner = {"article_id": a.id, **mark} if filterable else {}
                for p in a.paragraphs:
                    n = next(view_counts)
                    rows.append({"pid": pid, "article_id": a.id, "batch": batch,
                                 "number": p.number, "line": p.line, "start": p.start,
                                 "end": p.end, "text": p.text,
                                 "text_hash": checks.text_hash(p.text),
                                 "views": n, "lex_text": index_text(p.text),
                                 "lex_title": lex_title, **mark})
                    vec_rows.extend({"id": pid * VIEW_SLOTS + v, "pid": pid,
                                     "vector": vecs[row + v], **owner} for v in range(n))
                    new_ids.append(pid)
                    pid += 1
                    row += n
            for chunk in _chunks(rows):
                client.insert(self._family.paragraphs, list(chunk))
            self._count_words(rows, +1)
            for chunk in _chunks(vec_rows):
                client.insert(self._family.vectors, list(chunk))
            now = timestamp()
            article_rows = [{"id": a.id, "title": a.title, "source": a.source,
                             "metadata": json.dumps(a.metadata, ensure_ascii=False,
                                                    sort_keys=True),
                             "content_hash": a.content_hash, "added_at": now,
                             "paragraphs": len(a.paragraphs), "batch": batch,
                             **marks[a.id], "_v": layout.DUMMY} for a in articles]
            for chunk in _chunks(article_rows):
                client.upsert(self._family.articles, list(chunk))  # the commit point
            self._changed = True
            self._delete_batches(replaced)
        return new_ids

    @_milvus_errors
    def remove_articles(self, ids: Iterable[str]) -> int:
        """Drop articles, their paragraphs and their vectors; returns how many existed."""
        self._require_writable()
        ids = list(dict.fromkeys(ids))
        if not ids:
            return 0
        with self.writer():
            self._note(ids)
            live = self._live_batches(ids)
            if not live:
                return 0
            for chunk in _chunks(list(live)):
                self._conn().delete(self._family.articles, ids=list(chunk))  # the commit point
            self._changed = True
            self._delete_batches(live)
            return len(live)

    # ---- searching -----------------------------------------------------------------------

    @_milvus_errors
    def search_dense(self, qvec: Any, k: int,
                     where: ArticleFilter | None = None) -> list[tuple[int, float]]:
        """Nearest paragraphs by their best view's cosine, each paragraph once (Milvus groups
        the views of a paragraph by `pid`); with `where`, one scalar filter on the vectors
        searched keeps only those of passing articles."""
        q = self._unit_query(qvec)
        if q is None or k <= 0:
            return []
        expression = self._filter(where)
        hits = self._conn().search(
            self._family.vectors, data=[q.tolist()], anns_field="vector", limit=k,
            group_by_field="pid", output_fields=["pid"], search_params=_dense_params(),
            **({"filter": expression} if expression else {}))
        return [(int(h["entity"]["pid"]), float(h["distance"])) for h in hits[0]]

    @_milvus_errors
    def count_matching(self, where: ArticleFilter | None) -> tuple[int, int]:
        """(articles, paragraphs) that pass `where`."""
        if not where:
            return self.counts()
        return (self._count(self._family.articles, self._filter(where, "id")),
                self._count(self._family.paragraphs, self._filter(where)))

    @_milvus_errors
    def published_span(self) -> tuple[date, date] | None:
        if not self._is_filterable():
            return None
        days = [int(r["published"]) for r in self._scan(self._family.articles, ["published"],
                                                        "published > 0")]
        if not days:
            return None
        return _day(min(days)), _day(max(days))

    def _filter(self, where: ArticleFilter | None, id_field: str = "article_id") -> str:
        """`where` as a scalar filter ("" for none); refused on a family made before filters."""
        if not where:
            return ""
        if not self._is_filterable():
            raise IndexStoreError(
                f"the index at {self.ref} was written by an older qa and cannot be filtered "
                "by date, outlet or article; re-embed it once with: qa index rebuild "
                f"{cli_args(self.ref)}")
        return layout.filter_expression(where, id_field)

    def _is_filterable(self) -> bool:
        if self._filterable is None or self._filterable[0] != self._family.tag:
            self._filterable = (self._family.tag, layout.filterable(self._conn(), self._family))
        return self._filterable[1]

    @_milvus_errors
    def view_scores(self, qvec: Any, ids: Sequence[int]) -> dict[int, tuple[float, float]]:
        """(whole-paragraph cosine, best window cosine) per paragraph, for every stored view.

        Milvus scores the views in a search filtered to these paragraphs, deep enough for all
        of them; that is exact with FLAT, HNSW and IVF_FLAT (they keep the vectors whole) and
        several times faster than fetching the vectors. Any view such a search leaves out
        (an approximate index) is fetched and scored here, so none is ever missed.
        """
        import numpy as np

        q = self._unit_query(qvec)
        ids = list(dict.fromkeys(int(i) for i in ids))
        if q is None or not ids:
            return {}
        counts = self._view_counts(ids)
        scores: dict[int, float] = {}
        for group in _by_views([pid for pid in ids if pid in counts], counts):
            expected = sum(counts[pid] for pid in group)
            hits = self._conn().search(
                self._family.vectors, data=[q.tolist()], anns_field="vector", limit=expected,
                filter=layout.in_list("pid", group), output_fields=["id"],
                search_params=_dense_params())
            scores.update((int(h["id"]), float(h["distance"])) for h in hits[0])
        missing = [pid * VIEW_SLOTS + v for pid, n in counts.items() for v in range(n)
                   if pid * VIEW_SLOTS + v not in scores]
        for chunk in _chunks(missing):
            rows = self._conn().get(self._family.vectors, ids=list(chunk),
                                    output_fields=["id", "vector"])
            if rows:
                sims = np.asarray([r["vector"] for r in rows], dtype=np.float32) @ q
                scores.update((int(r["id"]), float(x)) for r, x in zip(rows, sims))
        return checks.whole_and_best(list(scores), list(scores.values()))

    @_milvus_errors
    def search_lexical(self, query: str, k: int,
                       where: ArticleFilter | None = None) -> list[tuple[int, float]]:
        """BM25 over paragraph text plus 0.5 x BM25 over the title, higher is better, like the
        FAISS store's FTS5 ranking (see index.storage.milvus.lexical). With `where`, Milvus's
        candidates come from passing paragraphs only; the statistics stay the corpus's."""
        terms = query_terms(query)
        if not terms or k <= 0:
            return []
        expression = self._filter(where)
        df = self._document_frequencies(list(dict.fromkeys(terms)))
        known = [t for t in terms if df.get(t, 0) > 0]
        if not known:
            return []
        depth = max(_LEXICAL_DEPTH * k, 200)
        text = " ".join(dict.fromkeys(known))
        candidates = set(self._bm25("text_sparse", text, depth, expression)) | set(
            self._bm25("title_sparse", text, depth, expression))
        rows = {int(r["pid"]): RowWords.of(r["lex_text"], r["lex_title"])
                for r in self._query(self._family.paragraphs, "pid", sorted(candidates),
                                     ["pid", "lex_text", "lex_title"])}
        key = self._family.tokens_key
        total = int(self._meta([key]).get(key, "0"))
        scores = bm25(known, rows, df, self._count(self._family.paragraphs), total)
        return sorted(scores.items(), key=lambda r: (-r[1], r[0]))[:k]

    @_milvus_errors
    def vocabulary_coverage(self, query: str) -> float:
        """Share of the query's words that occur anywhere in the corpus (0..1), read from the
        terms collection as the FAISS store reads fts5vocab."""
        tokens = question_tokens(query)
        if not tokens:
            return 0.0
        known = self._document_frequencies(tokens)
        return sum(1 for t in tokens if known.get(t, 0) > 0) / len(tokens)

    # ---- reading -------------------------------------------------------------------------

    @_milvus_errors
    def paragraphs(self, ids: Sequence[int]) -> list[StoredParagraph]:
        """Rows for search hits, in the order given; ids no longer stored are skipped."""
        wanted = list(dict.fromkeys(int(i) for i in ids))
        rows = self._query(self._family.paragraphs, "pid", wanted, _P_FIELDS)
        found = self._live_paragraphs(rows)
        return [found[int(i)] for i in ids if int(i) in found]

    @_milvus_errors
    def article_paragraphs(self, article_id: str) -> list[StoredParagraph]:
        """Every stored paragraph of one article in reading order."""
        rows = self._query(self._family.paragraphs, "article_id", [article_id], _P_FIELDS)
        found = self._live_paragraphs(rows)
        return sorted(found.values(), key=lambda p: (p.number, p.id))

    @_milvus_errors
    def articles(self) -> list[StoredArticle]:
        rows = self._scan(self._family.articles, _A_FIELDS)
        return sorted((StoredArticle(r["id"], r["title"], r["source"], json.loads(r["metadata"]),
                                     r["content_hash"], r["added_at"], int(r["paragraphs"]))
                       for r in rows), key=lambda a: a.id)

    @_milvus_errors
    def counts(self) -> tuple[int, int]:
        """(articles, paragraphs)."""
        return self._count(self._family.articles), self._count(self._family.paragraphs)

    @_milvus_errors
    def summary(self) -> dict[str, Any]:
        articles, paragraphs = self.counts()
        meta = self._meta(["generation", "updated_at"])
        state = _read_state_values(self._conn(), self.ref.collection) or {}
        return {"articles": articles, "paragraphs": paragraphs,
                "vectors": self._count(self._family.vectors),
                "generation": int(meta.get("generation", "0")),
                "created_at": state.get("created_at", ""),
                "updated_at": meta.get("updated_at", "")}

    @_milvus_errors
    def sources(self) -> list[Source]:
        """The folders and files added, oldest first: rows of the root collection, so they
        outlive a rebuild's switch of family as the FAISS store's manifest rows do."""
        rows = self._conn().query(self.ref.collection,
                                  filter=f"key like {layout.literal('source:%')}",
                                  output_fields=["key", "value"])
        found = [s for r in rows if (s := Source.from_json(r["value"])) is not None]
        return sorted(found, key=lambda s: (s.added_at, s.path))

    @_milvus_errors
    def record_sources(self, sources: Iterable[Source]) -> None:
        """Remember `sources` (one already recorded keeps its first `added_at`)."""
        wanted = {source_key(s.path): s for s in sources}
        if not wanted:
            return
        with self.writer():
            have = self._meta(list(wanted))
            fresh = {k: s.to_json() for k, s in wanted.items() if k not in have}
            if fresh:
                self._set_meta(fresh)

    @_milvus_errors
    def forget_sources(self, paths: Iterable[str]) -> int:
        keys = [source_key(p) for p in dict.fromkeys(paths)]
        if not keys:
            return 0
        with self.writer():
            have = list(self._meta(keys))
            if have:
                self._conn().delete(self.ref.collection, ids=have)
        return len(have)

    # No word senses are kept here yet: English questions over a Milvus index keep the
    # re-ranking alone (qa.bridge reads None as "no bridge").
    keeps_word_senses = False

    def add_word_senses(self, senses: WordSenses) -> None:
        return None

    def word_senses(self) -> None:
        return None

    @_milvus_errors
    def stored_views(self, text_hashes: Iterable[str]) -> dict[str, np.ndarray]:
        """Stored vectors, (views, dim) each, for paragraphs with the given text hashes, so an
        edited article re-embeds only its changed paragraphs (as in the FAISS store)."""
        import numpy as np

        hashes = list(dict.fromkeys(text_hashes))
        if not hashes:
            return {}
        best: dict[str, tuple[int, int]] = {}
        for r in self._query(self._family.paragraphs, "text_hash", hashes,
                             ["pid", "text_hash", "views"]):
            h, pid = r["text_hash"], int(r["pid"])
            if h not in best or pid > best[h][0]:
                best[h] = (pid, int(r["views"]))
        keys = [pid * VIEW_SLOTS + v for pid, n in best.values() for v in range(n)]
        vectors: dict[int, list[float]] = {}
        for chunk in _chunks(keys):
            for r in self._conn().get(self._family.vectors, ids=list(chunk),
                                      output_fields=["id", "vector"]):
                vectors[int(r["id"])] = r["vector"]
        out: dict[str, np.ndarray] = {}
        for h, (pid, n) in best.items():
            rows = [vectors.get(pid * VIEW_SLOTS + v) for v in range(n)]
            if all(r is not None for r in rows):
                out[h] = np.asarray(rows, dtype=np.float32)
        return out

    @_milvus_errors
    def verify(self) -> list[str]:
        """Cross-check articles, paragraphs and vectors; an empty list means healthy."""
        import numpy as np

        problems: list[str] = []
        values = _read_state_values(self._conn(), self.ref.collection) or {}
        missing = [k for k in (*MODEL_KEYS, "data") if k not in values]
        if missing:
            problems.append(f"manifest lacks {', '.join(missing)}")
        articles = {r["id"]: r for r in self._scan(self._family.articles, _A_FIELDS)}
        per_article: dict[str, int] = {}
        expected: set[int] = set()  # vectors of current paragraphs
        leftover: set[int] = set()  # vectors of rows an interrupted write left
        stale = 0
        df: dict[str, int] = {}
        tokens = 0
        for r in self._scan(self._family.paragraphs, _DROP_FIELDS):
            row_words = RowWords.of(r["lex_text"], r["lex_title"])
            tokens += row_words.length
            for w in row_words.vocabulary():
                df[w] = df.get(w, 0) + 1
            owner = articles.get(r["article_id"])
            pid = int(r["pid"])
            keys = {pid * VIEW_SLOTS + v for v in range(int(r["views"]))}
            if owner is None or int(owner["batch"]) != int(r["batch"]):
                stale += 1
                leftover |= keys
                continue
            per_article[r["article_id"]] = per_article.get(r["article_id"], 0) + 1
            expected |= keys
        if stale:
            problems.append(f"{stale} paragraphs belong to no current article (left by an "
                            "interrupted write; the next write removes them)")
        short = [a for a, r in articles.items() if per_article.get(a, 0) != int(r["paragraphs"])]
        if short:
            problems.append(f"{len(short)} articles do not have the paragraphs they record: "
                            f"{sorted(short)[:5]}")
        dim = self._vector_dim()
        if dim != self.manifest.dim:
            problems.append(f"the vectors collection has dimension {dim}, the manifest says "
                            f"{self.manifest.dim}")
        stored: set[int] = set()
        bad_norm = 0
        for r in self._scan(self._family.vectors, ["id", "vector"]):
            stored.add(int(r["id"]))
            if abs(float(np.linalg.norm(np.asarray(r["vector"], dtype=np.float32))) - 1) > 1e-3:
                bad_norm += 1
        problems += checks.view_id_problems(self._family.vectors, expected - stored,
                                     stored - expected - leftover, "unknown to the paragraphs in")
        if bad_norm:
            problems.append(f"{bad_norm} vectors are not unit length")
        stored_df = {r["term"]: int(r["df"]) for r in self._scan(self._family.terms, ["term", "df"])}
        wrong = {t for t in df.keys() | stored_df.keys() if df.get(t, 0) != stored_df.get(t, 0)}
        key = self._family.tokens_key
        if wrong or int(self._meta([key]).get(key, "0")) != tokens:
            problems.append(f"word frequencies of the full-text index are off for {len(wrong)} "
                            f"words (e.g. {sorted(wrong)[:3]}); lexical scores may differ "
                            "slightly until the index is migrated or rebuilt")
        return problems

    # ---- internals -----------------------------------------------------------------------

    def _conn(self) -> MilvusClient:
        if self._client is None:
            raise IndexStoreError("the index store is closed")
        return self._client

    def _require_writable(self) -> None:
        if not self.writable:
            raise IndexStoreError(f"the index at {self.ref} was opened read-only")

    def _load(self) -> None:
        client = self._conn()
        for name in (self.ref.collection, *self._family.names()):
            client.load_collection(name)

    def _reload(self) -> bool:
        """Follow a rebuild to the family that is live now; False if nothing changed."""
        state = _read_state(self._conn(), self.ref.collection)
        if state is None or state[1] == self._family.tag:
            return False
        self.manifest, tag = state
        self._family = layout.Family(self.ref.collection, tag)
        self._load()
        return True

    def _publish(self) -> None:
        """Make this store's family the live one, with its manifest: one row, one upsert."""
        m = self.manifest
        value = {"model": m.model, "fingerprint": m.fingerprint, "dim": str(m.dim),
                 "query_prompt": m.query_prompt, "passage_prompt": m.passage_prompt,
                 "schema_version": str(m.schema_version), "created_at": timestamp(),
                 "data": self._family.tag}
        self._conn().upsert(self.ref.collection, [{"key": "state", "value": json.dumps(value),
                                                   "_v": layout.DUMMY}])
        self._set_meta({"updated_at": timestamp()})

    def _meta(self, keys: list[str]) -> dict[str, str]:
        rows = self._conn().query(self.ref.collection, filter=layout.in_list("key", keys),
                                  output_fields=["key", "value"])
        return {r["key"]: r["value"] for r in rows}

    def _set_meta(self, values: dict[str, str]) -> None:
        self._conn().upsert(self.ref.collection, [{"key": k, "value": v, "_v": layout.DUMMY}
                                                  for k, v in values.items()])

    def _allocate(self, n: int) -> int:
        """First of `n` fresh paragraph ids; the counter is saved before any id is used."""
        first = int(self._meta(["next_pid"]).get("next_pid", "1"))
        self._set_meta({"next_pid": str(first + n)})
        return first

    def _note(self, ids: list[str]) -> None:
        """Record article ids in this write's journal before touching their rows (new rows of
        at most _JOURNAL_IDS ids each, so no row outgrows a VARCHAR however big the write)."""
        assert self._journal is not None
        rows = {}
        for chunk in _chunks(ids, _JOURNAL_IDS):
            self._notes += 1
            rows[f"{self._journal}:{self._notes}"] = json.dumps(list(chunk))
        self._set_meta(rows)

    def _recover(self, journal: str | None = None) -> None:
        """Delete rows that an interrupted write left behind (batches no article row names):
        those of one write (`journal`), or of every write that did not finish."""
        client = self._conn()
        prefix = f"{journal}:" if journal else "journal:"
        rows = client.query(self.ref.collection, filter=f"key like {layout.literal(prefix + '%')}",
                            output_fields=["key", "value"])
        for row in rows:
            ids = json.loads(row["value"])
            live = self._live_batches(ids)
            stale = [r for r in self._query(self._family.paragraphs, "article_id", ids,
                                            _DROP_FIELDS)
                     if live.get(r["article_id"]) != int(r["batch"])]
            self._delete_paragraph_rows(stale)
            client.delete(self.ref.collection, ids=[row["key"]])

    def _live_batches(self, ids: list[str]) -> dict[str, int]:
        return {r["id"]: int(r["batch"])
                for r in self._query(self._family.articles, "id", ids, ["id", "batch"])}

    def _delete_batches(self, batches: dict[str, int]) -> None:
        if not batches:
            return
        rows = [r for r in self._query(self._family.paragraphs, "article_id", list(batches),
                                       _DROP_FIELDS)
                if batches.get(r["article_id"]) == int(r["batch"])]
        self._delete_paragraph_rows(rows)

    def _delete_paragraph_rows(self, rows: list[dict]) -> None:
        """Vectors first, then paragraphs: every vector row keeps a paragraph row naming it
        until the end, so an interrupted delete can always be finished from the journal."""
        client = self._conn()
        keys = [int(r["pid"]) * VIEW_SLOTS + v for r in rows for v in range(int(r["views"]))]
        for chunk in _chunks(keys):
            client.delete(self._family.vectors, ids=list(chunk))
        for chunk in _chunks([int(r["pid"]) for r in rows]):
            client.delete(self._family.paragraphs, ids=list(chunk))
        self._count_words(rows, -1)

    def _count_words(self, rows: list[dict], sign: int) -> None:
        """Keep document frequencies and total length in step with the paragraph rows that
        exist. Updated right after the rows are written or deleted: a crash in between
        leaves them off by those rows (verify reports it); one writer at a time, see above."""
        if not rows:
            return
        delta, tokens = frequency_deltas(
            (RowWords.of(r["lex_text"], r["lex_title"]) for r in rows), sign)
        client = self._conn()
        terms = list(delta)
        current = {r["term"]: int(r["df"])
                   for r in self._query(self._family.terms, "term", terms, ["term", "df"])}
        keep, drop = [], []
        for t in terms:
            n = current.get(t, 0) + delta[t]
            if n > 0:
                keep.append({"term": t, "df": n, "_v": layout.DUMMY})
            elif t in current:
                drop.append(t)
        for chunk in _chunks(keep):
            client.upsert(self._family.terms, list(chunk))
        for chunk in _chunks(drop):
            client.delete(self._family.terms, ids=list(chunk))
        key = self._family.tokens_key
        total = int(self._meta([key]).get(key, "0")) + tokens
        self._set_meta({key: str(max(total, 0))})

    def _document_frequencies(self, terms: list[str]) -> dict[str, int]:
        return {r["term"]: int(r["df"])
                for r in self._query(self._family.terms, "term", terms, ["term", "df"])}

    def _query(self, collection: str, field: str, values: list, fields: list[str]) -> list[dict]:
        out: list[dict] = []
        for chunk in _chunks(values):
            out.extend(self._conn().query(collection, filter=layout.in_list(field, list(chunk)),
                                          output_fields=fields))
        return out

    def _scan(self, collection: str, fields: list[str], expression: str = "") -> Iterator[dict]:
        iterator = self._conn().query_iterator(collection, batch_size=5000, filter=expression,
                                               output_fields=fields)
        try:
            while True:
                batch = iterator.next()
                if not batch:
                    return
                yield from batch
        finally:
            iterator.close()

    def _count(self, collection: str, expression: str = "") -> int:
        rows = self._conn().query(collection, filter=expression, output_fields=["count(*)"])
        return int(rows[0]["count(*)"])

    def _view_counts(self, ids: list[int]) -> dict[int, int]:
        return {int(r["pid"]): int(r["views"])
                for r in self._query(self._family.paragraphs, "pid", ids, ["pid", "views"])}

    def _live_paragraphs(self, rows: list[dict]) -> dict[int, StoredParagraph]:
        owners = {r["id"]: r for r in self._query(self._family.articles, "id",
                                                   list({r["article_id"] for r in rows}),
                                                   _A_FIELDS)}
        metadata: dict[str, dict[str, str]] = {}
        out: dict[int, StoredParagraph] = {}
        for r in rows:
            a = owners.get(r["article_id"])
            if a is None or int(a["batch"]) != int(r["batch"]):
                continue  # a batch no article names: being written, replaced, or left by a crash
            if a["id"] not in metadata:
                metadata[a["id"]] = json.loads(a["metadata"])
            out[int(r["pid"])] = StoredParagraph(
                id=int(r["pid"]), article_id=a["id"], title=a["title"], source=a["source"],
                number=int(r["number"]), line=int(r["line"]), start=int(r["start"]),
                end=int(r["end"]), text=r["text"], metadata=dict(metadata[a["id"]]))
        return out

    def _bm25(self, field: str, text: str, limit: int, expression: str = "") -> list[int]:
        """Candidates by Milvus's own BM25 on one field, best first (of those passing
        `expression`, if given)."""
        hits = self._conn().search(self._family.paragraphs, data=[text], anns_field=field,
                                   limit=min(limit, 16384), output_fields=["pid"],
                                   search_params={"metric_type": "BM25"},
                                   **({"filter": expression} if expression else {}))
        return [int(h["entity"]["pid"]) for h in hits[0]]

    def _vector_dim(self) -> int:
        info = self._conn().describe_collection(self._family.vectors)
        for f in info["fields"]:
            if f["name"] == "vector":
                return int(f["params"]["dim"])
        return 0

    def _unit_query(self, qvec: Any) -> np.ndarray | None:
        return checks.unit_query(qvec, self.manifest.dim)


# ---- module helpers ------------------------------------------------------------------------


def _day(number: int) -> date:
    """A `published` field's yyyymmdd back as a date."""
    return date(number // 10_000, number // 100 % 100, number % 100)


def _by_views(ids: list[int], counts: dict[int, int], limit: int = 16384) -> Iterator[list[int]]:
    """Paragraph ids in groups whose views fit one search (Milvus returns at most 16384)."""
    group: list[int] = []
    size = 0
    for pid in ids:
        if group and size + counts[pid] > limit:
            yield group
            group, size = [], 0
        group.append(pid)
        size += counts[pid]
    if group:
        yield group


def _dense_params() -> dict:
    kind, _ = layout.vector_index()
    params = {"HNSW": {"ef": 256}, "IVF_FLAT": {"nprobe": 64}}.get(kind, {})
    return {"metric_type": "IP", "params": params}


def _read_state_values(client: MilvusClient, root: str) -> dict[str, str] | None:
    if not client.has_collection(root):
        return None
    client.load_collection(root)
    rows = client.query(root, filter='key in ["state"]', output_fields=["value"])
    return json.loads(rows[0]["value"]) if rows else None


def _read_state(client: MilvusClient, root: str) -> tuple[Manifest, str] | None:
    values = _read_state_values(client, root)
    if values is None:
        return None
    manifest = Manifest(model=values.get("model", ""), fingerprint=values.get("fingerprint", ""),
                        dim=int(values.get("dim", "0")),
                        query_prompt=values.get("query_prompt", ""),
                        passage_prompt=values.get("passage_prompt", ""),
                        schema_version=int(values.get("schema_version", str(SCHEMA_VERSION))))
    return manifest, values.get("data", "")


def _new_family(client: MilvusClient, ref: MilvusRef, manifest: Manifest,
                lock_timeout: float) -> MilvusStore:
    """A store on a fresh, empty family (not yet live: `_publish` makes it so)."""
    if not client.has_collection(ref.collection):
        layout.create_root(client, ref.collection)
    client.load_collection(ref.collection)
    store = MilvusStore(ref, client, manifest, secrets.token_hex(4), writable=True,
                        lock_timeout=lock_timeout, owns_client=False)
    layout.create_family(client, store._family, manifest.dim)
    store._load()
    return store


@contextlib.contextmanager
def staged(ref: MilvusRef, manifest: Manifest, lock_timeout: float = DEFAULT_LOCK_TIMEOUT,
           on_wait: Callable[[str], None] | None = None) -> Iterator[MilvusStore]:
    """A new, empty family for the index, made live (with `manifest`) only when the block
    finishes, as a FAISS build is swapped in; the family it replaces is then dropped. A failure
    drops the new family and leaves the old index as it was. Families left by a build that
    died are dropped first.

    The writer lock is held for the whole block, and on Milvus Lite the file itself (one
    process at a time): the caller's whole build runs inside it, so no other process writes
    to the index that is about to be replaced and a second build waits for this one."""
    client = milvus_connect.connect(ref, lock_timeout, on_wait)
    try:
        with _writer_lock(ref):
            state = _read_state(client, ref.collection)
            live = state[1] if state else None
            for tag in layout.families(client, ref.collection) - {live}:
                layout.drop_family(client, layout.Family(ref.collection, tag))
            new = _new_family(client, ref, manifest, lock_timeout)
            try:
                yield new
                new._publish()
            except BaseException:
                layout.drop_family(client, new._family)
                raise
            if live is not None:
                layout.drop_family(client, layout.Family(ref.collection, live))
    finally:
        milvus_connect.release(ref, client)

