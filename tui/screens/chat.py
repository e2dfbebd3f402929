"""The chat: status line, transcript of questions and answer cards, article sidebar, input."""
from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from textual.binding import Binding
from textual.containers import Horizontal
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Input, Static

from index.safe_text import one_line, one_paragraph
from tui import library
from tui.engine_worker import EngineUnavailable, EngineWorker, Job
from tui.filter_command import apply_filter, is_filter_command, show_filter
from tui.index_follower import IndexFollower, IndexUpdated
from tui.text import join, plural, safe
from tui.widgets import (AnswerCard, ArticleSidebar, Notice, PassageView, QuestionInput,
                         QuestionLine, StatusBar, Transcript)

if TYPE_CHECKING:
    from qa.engine import Engine
    from qa.resync import ChangeReport
    from qa.types import AnswerPassage
    from tui.history import QuestionHistory

WELCOME = ("Ask about the indexed news articles, in English or Indonesian. Each answer lists "
           "the best passages with the answering sentence highlighted and a citation you can "
           "open. F1 shows all keys.")


def _report_line(report: ChangeReport) -> str:
    """One line; the file names it quotes are shown on it whatever they hold."""
    line = (f"Re-synced: {report.added} added, {report.updated} updated, {report.removed} "
            f"removed, {report.unchanged} unchanged; embedded "
            f"{plural(report.paragraphs_embedded, 'paragraph')} in {report.seconds:.1f} s")
    if report.errors:
        line += (f"; {plural(len(report.errors), 'file')} could not be read "
                 f"(first: {one_line(str(report.errors[0]))})")
    if report.vanished:
        gone = plural(len(report.vanished), "followed folder or file", "followed folders or files")
        line += (f"; {gone} gone ({one_line(str(report.vanished[0]))}), their articles kept: "
                 "qa index sync --prune drops them")
    return line


def _about(turn) -> str:
    """How a follow-up was read; nothing for a question read on its own."""
    return turn.reading.about if turn.reading.mode == "follow-up" else ""


class ChatScreen(Screen):
    """Given what it shows and works with when it is made; what is the app's to do (open an
    article) it asks for with a message, so it never reaches into the app."""

    class OpenArticle(Message):
        """Show an article, at the cited paragraph of `passage` if one is given."""

        def __init__(self, article_id: str, passage: AnswerPassage | None = None) -> None:
            super().__init__()
            self.article_id = article_id
            self.passage = passage

    AUTO_FOCUS = "#question"
    BINDINGS = [
        Binding("ctrl+down", "next_hit", "Next hit", show=False),
        Binding("ctrl+up", "previous_hit", "Previous hit", show=False),
        Binding("ctrl+b", "toggle_sidebar", "Articles"),
        Binding("ctrl+r", "sync", "Re-sync"),
        Binding("ctrl+l", "clear", "New chat"),
        # Hidden from the footer so it keeps fitting 80 columns; F1 and the palette list them.
        Binding("ctrl+o", "app.conversations", "Conversations", show=False),
        # priority: the question box would take Ctrl+E as "end of line" (End still does that)
        Binding("ctrl+e", "export", "Export", show=False, priority=True),
        Binding("s", "toggle_sidebar", "Articles", show=False),
        Binding("q", "app.quit", "Quit", show=False),
        Binding("question_mark", "app.help", "Help", show=False),
    ]

    def __init__(self, index_ref, *, worker: EngineWorker,
                 conversations: library.ChatConversations, history: QuestionHistory,
                 resync: Callable[[Engine], ChangeReport]) -> None:
        """`index_ref`: the index shown in the status line (a folder or a Milvus collection);
        `resync` re-syncs the index from its sources, on a thread of its own when it can
        (`EngineWorker.run_beside`), never touching `engine.store`."""
        super().__init__()
        self.index_ref = index_ref
        self.worker = worker
        self.conversations = conversations
        self.history = history
        self.resync = resync
        self.selected: PassageView | None = None
        self.syncing = False
        self.sync_beside = True  # whether questions are answered during the re-sync
        self.follower = IndexFollower(worker, self, quiet=lambda: self.syncing)

    def compose(self):
        yield StatusBar(self.index_ref, id="status")
        with Horizontal(id="main"):
            yield ArticleSidebar(id="sidebar")
            with Transcript(id="transcript"):
                yield self._welcome()
        yield QuestionInput(self.history, id="question")
        yield Footer(show_command_palette=False)

    def _welcome(self) -> Static:
        return Static(safe(WELCOME, "$text-muted"), markup=False, id="welcome")

    def on_mount(self) -> None:
        self.status.set_state("Loading model…")
        show_filter(self, self.conversations.where)

    # ---- parts ---------------------------------------------------------------------------

    @property
    def status(self) -> StatusBar:
        return self.query_one(StatusBar)

    @property
    def transcript(self) -> Transcript:
        return self.query_one(Transcript)

    @property
    def question_input(self) -> QuestionInput:
        return self.query_one(QuestionInput)

    @property
    def sidebar(self) -> ArticleSidebar:
        return self.query_one(ArticleSidebar)

    @property
    def cards(self) -> list[AnswerCard]:
        return list(self.query(AnswerCard))

    # ---- engine events (called by the app) -----------------------------------------------

    def engine_loaded(self, info: library.IndexInfo) -> None:
        self._show_info(info)
        self.follower.start(info)
        self._update_state()
        for card in self.cards:
            if card.state == "waiting":
                card.set_waiting(ready=True)

    def engine_failed(self, message: str) -> None:
        self.status.set_state("Error", "error")
        self.transcript.mount(Static(join(("Cannot open the index: ", "bold $text-error"),
                                          safe(message)), markup=False, classes="error"))

    def build_progress(self, stage: str, done: int, total: int) -> None:
        what = "Re-syncing" if self.syncing else "Building index"
        self.status.show_progress(stage, done, total, what)

    def _show_info(self, info: library.IndexInfo) -> None:
        self.status.set_info(len(info.articles), info.paragraphs, info.model)
        self.sidebar.set_articles(info.articles)

    def on_index_updated(self, message: IndexUpdated) -> None:
        """Another process (or our re-sync) committed: new counts and article list, and a
        quiet line saying what changed unless our re-sync's report will. A watcher's
        batches in a row are told in one line, until something else is shown after it."""
        self._show_info(message.info)
        if message.quiet or not message.change:
            return
        children = self.transcript.children
        last = children[-1] if children else None
        if isinstance(last, Notice) and last.since is not None:
            change = library.index_change(last.since, message.info.articles)
            last.show(f"Index updated: {change.line() or 'back as it was'}")
        else:
            self.note(f"Index updated: {message.change.line()}", since=message.before)

    def note(self, text: str, kind: str = "info", asked: bool = False,
             since: list | None = None) -> None:
        """A line in the transcript; it scrolls into view only if the end was in view, so
        an answer being read stays put. What the user `asked` for (a re-sync's outcome) is
        also shown as a toast when the line lands out of view."""
        transcript = self.transcript
        at_end = transcript.is_vertical_scroll_end or transcript.max_scroll_y == 0
        transcript.mount(Notice(text, kind, since))
        if at_end:
            transcript.call_after_refresh(transcript.scroll_end, animate=False)
        elif asked:
            self.app.notify(text, severity=kind if kind != "info" else "information",
                            markup=False, timeout=8)

    def _update_state(self) -> None:
        worker = self.worker
        if worker.error is not None:
            self.status.set_state("Error", "error")
        elif not worker.ready:
            waiting = worker.pending
            suffix = f" ({plural(waiting, 'question')} waiting)" if waiting else ""
            self.status.set_state(f"Loading model…{suffix}")
        elif self.syncing:
            pass  # progress updates own the state line
        elif worker.pending:
            self.status.set_state("Answering…")
        else:
            self.status.set_state("Ready", "ready")

    # ---- asking --------------------------------------------------------------------------

    async def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        question = event.value.strip()
        if not question:
            return
        self.question_input.remember(question)
        self.question_input.value = ""
        if is_filter_command(question):
            apply_filter(self, question)
            return
        await self.ask(question)

    async def ask(self, question: str) -> AnswerCard:
        """Show the question with a waiting card, and queue it for the engine thread."""
        await self.query("#welcome").remove()
        line = QuestionLine(question)
        card = AnswerCard(question, ready=self.worker.ready)
        await self.transcript.mount_all([line, card])
        if self.syncing and not self.sync_beside:
            card.set_waiting_for("the re-sync to finish")

        async def done(kept) -> None:  # a qa.conversation_keeper.KeptTurn
            if card.is_attached:
                await card.show_answer(kept.turn.answer, about=_about(kept.turn))
                card.call_after_refresh(self._answer_shown, line, card)
            if kept.notice:  # the store failed: the answer stands, the record does not
                self.note(kept.notice, "warning", asked=True)

        def failed(error: BaseException) -> None:
            if card.is_attached:
                card.show_error(str(error))

        conversations = self.conversations
        self.worker.submit(Job(run=lambda engine: conversations.ask(engine, question), done=done,
                               failed=failed, started=lambda: card.is_attached and card.set_answering(),
                               kind="answer"))
        self._update_state()
        self.call_after_refresh(self.transcript.scroll_to_widget, line, animate=False, top=True)
        return card

    def _answer_shown(self, line: QuestionLine, card: AnswerCard) -> None:
        views = card.passages
        if views:
            self.select(views[0], scroll=False)
        self.transcript.scroll_to_widget(line, animate=False, top=True)
        self._update_state()

    def job_done(self, job: Job) -> None:
        self._update_state()

    # ---- hits ----------------------------------------------------------------------------

    def on_passage_view_clicked(self, event: PassageView.Clicked) -> None:
        self.select(event.view)
        self.transcript.focus()

    def select(self, view: PassageView | None, scroll: bool = True) -> None:
        if self.selected is not None and self.selected is not view:
            self.selected.remove_class("-selected")
        self.selected = view
        if view is not None:
            view.add_class("-selected")
            if scroll:
                self.transcript.scroll_to_widget(view, animate=False, top=True)

    def _move(self, step: int) -> None:
        views = list(self.query(PassageView))
        if not views:
            return
        if self.selected not in views:
            target = views[-1] if step < 0 else views[0]
        else:
            i = views.index(self.selected) + step
            target = views[max(0, min(len(views) - 1, i))]
        self.select(target)

    def action_next_hit(self) -> None:
        self._move(1)

    def action_previous_hit(self) -> None:
        self._move(-1)

    def _selected_passage(self):
        if self.selected is None or not self.selected.is_attached:
            self.app.notify("No hit selected: ask a question first.", severity="warning", markup=False)
            return None
        return self.selected.passage

    def action_open_hit(self) -> None:
        passage = self._selected_passage()
        if passage is not None:
            self.post_message(self.OpenArticle(passage.hit.article_id, passage))

    # What is copied is pasted into shells and documents: it holds no control character and
    # no line break from a file (an ESC[201~ in a file name would end a bracketed paste and
    # its newline run a command). The citation label is one inert line (Citation.label), the
    # passage one inert paragraph; the blank line between them is the only line break.

    def action_copy_citation(self) -> None:
        passage = self._selected_passage()
        if passage is not None:
            label = passage.citation.label()
            self.app.copy_to_clipboard(label)
            self.app.notify(f"Copied citation [{passage.rank}]: {label}", title="Copied",
                            markup=False)

    def action_copy_passage(self) -> None:
        passage = self._selected_passage()
        if passage is not None:
            self.app.copy_to_clipboard(
                f"{one_paragraph(passage.hit.text)}\n\n{passage.citation.label()}")
            self.app.notify(f"Copied passage [{passage.rank}] with its citation", title="Copied",
                            markup=False)

    # ---- the rest ------------------------------------------------------------------------

    def action_focus_input(self) -> None:
        self.question_input.focus()

    def action_focus_transcript(self) -> None:
        self.transcript.focus()
        if self.selected is None:
            self._move(-1)

    def action_toggle_sidebar(self) -> None:
        sidebar = self.sidebar
        sidebar.toggle_class("-visible")
        if sidebar.has_class("-visible"):
            sidebar.focus_list()
        elif self.focused is None or sidebar in self.focused.ancestors_with_self:
            self.question_input.focus()

    def action_close_sidebar(self) -> None:
        self.sidebar.remove_class("-visible")
        self.action_focus_transcript()

    def on_article_sidebar_open_article(self, event: ArticleSidebar.OpenArticle) -> None:
        event.stop()
        self.post_message(self.OpenArticle(event.article.id))

    def action_clear(self) -> None:
        """A new chat: the transcript clears and the next question is read on its own. The
        conversation so far stays stored (Ctrl+O reopens it)."""
        self.selected = None
        self.transcript.remove_children()
        self.transcript.mount(self._welcome())
        self.question_input.focus()
        conversations = self.conversations
        self.worker.submit(Job(run=lambda engine: conversations.new(), kind="new chat"))

    async def show_conversation(self, conversation) -> None:
        """Replace the transcript with a stored conversation's turns, as they were shown."""
        self.selected = None
        await self.transcript.remove_children()
        line = None
        for turn in conversation.turns:
            line = QuestionLine(turn.question)
            card = AnswerCard(turn.question)
            await self.transcript.mount_all([line, card])
            await card.show_answer(turn.answer, about=_about(turn))
        if line is None:
            await self.transcript.mount(self._welcome())
        else:  # the last turn, as it was shown when answered
            self.call_after_refresh(self._answer_shown, line, card)
        self.question_input.focus()

    def action_export(self) -> None:
        from pathlib import Path

        from tui.text import display_path

        conversations = self.conversations
        folder = Path.cwd()

        def done(path) -> None:
            if path is None:
                self.app.notify("Nothing to export yet: ask a question first.", markup=False)
            else:
                self.app.notify(f"Conversation written to {display_path(path)}", title="Export",
                                markup=False)

        def failed(error: BaseException) -> None:
            self.app.notify(f"Could not export: {error}", title="Export failed",
                            severity="error", markup=False, timeout=10)

        self.worker.submit(Job(run=lambda engine: conversations.export_markdown(folder),
                               done=done, failed=failed, kind="export"))

    def action_sync(self) -> None:
        """Re-sync the index with its sources: progress on the status line, questions
        answered meanwhile where the index allows it, the report as a line in the transcript."""
        worker = self.worker
        if worker.error is not None:
            self.app.notify("The index could not be opened, so it cannot be re-synced.",
                            severity="error", markup=False)
            return
        if self.syncing:
            self.app.notify("A re-sync is already running.", markup=False)
            return
        self.syncing = True
        self.sync_beside = True
        self.status.set_state("Re-syncing…")

        def started() -> None:
            self.sync_beside = job.beside
            if not job.beside:
                self.note("Questions wait until the re-sync ends: this index's model cannot "
                          "answer and index at the same time.")

        def ended() -> None:
            self.syncing = False
            self.follower.refresh(quiet=True)  # what it committed, even if it failed later
            self._update_state()

        def done(report: ChangeReport) -> None:
            ended()
            problems = report.errors or report.vanished
            self.note(_report_line(report), "warning" if problems else "info", asked=True)

        def failed(error: BaseException) -> None:
            ended()
            if isinstance(error, EngineUnavailable):
                message = "the index could not be opened (see above)"
            else:
                message = library.error_text(error)
            self.note(f"Re-sync failed: {message}", "error", asked=True)

        job = Job(run=self.resync, done=done, failed=failed, started=started, kind="sync")
        worker.run_beside(job, allowed=library.resync_beside_answers)
