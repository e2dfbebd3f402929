"""The list of indexed articles (toggled with ctrl+b, or s outside the question box).

Each entry is three lines: title, paragraph count, file name. A title or a file name is one
line by nature (`safe_line` shows a newline in it as `\\n`, so a file name cannot add lines of
its own), and one too long for the list ends in an ellipsis rather than wrapping: a file name
such as `000_b0220605effb7f3f.txt` has no space to wrap at and would be cut mid-word.
"""
from __future__ import annotations

from pathlib import PurePath
from typing import TYPE_CHECKING

from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from qa.citations import display_source
from tui.text import join, plural, safe, safe_line

if TYPE_CHECKING:
    from index.storage.base import StoredArticle


def _short_source(source: str) -> str:
    """The file name (or URL) alone: the full path is on the article screen."""
    shown = display_source(source)
    return shown if "://" in shown else PurePath(shown).name


class ArticleSidebar(Vertical):
    DEFAULT_CSS = """
    ArticleSidebar #article-list {
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    """
    BINDINGS = [Binding("escape", "screen.close_sidebar", "Close", show=False)]

    class OpenArticle(Message):
        def __init__(self, article: StoredArticle) -> None:
            super().__init__()
            self.article = article

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.articles: list[StoredArticle] = []

    def compose(self):
        yield Static(safe("Articles", "bold"), markup=False, id="sidebar-title")
        yield OptionList(id="article-list")
        yield Static(safe("Enter opens · Esc closes", "$text-muted"), markup=False,
                     id="sidebar-hint")

    def set_articles(self, articles: list[StoredArticle]) -> None:
        self.articles = list(articles)
        self.query_one("#sidebar-title", Static).update(
            join(("Articles", "bold"), (f"  {len(self.articles)}", "$text-muted")))
        options = self.query_one("#article-list", OptionList)
        options.clear_options()
        options.add_options([
            Option(join(safe_line(a.title or a.id, "bold"), "\n",
                        safe(plural(a.paragraphs, "paragraph"), "$text-muted"), "\n",
                        safe_line(_short_source(a.source), "$text-muted")),
                   id=a.id)
            for a in self.articles
        ])

    def focus_list(self) -> None:
        options = self.query_one("#article-list", OptionList)
        if options.highlighted is None and options.option_count:
            options.highlighted = 0
        options.focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.post_message(self.OpenArticle(self.articles[event.option_index]))
