"""The question box: Enter asks, up/down walk through earlier questions (kept per index)."""
from __future__ import annotations

from textual import events
from textual.binding import Binding
from textual.widgets import Input

from tui.history import QuestionHistory


class QuestionInput(Input):
    BINDINGS = [
        Binding("up", "history_previous", "Earlier question", show=False),
        Binding("down", "history_next", "Later question", show=False),
        Binding("escape", "screen.focus_transcript", "Hits"),
    ]

    def __init__(self, history: QuestionHistory, **kwargs) -> None:
        kwargs.setdefault("placeholder", "Ask a question, then Enter  (↑ earlier questions)")
        super().__init__(**kwargs)
        self.history = history
        self._position: int | None = None  # None: editing a new question, not a recalled one
        self._draft = ""

    def remember(self, question: str) -> None:
        self.history.add(question)
        self._position = None
        self._draft = ""

    def action_history_previous(self) -> None:
        entries = self.history.entries
        if not entries:
            return
        if self._position is None:
            self._draft = self.value
            self._position = len(entries)
        if self._position > 0:
            self._position -= 1
            self._show(entries[self._position])

    def action_history_next(self) -> None:
        if self._position is None:
            return
        self._position += 1
        if self._position >= len(self.history.entries):
            self._position = None
            self._show(self._draft)
        else:
            self._show(self.history.entries[self._position])

    def _on_paste(self, event: events.Paste) -> None:
        """A question copied from an article or a mail often spans lines; Textual's Input keeps
        only the first, which silently asks half a question. Take it whole, as one line."""
        event.prevent_default()  # Textual would run Input's own first-line handler as well
        text = " ".join(event.text.split())
        if text:
            if self.selection.is_empty:
                self.insert_text_at_cursor(text)
            else:
                self.replace(text, *self.selection)
        event.stop()

    def _show(self, text: str) -> None:
        self.value = text
        self.cursor_position = len(text)
