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
nothing is removed for it, and when it is back it is caught up with `sync_folder`.

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


def _inside(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


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
        if any(_inside(path, i) or _inside(os.path.realpath(path), i) for i in ignored):
            raise UserError(f"{folder}: holds no articles but the index itself; watch the "
                            "folder that holds the articles")
        roots.append(path)
    # A folder inside another watched folder is watched through it.
    kept = [r for r in dict.fromkeys(roots)
            if not any(o != r and _inside(r, o) for o in roots)]
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

        root = next((r.path for r in self.roots if _inside(path, r.path)), None)
        if root is None or path == root or any(_inside(path, i) for i in self.ignored):
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
    except FileNotFoundError:
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
        self.forget([p for p in self.paths if _inside(p, folder)])


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
        if time.monotonic() < self.hold_until:
            return
        ready = self.dirty.ready(time.monotonic())
        if not ready:
            return
        self.check_replaced()
        # An empty file waits for its next write, which marks it again ("empty file" errors
        # for every `touch` would be noise; what it held before is kept).
        self.dirty.forget([p for p, s in ready.items() if s.state is not None
                           and not s.state.size and not s.state.folder and not s.state.error])
        ready = {p: s for p, s in ready.items() if p in self.dirty.paths}
        files = [p for p, s in ready.items() if s.state is not None and not s.state.folder]
        folders = [p for p, s in ready.items() if s.state is not None and s.state.folder]
        absent = [p for p, s in ready.items() if s.state is None]
        self.dirty.forget(folders)
        self._expand(folders, wanted)
        if files or absent:
            self._apply(files, absent, ready)

    def _expand(self, folders: list[str], wanted: _Wanted) -> None:
        """A folder that appeared (moved in, copied in) is watched through its files, which
        settle like any other: its own events may have come before the watch reached it."""
        from index.corpus.read import expand_paths
        from index.errors import ReadError

        now = time.monotonic()
        for item in expand_paths([Path(f) for f in folders]):
            if isinstance(item, ReadError):
                self.warn(str(item))
            elif wanted.wanted(str(item)):
                self.dirty.mark(str(item), now)

    def _apply(self, files: list[str], absent: list[str], ready: dict[str, _Seen]) -> None:
        from index.indexing.lifecycle import update_files
        from index.indexing.sources import absolute, read_articles

        assert self.store is not None
        started = time.perf_counter()
        sources = read_articles([Path(f) for f in files], self.store, self.progress)
        moved = {f for f in files if _state(f) != ready[f].state}  # written while being read
        if moved:
            sources.articles = [a for a in sources.articles if a.source not in moved]
            sources.errors = [e for e in sources.errors
                              if e.path not in moved and e.path.rpartition(":")[0] not in moved]
            sources.failed |= moved  # keep what the index has of them until they settle
        known = sorted(absolute(a.source) for a in sources.stored.values())
        dropped = [p for p in absent if _holds(known, p)]
        applied = [f for f in files if f not in moved] + dropped
        if not applied and not sources.errors:
            self.dirty.forget(absent)  # deletions of nothing indexed; the rest still moving
            return
        try:
            report = update_files(self.store, self.embedder, sources, applied,
                                  progress=self.progress, say=self.say)
        except UserError as exc:
            if self._retry(exc):
                return
            raise
        self.dirty.forget([f for f in files if f not in moved] + absent)
        if applied or report.errors:
            first = min(ready[p].first for p in applied) if applied else time.monotonic()
            self.on_batch(WatchBatch(sorted(applied), report, time.time(),
                                     time.perf_counter() - started, time.monotonic() - first))


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
            except FileNotFoundError:
                if all(os.path.isdir(a) for a in alive):
                    raise
                continue  # a folder went between the look and the watch: looked at again
            finally:
                changes.close()
    finally:
        watch.close()
