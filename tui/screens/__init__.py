"""Screens of `qa chat`: the chat, an article, earlier conversations, and the key help."""
from tui.screens.article import ArticleScreen
from tui.screens.chat import ChatScreen
from tui.screens.conversations import ConversationsScreen
from tui.screens.help import HelpScreen

__all__ = ["ArticleScreen", "ChatScreen", "ConversationsScreen", "HelpScreen"]
