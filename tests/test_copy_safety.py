"""What `qa chat` copies is safe to paste: no control character and no line break from a file.

The clipboard is written with OSC 52 and pasted into shells: an `ESC[201~` in a file name
ends a bracketed paste, and the newline after it runs the rest as a command (issue 38). The
real chat is driven through Textual's pilot over a real index of files with such names, and
the OSC 52 sequences the app writes to its terminal are decoded and checked, as is what the
screen shows for the same citations (one line each).
"""
from __future__ import annotations

import base64
import re
from pathlib import Path

import pytest

from test_output_safety import (ACTIVE, BREAKS_NAME, BREAKS_SHOWN, FORGED_NAME, FORGED_SHOWN,
                                JSONL_URL_SHOWN, PASTEJACK_NAME, PASTEJACK_SHOWN,
                                write_forged_corpus)
from test_tui import SIZE, ask, make_app, wait_until, wait_ready, widget_text

pytestmark = pytest.mark.anyio

OSC52 = re.compile(r"\x1b\]52;c;([A-Za-z0-9+/=]*)\x07")


@pytest.fixture
def anyio_backend():
    return "asyncio"


@pytest.fixture(scope="module")
def built(default_model_dir, tmp_path_factory):
    """A real index of the hostile file names (and the JSONL article with a hostile url)."""
    mp = pytest.MonkeyPatch()
    mp.setenv("QA_MODEL_CACHE", str(default_model_dir.parent))
    mp.delenv("QA_MODEL", raising=False)
    from qa.engine import build

    root = tmp_path_factory.mktemp("copy")
    index = root / "index"
    report = build([write_forged_corpus(root / "corpus")], index, None)
    assert report.articles == 4  # the empty file is the one error
    yield {"root": root, "index": index}
    mp.undo()


@pytest.fixture
def chat_env(built, default_model_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("QA_MODEL_CACHE", str(default_model_dir.parent))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.delenv("QA_MODEL", raising=False)
    monkeypatch.delenv("QA_INDEX", raising=False)
    monkeypatch.chdir(built["root"])
    return built


def record_clipboard_writes(app) -> list[str]:
    """Everything later put on the clipboard, decoded from the OSC 52 sequences the app
    writes to its terminal (what a real terminal would put on the system clipboard)."""
    written: list[str] = []
    driver = app._driver
    original = driver.write

    def write(data: str) -> None:
        written.extend(base64.b64decode(m).decode("utf-8") for m in OSC52.findall(data))
        original(data)

    driver.write = write
    return written


def assert_pasteable(copied: str, what: str) -> None:
    found = ACTIVE.search(copied) or re.search(r"[\r\t\x0b\x0c\x85\u2028\u2029]", copied)
    assert found is None, f"{what}: {found.group()!r} copied in {copied!r}"


async def ask_again(pilot, question: str):
    """Back to the question box (i, as a user would) from the transcript, then ask."""
    await pilot.press("i")
    return await ask(pilot, question)


async def select_hit(pilot, card, name: str):
    """Move the selection (n, as a user would) to the card's hit from the file `name`."""
    await pilot.press("escape")
    for _ in range(len(card.passages)):
        if Path(pilot.app.chat.selected.passage.hit.source).name == name:
            return pilot.app.chat.selected
        await pilot.press("n")
    raise AssertionError(f"no hit from {name!r} in the answer")


async def test_copied_citations_and_passages_hold_no_control_or_line_break_from_a_file(chat_env):
    from tui.screens import ArticleScreen

    app = make_app(chat_env["index"])
    async with app.run_test(size=SIZE) as pilot:
        await wait_ready(pilot)
        copied = record_clipboard_writes(app)
        card = await ask(pilot, "Berapa harga bawang merah setelah panen raya di Brebes?")
        view = await select_hit(pilot, card, PASTEJACK_NAME)
        passage = view.passage

        await pilot.press("c")
        citation = copied[-1]
        assert citation == app.clipboard
        assert_pasteable(citation, "the copied citation")
        assert "\n" not in citation and citation.endswith(f" - corpus/{PASTEJACK_SHOWN}:3")

        await pilot.press("y")
        text, cited, *more = copied[-1].split("\n\n")
        assert not more and "\n" not in text + cited, copied[-1]
        assert_pasteable(copied[-1], "the copied passage")
        assert text == passage.hit.text and cited == citation

        # The cited article, opened at the paragraph: its citation and paragraph copy alike,
        # and its head is the title line and one line of source and metadata.
        await pilot.press("enter")
        article = app.screen
        assert isinstance(article, ArticleScreen)
        await wait_until(pilot, lambda: article.loaded, what="the article")
        head = widget_text(article.query_one("#article-head")).split("\n")
        assert len(head) == 2 and PASTEJACK_SHOWN in head[1], head
        await pilot.press("c")
        assert copied[-1] == citation
        await pilot.press("y")
        assert copied[-1] == passage.hit.text
        await pilot.press("escape")

        # A JSONL article: its url (with ESC and a C1 CSI) is what the citation shows.
        card = await ask_again(pilot, "Berapa magnitudo gempa yang mengguncang Cianjur?")
        await select_hit(pilot, card, "berita.jsonl")
        await pilot.press("c")
        assert_pasteable(copied[-1], "the copied JSONL citation")
        assert copied[-1].endswith(f"para 1 - {JSONL_URL_SHOWN}")

        # A name made of every other line break copies as one line as well.
        card = await ask_again(pilot, "Berapa harga cabai rawit di Surabaya?")
        await select_hit(pilot, card, BREAKS_NAME)
        await pilot.press("c")
        assert_pasteable(copied[-1], "the copied citation")
        assert "\n" not in copied[-1] and copied[-1].endswith(f" - corpus/{BREAKS_SHOWN}:3")
        assert len(copied) == 6


async def test_a_hit_from_a_forged_file_name_shows_its_citation_on_one_line(chat_env):
    app = make_app(chat_env["index"])
    async with app.run_test(size=SIZE) as pilot:
        await wait_ready(pilot)
        card = await ask(pilot, "Berapa harga beras medium di pasar induk Cipinang?")
        view = await select_hit(pilot, card, FORGED_NAME)
        lines = widget_text(view).split("\n")
        # The citation line (rank, score, label) and the paragraph: nothing else.
        assert len(lines) == 2, lines
        assert lines[0].startswith(f"[{view.passage.rank}] score ")
        assert lines[0].endswith(f" - corpus/{FORGED_SHOWN}:3")
        assert lines[1] == view.passage.hit.text
