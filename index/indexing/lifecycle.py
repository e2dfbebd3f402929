"""Keep an index in step with a corpus that changes every day: add, sync, remove, rebuild.

Embedding is the slow part (tens of texts a second on a laptop CPU) and users re-run the
indexer on the same folder daily, so work is skipped at two levels: an article whose content
hash and source match what is stored is not touched at all, and in a changed article only
paragraphs whose text is new are embedded. The others reuse vectors already in the index: a
vector depends on the paragraph text alone (the model and the passage recipe are fixed by the
manifest), so any stored paragraph with the same text hash will do.

Identity. Every write reads through `index.indexing.sources.read_articles`, which gives each
article its lasting id against what the index holds (a build: against an empty index).

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

import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

from index.corpus.types import Article, Paragraph
from index.errors import ReadError, UserError
from index.heap import hand_back_free_memory
from index.indexing import Progress
from index.indexing.build import manifest_for
from index.indexing.chunked import (ChunkedEmbedding, commit_chunks, kept_rows, per_second,
                                    save_senses)
from index.indexing.recorded import followed, record_sources, source_exists
from index.indexing.sources import Sources, absolute, read_articles, under

if TYPE_CHECKING:
    from index.models.embedder import Embedder
    from index.storage.base import IndexRef, Manifest
    from index.storage.base import IndexStore as Store
    from index.storage.base import StoredArticle

Say = Callable[[str], None]


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
    embed_seconds: float = 0.0  # of `seconds`, spent embedding
    tokens_embedded: int = 0  # 0 where the model does not count them (sentence-transformers)
    errors: list[ReadError] = field(default_factory=list)
    vanished: list[str] = field(default_factory=list)  # recorded sources that are gone

    def line(self) -> str:
        gone = (f"; {len(self.vanished)} source{'s' if len(self.vanished) != 1 else ''} gone, "
                "articles kept" if self.vanished else "")
        return (f"{self.added} added, {self.updated} updated, {self.unchanged} unchanged, "
                f"{self.removed} removed articles; embedded {self.paragraphs_embedded} paragraphs "
                f"({self.vectors_embedded} vectors), reused {self.paragraphs_reused}; "
                f"{self.seconds:.1f} s{gone}")

    def as_dict(self) -> dict[str, Any]:
        return {"added": self.added, "updated": self.updated, "unchanged": self.unchanged,
                "removed": self.removed, "paragraphs_embedded": self.paragraphs_embedded,
                "vectors_embedded": self.vectors_embedded,
                "paragraphs_reused": self.paragraphs_reused, "seconds": round(self.seconds, 3),
                "texts_per_second": per_second(self.vectors_embedded, self.embed_seconds),
                "tokens_per_second": per_second(self.tokens_embedded, self.embed_seconds),
                "errors": [str(e) for e in self.errors], "vanished": list(self.vanished)}

    def merge(self, other: ChangeReport) -> None:
        """Add `other` into this report: one line for a sync of several folders."""
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))


# ---- opening ---------------------------------------------------------------------------------


def index_model(index_ref: IndexRef,
                on_upgrade: Say | None = None) -> str | None:
    """The model an existing index was built with, so add/sync embed the way it expects
    without the user repeating --model; None when there is no usable index. Being the first
    open, it is the one that upgrades an index from an older qa (`on_upgrade` hears it)."""
    manifest = index_manifest(index_ref, on_upgrade)
    return manifest.model if manifest is not None else None


def index_manifest(index_ref: IndexRef, on_upgrade: Say | None = None,
                   lock_timeout: float | None = None) -> Manifest | None:
    """What an existing index's vectors mean (see `index_model`); None without a usable index.
    `lock_timeout`: how long a Milvus Lite file another process holds is waited for."""
    from index.storage import open_store, recover
    from index.storage.base import IndexStoreError

    recover(index_ref)
    try:
        with open_store(index_ref, on_upgrade=on_upgrade, lock_timeout=lock_timeout) as store:
            return store.manifest
    except IndexStoreError:
        return None


def open_writable(index_ref: IndexRef, embedder: Embedder, *, create: bool = True,
                  lock_timeout: float | None = None, on_wait: Say | None = None) -> Store:
    """Open for writing with the model check, creating an empty index when there is none.
    A build or another commit holding the writer lock is waited for first (`on_wait` hears
    it), so what is written goes to the index that build leaves.

    Several processes may race to create the same index: the store's lock serialises the
    creates, the losers open what the winner made. One that finds the index half-created
    waits on that same lock in the backend's create, which replaces the remains only if the
    creator died.
    """
    from index.storage import create_store, open_store, recover, wait_for_writer
    from index.storage.base import IndexMissingError, IndexStoreError

    expect = manifest_for(embedder)
    recover(index_ref)
    wait_for_writer(index_ref, lock_timeout, on_wait)  # a build running now: write to its index

    def try_open() -> Store:
        return open_store(index_ref, expect=expect, writable=True, lock_timeout=lock_timeout)

    def try_create() -> Store | None:
        try:
            return create_store(index_ref, expect, lock_timeout=lock_timeout)
        except IndexStoreError as exc:
            if "already exists" not in str(exc):
                raise
            return None

    try:
        return try_open()
    except IndexMissingError:
        if not create:
            raise
    return try_create() or try_open()


# ---- planning --------------------------------------------------------------------------------


@dataclass
class _Plan:
    write: list[Article] = field(default_factory=list)
    unchanged: int = 0
    drop: list[str] = field(default_factory=list)


def _same(stored: StoredArticle | None, article: Article) -> bool:
    return (stored is not None and stored.content_hash == article.content_hash
            and absolute(stored.source) == article.source and stored.title == article.title
            and bool(article.content_hash))


def _plan(articles: list[Article], stored: dict[str, StoredArticle]) -> _Plan:
    plan = _Plan()
    for article in articles:
        if _same(stored.get(article.id), article):
            plan.unchanged += 1
            continue
        plan.write.append(article)
    return plan


# ---- committing ------------------------------------------------------------------------------


def _commit(store: Store, write: list[Article], drop: list[str], embedding: ChunkedEmbedding,
            report: ChangeReport, identity: str | None, say: Say | None) -> None:
    """Write one batch atomically, after re-checking it against what other writers did."""
    if not write and not drop:
        return
    # Embed before taking the lock: another writer must not wait for our model.
    pending = list(write)
    rows, views = embedding.rows(pending)
    with store.locked(on_wait=say), store.writer():
        if store.identity() != identity:
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
                rows, views = kept_rows(pending, keep, rows, views)
            store.add_articles(articles, rows, views)
            rows = None  # stored: not held through the commit, where the index may migrate
            save_senses(store, embedding)
        for article in articles:
            if article.id in current:
                report.updated += 1
            else:
                report.added += 1
        report.removed += len(gone)


def _apply(store: Store, embedder: Embedder, sources: Sources,
           drop_from: Callable[[set[str]], list[str]] | None,
           progress: Progress | None, say: Say | None, started: float) -> ChangeReport:
    report = ChangeReport(errors=sources.errors)
    plan = _plan(sources.articles, sources.stored)
    report.unchanged = plan.unchanged
    if drop_from is not None:
        plan.drop = drop_from({a.id for a in sources.articles})
    embedding = ChunkedEmbedding(store, embedder, plan.write, progress)
    report.paragraphs_embedded = embedding.paragraphs_embedded
    report.vectors_embedded = embedding.total
    report.paragraphs_reused = embedding.paragraphs_reused
    chunks = commit_chunks(plan.write)
    for n, chunk in enumerate(chunks):
        _commit(store, chunk, plan.drop if n == 0 else [], embedding, report, sources.identity,
                say)
        hand_back_free_memory()  # the chunk's arrays, before the next chunk's embedding
        if progress and (plan.write or plan.drop):
            progress("save", n + 1, len(chunks))
    report.embed_seconds, report.tokens_embedded = embedding.seconds, embedding.tokens
    report.seconds = time.perf_counter() - started
    return report


# ---- the operations --------------------------------------------------------------------------


def add_paths(store: Store, embedder: Embedder, paths: Iterable[Path],
              progress: Progress | None = None, say: Say | None = None) -> ChangeReport:
    """Add or refresh the articles in `paths` (files or folders, recursively); articles
    already stored unchanged are skipped without embedding anything. The paths become
    recorded sources (see `sync_recorded`)."""
    started = time.perf_counter()
    paths = list(paths)
    report = _apply(store, embedder, read_articles(paths, store, progress), None, progress, say,
                    started)
    record_sources(store, paths)
    return report


def sync_folder(store: Store, embedder: Embedder, folder: Path,
                progress: Progress | None = None, say: Say | None = None) -> ChangeReport:
    """Make the index mirror `folder`: new files added, changed ones re-read, articles whose
    source lies under `folder` but that no file yields any more dropped. Articles from
    elsewhere are left alone, and so are those of files (or folders) that failed to read
    this time. The folder becomes one of the index's recorded sources.

    A folder that yields no article at all, where mirroring it would drop what `remove`
    asks to confirm (see `needs_confirming`), is refused: an unmounted drive or a mistyped
    path looks exactly like that. Dropping them on purpose is `remove --yes`'s job."""
    folder = Path(folder).expanduser()
    if not folder.is_dir():
        raise UserError(f"{folder}: not a folder (sync needs the folder the index should mirror)")
    if Path(os.path.abspath(folder)).parent == Path(os.path.abspath(folder)):
        raise UserError(f"{folder}: the filesystem root; sync the folder that holds the articles")
    report = _mirror(store, embedder, folder, progress, say)
    record_sources(store, [folder])
    return report


def _mirror(store: Store, embedder: Embedder, target: Path, progress: Progress | None,
            say: Say | None) -> ChangeReport:
    """Mirror a folder or one file: what `sync_folder` does, for either."""
    started = time.perf_counter()
    sources = read_articles([target], store, progress)
    stored = sources.stored

    def drop_from(seen: set[str]) -> list[str]:
        drop = _vanished(sources, seen, lambda source: under(source, target))
        if not sources.found and needs_confirming(len(drop), len(stored)):
            raise UserError(f"{target}: holds no readable articles now, but the index has "
                            f"{len(drop)} from it (an unmounted drive, a wrong folder?); nothing "
                            f"removed. To drop them: qa index remove {_quote(target)} --yes")
        return drop

    return _apply(store, embedder, sources, drop_from, progress, say, started)


def _vanished(sources: Sources, seen: set[str], within: Callable[[str], bool]) -> list[str]:
    """Stored articles whose source `within` accepts but that no file yields any more,
    except those of files (or folders) that failed to read this time."""
    failed = sources.failed
    failed_folders = [Path(f) for f in failed if os.path.isdir(f)]
    return [aid for aid, a in sources.stored.items()
            if aid not in seen and within(a.source) and absolute(a.source) not in failed
            and not any(under(a.source, f) for f in failed_folders)]


def update_files(store: Store, embedder: Embedder, sources: Sources, paths: Iterable[str],
                 progress: Progress | None = None, say: Say | None = None) -> ChangeReport:
    """Bring the articles of `paths` in step with what `sources` read of them: the watcher's
    write (index.indexing.watch), where each path is a file or folder that changed, appeared
    or went away. What `sources` holds is added or refreshed as `add_paths` does; a stored
    article whose source is one of `paths`, or lies under one, and that nothing yields any
    more is dropped (a deleted file, a JSONL line taken out), unless its file failed to read.

    Each path is named as a sync names sources (index.indexing.sources.FolderSources), so
    paths and sources are compared as written: resolving a link here would take a link's
    target for the link (a removed `latest -> 2024` dropping 2024's articles), and on a large
    index would cost system calls per article per batch."""
    started = time.perf_counter()
    targets = {absolute(path) for path in paths}

    def within(source: str) -> bool:
        if "://" in source:
            return False
        path = Path(absolute(source))
        return str(path) in targets or any(str(parent) in targets for parent in path.parents)

    return _apply(store, embedder, sources, lambda seen: _vanished(sources, seen, within),
                  progress, say, started)


# ---- recorded sources ------------------------------------------------------------------------


def sync_recorded(store: Store, embedder: Embedder, progress: Progress | None = None,
                  say: Say | None = None, *, prune: bool = False) -> ChangeReport:
    """Sync every recorded source, as `sync_folder` does one folder (a file source is
    mirrored alone: articles it no longer yields are dropped).

    A source that is gone (an unmounted drive, a renamed folder) is reported in
    `report.vanished` and its articles stay: losing a year of articles to a drive that did
    not mount is worse than showing a few stale ones. `prune` drops them and forgets it."""
    sources = followed(store)
    if not sources:
        raise UserError("this index records no folders or files to sync (it was made by an "
                        "older qa, or only from other indexes); sync a folder once with "
                        "`qa index sync DIR` and it is remembered")
    report = ChangeReport()
    for source in sources:
        path = Path(source.path)
        if source_exists(source):
            report.merge(_mirror(store, embedder, path, progress, say))
            continue
        ids = [a.id for a in store.articles() if under(a.source, path)]
        if prune:
            with store.locked(on_wait=say), store.writer():
                report.removed += store.remove_articles(ids)
                store.forget_sources([source.path])
        else:
            report.vanished.append(source.path)
            if say:
                say(f"{_quote(path)}: gone (an unmounted drive, a moved folder?); its "
                    f"{len(ids)} articles are kept. To drop them: qa index sync --prune")
    return report


def _quote(path: Path | str) -> str:
    import shlex

    from index.safe_text import inert

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
        from index.safe_text import inert

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
        # A path that is not a file is taken as a folder even when it is gone: removing
        # what a vanished (unmounted, deleted) folder held is exactly what a user may want.
        matched = [a.id for a in stored if absolute(a.source) == absolute(str(path))
                   or (not path.is_file() and under(a.source, path))]
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
    targets = list(targets)
    plan = plan_removal(store, targets)
    if plan.needs_confirming and not confirmed:
        raise RemovalNeedsConfirming(plan)
    report = ChangeReport(errors=plan.errors)
    named = [Path(absolute(os.path.expanduser(t))) for t in targets if t not in plan.ids]
    forget = [s.path for s in store.sources()
              if any(Path(s.path).is_relative_to(t) for t in named)]
    if plan.ids or forget:
        if progress:
            progress("save", 0, 1)
        with store.locked(on_wait=say), store.writer():
            report.removed = store.remove_articles(plan.ids)
            store.forget_sources(forget)  # a removed folder is no longer followed
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


def rebuild(index_ref: IndexRef, embedder: Embedder, progress: Progress | None = None,
            say: Say | None = None, lock_timeout: float | None = None) -> ChangeReport:
    """Re-embed every stored paragraph with `embedder` (a new model or passage recipe) into a
    new index beside the old one and swap it in, as a build does.

    The writer lock is held from before the stored text is read to the swap (see
    `index.storage.staged`), so no add can commit to the old index and then be lost in the
    swap; writers that wait past their timeout fail with a clear message instead. The old
    index is read without the model check (its vectors are what is being replaced)."""
    from index.indexing.build import fill, manifest_for
    from index.storage import check_replaceable, open_store, recover, staged

    started = time.perf_counter()
    recover(index_ref)
    check_replaceable(index_ref)  # before reading every stored article, not after
    with staged(index_ref, manifest_for(embedder), lock_timeout, say) as fresh:
        with open_store(index_ref, lock_timeout=lock_timeout) as old:
            articles = stored_articles(old, progress)
            followed_before = old.sources()
        built = fill(fresh, articles, embedder, progress)
        with fresh.writer():
            fresh.record_sources(followed_before)  # the rebuilt index follows what the old one did
    report = ChangeReport(updated=built.articles, paragraphs_embedded=built.paragraphs,
                          vectors_embedded=built.embedded, embed_seconds=built.embed_seconds,
                          tokens_embedded=built.tokens_embedded)
    report.seconds = time.perf_counter() - started
    return report


def status(store: Store) -> dict[str, Any]:
    """What `qa index status` shows, without loading the vectors file."""
    info = store.summary()
    m = store.manifest
    sources = [{"path": s.path, "kind": s.kind, "added_at": s.added_at,
                "exists": source_exists(s)} for s in store.sources()]
    return {"index": store.location, "backend": store.backend, "model": m.model, "dim": m.dim,
            "fingerprint": m.fingerprint, **info, "size_bytes": store.size_bytes(),
            "sources": sources}


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
