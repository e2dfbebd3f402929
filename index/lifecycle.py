"""Keep an index in step with a corpus that changes every day: add, sync, remove, rebuild.

Embedding is the slow part (tens of texts a second on a laptop CPU) and users re-run the
indexer on the same folder daily, so work is skipped at two levels: an article whose content
hash and source match what is stored is not touched at all, and in a changed article only
paragraphs whose text is new are embedded. The others reuse vectors already in the index: a
vector depends on the paragraph text alone (the model and the passage recipe are fixed by the
manifest), so any stored paragraph with the same text hash will do.

Identity. A reader names an article (file stem, or a JSONL `id`); the name stays the id unless
another file already owns it, in which case the id gets the same `-<sha1 of source>` suffix
`index.build.unique_ids` gives, so two `a.txt` in different folders never replace each other,
and re-adding either finds its own. An owner whose file is gone loses the id to the new file
(the article moved). Sources are stored as absolute paths so `sync DIR` can tell what lies
under DIR whatever the working directory.

Crash safety comes from the store: each commit is one `Store.writer()` batch, so a process
killed at any moment leaves the index as it was before that commit or after it. A small
change is one commit; a large add commits in growing chunks, so an interrupted first index of
a big corpus keeps what was embedded and the next add picks up from there.

Concurrency. Reading and embedding happen outside the write lock, so a long embed does not
stall other writers; under the lock the plan is re-checked against what they committed
meanwhile (an article someone else just stored identically is skipped, a removal of an
article already gone is not counted), then committed. `sync_folder` never drops an article of
a file that exists but failed to read this time: a transient error must not cost the user
what was indexed before.
"""
from __future__ import annotations

import hashlib
import os
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from index.build import Progress, manifest_for, recover_swap
from index.errors import ReadError, UserError
from index.types import Article, Paragraph

if TYPE_CHECKING:
    import numpy as np

    from index.backends.base import IndexRef
    from index.backends.base import IndexStore as Store
    from index.embedder import Embedder
    from index.store import StoredArticle

Say = Callable[[str], None]
_LINE_SUFFIX = re.compile(r"^(.*):(\d+)$")


@dataclass
class ChangeReport:
    """What a call changed; `paragraphs_embedded` is the figure that says whether reuse worked."""

    added: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    paragraphs_embedded: int = 0
    vectors_embedded: int = 0
    paragraphs_reused: int = 0
    seconds: float = 0.0
    errors: list[ReadError] = field(default_factory=list)

    def line(self) -> str:
        return (f"{self.added} added, {self.updated} updated, {self.unchanged} unchanged, "
                f"{self.removed} removed articles; embedded {self.paragraphs_embedded} paragraphs "
                f"({self.vectors_embedded} vectors), reused {self.paragraphs_reused}; "
                f"{self.seconds:.1f} s")

    def as_dict(self) -> dict[str, Any]:
        return {"added": self.added, "updated": self.updated, "unchanged": self.unchanged,
                "removed": self.removed, "paragraphs_embedded": self.paragraphs_embedded,
                "vectors_embedded": self.vectors_embedded,
                "paragraphs_reused": self.paragraphs_reused, "seconds": round(self.seconds, 3),
                "errors": [str(e) for e in self.errors]}


# ---- opening ---------------------------------------------------------------------------------


def index_model(index_dir: IndexRef,
                on_upgrade: Say | None = None) -> str | None:
    """The model an existing index was built with, so add/sync embed the way it expects
    without the user repeating --model; None when there is no usable index. Being the first
    open, it is the one that upgrades an index from an older qa (`on_upgrade` hears it)."""
    from index.backends import open_store, recover
    from index.store import IndexStoreError

    recover(index_dir)
    try:
        with open_store(index_dir, on_upgrade=on_upgrade) as store:
            return store.manifest.model
    except IndexStoreError:
        return None


def open_writable(index_dir: IndexRef, embedder: Embedder, *, create: bool = True,
                  lock_timeout: float | None = None) -> Store:
    """Open for writing with the model check, creating an empty index when there is none.

    Several processes may race to create the same index: the store's lock serialises the
    creates, the losers open what the winner made. One that finds the index half-created
    waits on that same lock in Store.create, which replaces the remains only if the creator
    died.
    """
    from index.store import (DEFAULT_LOCK_TIMEOUT, DB_NAME, IndexMissingError, IndexStoreError,
                             Store)

    timeout = DEFAULT_LOCK_TIMEOUT if lock_timeout is None else lock_timeout
    expect = manifest_for(embedder)
    if not isinstance(index_dir, Path):
        from index.backends import create_store, exists, open_store

        if create and not exists(index_dir, timeout):
            return create_store(index_dir, expect, lock_timeout=timeout)
        return open_store(index_dir, expect=expect, writable=True, lock_timeout=timeout)
    recover_swap(index_dir)

    def try_create() -> Store | None:
        try:
            return Store.create(index_dir, expect, lock_timeout=timeout)
        except IndexStoreError as exc:
            if "already exists" not in str(exc):
                raise
            return None

    if create and not (index_dir / DB_NAME).exists():
        store = try_create()
        if store is not None:
            return store
    try:
        return Store.open(index_dir, expect=expect, writable=True, lock_timeout=timeout)
    except IndexMissingError:
        if not create:
            raise
    return try_create() or Store.open(index_dir, expect=expect, writable=True, lock_timeout=timeout)


# ---- reading sources -------------------------------------------------------------------------


def _abs(source: str) -> str:
    return os.path.abspath(source)


def _under(source: str, folder: Path) -> bool:
    if "://" in source:
        return False
    if Path(_abs(source)).is_relative_to(Path(_abs(str(folder)))):
        return True
    try:
        return Path(os.path.realpath(source)).is_relative_to(Path(os.path.realpath(folder)))
    except (OSError, ValueError):
        return False


def read_sources(paths: Iterable[Path], progress: Progress | None = None
                 ) -> tuple[list[Article], list[ReadError]]:
    """Every article under `paths` with an absolute source, and one error per bad input.

    A file named twice (directly and through its folder) is read once, so a command line
    like `qa index add news news/a.txt` cannot store an article twice.
    """
    from index.read import expand_paths, read_file

    articles: list[Article] = []
    errors: list[ReadError] = []
    seen: set[str] = set()
    for item in expand_paths([Path(p) for p in paths]):
        if isinstance(item, ReadError):
            errors.append(item)
            continue
        key = os.path.realpath(item)
        if key in seen:
            continue
        seen.add(key)
        for result in read_file(item):
            if isinstance(result, ReadError):
                errors.append(result)
            else:
                result.source = _abs(result.source)
                articles.append(result)
                if progress:
                    progress("read", len(articles), 0)
    return articles, errors


def _error_sources(errors: list[ReadError]) -> set[str]:
    """Absolute paths of files that failed (wholly or one JSONL line), whose stored articles
    a sync must keep."""
    out: set[str] = set()
    for error in errors:
        out.add(_abs(error.path))
        match = _LINE_SUFFIX.match(error.path)
        if match:
            out.add(_abs(match.group(1)))
    return out


# ---- planning --------------------------------------------------------------------------------


def _alt_id(article_id: str, source: str) -> str:
    # surrogateescape: a path holding undecodable bytes hashes as those bytes, never raises.
    return f"{article_id}-{hashlib.sha1(source.encode('utf-8', 'surrogateescape')).hexdigest()[:8]}"


def _exists(source: str) -> bool:
    return "://" not in source and os.path.exists(source)


@dataclass
class _Plan:
    write: list[Article] = field(default_factory=list)
    unchanged: int = 0
    drop: list[str] = field(default_factory=list)


def _assign_ids(articles: list[Article], stored: dict[str, StoredArticle],
                errors: list[ReadError]) -> list[Article]:
    """Give each article its lasting id (see the module docstring); an id that repeats
    inside one file a third time is reported and skipped rather than replacing an article."""
    claimed: set[str] = set()
    kept: list[Article] = []
    for article in articles:
        base, source = article.id, article.source
        alt = _alt_id(base, source)
        chosen = next((c for c in (base, alt) if c not in claimed and c in stored
                       and _abs(stored[c].source) == source), None)
        if chosen is None:
            owner = stored.get(base)
            free = owner is None or not _exists(owner.source)
            if base not in claimed and free:
                chosen = base
            elif alt not in claimed and (alt not in stored or not _exists(stored[alt].source)):
                chosen = alt
        if chosen is None:
            line = article.paragraphs[0].line if article.paragraphs else 0
            errors.append(ReadError(f"{source}:{line}" if line else source,
                                    f"article id {base!r} repeats an earlier article; skipped"))
            continue
        claimed.add(chosen)
        if chosen != article.id:
            article.id = chosen
            article.paragraphs = [Paragraph(chosen, p.number, p.text, p.line, p.start, p.end)
                                  for p in article.paragraphs]
        kept.append(article)
    return kept


def _same(stored: StoredArticle | None, article: Article) -> bool:
    return (stored is not None and stored.content_hash == article.content_hash
            and _abs(stored.source) == article.source and stored.title == article.title
            and bool(article.content_hash))


def _plan(articles: list[Article], stored: dict[str, StoredArticle]) -> _Plan:
    plan = _Plan()
    for article in articles:
        if _same(stored.get(article.id), article):
            plan.unchanged += 1
            continue
        plan.write.append(article)
    return plan


# ---- embedding with reuse --------------------------------------------------------------------

# An add of a whole corpus commits every so many paragraphs, so an interrupted first add
# (Ctrl-C, a crash, a laptop lid) keeps what was embedded and the next add resumes there.
# The chunk grows with the work done, because every commit rewrites the whole vectors file:
# doubling keeps the total written within about twice the final file.
COMMIT_MIN_PARAGRAPHS = 2000


def _text_hash(text: str) -> str:
    # The store's own hash, so lookups by text_hash match what it recorded.
    from index.store import _text_hash as store_hash

    return store_hash(text)


class _Embedding:
    """Vectors for the paragraphs of articles to write, embedding only texts the index
    lacks; a text repeated in the batch is embedded once. Built for all articles first, so
    the progress bar has one total however many commits the work is split into."""

    def __init__(self, store: Store, embedder: Embedder, articles: list[Article],
                 progress: Progress | None) -> None:
        from index.passages import passage_views

        self.embedder = embedder
        self.progress = progress
        self.views = {id(p): (_text_hash(p.text), passage_views(a, p))
                      for a in articles for p in a.paragraphs}
        self.have = store.stored_views(h for h, _ in self.views.values()) if articles else {}
        for text_hash, views in self.views.values():
            stored = self.have.get(text_hash)
            if stored is not None and len(stored) != len(views):
                del self.have[text_hash]  # embedded under another recipe; cannot be reused
        todo = {h: v for h, v in self.views.values() if h not in self.have}
        self.total = sum(len(v) for v in todo.values())
        self.paragraphs_embedded = len(todo)
        self.paragraphs_reused = len(self.views) - len(todo)
        self.done = 0
        if progress and self.total:
            progress("embed", 0, self.total)

    def rows(self, articles: list[Article]):
        """(vectors in article/paragraph/view order, views per paragraph) for `articles`."""
        import numpy as np

        todo: dict[str, list[str]] = {}
        for a in articles:
            for p in a.paragraphs:
                text_hash, views = self.views[id(p)]
                if text_hash not in self.have:
                    todo.setdefault(text_hash, views)
        texts = [t for views in todo.values() for t in views]
        if texts:
            base, total, progress = self.done, self.total, self.progress
            on_batch = (lambda n: progress("embed", base + n, total)) if progress else None
            fresh = self.embedder.embed_passages(texts, on_batch=on_batch)
            start = 0
            for text_hash, views in todo.items():
                self.have[text_hash] = fresh[start:start + len(views)]
                start += len(views)
            self.done += len(texts)
        keys = [self.views[id(p)] for a in articles for p in a.paragraphs]
        if not keys:
            return np.zeros((0, self.embedder.dim), dtype=np.float32), []
        return np.concatenate([self.have[h] for h, _ in keys]), [len(v) for _, v in keys]


def _chunks(articles: list[Article]) -> list[list[Article]]:
    chunks: list[list[Article]] = []
    current: list[Article] = []
    size = done = 0
    for article in articles:
        current.append(article)
        size += len(article.paragraphs)
        if size >= max(COMMIT_MIN_PARAGRAPHS, done):
            chunks.append(current)
            done += size
            current, size = [], 0
    if current or not chunks:
        chunks.append(current)
    return chunks


# ---- committing ------------------------------------------------------------------------------


def _db_identity(store: Store) -> str:
    return store.identity()


def _commit(store: Store, write: list[Article], drop: list[str], embedding: _Embedding,
            report: ChangeReport, identity: int, say: Say | None) -> None:
    """Write one batch atomically, after re-checking it against what other writers did."""
    if not write and not drop:
        return
    # Embed before taking the lock: another writer must not wait for our model.
    pending = list(write)
    rows, views = embedding.rows(pending)
    with store.locked(on_wait=say), store.writer():
        if _db_identity(store) != identity:
            raise UserError(f"the index at {store.location} was rebuilt or replaced while this "
                            "command ran; nothing more was written, run it again")
        current = {a.id: a for a in store.articles()}
        keep = [not _same(current.get(a.id), a) for a in pending]
        report.unchanged += keep.count(False)
        gone = [i for i in drop if i in current]
        store.remove_articles(gone)
        articles = [a for a, k in zip(pending, keep) if k]
        if articles:
            if not all(keep):
                rows, views = embedding.rows(articles)  # all reused now, nothing embedded
            store.add_articles(articles, rows, views)
        for article in articles:
            if article.id in current:
                report.updated += 1
            else:
                report.added += 1
        report.removed += len(gone)


def _apply(store: Store, embedder: Embedder, articles: list[Article], errors: list[ReadError],
           drop_from: Callable[[dict[str, StoredArticle], set[str]], list[str]] | None,
           progress: Progress | None, say: Say | None, started: float) -> ChangeReport:
    report = ChangeReport(errors=errors)
    identity = _db_identity(store)
    stored = {a.id: a for a in store.articles()}
    articles = _assign_ids(articles, stored, errors)
    plan = _plan(articles, stored)
    report.unchanged = plan.unchanged
    if drop_from is not None:
        plan.drop = drop_from(stored, {a.id for a in articles})
    embedding = _Embedding(store, embedder, plan.write, progress)
    report.paragraphs_embedded = embedding.paragraphs_embedded
    report.vectors_embedded = embedding.total
    report.paragraphs_reused = embedding.paragraphs_reused
    chunks = _chunks(plan.write)
    for n, chunk in enumerate(chunks):
        _commit(store, chunk, plan.drop if n == 0 else [], embedding, report, identity, say)
        if progress and (plan.write or plan.drop):
            progress("save", n + 1, len(chunks))
    report.seconds = time.perf_counter() - started
    return report


# ---- the operations --------------------------------------------------------------------------


def add_paths(store: Store, embedder: Embedder, paths: Iterable[Path],
              progress: Progress | None = None, say: Say | None = None) -> ChangeReport:
    """Add or refresh the articles in `paths` (files or folders, recursively); articles
    already stored unchanged are skipped without embedding anything."""
    started = time.perf_counter()
    articles, errors = read_sources(paths, progress)
    return _apply(store, embedder, articles, errors, None, progress, say, started)


def sync_folder(store: Store, embedder: Embedder, folder: Path,
                progress: Progress | None = None, say: Say | None = None) -> ChangeReport:
    """Make the index mirror `folder`: new files added, changed ones re-read, articles whose
    source lies under `folder` but that no file yields any more dropped. Articles from
    elsewhere are left alone, and so are those of files (or folders) that failed to read
    this time.

    A folder that yields no article at all, where mirroring it would drop what `remove`
    asks to confirm (see `needs_confirming`), is refused: an unmounted drive or a mistyped
    path looks exactly like that. Dropping them on purpose is `remove --yes`'s job."""
    folder = Path(folder).expanduser()
    if not folder.is_dir():
        raise UserError(f"{folder}: not a folder (sync needs the folder the index should mirror)")
    if Path(os.path.abspath(folder)).parent == Path(os.path.abspath(folder)):
        raise UserError(f"{folder}: the filesystem root; sync the folder that holds the articles")
    started = time.perf_counter()
    articles, errors = read_sources([folder], progress)
    failed = _error_sources(errors)
    failed_folders = [Path(f) for f in failed if os.path.isdir(f)]

    def drop_from(stored: dict[str, StoredArticle], seen: set[str]) -> list[str]:
        drop = [aid for aid, a in stored.items()
                if aid not in seen and _under(a.source, folder) and _abs(a.source) not in failed
                and not any(_under(a.source, f) for f in failed_folders)]
        if not articles and needs_confirming(len(drop), len(stored)):
            raise UserError(f"{folder}: holds no readable articles now, but the index has "
                            f"{len(drop)} from it (an unmounted drive, a wrong folder?); nothing "
                            f"removed. To drop them: qa index remove {_quote(folder)} --yes")
        return drop

    return _apply(store, embedder, articles, errors, drop_from, progress, say, started)


def _quote(path: Path | str) -> str:
    import shlex

    from qa.safe_text import inert

    return inert(shlex.quote(str(path)))


# More articles than this in one `remove`, or every article of an index, is confirmed first:
# a folder target matches everything beneath it, and `/` is an ancestor of every source.
BULK_REMOVE = 10


def needs_confirming(count: int, total: int) -> bool:
    """Whether dropping `count` of an index's `total` articles is more than a handful."""
    return count > BULK_REMOVE or (total > 1 and count == total)


@dataclass
class RemovalPlan:
    """What a `remove` of `targets` would drop, worked out before anything is removed."""

    ids: list[str]
    sources: list[str]
    total: int  # articles in the index
    errors: list[ReadError] = field(default_factory=list)

    @property
    def needs_confirming(self) -> bool:
        return needs_confirming(len(self.ids), self.total)

    def summary(self) -> str:
        from qa.safe_text import inert

        shown = ", ".join(f"{inert(i)} ({inert(s)})" for i, s in zip(self.ids[:3], self.sources))
        more = ", …" if len(self.ids) > 3 else ""
        return f"{len(self.ids)} of the index's {self.total} articles, e.g. {shown}{more}"


class RemovalNeedsConfirming(UserError):
    """`remove` would drop more than a handful of articles and was not told it may."""

    def __init__(self, plan: RemovalPlan) -> None:
        self.plan = plan
        super().__init__(f"this would remove {plan.summary()}; nothing was removed")


def plan_removal(store: Store, targets: Iterable[str]) -> RemovalPlan:
    """The articles named by id, or by source file (every article that file yielded), or by
    folder (every article whose source lies under it)."""
    stored = store.articles()
    by_id = {a.id: a for a in stored}
    ids: list[str] = []
    errors: list[ReadError] = []
    for target in targets:
        if target in by_id:
            ids.append(target)
            continue
        path = Path(target).expanduser()
        matched = [a.id for a in stored if _abs(a.source) == _abs(str(path))
                   or (path.is_dir() and _under(a.source, path))]
        if not matched:
            errors.append(ReadError(target, "no article with this id or source in the index"))
        ids.extend(matched)
    ids = list(dict.fromkeys(ids))
    return RemovalPlan(ids=ids, sources=[by_id[i].source for i in ids], total=len(stored),
                       errors=errors)


def remove(store: Store, targets: Iterable[str], say: Say | None = None,
           progress: Progress | None = None, *, confirmed: bool = False) -> ChangeReport:
    """Drop the articles `plan_removal` finds; raises RemovalNeedsConfirming, removing
    nothing, when that is more than BULK_REMOVE or the whole index and not `confirmed`."""
    started = time.perf_counter()
    plan = plan_removal(store, targets)
    if plan.needs_confirming and not confirmed:
        raise RemovalNeedsConfirming(plan)
    report = ChangeReport(errors=plan.errors)
    if plan.ids:
        if progress:
            progress("save", 0, 1)
        with store.locked(on_wait=say):
            report.removed = store.remove_articles(plan.ids)
        if progress:
            progress("save", 1, 1)
    report.seconds = time.perf_counter() - started
    return report


def stored_articles(store: Store, progress: Progress | None = None) -> list[Article]:
    """The stored text as Articles again, for re-embedding without the source files."""
    out: list[Article] = []
    stored = store.articles()
    for n, sa in enumerate(stored, start=1):
        paragraphs = [Paragraph(sa.id, p.number, p.text, p.line, p.start, p.end)
                      for p in store.article_paragraphs(sa.id)]
        out.append(Article(id=sa.id, title=sa.title, source=sa.source, paragraphs=paragraphs,
                           metadata=dict(sa.metadata), content_hash=sa.content_hash))
        if progress and (n % 200 == 0 or n == len(stored)):
            progress("load", n, len(stored))
    return out


def rebuild(index_dir: IndexRef, embedder: Embedder, progress: Progress | None = None,
            say: Say | None = None, lock_timeout: float | None = None) -> ChangeReport:
    """Re-embed every stored paragraph with `embedder` (a new model or passage recipe) into a
    new index beside the old one and swap it in, as a build does.

    The old index is opened without the model check (its vectors are what is being replaced)
    and its write lock is held throughout, so no add can commit to it and then be lost in
    the swap; writers that wait past their timeout fail with a clear message instead.
    """
    from index.backends import check_replaceable, open_store, recover
    from index.build import build_from_articles
    from index.store import DEFAULT_LOCK_TIMEOUT

    started = time.perf_counter()
    recover(index_dir)
    check_replaceable(index_dir)  # before reading every stored article, not after
    store = open_store(index_dir, writable=True,
                       lock_timeout=DEFAULT_LOCK_TIMEOUT if lock_timeout is None else lock_timeout)
    try:
        with store.locked(on_wait=say):
            articles = stored_articles(store, progress)
            store.close()
            built = build_from_articles(articles, index_dir, embedder, progress)
    finally:
        store.close()
    report = ChangeReport(updated=built.articles, paragraphs_embedded=built.paragraphs,
                          vectors_embedded=built.embedded)
    report.seconds = time.perf_counter() - started
    return report


def folder_size(path: Path) -> int:
    total = 0
    for entry in os.scandir(path):
        if entry.is_file(follow_symlinks=False):
            total += entry.stat(follow_symlinks=False).st_size
    return total


def status(store: Store) -> dict[str, Any]:
    """What `qa index status` shows, without loading the vectors file."""
    info = store.summary()
    m = store.manifest
    return {"index": store.location, "backend": store.backend, "model": m.model, "dim": m.dim,
            "fingerprint": m.fingerprint, **info, "size_bytes": store.size_bytes()}


def verify(store: Store, attempts: int = 3) -> list[str]:
    """Store.verify, repeated when a writer committed during the check (it then compares a
    snapshot with a vectors file that was replaced meanwhile, which is not damage)."""
    problems: list[str] = []
    for _ in range(attempts):
        before = store.generation
        problems = store.verify()
        if not problems or store.generation == before:
            return problems
    return problems
