"""Keep what the chat shows of the index in step with it while other processes write to it.

`qa index add` or `qa index watch` may commit while the chat is open. The engine's store
answers from each new generation by itself; the counts in the status line and the article
list were read once. So every POLL_SECONDS a background job on the engine thread reads the
store's generation (one small read) and, only when it moved, the articles again; the screen
then gets an `IndexUpdated` message with what changed.

Changes seen while the chat's own re-sync runs are `quiet`: its report says what it did.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from textual.message import Message

from tui import library
from tui.engine_worker import Job

if TYPE_CHECKING:
    from textual.widget import Widget

    from index.storage.base import StoredArticle
    from qa.index_changes import IndexChange
    from tui.engine_worker import EngineWorker


class IndexUpdated(Message):
    """The index moved on: `info` is what to show now, `change` how its articles differ
    from `before` (what was shown); `quiet` when the chat's own re-sync made the change."""

    def __init__(self, info: library.IndexInfo, before: list[StoredArticle],
                 change: IndexChange, quiet: bool) -> None:
        super().__init__()
        self.info, self.before, self.change, self.quiet = info, before, change, quiet


class IndexFollower:
    POLL_SECONDS = 2.0

    def __init__(self, worker: EngineWorker, target: Widget,
                 quiet: Callable[[], bool] = lambda: False) -> None:
        """`target` receives the IndexUpdated messages; `quiet()` says whether changes seen
        now are the chat's own."""
        self.worker = worker
        self.target = target
        self.quiet = quiet
        self.info: library.IndexInfo | None = None
        self.polling = 0  # polls queued and not back; UI thread only

    def start(self, info: library.IndexInfo) -> None:
        """Follow from `info` (what the screen shows now) on; called once, when the engine
        has loaded."""
        if self.info is None:
            self.target.set_interval(self.POLL_SECONDS, self.poll)
        self.info = info

    def poll(self) -> None:
        """The timer's tick: one check at a time, none before the engine is up."""
        if self.polling or self.info is None or self.worker.error is not None:
            return
        self.refresh(quiet=False)

    def refresh(self, quiet: bool) -> None:
        """Check now, behind whatever the engine thread has queued (after a re-sync: its
        last commit is in by then)."""
        if self.info is None:
            return
        since = self.info.generation
        quiet = quiet or self.quiet()

        def done(info: library.IndexInfo | None) -> None:
            self.polling -= 1
            if info is None or self.info is None or info.generation == self.info.generation:
                return
            from qa.index_changes import compare

            before = self.info.articles
            self.info = info
            self.target.post_message(IndexUpdated(info, before, compare(before, info.articles),
                                                  quiet or self.quiet()))

        def failed(error: BaseException) -> None:
            self.polling -= 1  # the next tick tries again; a lasting fault shows on questions

        self.polling += 1
        self.worker.submit(Job(run=lambda engine: library.index_info_if_changed(engine, since),
                               done=done, failed=failed, kind="poll", background=True))
