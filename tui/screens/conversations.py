"""Ctrl+O: the earlier conversations with this index; Enter reopens one (it becomes the
conversation the next question continues)."""
from __future__ import annotations

from typing import TYPE_CHECKING

from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from tui.text import join, plural, safe

if TYPE_CHECKING:
    from tui.library import ConversationSummary


def _when(started_at: str) -> str:
    """ISO time in UTC as stored, shown as "YYYY-MM-DD HH:MM" (the local time would need the
    user's zone, which a terminal does not always have right)."""
    return started_at[:16].replace("T", " ")


class ConversationsScreen(ModalScreen[int | None]):
    BINDINGS = [Binding("escape,ctrl+o", "dismiss_none", "Close")]

    def __init__(self, summaries: list[ConversationSummary]) -> None:
        super().__init__()
        self.summaries = list(summaries)

    def compose(self):
        with Vertical(id="conversations-dialog") as dialog:
            dialog.border_title = "Conversations"
            dialog.border_subtitle = "Enter reopens · Esc closes"
            yield OptionList(*[
                Option(join((f"#{c.id}  {_when(c.started_at)} UTC  ", "bold"),
                            safe(plural(c.turns, "turn"), "$text-muted"), "\n",
                            safe(" ".join(c.first_question.split()))),
                       id=str(c.id))
                for c in self.summaries
            ], id="conversation-list")

    def on_mount(self) -> None:
        options = self.query_one(OptionList)
        if options.option_count:
            options.highlighted = 0
        options.focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(self.summaries[event.option_index].id)

    def action_dismiss_none(self) -> None:
        self.dismiss(None)

    def on_click(self, event) -> None:
        if event.widget is self:
            self.dismiss(None)
