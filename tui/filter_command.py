"""The chat's `/filter` command, typed in the question box: it changes which articles the
next questions search (qa.filtering reads it; the filter lives with the chat's
conversations, tui.library.ChatConversations) and the status line shows the one in force.

Applied as an engine job, so questions asked before it are answered under the old filter
and those after under the new; a command that cannot be read, or a filter that no article
passes, is refused with its one-line reason and the filter stays as it was."""
from __future__ import annotations

from typing import TYPE_CHECKING

from tui.engine_worker import Job

if TYPE_CHECKING:
    from textual.screen import Screen as ChatScreen  # tui.screens.chat's, which imports this

    from index.storage.base import ArticleFilter


def is_filter_command(text: str) -> bool:
    from qa.filtering import is_command

    return is_command(text)


def show_filter(screen: ChatScreen, where: ArticleFilter | None) -> None:
    screen.status.set_filter(where.describe() if where else "")


def apply_filter(screen: ChatScreen, command: str) -> None:
    conversations = screen.conversations

    def done(where: ArticleFilter | None) -> None:
        show_filter(screen, where)
        message = (f"Searching only: {where.describe()}" if where
                   else "Filter off: every article is searched.")
        screen.app.notify(message, title="Filter", markup=False)

    def failed(error: BaseException) -> None:
        screen.app.notify(str(error), title="Filter not changed", severity="error",
                          markup=False, timeout=10)

    screen.worker.submit(Job(run=lambda engine: conversations.set_filter(engine, command),
                             done=done, failed=failed, kind="filter"))
