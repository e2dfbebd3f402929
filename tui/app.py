"""`qa chat`: a Textual chat over an index. Thin: screens and widgets do the showing,
`tui.engine_worker` owns the engine on its own thread, `tui.library` talks to the library."""
from __future__ import annotations

import inspect
from pathlib import Path
from typing import TYPE_CHECKING

from textual.app import App
from textual.binding import Binding

from tui import library
from tui.engine_worker import (BuildProgress, EngineFailed, EngineLoaded, EngineSays, EngineWorker,
                               Job, JobFinished, JobStarted)
from tui.history import QuestionHistory
from tui.screens import ArticleScreen, ChatScreen, ConversationsScreen, HelpScreen

if TYPE_CHECKING:
    from index.storage.base import ArticleFilter
    from qa.engine import Engine, IndexRef
    from qa.resync import ChangeReport


class QaApp(App):
    TITLE = "qa chat"
    CSS_PATH = "app.tcss"
    BINDINGS = [
        Binding("f1", "help", "Help"),
        Binding("ctrl+q", "quit", "Quit", priority=True),
    ]

    def __init__(self, index_ref: IndexRef | str, model: str | None = None, *,
                 corpus: Path | None = None, build_default: bool = False,
                 resume: bool = False, where: ArticleFilter | None = None) -> None:
        """`index_ref`: the index folder, or a Milvus collection; `where`: the filter the
        chat starts with (qa chat --since/--until/--source/--article)."""
        super().__init__()
        self.index_ref = Path(index_ref) if isinstance(index_ref, str) else index_ref
        self.model = model
        self.corpus = corpus
        self.build_default = build_default
        self.history = QuestionHistory.for_index(self.index_ref)
        self.engine = EngineWorker(self, self._open_engine)
        self.conversations = library.ChatConversations(self.index_ref, where)
        self.resume = resume
        self.quitting = False

    # ---- engine --------------------------------------------------------------------------

    def _open_engine(self, progress, say) -> Engine:
        return library.open_chat_engine(self.index_ref, self.model, self.build_default,
                                        progress=progress, say=say)

    def sync(self, engine: Engine, corpus: Path | None) -> ChangeReport:
        """A re-sync job: on a thread of its own, or the engine thread (see qa.resync)."""
        from qa.resync import resync

        return resync(engine, self.engine.progress, corpus, say=self.engine.say)

    def on_mount(self) -> None:
        self.push_screen(ChatScreen(self.index_ref, worker=self.engine,
                                    conversations=self.conversations, history=self.history,
                                    resync=lambda engine: self.sync(engine, self.corpus)))
        self.engine.start()
        if self.resume:
            conversations = self.conversations

            async def done(conversation) -> None:
                if conversation is None:
                    self.notify("No earlier conversation with this index: starting a new one.",
                                markup=False)
                else:
                    await self._show_conversation(conversation, "Resumed")

            self.engine.submit(Job(run=lambda engine: conversations.open_last(), done=done,
                                   failed=self._conversation_failed, kind="resume"))

    @property
    def chat(self) -> ChatScreen:
        return next(s for s in self.screen_stack if isinstance(s, ChatScreen))

    @property
    def closing(self) -> bool:
        """True once the app is shutting down: a message from the engine thread (a job that
        ended as the user quit) then has no chat left to update. The app stops running before
        it takes the screens apart, and the chat's widgets go before the chat itself."""
        return not self.is_running or not any(isinstance(s, ChatScreen) for s in self.screen_stack)

    def on_engine_loaded(self, message: EngineLoaded) -> None:
        if self.closing:
            return
        self.chat.engine_loaded(message.info)
        self._quit_if_waiting()

    def on_engine_failed(self, message: EngineFailed) -> None:
        from qa.engine import UserError
        from qa.engine import error_line

        error = message.error
        if self.closing:
            return
        self.chat.engine_failed(error_line(error) if isinstance(error, UserError) else str(error))
        self._quit_if_waiting()

    def on_engine_says(self, message: EngineSays) -> None:
        self.log(message.text)
        if self.closing:
            return
        if self.chat.syncing:  # e.g. waiting for another writer to finish
            self.chat.status.set_state(f"Re-syncing: {message.text}")
        elif message.text.startswith("No index yet"):
            self.chat.status.set_state("No index yet: building it…")
            self.notify(message.text, title="First start", markup=False, timeout=8)

    def on_build_progress(self, message: BuildProgress) -> None:
        if self.closing:
            return
        self.chat.build_progress(message.stage, message.done, message.total)

    def on_job_started(self, message: JobStarted) -> None:
        if message.job.started is not None:
            message.job.started()

    async def on_job_finished(self, message: JobFinished) -> None:
        job = message.job
        self.engine.finished(job)
        if self.closing:
            return
        if job.error is not None:
            callback, value = job.failed, job.error
        else:
            callback, value = job.done, job.result
        if callback is not None:
            outcome = callback(value)
            if inspect.isawaitable(outcome):
                await outcome
        if self.closing:
            return
        self.chat.job_done(job)
        self._quit_if_waiting()

    # ---- actions -------------------------------------------------------------------------

    def on_chat_screen_open_article(self, message: ChatScreen.OpenArticle) -> None:
        self.push_screen(ArticleScreen(message.article_id, message.passage, worker=self.engine))

    BUSY = {"loading": "the model loads", "sync": "the re-sync ends"}

    def _busy(self) -> str | None:
        """What the engine thread is doing that cannot be interrupted, if anything."""
        if not self.engine.ready and self.engine.error is None:
            return "loading"
        if not self.closing and self.chat.syncing:
            return "sync"
        return None

    async def action_quit(self) -> None:
        """Quit. While the model loads or a re-sync runs (neither can be interrupted, and the
        process could not end before them anyway) say so and quit when they finish, instead
        of leaving a blank terminal for seconds. A second press quits at once."""
        busy = self._busy()
        if busy is None or self.quitting:
            self.exit()
            return
        self.quitting = True
        self.chat.status.set_state(f"Quitting once {self.BUSY[busy]}…")
        self.notify(f"qa chat will quit once {self.BUSY[busy]}; press again to quit now.",
                    title="Quitting", markup=False)

    def _quit_if_waiting(self) -> None:
        if self.quitting and self._busy() is None:
            self.exit()

    async def _show_conversation(self, conversation, verb: str) -> None:
        from tui.text import plural

        await self.chat.show_conversation(conversation)
        self.notify(f"{verb} conversation {conversation.id} "
                    f"({plural(len(conversation.turns), 'turn')}); the next question continues it.",
                    markup=False)

    def _conversation_failed(self, error: BaseException) -> None:
        self.notify(str(error), title="Conversations", severity="error", markup=False,
                    timeout=10)

    def action_conversations(self) -> None:
        """List this index's earlier conversations; the one picked becomes the current one."""
        if isinstance(self.screen, ConversationsScreen):
            return
        conversations = self.conversations

        def reopen(cid: int | None) -> None:
            if cid is None:
                return

            async def done(conversation) -> None:
                await self._show_conversation(conversation, "Reopened")

            self.engine.submit(Job(run=lambda engine: conversations.open(cid), done=done,
                                   failed=self._conversation_failed, kind="reopen"))

        def listed(summaries) -> None:
            if not summaries:
                self.notify("No earlier conversations with this index yet.", markup=False)
            elif not isinstance(self.screen, ConversationsScreen):
                self.push_screen(ConversationsScreen(summaries), reopen)

        self.engine.submit(Job(run=lambda engine: conversations.summaries(), done=listed,
                               failed=self._conversation_failed, kind="conversations"))

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())


def run_chat(index_ref: IndexRef, model: str | None = None, corpus: Path | None = None,
             build_default: bool = False, resume: bool = False,
             where: ArticleFilter | None = None) -> None:
    QaApp(index_ref, model, corpus=corpus, build_default=build_default, resume=resume,
          where=where).run()
