"""Keep an index in step with folders while it runs: what `qa index watch` does.

Events come from watchfiles (the Rust notify crate: inotify, FSEvents, ReadDirectoryChanges)
rather than a polling loop of our own. An event only marks a path dirty; what to do with it
is decided from the filesystem when it is applied: a file that is there is read, one that is
not has its articles dropped. A burst of events (an editor saving through a temporary file
renamed over the old one) thus ends in one state, read once.

Half-written files. A dirty path is applied only once its state (size, mtime, inode, or its
absence) has not changed for `settle` seconds, and a file is stat'ed again after it was read:
one that changed meanwhile is put back rather than stored, so no half version is indexed
from a writer that pauses for less than `settle`. A JSONL file whose last line has no newline
yet is someone appending, and is given UNTERMINATED_SETTLE times as long. An empty file is
one about to be written: it is left until a write gives it content.

Deletions. A watched file that is deleted is the user's intent, so its articles go without
the confirmation `remove` asks for. A watched folder that disappears itself (an unmounted
drive, a folder removed or moved away, a mount point left empty) is not: it is reported,
nothing is removed for it, and when it is back it is caught up with `sync_folder`. A folder
replaced by a file of the same name holds what the file holds: the folder's articles go in
that batch.

Links. Every path is named as a sync names it (index.indexing.sources.FolderSources): an
event seen through a symlinked folder is applied to the article of the file's own path, a
link to a folder already watched adds nothing, and a link removed drops only what no path
reaches any more. watchfiles follows the links there when it starts, reports a folder's events
through one of them and stops watching the folder when that link goes; it does not follow a
link made later. So it is started again when a link it followed goes or a link to outside
the watched folder comes (a change in the instant between is left to the next catch-up).

Writing goes through index.indexing.lifecycle, as `add` and `sync` do: reading and embedding
outside the store's writer lock, one atomic commit per batch, only new paragraph texts
embedded. The store is opened here, and opened again when the index was rebuilt or replaced
under it (the chat's Ctrl+R), followed by a catch-up. A batch that another writer kept out
past the lock timeout, or that found the disk full, is reported and retried RETRY_SECONDS
later with its paths still dirty; anything else wrong with the index ends the watch.

Stopping. `stop_event` ends the watch between batches. A KeyboardInterrupt anywhere is safe
as well: a commit is atomic in the store and rolls back when interrupted, embedding happens
outside the lock, and the lock is released on the way out.
"""
from __future__ import annotations

import os
import re
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from index.errors import UserError
from index.indexing.lifecycle import ChangeReport, Say
from index.indexing.sources import FolderSources, inside

if TYPE_CHECKING:
    from index.indexing import Progress
    from index.models.embedder import Embedder
    from index.storage.base import IndexRef
    from index.storage.base import IndexStore as Store

SETTLE = 2.0  # seconds a path's state must hold still before it is applied
UNTERMINATED_SETTLE = 5  # times SETTLE for a JSONL file whose last line is not finished
DEBOUNCE_MS = 500  # watchfiles: longest it groups a burst of events
STEP_MS = 100  # watchfiles: a quiet spell this long ends a burst
TICK = 0.25  # seconds between looks at dirty paths and watched folders when nothing happens
RETRY_SECONDS = 10.0
REPLACED_EVERY = 2.0  # seconds between looks at whether the index was rebuilt or replaced

# Editors' and downloaders' scratch files: Emacs `.#x` and `#x#`, backups `x~`, Vim's swap
# files and its `4913` write test. Hidden names (`.x.swp` among them) are skipped anyway.
_SCRATCH = re.compile(r"(~$|^#.*#$|^4913$|\.sw[a-p]$|\.(part|crdownload|tmp)$)")


@dataclass
class WatchBatch:
    """One batch applied: the files it read or dropped, what it changed, and how long it took."""

    files: list[str]  # absolute paths; for a catch-up, the folders synced
    report: ChangeReport
    at: float  # wall-clock time of the commit (time.time())
    seconds: float  # reading, embedding and committing
    latency: float  # from the first change noticed to the commit
    catch_up: bool = False  # a sync of whole folders (start-up, a folder back, index replaced)

    def line(self) -> str:
        r = self.report
        what = f"{len(self.files)} folder" if self.catch_up else f"{len(self.files)} file"
        same = f", {r.unchanged} unchanged" if r.unchanged else ""
        text = (f"{time.strftime('%H:%M:%S', time.localtime(self.at))}  +{r.added} added, "
                f"{r.updated} updated, {r.removed} removed{same} "
                f"({what}{'s' * (len(self.files) != 1)}{', caught up' if self.catch_up else ''})"
                f" in {self.seconds:.1f} s")
        if r.errors:
            text += f"; {len(r.errors)} unreadable"
        return text

    def as_dict(self) -> dict[str, Any]:
        return {"at": time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(self.at)),
                "catch_up": self.catch_up, "files": self.files, **self.report.as_dict(),
                "seconds": round(self.seconds, 3), "latency": round(self.latency, 3)}


def folders_to_watch(store: Store, folders: Sequence[Path], warn: Say | None = None) -> list[Path]:
    """The folders to watch: those named, else the folders the index follows
    (index.indexing.recorded). A followed single file is not watched (watching its folder
    would pull in files nobody added); `qa index sync` re-reads it, and `warn` says so."""
    if folders:
        return [Path(f) for f in folders]
    from index.indexing.recorded import followed

    sources = followed(store)
    files = [s.path for s in sources if s.kind != "folder"]
    if files and warn:
        shown = ", ".join(files[:3]) + (", ..." if len(files) > 3 else "")
        warn(f"not watched (single files; `qa index sync` re-reads them): {shown}")
    watched = [Path(s.path) for s in sources if s.kind == "folder" and os.path.isdir(s.path)]
    for gone in (s.path for s in sources if s.kind == "folder" and not os.path.isdir(s.path)):
        if warn:
            warn(f"{gone}: gone (an unmounted drive, a moved folder?); not watched, its "
                 "articles are kept")
    if not watched:
        raise UserError("this index follows no folder yet; name the folders to watch: "
                        "qa index watch DIR... (they are remembered)")
    return watched


# ---- what is watched ---------------------------------------------------------------------


@dataclass
class _Root:
    """A watched folder, and how to tell that it has gone (see the module docstring)."""

    path: str
    mount: bool  # a mount point when the watch began: an unmount leaves it there, empty

    def present(self) -> bool:
        return os.path.isdir(self.path) and os.path.ismount(self.path) == self.mount


def _ignored_paths(index_ref: IndexRef) -> list[str]:
    """Where the index itself lives, in case it lies under a watched folder."""
    from index.storage.base import MilvusRef

    where = index_ref.uri if isinstance(index_ref, MilvusRef) else str(index_ref)
    if isinstance(index_ref, MilvusRef) and not index_ref.local:
        return []
    return sorted({os.path.abspath(where), os.path.realpath(where)})


def _holds(known: list[str], path: str) -> bool:
    """Whether `path` is, or is a folder holding, one of the sorted sources `known`."""
    from bisect import bisect_left

    at = bisect_left(known, path)
    if at < len(known) and known[at] == path:
        return True
    folder = path.rstrip(os.sep) + os.sep
    at = bisect_left(known, folder)  # the first source under `folder`, if any
    return at < len(known) and known[at].startswith(folder)


def _roots(folders: Sequence[Path], ignored: list[str]) -> list[_Root]:
    roots: list[str] = []
    for folder in folders:
        path = os.path.abspath(Path(folder).expanduser())
        if not os.path.isdir(path):
            raise UserError(f"{folder}: not a folder (watch needs the folders to keep the "
                            "index in step with)")
        if Path(path).parent == Path(path):
            raise UserError(f"{folder}: the filesystem root; watch the folder that holds the "
                            "articles")
        if any(inside(path, i) or inside(os.path.realpath(path), i) for i in ignored):
            raise UserError(f"{folder}: holds no articles but the index itself; watch the "
                            "folder that holds the articles")
        roots.append(path)
    # A folder inside another watched folder is watched through it.
    kept = [r for r in dict.fromkeys(roots)
            if not any(o != r and inside(r, o) for o in roots)]
    return [_Root(r, os.path.ismount(r)) for r in kept]


class _Wanted:
    """Which events count: paths the readers accept (and folders, which may hold some),
    outside hidden folders, the index and editors' scratch files."""

    def __init__(self, roots: list[_Root], ignored: list[str]) -> None:
        self.roots = roots
        self.ignored = ignored

    def __call__(self, change: Any, path: str) -> bool:
        from watchfiles import Change

        return self.wanted(path, added=change == Change.added, deleted=change == Change.deleted)

    def wanted(self, path: str, added: bool = False, deleted: bool = False) -> bool:
        from index.corpus.read import supported

        root = next((r.path for r in self.roots if inside(path, r.path)), None)
        if root is None or path == root or any(inside(path, i) for i in self.ignored):
            return False
        parts = Path(os.path.relpath(path, root)).parts
        if any(p.startswith(".") for p in parts) or _SCRATCH.search(parts[-1]):
            return False
        # A deleted path may have been a folder of articles (what it held is looked up); a
        # folder that appears is read through its files (a chmod of one that was there is
        # no reason to read them all again).
        return supported(Path(path)) or deleted or (added and os.path.isdir(path))


# ---- dirty paths and when they have settled ----------------------------------------------

@dataclass(frozen=True)
class _State:
    """What says whether a path is still being written (None stands for an absent path)."""

    size: int = 0
    mtime_ns: int = 0
    inode: int = 0
    folder: bool = False
    unterminated: bool = False  # a JSONL file whose last line has no newline yet
    error: int = 0  # errno of a stat that failed: read anyway, the reader names the problem


def _state(path: str) -> _State | None:
    try:
        info = os.stat(path)
    except (FileNotFoundError, NotADirectoryError):  # NotADirectory: a folder became a file
        return None
    except OSError as exc:
        return _State(error=exc.errno or -1)
    folder = os.path.isdir(path)
    unterminated = False
    if not folder and path.lower().endswith(".jsonl") and info.st_size:
        try:
            with open(path, "rb") as f:
                f.seek(-1, os.SEEK_END)
                unterminated = f.read(1) not in (b"\n", b"\r")
        except OSError:
            pass
    return _State(info.st_size, info.st_mtime_ns, info.st_ino, folder, unterminated)


@dataclass
class _Seen:
    state: _State | None
    since: float  # when the state last changed, or an event came (monotonic)
    first: float  # when the path became dirty, for the latency reported


@dataclass
class _Dirty:
    settle: float
    paths: dict[str, _Seen] = field(default_factory=dict)

    def mark(self, path: str, now: float) -> None:
        seen = self.paths.get(path)
        if seen is None:
            self.paths[path] = _Seen(_state(path), now, now)
        else:
            seen.state, seen.since = _state(path), now

    def ready(self, now: float) -> dict[str, _Seen]:
        out: dict[str, _Seen] = {}
        for path, seen in self.paths.items():
            state = _state(path)
            if state != seen.state:
                seen.state, seen.since = state, now
                continue
            unterminated = state is not None and state.unterminated
            wait = self.settle * (UNTERMINATED_SETTLE if unterminated else 1)
            if now - seen.since >= wait:
                out[path] = seen
        return out

    def forget(self, paths: Sequence[str] | set[str]) -> None:
        for path in paths:
            self.paths.pop(path, None)

    def forget_under(self, folder: str) -> None:
        self.forget([p for p in self.paths if inside(p, folder)])


# ---- the watch ---------------------------------------------------------------------------


class _Watch:
    """One running watch: its store, folders, dirty paths and the callbacks to report to."""

    def __init__(self, index_ref: IndexRef, embedder: Embedder, *, on_batch: Callable[[WatchBatch], None],
                 say: Say | None, warn: Say | None, progress: Progress | None,
                 lock_timeout: float | None, settle: float) -> None:
        self.index_ref = index_ref
        self.embedder = embedder
        self.on_batch = on_batch
        self.say = say
        self.warn = warn or say or (lambda _message: None)
        self.progress = progress
        self.lock_timeout = lock_timeout
        self.dirty = _Dirty(settle)
        self.hold_until = 0.0  # no batch before this (monotonic): a retry's wait
        self.store: Store | None = None
        self.identity: str | None = None
        self.roots: list[_Root] = []
        self.gone: set[str] = set()
        self.need_sync: set[str] = set()
        self.opened = 0  # times the index was opened: a catch-up spanning a reopen is redone
        self.links: set[str] = set()  # links to folders watchfiles followed when it started
        self.rewatch = False  # a link came or went: watchfiles is to start again (see _apply)
        self.looked = 0.0  # when check_replaced last looked (monotonic)

    # -- the store --

    def open(self, create: bool = True) -> Store:
        from index.indexing.lifecycle import open_writable

        self.store = open_writable(self.index_ref, self.embedder, create=create,
                                   lock_timeout=self.lock_timeout)
        self.identity = self.store.identity()
        self.opened += 1
        return self.store

    def close(self) -> None:
        if self.store is not None:
            self.store.close()
            self.store = None

    def check_replaced(self) -> bool:
        """Reopen the index if it was rebuilt or replaced since it was opened; True if so."""
        assert self.store is not None
        self.looked = time.monotonic()
        if self.store.identity() == self.identity:
            return False
        self.close()
        self.open()
        self.warn(f"the index at {self.index_ref} was rebuilt or replaced; reopened it, "
                  "catching up with the watched folders")
        self.need_sync = {r.path for r in self.roots if r.path not in self.gone}
        return True

    # -- the folders --

    def check_roots(self) -> bool:
        """Note folders that went or came back; True if the set being watched changed."""
        changed = False
        for root in self.roots:
            present = root.present()
            if not present and root.path not in self.gone:
                self.gone.add(root.path)
                self.dirty.forget_under(root.path)
                self.need_sync.discard(root.path)
                self.warn(f"{root.path}: the watched folder is gone (unmounted, moved or "
                          "removed?); nothing removed from the index. Watching for it to "
                          "come back")
                changed = True
            elif present and root.path in self.gone:
                self.gone.discard(root.path)
                self.need_sync.add(root.path)
                if self.say:
                    self.say(f"{root.path}: the watched folder is back; catching up")
                changed = True
        return changed

    def alive(self) -> list[str]:
        return [r.path for r in self.roots if r.path not in self.gone]

    # -- writing --

    def catch_up(self, stop: threading.Event) -> None:
        """`sync_folder` the folders that need it: at start, back, or the index replaced."""
        from index.indexing.lifecycle import sync_folder

        from index.storage.base import IndexStoreError

        if not self.need_sync or time.monotonic() < self.hold_until:
            return
        started, wall, opened = time.perf_counter(), time.monotonic(), self.opened
        report, done = ChangeReport(), []
        for folder in sorted(self.need_sync):
            if stop.is_set():
                break
            try:
                assert self.store is not None
                report.merge(sync_folder(self.store, self.embedder, Path(folder),
                                         progress=self.progress, say=self.say))
            except UserError as exc:
                if self._retry(exc):
                    break
                if isinstance(exc, IndexStoreError):
                    raise
                self.warn(str(exc))  # e.g. the folder holds nothing now but the index does
            done.append(folder)
        if self.opened != opened:
            return  # the index was replaced meanwhile: every folder is caught up again
        self.need_sync.difference_update(done)
        if done:
            self.on_batch(WatchBatch(done, report, time.time(), time.perf_counter() - started,
                                     time.monotonic() - wall, catch_up=True))

    def _retry(self, exc: UserError) -> bool:
        """Whether `exc` is worth retrying later (another writer, a full disk, the index
        replaced mid-batch); then it is reported and the next try put off."""
        from index.storage.base import DiskFullError, IndexLockedError

        if isinstance(exc, (IndexLockedError, DiskFullError)):
            self.warn(f"{exc}; trying again in {RETRY_SECONDS:g} s")
            self.hold_until = time.monotonic() + RETRY_SECONDS
            return True
        return self.check_replaced()

    def apply_ready(self, wanted: _Wanted) -> None:
        from index.corpus.read import supported

        if time.monotonic() < self.hold_until:
            return
        ready = self.dirty.ready(time.monotonic())
        if not ready:
            return
        self.check_replaced()
        # A path holds articles as a folder or as a file a reader takes: a folder replaced by
        # a file of another type holds none now, as a path that is not there any more.
        gone = {p for p, s in ready.items()
                if s.state is None or (not s.state.folder and not supported(Path(p)))}
        # An empty file waits for its next write, which marks it again ("empty file" errors
        # for every `touch` would be noise; what it held before is kept).
        self.dirty.forget([p for p, s in ready.items() if p not in gone and s.state is not None
                           and not s.state.size and not s.state.folder and not s.state.error])
        ready = {p: s for p, s in ready.items() if p in self.dirty.paths}
        folders = [p for p, s in ready.items() if p not in gone and s.state.folder]
        files = [p for p in ready if p not in gone and p not in folders]
        self.dirty.forget(folders)
        trees = _Trees(self.roots)
        self._expand(folders, wanted, trees)
        if files or gone:
            self._apply(files, sorted(gone), ready, trees)

    def _expand(self, folders: list[str], wanted: _Wanted, trees: _Trees) -> None:
        """A folder that appeared (moved in, copied in) is watched through its files, which
        settle like any other: its own events may have come before the watch reached it.
        A link to a folder a sync reaches by another path shows the same files, not new
        ones: they are left to that path."""
        from index.corpus.read import expand_paths
        from index.errors import ReadError

        now = time.monotonic()
        for folder in folders:
            tree = trees(folder)
            named, reached = tree.named(folder), tree.folder(folder)
            if reached is not None and reached != named:
                continue
            if os.path.islink(folder) and not inside(os.path.realpath(folder), tree.real):
                self.rewatch = True  # watchfiles follows a link only when it starts watching
            for item in expand_paths([Path(folder)]):
                if isinstance(item, ReadError):
                    self.warn(str(item))
                    continue
                source = tree.source(str(item))
                if source is not None and inside(source, named) and wanted.wanted(source):
                    self.dirty.mark(source, now)

    def _apply(self, files: list[str], gone: list[str], ready: dict[str, _Seen],
               trees: _Trees) -> None:
        """Read `files` and drop what `gone` held, each named as a sync names it: an event
        seen through a link is applied to the file's own source."""
        from index.indexing.lifecycle import update_files
        from index.indexing.sources import absolute, read_articles

        assert self.store is not None
        started = time.perf_counter()
        seen: dict[str, str] = {}  # a source read or dropped -> the dirty path it came from
        read: list[str] = []
        for path in files:
            source = trees(path).source(path) or path  # None: the reader names the problem
            if source not in seen:
                seen[source] = path
                read.append(source)
        targets: list[str] = []
        for path in gone:
            for target in (path, trees(path).named(path)):
                if target not in seen:
                    seen[target] = path
                    targets.append(target)
        known = sorted(absolute(a.source) for a in self.store.articles()) if gone else []
        stored = set(known)
        dropped = [t for t in targets if _holds(known, t)]
        if any(inside(link, p) for p in gone for link in self.links):
            # watchfiles watches a folder and the links to it it followed through one watch,
            # which it drops with any of those links: the folder is watched anew.
            self.rewatch = True
        if self.links:
            # What a folder (or a link to one) that went held may be reached through another
            # link to outside the watched folder, which a sync now names: read it from there.
            for t in (t for t in dropped if t not in stored):
                for source in trees(t).linked():
                    if (source not in stored and source not in self.dirty.paths
                            and (state := _state(source)) is not None and state.size):
                        seen.setdefault(source, source)
                        read.append(source)
        before = {s: ready[seen[s]].state if seen[s] in ready else _state(s) for s in read}
        sources = read_articles([Path(s) for s in read], self.store, self.progress)
        moved = {s for s in read if _state(seen[s]) != before[s]}  # written while being read
        if moved:
            sources.articles = [a for a in sources.articles if a.source not in moved]
            sources.errors = [e for e in sources.errors
                              if e.path not in moved and e.path.rpartition(":")[0] not in moved]
            sources.failed |= moved  # keep what the index has of them until they settle
        applied = [s for s in read if s not in moved] + dropped
        if not applied and not sources.errors:
            self.dirty.forget(gone)  # deletions of nothing indexed; the rest still moving
            return
        try:
            report = update_files(self.store, self.embedder, sources, applied,
                                  progress=self.progress, say=self.say)
        except UserError as exc:
            if self._retry(exc):
                return
            raise
        self.dirty.forget([seen[s] for s in read if s not in moved] + gone)
        if applied or report.errors:
            first = min((ready[seen[p]].first for p in applied if seen[p] in ready),
                        default=time.monotonic())
            self.on_batch(WatchBatch(sorted(applied), report, time.time(),
                                     time.perf_counter() - started, time.monotonic() - first))


def _links(folders: Sequence[str]) -> set[str]:
    """The links to folders in `folders`: watchfiles follows them when it starts watching."""
    found: set[str] = set()
    for folder in folders:
        for parent, names, _files in os.walk(folder):  # links are listed, not followed
            paths = (os.path.join(parent, name) for name in names)
            found.update(path for path in paths if os.path.islink(path))
    return found


class _Trees:
    """Each watched folder as a sync names its files (index.indexing.sources.FolderSources),
    for one batch: a folder walked to name a file seen through a link to outside it is
    walked once a batch, and again in the next, which may find the links changed."""

    def __init__(self, roots: list[_Root]) -> None:
        self.roots = roots
        self.made: dict[str, FolderSources] = {}

    def __call__(self, path: str) -> FolderSources:
        root = next((r.path for r in self.roots if inside(path, r.path)), os.path.dirname(path))
        if root not in self.made:
            self.made[root] = FolderSources(root)
        return self.made[root]


def watch_folders(index_ref: IndexRef, embedder: Embedder, folders: Sequence[Path] = (), *,
                  on_batch: Callable[[WatchBatch], None],
                  on_start: Callable[[list[Path]], None] | None = None,
                  say: Say | None = None, warn: Say | None = None,
                  progress: Progress | None = None,
                  stop_event: threading.Event | None = None, initial_sync: bool = True,
                  settle: float = SETTLE, lock_timeout: float | None = None) -> None:
    """Keep the index at `index_ref` in step with `folders` until `stop_event` is set.

    The index is created if there is none. `on_start` hears the folders watched, `on_batch`
    each batch applied (read errors are in its report: the file named, the watch goes on),
    `say` what is routine (a folder back, waiting for another writer) and `warn` what the
    user may need to act on (a folder gone, a batch put off). With `initial_sync` the folders
    are first synced, catching up with changes made while nothing watched them.
    """
    import watchfiles

    stop = stop_event or threading.Event()
    watch = _Watch(index_ref, embedder, on_batch=on_batch, say=say, warn=warn,
                   progress=progress, lock_timeout=lock_timeout, settle=settle)
    ignored = _ignored_paths(index_ref)
    if folders:
        _roots(folders, ignored)  # a mistyped folder is refused before an index is created
    store = watch.open(create=bool(folders))  # no folders named: the index's own sources
    try:
        watch.roots = _roots(folders_to_watch(store, folders, warn), ignored)
        wanted = _Wanted(watch.roots, ignored)
        if on_start:
            on_start([Path(r.path) for r in watch.roots])
        if initial_sync:
            watch.need_sync = {r.path for r in watch.roots}
        while not stop.is_set():
            watch.check_roots()
            alive = watch.alive()
            if not alive:
                stop.wait(TICK)
                continue
            watch.links = _links(alive)
            # Filtered here rather than by watchfiles, which does not yield (so nothing
            # settled would be applied) while every event is one to ignore: a busy log file,
            # the index itself being read under a watched folder.
            changes = watchfiles.watch(*alive, watch_filter=None, debounce=DEBOUNCE_MS,
                                       step=STEP_MS, rust_timeout=int(TICK * 1000),
                                       yield_on_timeout=True, stop_event=stop,
                                       ignore_permission_denied=True)
            try:
                for events in changes:  # the first comes after TICK: the watcher is running
                    now = time.monotonic()
                    for change, path in events:
                        if wanted(change, path):
                            watch.dirty.mark(path, now)
                    if watch.check_roots():
                        break  # watch the folders there are now
                    if time.monotonic() - watch.looked >= REPLACED_EVERY:
                        watch.check_replaced()  # the chat's Ctrl+R, a build: caught up at once
                    watch.catch_up(stop)
                    watch.apply_ready(wanted)
                    if stop.is_set():
                        break
                    if watch.rewatch:
                        watch.rewatch = False
                        break  # watched anew, following the links there are now
            except FileNotFoundError:
                if all(os.path.isdir(a) for a in alive):
                    raise
                continue  # a folder went between the look and the watch: looked at again
            finally:
                changes.close()
    finally:
        watch.close()
