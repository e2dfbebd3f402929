"""The chat's article list in a 60-column terminal, driven by Textual's pilot over a real index:
each article is three lines (title, paragraph count, file name), a name too long for the list
ends in an ellipsis instead of wrapping mid-word, and a newline in a file name is shown as
`\\n` on its line rather than adding a line of its own."""
from __future__ import annotations

import pytest

from tests.test_tui import make_app, wait_ready

pytestmark = pytest.mark.anyio

LONG_NAME = "2024-10-21_korsel_panggil_duta_besar_rusia_protes_pasukan_korut.txt"
LONG_TITLE = ("Korea Selatan memanggil duta besar Rusia untuk memprotes pengiriman pasukan Korea "
              "Utara ke medan perang")
BROKEN_NAME = "bawang\nPALSU baris sendiri.txt"
ARTICLES = {
    LONG_NAME: f"{LONG_TITLE}\n\nKementerian Luar Negeri Korea Selatan memanggil duta besar Rusia "
               "di Seoul pada Senin untuk memprotes pengiriman pasukan Korea Utara.\n",
    BROKEN_NAME: "Harga bawang merah turun\n\nHarga bawang merah turun menjadi Rp 30.000 per "
                 "kilogram setelah panen raya di Brebes.\n\nPedagang di pasar induk menyebut "
                 "pasokan melimpah.\n",
}


@pytest.fixture
def anyio_backend():
    return "asyncio"


@pytest.fixture(scope="module")
def index(default_model_dir, tmp_path_factory):
    mp = pytest.MonkeyPatch()
    mp.setenv("QA_MODEL_CACHE", str(default_model_dir.parent))
    mp.delenv("QA_MODEL", raising=False)
    from qa.engine import build

    root = tmp_path_factory.mktemp("sidebar")
    corpus = root / "corpus"
    corpus.mkdir()
    for name, text in ARTICLES.items():
        (corpus / name).write_text(text, encoding="utf-8")
    build([corpus], root / "idx", None)
    yield root / "idx"
    mp.undo()


async def test_article_list_keeps_each_title_and_file_name_on_one_line(index, tmp_path,
                                                                      monkeypatch):
    from textual.widgets import OptionList

    from tui.widgets import ArticleSidebar

    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.chdir(index.parent)
    app = make_app(index)
    async with app.run_test(size=(60, 20)) as pilot:
        await wait_ready(pilot)
        await pilot.press("ctrl+b")
        await pilot.pause()
        sidebar = app.chat.query_one(ArticleSidebar)
        listed = sidebar.query_one("#article-list", OptionList)
        assert sidebar.display and listed.size.width > 0
        width = listed.scrollable_content_region.width
        lines = [listed.render_line(y).text.rstrip() for y in range(listed.size.height)]
        lines = [line.strip() for line in lines if line.strip()]
        assert len(lines) == 3 * len(ARTICLES), lines  # no entry took a fourth line
        entries = {lines[i + 2]: lines[i:i + 3] for i in range(0, len(lines), 3)}
        shown = {"bawang\\nPALSU baris sendiri.txt": "Harga bawang merah turun",
                 LONG_NAME: LONG_TITLE}
        for name, title in shown.items():
            [(source, (head, count, _))] = [
                (s, e) for s, e in entries.items() if name.startswith(s.rstrip("…"))]
            assert count.endswith("paragraphs") or count.endswith("paragraph")
            for full, line in ((name, source), (title, head)):
                assert line == full or (line.endswith("…") and full.startswith(line[:-1])
                                        and len(line) >= width - 2), (full, line)
        assert any(line.endswith("…") for line in lines)  # the long name was cut, not wrapped
