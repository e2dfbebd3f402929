"""The chat's question box on its own (no model needed): pasting keeps the whole question."""
from __future__ import annotations

import pytest
from textual import events
from textual.app import App

from tui.history import QuestionHistory
from tui.widgets import QuestionInput

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend():
    return "asyncio"


class _Box(App):
    def compose(self):
        yield QuestionInput(QuestionHistory(None))


async def test_multi_line_paste_is_taken_whole_as_one_line():
    app = _Box()
    async with app.run_test(size=(80, 24)) as pilot:
        box = app.query_one(QuestionInput)
        box.focus()
        box.value = "Tolong: "
        box.cursor_position = len(box.value)
        box.post_message(events.Paste("Siapa yang memanggil\nduta besar   Rusia\r\ndi Moskow?\n"))
        await pilot.pause()
        assert box.value == "Tolong: Siapa yang memanggil duta besar Rusia di Moskow?"


async def test_paste_replaces_the_selection():
    from textual.widgets.input import Selection

    app = _Box()
    async with app.run_test(size=(80, 24)) as pilot:
        box = app.query_one(QuestionInput)
        box.focus()
        box.value = "Who summoned X?"
        box.selection = Selection(13, 14)
        box.post_message(events.Paste("the Russian\nambassador"))
        await pilot.pause()
        assert box.value == "Who summoned the Russian ambassador?"
