"""The chat follows its index: a change another process commits shows up (counts, article
list, a quiet line) and is answered from; Ctrl+R re-syncs with progress on the status line
while questions are still answered. Real model, real FAISS and Milvus Lite, Textual's pilot.

A re-sync is held at its first progress report by a test hook on the engine worker's
`progress` (a threading.Event), never by sleeping, so "answered during the re-sync" holds
however fast or slow the machine is.
"""
from __future__ import annotations

import threading
from pathlib import Path

import anyio
import pytest

from test_tui import SIZE, TIMEOUT, ask, make_app, wait_until, wait_ready, widget_text

pytestmark = pytest.mark.anyio

BRIDGE = """Jembatan Baru Dibuka di Kota Tepian Sungai
Pemerintah kota membuka jembatan baru di atas sungai pada hari Senin pagi.
Wali kota Siti Rahma meresmikan jembatan itu bersama warga.
Pembangunan jembatan berlangsung selama dua tahun dan menelan biaya sekitar 40 miliar rupiah.
"""
QUAKE = """Gempa Magnitudo 5,6 Guncang Cianjur
Gempa bermagnitudo 5,6 mengguncang Kabupaten Cianjur, Jawa Barat, pada Senin siang.
Badan Meteorologi, Klimatologi, dan Geofisika menyebut pusat gempa berada di darat pada kedalaman 10 kilometer.
Ribuan rumah rusak dan warga mengungsi ke tenda-tenda darurat.
"""
FLOOD = """Banjir Rendam Ratusan Rumah di Jakarta Utara
Banjir merendam ratusan rumah di Jakarta Utara pada Selasa pagi setelah hujan deras semalaman.
Petugas mengevakuasi warga ke sekolah dan masjid terdekat.
"""
BRIDGE_QUESTION = "Siapa yang meresmikan jembatan baru?"
QUAKE_QUESTION = "Berapa magnitudo gempa yang mengguncang Cianjur?"


@pytest.fixture
def anyio_backend():
    return "asyncio"


@pytest.fixture
def env(default_model_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("QA_MODEL_CACHE", str(default_model_dir.parent))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.delenv("QA_MODEL", raising=False)
    monkeypatch.delenv("QA_INDEX", raising=False)
    monkeypatch.chdir(tmp_path)
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "jembatan.txt").write_text(BRIDGE, encoding="utf-8")
    return {"root": tmp_path, "corpus": corpus}


def index_folder(index_ref, embedder, corpus: Path) -> None:
    """Index `corpus` as `qa index sync` would (the test's own store handle)."""
    from index.indexing.lifecycle import open_writable, sync_folder

    with open_writable(index_ref, embedder) as store:
        sync_folder(store, embedder, corpus)


def notices(app) -> list[str]:
    from tui.widgets import Notice

    return [n.text for n in app.chat.query(Notice)]


def sidebar_titles(app) -> list[str]:
    return [a.title for a in app.chat.sidebar.articles]


def hold_first_progress(app, stage: str):
    """Make the re-sync wait, on its own thread, at its first `stage` report until the test
    sets the returned `release` (the hook is the worker's progress callback)."""
    reached, release = threading.Event(), threading.Event()
    report = app.engine.progress

    def progress(name: str, done: int, total: int) -> None:
        report(name, done, total)
        if name == stage and not reached.is_set():
            reached.set()
            release.wait(TIMEOUT)

    app.engine.progress = progress
    return reached, release


def record_states(app) -> list[str]:
    status = app.chat.status
    seen: list[str] = []
    original = status.set_state

    def spy(text, kind="busy"):
        seen.append(text)
        original(text, kind)

    status.set_state = spy
    return seen


# ---- what changed, as the library compares it ------------------------------------------


def test_compare_names_added_updated_and_removed():
    from index.storage.base import StoredArticle
    from qa.index_changes import IndexChange, compare

    def art(aid: str, digest: str = "h") -> StoredArticle:
        return StoredArticle(aid, f"T {aid}", f"/c/{aid}.txt", {}, digest, "t", 3)

    change = compare([art("a"), art("b"), art("c")], [art("a"), art("b", "h2"), art("d"), art("e")])
    assert (change.added, change.updated, change.removed) == (["d", "e"], ["b"], ["c"])
    assert change.line() == "2 articles added, 1 updated, 1 removed"
    assert compare([art("a")], [art("a"), art("b")]).line() == "1 article added"
    assert compare([art("a"), art("b")], [art("b")]).line() == "1 article removed"
    assert not IndexChange() and IndexChange().line() == ""


def test_time_left_needs_a_few_seconds_of_rate():
    from tui.widgets.status_bar import time_left

    assert time_left(10, 90, 1.0) == ""  # too early to trust the rate
    assert time_left(10, 90, 4.0) == "~36 s left"
    assert time_left(10, 900, 4.0) == "~6 min left"
    assert time_left(0, 90, 10.0) == ""


# ---- another process writes while the chat is open ---------------------------------------


async def test_outside_add_and_remove_show_without_a_restart(env, embedder):
    """`qa index add` elsewhere (here: the test's own store handle, on another thread):
    within a polling wait the counts, the sidebar and a quiet transcript line show it (two
    adds in a row: one line), the question box keeps the focus, and the next question finds
    the new article."""
    from index.indexing.lifecycle import add_paths, open_writable, remove

    index = env["root"] / "index"
    index_folder(index, embedder, env["corpus"])
    quake = env["root"] / "elsewhere" / "gempa.txt"
    quake.parent.mkdir()
    quake.write_text(QUAKE, encoding="utf-8")
    flood = quake.parent / "banjir.txt"
    flood.write_text(FLOOD, encoding="utf-8")

    def add(path: Path) -> None:
        with open_writable(index, embedder) as store:
            add_paths(store, embedder, [path])

    def drop() -> None:
        with open_writable(index, embedder) as store:
            remove(store, [str(quake)])

    app = make_app(index)
    async with app.run_test(size=SIZE) as pilot:
        await wait_ready(pilot)
        status = app.chat.status
        assert "1 article," in status.info_text
        focused = app.focused
        await anyio.to_thread.run_sync(add, quake)
        await wait_until(pilot, lambda: "2 articles," in status.info_text, what="new counts")
        await wait_until(pilot, lambda: "Index updated: 1 article added" in notices(app),
                         what="the transcript line")
        assert "Gempa Magnitudo 5,6 Guncang Cianjur" in sidebar_titles(app)
        assert app.focused is focused and app.screen is app.chat  # no modal, no focus steal
        await anyio.to_thread.run_sync(add, flood)
        await wait_until(pilot, lambda: "3 articles," in status.info_text, what="new counts")
        await wait_until(pilot, lambda: notices(app) == ["Index updated: 2 articles added"],
                         what="one line for both adds")
        card = await ask(pilot, QUAKE_QUESTION)
        assert Path(card.answer.passages[0].hit.source).name == "gempa.txt"

        await anyio.to_thread.run_sync(drop)
        await wait_until(pilot, lambda: "Index updated: 1 article removed" in notices(app),
                         what="the removal line")
        assert notices(app) == ["Index updated: 2 articles added", "Index updated: 1 article removed"]
        assert "2 articles," in status.info_text
        assert "Gempa Magnitudo 5,6 Guncang Cianjur" not in sidebar_titles(app)


# ---- Ctrl+R ----------------------------------------------------------------------------


async def _resync_answers_meanwhile(pilot, app, corpus: Path) -> None:
    """Ctrl+R with a new file in the corpus, held at its first embedding report: a question
    is answered meanwhile, a second Ctrl+R says one is running; released, the report line
    comes and the new article is answered from."""
    seen = record_states(app)
    reached, release = hold_first_progress(app, "embed")
    (corpus / "gempa.txt").write_text(QUAKE, encoding="utf-8")
    try:
        await pilot.press("ctrl+r")
        await wait_until(pilot, reached.is_set, what="the re-sync to reach embedding")
        assert app.chat.syncing
        await wait_until(pilot, lambda: app.chat.status.state.startswith("Re-syncing: embedding"),
                         what="the embedding stage on the status line")
        card = await ask(pilot, BRIDGE_QUESTION)
        assert Path(card.answer.passages[0].hit.source).name == "jembatan.txt"
        assert app.chat.syncing  # answered while the re-sync waits on its thread
        await pilot.press("ctrl+r")
        await pilot.pause()
        assert any("already running" in str(n.message) for n in app._notifications)
    finally:
        release.set()
    await wait_until(pilot, lambda: not app.chat.syncing, what="the re-sync")
    await wait_until(pilot, lambda: any(n.startswith("Re-synced:") for n in notices(app)),
                     what="the report line")
    report = next(n for n in notices(app) if n.startswith("Re-synced:"))
    assert "1 added, 0 updated, 0 removed, 1 unchanged" in report, report
    assert not any(n.startswith("Index updated") for n in notices(app))  # the report says it
    stages = " | ".join(seen)
    for shown in ("Re-syncing: reading", "Re-syncing: embedding 0/", "Re-syncing: loading the model",
                  "Re-syncing: saving 1/1"):
        assert shown in stages, stages
    await wait_until(pilot, lambda: "2 articles," in app.chat.status.info_text, what="new counts")
    assert len(app.chat.sidebar.articles) == 2
    assert app.chat.status.state == "Ready"
    card = await ask(pilot, QUAKE_QUESTION)
    assert Path(card.answer.passages[0].hit.source).name == "gempa.txt"


async def test_ctrl_r_shows_progress_and_answers_meanwhile(env, embedder):
    """No --corpus: the re-sync reads the folder the index recorded when it was synced."""
    index = env["root"] / "index"
    index_folder(index, embedder, env["corpus"])
    app = make_app(index)
    async with app.run_test(size=SIZE) as pilot:
        await wait_ready(pilot)
        await _resync_answers_meanwhile(pilot, app, env["corpus"])
        assert app.engine._engine.embedder._runner is None  # the passage runner was let go


async def test_ctrl_r_on_milvus_lite_answers_meanwhile(env, embedder):
    """The re-sync's client and the engine's share the process's embedded Milvus Lite
    (and --corpus names the folder explicitly)."""
    from index.storage.base import MilvusRef

    ref = MilvusRef.parse(str(env["root"] / "news.db"), "chat_sync")
    index_folder(ref, embedder, env["corpus"])
    app = make_app(ref, corpus=env["corpus"])
    async with app.run_test(size=SIZE) as pilot:
        await wait_ready(pilot)
        await _resync_answers_meanwhile(pilot, app, env["corpus"])


async def test_ctrl_r_queues_questions_when_the_model_cannot_be_shared(env, embedder,
                                                                       monkeypatch):
    """An index whose model has no ONNX export answers with the sentence-transformers model
    that also indexes: the re-sync runs in the queue, and the chat says questions wait.
    (Only the default model has an export, and no other can be fetched here, so the
    engine's answer to "may it run beside" is replaced.)"""
    import qa.resync

    monkeypatch.setattr(qa.resync, "runs_beside_answers", lambda engine: False)
    index = env["root"] / "index"
    index_folder(index, embedder, env["corpus"])
    app = make_app(index, corpus=env["corpus"])
    async with app.run_test(size=SIZE) as pilot:
        await wait_ready(pilot)
        reached, release = hold_first_progress(app, "read")
        (env["corpus"] / "gempa.txt").write_text(QUAKE, encoding="utf-8")
        try:
            await pilot.press("ctrl+r")
            await wait_until(pilot, reached.is_set, what="the re-sync")
            await wait_until(pilot, lambda: any(n.startswith("Questions wait") for n in notices(app)),
                             what="the line saying questions wait")
            box = app.chat.question_input
            box.value = BRIDGE_QUESTION
            await pilot.press("enter")
            card = app.chat.cards[-1]
            await pilot.pause()
            assert card.state == "waiting"
            assert "Waiting for the re-sync to finish" in widget_text(card.status)
        finally:
            release.set()
        await wait_until(pilot, lambda: card.state == "answered", what="the queued answer")
        assert not app.chat.syncing
        assert any(n.startswith("Re-synced: 1 added") for n in notices(app))


async def test_resync_without_recorded_sources_says_how_in_one_line(env, embedder):
    """An index that follows nothing (an older qa's): one error line saying what to do, no
    model loaded, the index still answers."""
    from index.indexing.lifecycle import open_writable

    index = env["root"] / "index"
    index_folder(index, embedder, env["corpus"])
    with open_writable(index, embedder) as store:
        store.forget_sources([s.path for s in store.sources()])
    app = make_app(index)
    async with app.run_test(size=SIZE) as pilot:
        await wait_ready(pilot)
        seen = record_states(app)
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: any(n.startswith("Re-sync failed") for n in notices(app)),
                         what="the refusal")
        (line,) = [n for n in notices(app) if n.startswith("Re-sync failed")]
        assert "qa index sync DIR" in line and "qa chat --corpus DIR" in line, line
        assert "\n" not in line
        assert not any("loading the model" in s for s in seen), seen
        assert app.chat.status.state == "Ready"
        card = await ask(pilot, BRIDGE_QUESTION)
        assert card.passages


async def test_resync_keeps_the_articles_of_a_followed_folder_that_is_gone(env, embedder):
    """A followed folder that vanished (an unmounted drive) is named in the report line and
    its article stays; nothing is embedded, so the model never loads."""
    more = env["root"] / "more"
    more.mkdir()
    (more / "gempa.txt").write_text(QUAKE, encoding="utf-8")
    index = env["root"] / "index"
    index_folder(index, embedder, env["corpus"])
    index_folder(index, embedder, more)
    more.rename(env["root"] / "unmounted")
    app = make_app(index)
    async with app.run_test(size=SIZE) as pilot:
        await wait_ready(pilot)
        seen = record_states(app)
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: any(n.startswith("Re-synced") for n in notices(app)),
                         what="the report")
        (line,) = [n for n in notices(app) if n.startswith("Re-synced")]
        assert "1 followed folder or file gone" in line and str(more) in line, line
        assert "qa index sync --prune" in line
        assert "2 articles," in app.chat.status.info_text
        assert not any("loading the model" in s for s in seen), seen
