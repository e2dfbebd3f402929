"""One thread owns the engine: it loads the model, then runs jobs (answers, article reads,
checks for changes to the index) one at a time, in the order they were asked for.

torch is synchronous and the index store is not safe for use from several threads, so all
engine access goes through this queue; the UI thread never waits for it. A question asked
while the model is still loading simply waits in the queue. Results come back to the UI as
messages posted to the app (thread-safe), and each job's callbacks then run on the UI thread.

The one exception is a job that brings its own store handle and never touches
`engine.store` (a re-sync, see qa.resync): `run_beside` gives it a thread of its own, so
questions are answered while it writes.
"""
from __future__ import annotations

import queue
import threading
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
    """`run(engine)` runs on the engine thread; `started`, `done` and `failed` on the UI thread.
    A `background` job is nothing the user waits for (a poll): it is not counted in `pending`."""

    run: Callable[[Engine], Any]
    done: Callable[[Any], None] | None = None
    failed: Callable[[BaseException], None] | None = None
    started: Callable[[], None] | None = None
    kind: str = "job"
    background: bool = False
    beside: bool = False  # ran on a thread of its own (see EngineWorker.run_beside)
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
        self._opened = threading.Event()  # the engine opened, or failed to

    def start(self) -> None:
        self.app.run_worker(self._run, name="engine", group="engine", thread=True,
                            exclusive=True, exit_on_error=False)

    def submit(self, job: Job) -> Job:
        if not job.background:
            self.pending += 1
        self._jobs.put(job)
        return job

    def run_beside(self, job: Job, allowed: Callable[[Engine], bool] = lambda engine: True) -> Job:
        """Run `job` on a thread of its own once the engine has opened (it may use the
        engine's model and index reference, never `engine.store`), or in the queue like any
        job when `allowed(engine)` says it cannot run beside the others. Its messages and
        callbacks are those of a queued job; `job.beside` says which it was."""
        job.background = True

        def run() -> None:
            self._opened.wait()
            if self._engine is not None and not allowed(self._engine):
                self._jobs.put(job)
                return
            job.beside = True
            self._run_job(job)

        self.app.run_worker(run, name=f"engine-{job.kind}", group="beside", thread=True,
                            exit_on_error=False)
        return job

    def finished(self, job: Job) -> None:
        """Called by the app on the UI thread when a JobFinished arrives."""
        if not job.background:
            self.pending = max(0, self.pending - 1)

    # ---- engine thread -----------------------------------------------------------------

    def _post(self, message: Message) -> None:
        self.app.post_message(message)

    def progress(self, stage: str, done: int, total: int) -> None:
        self._post(BuildProgress(stage, done, total))

    def say(self, text: str) -> None:
        self._post(EngineSays(text))

    def _run_job(self, job: Job) -> None:
        if self._engine is None:
            job.error = EngineUnavailable("the index could not be opened (see the message above)")
        else:
            self._post(JobStarted(job))
            try:
                job.result = job.run(self._engine)
            except Exception as exc:
                job.error = exc
        self._post(JobFinished(job))

    def _run(self) -> None:
        worker = get_current_worker()
        try:
            self._engine = self._opener(progress=self.progress, say=self.say)
            info = library.index_info(self._engine)
        except Exception as exc:  # shown to the user; every queued job then fails with it
            self.error = exc
            self._post(EngineFailed(exc))
        else:
            self.ready = True
            self._post(EngineLoaded(info))
        finally:
            self._opened.set()
        try:
            while not worker.is_cancelled:
                try:
                    job = self._jobs.get(timeout=self.POLL_SECONDS)
                except queue.Empty:
                    continue
                self._run_job(job)
        finally:
            if self._engine is not None:
                self._engine.close()
                self._engine = None
