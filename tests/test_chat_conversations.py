"""`qa chat` holding conversations: follow-ups read in context, every turn stored, a new chat
with Ctrl+L, --resume, Ctrl+O and Ctrl+E. Real model, real indexes, Textual's pilot; every
test has its own data dir, so no conversation leaks between tests or into the user's own."""
from __future__ import annotations

from pathlib import Path

import pytest

from test_tui import QUESTION_ID, SIZE, ask, make_app, wait_until, wait_ready, widget_text

pytestmark = pytest.mark.anyio

# Three short articles on different topics, for topic changes.
ARTICLES = {
    "jembatan.txt": """Jembatan Baru Dibuka di Kota Tepian Sungai
Pemerintah kota membuka jembatan baru di atas sungai pada hari Senin pagi.
Wali kota Siti Rahma meresmikan jembatan itu bersama warga.
Pembangunan jembatan berlangsung selama dua tahun dan menelan biaya sekitar 40 miliar rupiah.
Dinas perhubungan akan menambah rute bus yang melintasi jembatan mulai bulan depan.
""",
    "sepakbola.txt": """Persija Kalahkan Persib di Stadion Gelora Bung Karno
Persija Jakarta menang 2-1 atas Persib Bandung dalam laga Liga 1 pada Sabtu malam.
Gol kemenangan Persija dicetak oleh penyerang Marko Simic pada menit ke-88.
Sekitar 60 ribu penonton memadati Stadion Gelora Bung Karno untuk menyaksikan laga itu.
""",
    "gempa.txt": """Gempa Magnitudo 5,6 Guncang Cianjur
Gempa bermagnitudo 5,6 mengguncang Kabupaten Cianjur, Jawa Barat, pada Senin siang.
Badan Meteorologi, Klimatologi, dan Geofisika menyebut pusat gempa berada di darat pada kedalaman 10 kilometer.
Ribuan rumah rusak dan warga mengungsi ke tenda-tenda darurat.
""",
}

HOSTILE_TITLE = "Banjir [bold red]Jakarta[/] [link=file:///etc/passwd]y[/] \x1b[2J"
HOSTILE_ARTICLE = (HOSTILE_TITLE + "\n"
                   "Banjir besar melanda Jakarta Utara pada hari Senin setelah hujan deras.\n"
                   "Petugas mengevakuasi ribuan warga ke sekolah dan masjid terdekat.\n"
                   "Air mulai surut pada hari Rabu dan warga kembali ke rumah mereka.\n")


@pytest.fixture
def anyio_backend():
    return "asyncio"


@pytest.fixture(scope="module")
def indexes(default_model_dir, tmp_path_factory):
    """The seeds and the three-article corpus, built once with the library."""
    mp = pytest.MonkeyPatch()
    mp.setenv("QA_MODEL_CACHE", str(default_model_dir.parent))
    mp.delenv("QA_MODEL", raising=False)
    from qa.engine import build

    root = tmp_path_factory.mktemp("chat-conv")
    seeds = root / "seeds-index"
    build(None, seeds, None)
    corpus = root / "three-corpus"
    corpus.mkdir()
    for name, text in ARTICLES.items():
        (corpus / name).write_text(text, encoding="utf-8")
    three = root / "three-index"
    build([corpus], three, None)
    hostile_corpus = root / "hostile-corpus"
    hostile_corpus.mkdir()
    (hostile_corpus / "banjir.txt").write_text(HOSTILE_ARTICLE, encoding="utf-8")
    hostile = root / "hostile-index"
    build([hostile_corpus], hostile, None)
    yield {"seeds": seeds, "three": three, "hostile": hostile}
    mp.undo()


@pytest.fixture
def env(indexes, default_model_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("QA_MODEL_CACHE", str(default_model_dir.parent))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.delenv("QA_MODEL", raising=False)
    monkeypatch.delenv("QA_INDEX", raising=False)
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    return {**indexes, "work": work}


def stored(index_dir: Path):
    """Every conversation of this index as the store has it (a connection of the test's own)."""
    from qa.conversations import index_key, open_default

    with open_default() as store:
        return [store.get(c.id) for c in store.conversations(index_key(index_dir))]


def about_lines(card) -> list[str]:
    return [widget_text(w) for w in card.query(".card-about")]


def article_of(card) -> str:
    return Path(card.answer.passages[0].hit.source).name


async def wait_cards(pilot, n: int) -> None:
    chat = pilot.app.chat
    await wait_until(pilot, lambda: len(chat.cards) == n
                     and all(c.state == "answered" for c in chat.cards), what=f"{n} answered cards")
    await pilot.pause()


# ---- follow-ups in the chat ------------------------------------------------------------


async def test_three_turns_on_the_seed_are_read_in_context_and_stored(env):
    app = make_app(env["seeds"])
    async with app.run_test(size=SIZE) as pilot:
        await wait_ready(pilot)
        first = await ask(pilot, QUESTION_ID)
        second = await ask(pilot, "Kapan itu terjadi?")
        third = await ask(pilot, "Apa yang diminta dari Kim Jong Un?")
        assert about_lines(first) == []  # a first question is read on its own
        (about,) = about_lines(second)
        assert about.startswith("about: ") and "duta besar Rusia" in about
        assert second.about == about
        assert all(c.answer.passages for c in (first, second, third))

    (conv,) = stored(env["seeds"])
    assert [t.number for t in conv.turns] == [1, 2, 3]
    assert [t.question for t in conv.turns] == [QUESTION_ID, "Kapan itu terjadi?",
                                               "Apa yang diminta dari Kim Jong Un?"]
    assert [t.reading.mode for t in conv.turns][:2] == ["first", "follow-up"]
    # what is stored is what was shown
    assert [p.citation for p in conv.turns[1].answer.passages] == \
        [p.citation for p in second.answer.passages]


async def test_follow_up_stays_in_the_article_and_a_new_question_switches(env):
    app = make_app(env["three"])
    async with app.run_test(size=SIZE) as pilot:
        await wait_ready(pilot)
        first = await ask(pilot, "Siapa yang meresmikan jembatan baru?")
        assert article_of(first) == "jembatan.txt"
        follow = await ask(pilot, "Berapa biayanya?")
        assert article_of(follow) == "jembatan.txt"
        assert about_lines(follow) and "Jembatan" in about_lines(follow)[0]
        new = await ask(pilot, "Siapa yang mencetak gol kemenangan Persija melawan Persib?")
        assert article_of(new) == "sepakbola.txt"
        assert about_lines(new) == []  # read on its own: no "about:" line

    (conv,) = stored(env["three"])
    assert [t.reading.mode for t in conv.turns] == ["first", "follow-up", "new topic"]


async def test_ctrl_l_starts_a_new_conversation(env):
    app = make_app(env["three"])
    async with app.run_test(size=SIZE) as pilot:
        await wait_ready(pilot)
        await ask(pilot, "Siapa yang meresmikan jembatan baru?")
        await pilot.press("ctrl+l")
        await pilot.pause()
        assert app.chat.cards == []
        card = await ask(pilot, "Berapa biayanya?")
        assert about_lines(card) == []  # not read as a follow-up of the cleared chat

    old, new = stored(env["three"])
    assert new.id != old.id
    assert [t.number for t in old.turns] == [1] and [t.number for t in new.turns] == [1]
    assert new.turns[0].reading.mode == "first"


# ---- resume, reopen, export ------------------------------------------------------------


async def test_resume_shows_the_turns_and_continues(env):
    app = make_app(env["three"])
    async with app.run_test(size=SIZE) as pilot:
        await wait_ready(pilot)
        await ask(pilot, "Siapa yang meresmikan jembatan baru?")
        await ask(pilot, "Berapa biayanya?")
        await pilot.press("ctrl+q")

    app = make_app(env["three"], resume=True)
    async with app.run_test(size=SIZE) as pilot:
        await wait_ready(pilot)
        await wait_cards(pilot, 2)
        chat = app.chat
        assert [c.question for c in chat.cards] == ["Siapa yang meresmikan jembatan baru?",
                                                   "Berapa biayanya?"]
        assert [widget_text(w) for w in chat.query(".question")] == \
            ["› Siapa yang meresmikan jembatan baru?", "› Berapa biayanya?"]
        assert all(c.passages for c in chat.cards)
        assert about_lines(chat.cards[1])  # the follow-up still says how it was read
        third = await ask(pilot, "Kapan jembatan itu dibuka?")
        assert article_of(third) == "jembatan.txt"
        assert about_lines(third)

    (conv,) = stored(env["three"])
    assert [t.number for t in conv.turns] == [1, 2, 3]
    assert conv.turns[2].reading.mode == "follow-up"


async def test_resume_without_a_conversation_starts_a_new_one(env):
    app = make_app(env["three"], resume=True)
    async with app.run_test(size=SIZE) as pilot:
        await wait_ready(pilot)
        await wait_until(pilot, lambda: app.engine.pending == 0, what="the resume job")
        await pilot.pause()
        assert any("No earlier conversation" in str(n.message) for n in app._notifications)
        await ask(pilot, "Siapa yang meresmikan jembatan baru?")
    (conv,) = stored(env["three"])
    assert len(conv.turns) == 1


async def test_ctrl_o_lists_and_reopens_an_earlier_conversation(env):
    from tui.screens import ChatScreen, ConversationsScreen

    app = make_app(env["three"])
    async with app.run_test(size=SIZE) as pilot:
        await wait_ready(pilot)
        await ask(pilot, "Siapa yang meresmikan jembatan baru?")
        await ask(pilot, "Berapa biayanya?")
        await pilot.press("ctrl+l")
        await ask(pilot, "Berapa skor laga [bold]Persija[/] melawan Persib?")
        await pilot.press("ctrl+o")
        await wait_until(pilot, lambda: isinstance(app.screen, ConversationsScreen),
                         what="the conversations list")
        await pilot.pause()
        listed = app.screen.summaries
        assert [(s.turns, s.first_question) for s in listed] == [
            (1, "Berapa skor laga [bold]Persija[/] melawan Persib?"),  # newest first
            (2, "Siapa yang meresmikan jembatan baru?")]
        from textual.widgets import OptionList

        shown = str(app.screen.query_one(OptionList).get_option_at_index(0).prompt)
        assert "[bold]Persija[/]" in shown  # literal, not markup
        await pilot.press("down", "enter")
        await wait_until(pilot, lambda: isinstance(app.screen, ChatScreen), what="the chat")
        await wait_cards(pilot, 2)
        assert [c.question for c in app.chat.cards] == ["Siapa yang meresmikan jembatan baru?",
                                                       "Berapa biayanya?"]
        card = await ask(pilot, "Kapan jembatan itu dibuka?")
        assert about_lines(card)

    older, newer = stored(env["three"])
    assert len(older.turns) == 3 and len(newer.turns) == 1


async def test_ctrl_e_exports_markdown_without_overwriting(env):
    app = make_app(env["three"])
    async with app.run_test(size=SIZE) as pilot:
        await wait_ready(pilot)
        await pilot.press("ctrl+e")
        await wait_until(pilot, lambda: app.engine.pending == 0, what="the export job")
        await pilot.pause()
        assert any("Nothing to export" in str(n.message) for n in app._notifications)
        assert list(env["work"].iterdir()) == []

        first = await ask(pilot, "Siapa yang meresmikan jembatan baru?")
        second = await ask(pilot, "Berapa biayanya?")
        await pilot.press("ctrl+e")
        await wait_until(pilot, lambda: app.engine.pending == 0, what="the export job")
        await pilot.press("ctrl+e")
        await wait_until(pilot, lambda: app.engine.pending == 0, what="the export job")
        await pilot.pause()
        cid = app.conversations.current
        messages = [str(n.message) for n in app._notifications]

    names = sorted(p.name for p in env["work"].iterdir())
    assert names == [f"qa-conversation-{cid}-2.md", f"qa-conversation-{cid}.md"]
    assert any(f"qa-conversation-{cid}.md" in m for m in messages)
    assert any(f"qa-conversation-{cid}-2.md" in m for m in messages)
    text = (env["work"] / f"qa-conversation-{cid}.md").read_text(encoding="utf-8")
    assert text == (env["work"] / f"qa-conversation-{cid}-2.md").read_text(encoding="utf-8")
    unescaped = text.replace("\\", "")  # Markdown escapes (_, (, [ ...) taken out
    for number, card in enumerate((first, second), start=1):
        assert f"## {number}. {card.question}" in unescaped
        assert card.answer.passages[0].citation.label() in unescaped


def test_qa_chat_resume_flag_reaches_the_app(env, monkeypatch):
    from typer.testing import CliRunner

    import tui.app
    from qa.cli import app

    calls = []
    monkeypatch.setattr(tui.app, "run_chat", lambda *a, **kw: calls.append(kw["resume"]))
    for args in (["chat", "--index", str(env["three"])],
                 ["chat", "--index", str(env["three"]), "--resume"]):
        result = CliRunner().invoke(app, args)
        assert result.exit_code == 0, result.output
    assert calls == [False, True]


async def test_about_line_shows_an_article_title_literally(env):
    app = make_app(env["hostile"])
    async with app.run_test(size=SIZE) as pilot:
        await wait_ready(pilot)
        await ask(pilot, "Di mana banjir besar terjadi?")
        card = await ask(pilot, "Kapan airnya surut?")
        (about,) = about_lines(card)
        assert "[bold red]Jakarta[/]" in about and "[link=file:///etc/passwd]y[/]" in about
        assert "\x1b" not in about  # the escape is shown, never sent to the terminal
        (line,) = card.query(".card-about")
        assert line.visual.spans == [] or all(s.style == "$text-muted" for s in line.visual.spans)
