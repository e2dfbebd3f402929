"""A question and its answer card: ranked passages, answer sentence highlighted, citation, score."""
from __future__ import annotations

from textual.containers import Vertical
from textual.content import Content
from textual.message import Message
from textual.widgets import Static

from qa.present import no_answer_why, short_answer_line
from qa.types import Answer, AnswerPassage
from tui.text import join, plural, safe

SENTENCE_STYLE = "bold $text-warning"
RANK_STYLE = "bold $text-primary"
MUTED_STYLE = "$text-muted"


def passage_body(text: str, start: int, end: int, style: str = SENTENCE_STYLE) -> Content:
    """The paragraph with [start, end) highlighted; each piece made inert separately so the
    highlight stays on the same characters even when escapes lengthen the text."""
    if not (0 <= start <= end <= len(text)):
        return safe(text)
    return join(safe(text[:start]), safe(text[start:end], style), safe(text[end:]))


def passage_content(p: AnswerPassage) -> Content:
    head = join(
        (f"[{p.rank}] ", RANK_STYLE),
        (f"score {p.hit.score:.3f}", MUTED_STYLE),
        "  ",
        safe(p.citation.label(), "bold"),
    )
    body = join(head, "\n", passage_body(p.hit.text, p.sentence_start, p.sentence_end))
    if p.also_in:
        body = join(body, "\n", ("also in: ", MUTED_STYLE),
                    safe("; ".join(c.label() for c in p.also_in), MUTED_STYLE))
    return body


class QuestionLine(Static):
    """The question as asked, shown literally."""

    def __init__(self, question: str) -> None:
        super().__init__(join(("› ", "bold"), safe(question)), markup=False, classes="question")
        self.question = question


class PassageView(Static):
    """One ranked passage; the selected one (moved with j/k, ctrl+up/down) has class -selected."""

    class Clicked(Message):
        def __init__(self, view: PassageView) -> None:
            super().__init__()
            self.view = view

    def __init__(self, passage: AnswerPassage) -> None:
        super().__init__(passage_content(passage), markup=False, classes="passage")
        self.passage = passage

    def on_click(self) -> None:
        self.post_message(self.Clicked(self))


class AnswerCard(Vertical):
    """Waiting -> answering -> answered (or failed). Empty and weak answers say so."""

    def __init__(self, question: str, ready: bool = True) -> None:
        super().__init__(classes="card")
        self.question = question
        self.answer: Answer | None = None
        self.about = ""
        self.state = "waiting"
        self._ready = ready

    def compose(self):
        yield Static(self._waiting_text(self._ready), markup=False, classes="card-status")

    @staticmethod
    def _waiting_text(ready: bool) -> Content:
        return safe("Searching the index…" if ready else "Waiting for the model to load…",
                    MUTED_STYLE)

    @property
    def status(self) -> Static:
        return self.query_one(".card-status", Static)

    @property
    def passages(self) -> list[PassageView]:
        return list(self.query(PassageView))

    def set_waiting(self, ready: bool) -> None:
        if self.state == "waiting":
            self.status.update(self._waiting_text(ready))

    def set_waiting_for(self, what: str) -> None:
        """Queued behind something slow the user started (a re-sync that must finish first)."""
        if self.state == "waiting":
            self.status.update(safe(f"Waiting for {what}…", MUTED_STYLE))

    def set_answering(self) -> None:
        self.state = "answering"
        self.status.update(safe("Searching the index…", MUTED_STYLE))

    def show_error(self, message: str) -> None:
        self.state = "failed"
        self.add_class("-error")
        self.status.update(join(("Could not answer: ", "bold $text-error"), safe(message)))

    async def show_answer(self, answer: Answer, about: str = "") -> None:
        """Mount the passages; `state` becomes "answered" once they are in the DOM. `about`
        says how a follow-up was read (which article and question it leaned on), shown as
        one muted line above the passages so a wrong reading is seen at once."""
        self.answer = answer
        self.about = about
        if about:
            await self.mount(Static(safe(" ".join(about.split()), MUTED_STYLE), markup=False,
                                    classes="card-about"), before=self.status)
        passages = answer.passages
        if not passages:
            self.state = "answered"
            self.add_class("-empty")
            self.status.update(join(("No passages found. ", "bold $text-warning"),
                                    safe("Is the index empty? Ctrl+B lists its articles, "
                                         "Ctrl+R re-syncs it.")))
            return
        if answer.confident is False:
            self.add_class("-weak")
            self.status.update(join(
                ("No confident answer", "bold $text-warning"),
                (f" {no_answer_why(answer)}. The closest passages, probably "
                 "not answering your question:", MUTED_STYLE),
            ))
        else:
            about_passages = safe(f"{plural(len(passages), 'passage')}, best first; "
                                  "the answering sentence is highlighted", MUTED_STYLE)
            line = short_answer_line(answer)
            self.status.update(about_passages if line is None else
                               join(safe(line, "bold $text-success"), "\n", about_passages))
        await self.mount_all([PassageView(p) for p in passages])
        self.state = "answered"

