"""The scrolling chat transcript; with focus, single keys move between hits and act on them."""
from __future__ import annotations

from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import Static

from tui.text import safe

_HITS = Binding.Group("Hit", compact=True)


class Transcript(VerticalScroll, can_focus=True):
    BINDINGS = [
        Binding("j,n", "screen.next_hit", "Next hit", group=_HITS),
        Binding("k,p", "screen.previous_hit", "Previous hit", group=_HITS),
        Binding("enter,o", "screen.open_hit", "Open"),
        Binding("c", "screen.copy_citation", "Cite"),
        Binding("y", "screen.copy_passage", "Copy"),
        Binding("s", "screen.toggle_sidebar", "Articles", show=False),
        Binding("i,slash,escape", "screen.focus_input", "Ask", show=False),
        Binding("question_mark", "app.help", "Help", show=False),
        Binding("q", "app.quit", "Quit", show=False),
    ]


class Notice(Static):
    """One quiet line about the index between the answers (it changed, a re-sync's report or
    failure): read when the eye gets there, never a pop-up or a change of focus.
    kind: info, warning or error."""

    def __init__(self, text: str, kind: str = "info", since: list | None = None) -> None:
        """`since`: for a line about changes to the index, the articles before them, so
        the next change can be told in the same line while nothing came after it."""
        super().__init__(safe(text), markup=False, classes=f"notice -{kind}")
        self.text = text
        self.since = since

    def show(self, text: str) -> None:
        self.text = text
        self.update(safe(text))
