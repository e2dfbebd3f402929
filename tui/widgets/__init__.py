"""Widgets of `qa chat`: answer cards, the question input, the article sidebar, the status bar."""
from tui.widgets.answer_card import AnswerCard, PassageView, QuestionLine
from tui.widgets.question_input import QuestionInput
from tui.widgets.sidebar import ArticleSidebar
from tui.widgets.status_bar import StatusBar
from tui.widgets.transcript import Notice, Transcript

__all__ = ["AnswerCard", "ArticleSidebar", "Notice", "PassageView", "QuestionInput",
           "QuestionLine", "StatusBar", "Transcript"]
