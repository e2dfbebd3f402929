"""The scrolling chat transcript; with focus, single keys move between hits and act on them."""
from __future__ import annotations

from textual.binding import Binding
from textual.containers import VerticalScroll

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
