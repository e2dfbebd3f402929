"""F1 / ?: every key, grouped by where it works.

A question is read in the conversation before it (a follow-up like "when was that?"); the
answer card says how ("about: ..."). Every answered question is stored as it is shown, so
quitting never loses a conversation. `/filter ...`, typed in the question box, limits the
articles searched (qa.filtering reads it; the status line shows the filter in force)."""
from __future__ import annotations

from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Static

from tui.text import join, safe

KEYS: list[tuple[str, list[tuple[str, str]]]] = [
    ("Anywhere", [
        ("Enter", "ask the question typed in the box"),
        ("↑ / ↓", "earlier / later questions (kept per index)"),
        ("Tab, Esc", "move between the question box and the answers"),
        ("Ctrl+↓ / Ctrl+↑", "next / previous hit"),
        ("Ctrl+B", "show or hide the list of indexed articles"),
        ("Ctrl+R", "re-sync with the folders and files the index follows"),
        ("Ctrl+L", "new chat: the next question is read on its own"),
        ("Ctrl+O / Ctrl+E", "earlier conversations / export this one (Markdown)"),
        ("/filter …", "limit: since DATE until DATE source OUTLET article ID"),
        ("/filter off", "search every article again"),
        ("F1", "this help"),
        ("Ctrl+P", "command palette (themes, keys, quit)"),
        ("Ctrl+Q", "quit; the conversation is kept (qa chat --resume)"),
    ]),
    ("In the answers (after Tab or Esc)", [
        ("j n / k p", "next / previous hit"),
        ("Enter, o", "open the cited article at the paragraph"),
        ("c / y", "copy the citation / the passage"),
        ("s, ?, q", "articles list, help, quit (the conversation is kept)"),
        ("i, /", "back to the question box"),
    ]),
    ("In an article", [
        ("Esc", "back to the chat"),
        ("c / y", "copy the citation / the paragraph"),
    ]),
]


def help_content() -> Content:
    width = max(len(key) for _, rows in KEYS for key, _ in rows) + 2
    lines: list[Content] = []
    for section, rows in KEYS:
        lines.append(safe(section, "bold $text-accent"))
        for key, what in rows:
            lines.append(join((f"  {key:<{width}}", "bold"), safe(what)))
    return Content("\n").join(lines)


class HelpScreen(ModalScreen[None]):
    BINDINGS = [
        Binding("escape,f1,question_mark,q", "dismiss", "Close"),
    ]

    def compose(self):
        with Vertical(id="help-dialog") as dialog:
            dialog.border_title = "Keys"
            dialog.border_subtitle = "Esc closes"
            with VerticalScroll(id="help-body"):
                yield Static(help_content(), markup=False, id="help-text")

    def on_click(self, event) -> None:
        if event.widget is self:
            self.dismiss()
