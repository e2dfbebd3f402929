"""One thread owns the engine: it loads the model, then runs jobs (answers, article reads,
re-syncs) one at a time, in the order they were asked for.

torch is synchronous and the index store is not safe for use from several threads, so all
engine access goes through this queue; the UI thread never waits for it. A question asked
while the model is still loading simply waits in the queue. Results come back to the UI as
messages posted to the app (thread-safe), and each job's callbacks then run on the UI thread.
"""
from __future__ import annotations

import queue
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import count
from typing import TYPE_CHECKING, Any

from textual.message import Message
from textual.worker import get_current_worker

from tui import library

if TYPE_CHECKING:
    from textual.app import App

    from qa.engine import Engine

Opener = Callable[..., "Engine"]
_ids = count(1)


class EngineUnavailable(RuntimeError):
    """A job could not run because the index or model failed to open (shown once, in the chat)."""


@dataclass(eq=False)
class Job:
    """`run(engine)` runs on the engine thread; `started`, `done` and `failed` on the UI thread."""

    run: Callable[[Engine], Any]
    done: Callable[[Any], None] | None = None
    failed: Callable[[BaseException], None] | None = None
    started: Callable[[], None] | None = None
    kind: str = "job"
    id: int = field(default_factory=lambda: next(_ids))
    result: Any = None
    error: BaseException | None = None


class EngineLoaded(Message):
    def __init__(self, info: library.IndexInfo) -> None:
        super().__init__()
        self.info = info


class EngineFailed(Message):
    def __init__(self, error: BaseException) -> None:
        super().__init__()
        self.error = error


class EngineSays(Message):
    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text


class BuildProgress(Message):
    """The library's (stage, done, total) build callback, from a first build or a re-sync."""

    def __init__(self, stage: str, done: int, total: int) -> None:
        super().__init__()
        self.stage, self.done, self.total = stage, done, total


class JobStarted(Message):
    def __init__(self, job: Job) -> None:
        super().__init__()
        self.job = job


class JobFinished(Message):
    def __init__(self, job: Job) -> None:
        super().__init__()
        self.job = job


class EngineWorker:
    POLL_SECONDS = 0.05

    def __init__(self, app: App, opener: Opener) -> None:
        self.app = app
        self._opener = opener
        self._jobs: queue.Queue[Job] = queue.Queue()
        self._engine: Engine | None = None
        self.error: BaseException | None = None
        self.ready = False
        self.pending = 0  # submitted and not finished; read and written on the UI thread only

    def start(self) -> None:
        self.app.run_worker(self._run, name="engine", group="engine", thread=True,
                            exclusive=True, exit_on_error=False)

    def submit(self, job: Job) -> Job:
        self.pending += 1
        self._jobs.put(job)
        return job

    def finished(self, job: Job) -> None:
        """Called by the app on the UI thread when a JobFinished arrives."""
        self.pending = max(0, self.pending - 1)

    # ---- engine thread -----------------------------------------------------------------

    def _post(self, message: Message) -> None:
        self.app.post_message(message)

    def progress(self, stage: str, done: int, total: int) -> None:
        self._post(BuildProgress(stage, done, total))

    def _run(self) -> None:
        worker = get_current_worker()
        try:
            self._engine = self._opener(progress=self.progress,
                                        say=lambda text: self._post(EngineSays(text)))
            info = library.index_info(self._engine)
        except Exception as exc:  # shown to the user; every queued job then fails with it
            self.error = exc
            self._post(EngineFailed(exc))
        else:
            self.ready = True
            self._post(EngineLoaded(info))
        try:
            while not worker.is_cancelled:
                try:
                    job = self._jobs.get(timeout=self.POLL_SECONDS)
                except queue.Empty:
                    continue
                if self._engine is None:
                    job.error = EngineUnavailable("the index could not be opened (see the message above)")
                else:
                    self._post(JobStarted(job))
                    try:
                        job.result = job.run(self._engine)
                    except Exception as exc:
                        job.error = exc
                self._post(JobFinished(job))
        finally:
            if self._engine is not None:
                self._engine.close()
                self._engine = None
