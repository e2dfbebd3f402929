"""A conversations store that fails costs the record, never the answer (issue 38, item 4).

Every fault is made for real and met by real `qa` processes (and the chat, through its
pilot): a page of the file overwritten, a file that is no database, a read-only file and a
read-only data folder, a full disk, a write lock held by another process, a row whose JSON is
broken. `qa ask` still prints its answer and says in one line what was not kept and why; a
damaged store is moved aside (named in that line, its bytes intact) and a new one started.

How the faults are made, where it is not plain: root writes through file modes, so a test
that runs as root drops the capability that lets it (CAP_DAC_OVERRIDE) for the `qa` it starts,
and the file modes then bind it as they bind any user (a probe checks the write is refused).
A full disk is a file-size limit (RLIMIT_FSIZE) on the `qa` process, which needs no mount or
privilege: the kernel refuses to grow any file past it, as it would on a full disk (SQLite
then says "disk I/O error" where a full disk makes it say "database or disk is full"; the
latter, SQLITE_FULL, is met in-process through `PRAGMA max_page_count`).
"""
from __future__ import annotations

import ctypes
import json
import os
import resource
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ARTICLE = """Gempa Magnitudo 5,6 Guncang Cianjur
Gempa bermagnitudo 5,6 mengguncang Kabupaten Cianjur, Jawa Barat, pada Senin siang.
Ribuan rumah rusak dan warga mengungsi ke tenda-tenda darurat.
"""
QUESTION = "Berapa magnitudo gempa di Cianjur?"
FOLLOW_UP = "Ke mana warga mengungsi?"
ANSWER_WORDS = "Gempa bermagnitudo 5,6 mengguncang Kabupaten Cianjur"
PR_CAPBSET_DROP, CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH = 24, 1, 2


@pytest.fixture(scope="module")
def index(default_model_dir, tmp_path_factory) -> Path:
    from qa.engine import build

    mp = pytest.MonkeyPatch()
    mp.setenv("QA_MODEL_CACHE", str(default_model_dir.parent))
    mp.delenv("QA_MODEL", raising=False)
    root = tmp_path_factory.mktemp("store-faults")
    corpus = root / "corpus"
    corpus.mkdir()
    (corpus / "gempa.txt").write_text(ARTICLE, encoding="utf-8")
    build([corpus], root / "index", None)
    mp.undo()
    return root / "index"


@pytest.fixture
def env(default_model_dir, tmp_path) -> dict[str, str]:
    """A user of their own per test: the store under test lives in its data dir."""
    out = {k: v for k, v in os.environ.items()
           if not k.startswith("QA_") and k not in ("FORCE_COLOR", "CLICOLOR_FORCE")}
    out.update(QA_MODEL_CACHE=str(default_model_dir.parent), XDG_DATA_HOME=str(tmp_path / "data"),
               HOME=str(tmp_path), NO_COLOR="1", COLUMNS="400", PYTHONPATH=str(ROOT))
    return out


def store_path(env: dict[str, str]) -> Path:
    return Path(env["XDG_DATA_HOME"]) / "qa" / "conversations.sqlite"


def run_qa(args: list[str], env: dict[str, str], preexec=None) -> subprocess.CompletedProcess:
    proc = subprocess.run([sys.executable, "-m", "qa", *args], env=env, capture_output=True,
                          text=True, timeout=300, preexec_fn=preexec)
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc


def ask(index: Path, env, *extra: str, question: str = QUESTION, preexec=None):
    return run_qa(["ask", question, "--index", str(index), *extra], env, preexec)


def problem_lines(proc) -> list[str]:
    """The lines a failing store may cause: every `qa:` line (the line naming the
    conversation and turn of a saved answer is not one)."""
    return [line for line in proc.stderr.splitlines() if line.startswith("qa: ")]


def assert_answered(proc) -> None:
    assert ANSWER_WORDS in proc.stdout, (proc.stdout, proc.stderr)


def conversations_in(path: Path) -> list[tuple[int, int]]:
    """(conversation id, turns) for each conversation, read with a connection of the test's
    (closed at once: an open one would keep SQLite's -wal and -shm files there)."""
    with closing(sqlite3.connect(path)) as db:
        return db.execute("SELECT c.id, count(t.id) FROM conversations c LEFT JOIN turns t "
                          "ON t.conversation_id = c.id GROUP BY c.id ORDER BY c.id").fetchall()


def damage(path: Path) -> bytes:
    """Overwrite every page but the first (the header stays valid, so the damage is met only
    when a table is read or written, as with a bad sector); returns the damaged bytes."""
    with open(path, "r+b") as f:
        size = f.seek(0, 2)
        f.seek(4096)
        f.write(b"\xff" * (size - 4096))
    return path.read_bytes()


def without_root_override():
    """For root, a preexec that drops the capabilities that let it write (and read) through
    file modes from the bounding set, so the `qa` it execs meets the modes as any user
    does; None for any other user, whom the modes bind already."""
    if os.geteuid() != 0:
        return None

    def drop() -> None:
        libc = ctypes.CDLL(None, use_errno=True)
        for cap in (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH):
            if libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0:
                raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")

    return drop


def assert_write_refused(path: Path, preexec) -> None:
    """The fault is real: a process started as `qa` is cannot write there."""
    probe = subprocess.run([sys.executable, "-c", f"open({str(path)!r}, 'ab')"],
                           capture_output=True, text=True, preexec_fn=preexec)
    assert probe.returncode != 0 and "PermissionError" in probe.stderr, probe.stderr


def file_size_limit(limit: int):
    return lambda: resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))


# ---- damaged ---------------------------------------------------------------------------


@pytest.mark.parametrize("fault", ["pages overwritten", "not a database"])
def test_a_damaged_store_is_moved_aside_and_the_question_answered_and_kept(index, env, fault):
    first = ask(index, env)
    assert first.returncode == 0, first.stderr
    path = store_path(env)
    if fault == "pages overwritten":
        damaged = damage(path)
    else:
        damaged = os.urandom(20_000)
        path.write_bytes(damaged)

    proc = ask(index, env)
    assert proc.returncode == 0, proc.stderr
    assert_answered(proc)
    (line,) = problem_lines(proc)
    assert line.startswith(f"qa: {path} is damaged (")
    aside = [p for p in path.parent.iterdir() if p.name.startswith("conversations.sqlite.corrupt-")]
    assert len(aside) == 1 and f"moved aside to {aside[0]};" in line
    assert aside[0].read_bytes() == damaged  # moved, not rewritten
    assert conversations_in(path) == [(1, 1)]  # the question is kept, in a new store

    later = ask(index, env, "-c", question=FOLLOW_UP)  # and the new store is used from then on
    assert later.returncode == 0 and problem_lines(later) == [], later.stderr
    assert conversations_in(path) == [(1, 2)]


def test_follow_up_and_export_on_a_damaged_store(index, env):
    """-c cannot read the conversation it continues: the question is answered on its own,
    kept in the new store, and the exit code says it was not read as asked. `qa export`
    gives one line."""
    assert ask(index, env).returncode == 0
    path = store_path(env)
    damage(path)
    follow = ask(index, env, "-c")
    assert follow.returncode == 1
    assert_answered(follow)
    (line,) = problem_lines(follow)
    assert "is damaged" in line and "moved aside to" in line and line.endswith(
        "the question was read on its own")
    assert conversations_in(path) == [(1, 1)]

    damage(path)
    export = run_qa(["export", "--index", str(index)], env)
    assert export.returncode == 1 and export.stdout == ""
    (line,) = export.stderr.splitlines()
    assert line.startswith(f"qa: {path} is damaged (") and "moved aside to" in line
    assert len(list(path.parent.glob("conversations.sqlite.corrupt-*"))) == 2


# ---- read-only -------------------------------------------------------------------------


@pytest.mark.parametrize("what", ["file", "folder"])
def test_a_read_only_store_costs_the_record_not_the_answer(index, env, what):
    assert ask(index, env).returncode == 0
    path = store_path(env)
    before = conversations_in(path)
    target = path if what == "file" else path.parent
    mode = target.stat().st_mode
    target.chmod(0o444 if what == "file" else 0o555)
    preexec = without_root_override()
    try:
        assert_write_refused(path if what == "file" else path.parent / "new", preexec)
        proc = ask(index, env, preexec=preexec)
        follow = ask(index, env, "-c", preexec=preexec)
    finally:
        target.chmod(mode)
    assert proc.returncode == 0, proc.stderr
    assert_answered(proc)
    assert problem_lines(proc) == [
        f"qa: the conversation was not saved: {path} is read-only "
        "(attempt to write a readonly database)"]
    assert "conversation 1, turn" not in proc.stderr
    assert_answered(follow)
    (line,) = problem_lines(follow)
    if what == "file":  # readable, so the follow-up is read in its conversation
        assert follow.returncode == 0 and "about: " in follow.stderr
    if line.endswith("the question was read on its own"):
        # SQLite (3.45 here) cannot read a WAL database in a folder it cannot write to
        # without the shared-memory file there: the exit code says it was read alone
        assert what == "folder" and follow.returncode == 1
    else:
        assert follow.returncode == 0 and line.startswith("qa: the conversation was not saved")
    assert conversations_in(path) == before


# ---- full disk -------------------------------------------------------------------------


def test_a_full_disk_costs_the_record_not_the_answer(index, env):
    """The store's pages are 64 KiB and the `qa` process may grow no file past 32 KiB (room
    for SQLite's shared memory, not for one page of its log): no write fits."""
    path = store_path(env)
    path.parent.mkdir(parents=True)
    with closing(sqlite3.connect(path)) as db:
        db.execute("PRAGMA page_size = 65536")
        db.execute("PRAGMA journal_mode = WAL")
    assert ask(index, env).returncode == 0
    before = conversations_in(path)
    assert before == [(1, 1)]

    for extra in ((), ("-c",)):
        proc = ask(index, env, *extra, preexec=file_size_limit(32768))
        assert proc.returncode == 0, proc.stderr
        assert_answered(proc)
        (line,) = problem_lines(proc)
        assert line.startswith(f"qa: the conversation was not saved: {path} cannot ")
    assert conversations_in(path) == before


def test_sqlite_full_is_a_store_fault_and_the_store_stays_as_it_was(tmp_path):
    """SQLITE_FULL itself, as a full disk raises it: the write is rolled back (SQLite may
    have done it already) and reported, nothing half-written."""
    from qa.conversation_faults import StoreFault
    from qa.conversations import ConversationStore
    from qa.types import Answer, AnswerPassage, Citation, Hit, Reading

    def answer(text: str) -> Answer:
        hit = Hit(paragraph_id=1, article_id="a", title="T", source="a.txt", paragraph=1,
                  line=1, text=text, score=0.5)
        return Answer(question="Q?", passages=[AnswerPassage(
            rank=1, hit=hit, answer_sentence=text, sentence_start=0, sentence_end=len(text),
            citation=Citation("T", "a.txt", 1, 1))])

    with ConversationStore(tmp_path / "c.sqlite") as store:
        cid = store.start("idx").id
        store.add_turn(cid, "Q?", Reading(), answer("pendek"))
        pages = store.db.execute("PRAGMA page_count").fetchone()[0]
        store.db.execute(f"PRAGMA max_page_count = {pages}")
        with pytest.raises(StoreFault) as fault:
            store.add_turn(cid, "Q2?", Reading(), answer("panjang " * 5000))
        assert "the disk is full (database or disk is full)" in str(fault.value)
        assert not store.db.in_transaction
        assert [t.question for t in store.turns(cid)] == ["Q?"]


# ---- locked ----------------------------------------------------------------------------


def test_a_store_locked_by_another_process_costs_the_record_not_the_answer(index, env):
    """QA_LOCK_TIMEOUT bounds the wait for the store's lock too (1 s here, 30 s unset)."""
    assert ask(index, env).returncode == 0
    path = store_path(env)
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        started = time.monotonic()
        proc = ask(index, {**env, "QA_LOCK_TIMEOUT": "1"}, "-c")
        took = time.monotonic() - started
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert proc.returncode == 0, proc.stderr
    assert "about: " in proc.stderr  # read in its conversation: a lock stops writers only
    assert_answered(proc)
    assert problem_lines(proc) == [
        f"qa: the conversation was not saved: {path} is locked by another process (waited 1 s)"]
    assert took < 30
    assert conversations_in(path) == [(1, 1)]


# ---- malformed rows --------------------------------------------------------------------


def test_a_malformed_turn_is_left_out_of_export_and_context_with_one_line(index, env):
    assert ask(index, env).returncode == 0
    assert ask(index, env, "-c", question=FOLLOW_UP).returncode == 0
    path = store_path(env)
    with closing(sqlite3.connect(path)) as db, db:
        db.execute("UPDATE passages SET citation = '{\"title\": ' WHERE turn_id = "
                   "(SELECT id FROM turns WHERE number = 1)")

    for fmt in ("md", "json"):
        export = run_qa(["export", "1", "--format", fmt], env)
        assert export.returncode == 1
        if fmt == "json":  # the rest is there
            turns = json.loads(export.stdout)["turns"]
            assert [(t["turn"], t["question"]) for t in turns] == [(2, FOLLOW_UP)]
        else:
            assert f"## 2. {FOLLOW_UP}" in export.stdout and "## 1." not in export.stdout
        assert export.stderr.splitlines() == [
            "qa: turn 1 of conversation 1 could not be read (the citation of passage 1 is not "
            "valid JSON); left out of the transcript"]

    with closing(sqlite3.connect(path)) as db, db:  # the last turn too: then -c has nothing to lean on
        db.execute("UPDATE turns SET short_answer = '[1, 2]' WHERE number = 2")
    follow = ask(index, env, "-c")
    assert follow.returncode == 0
    assert_answered(follow)
    (line,) = problem_lines(follow)
    assert line.startswith("qa: turns 1, 2 of conversation 1 could not be read (")
    assert "conversation 1, turn 3" in follow.stderr  # kept all the same
    assert conversations_in(path) == [(1, 3)]


# ---- ids past SQLite's integers (item 8) --------------------------------------------------


def test_conversation_ids_past_sqlite_integers_are_one_line_errors(index, env):
    assert ask(index, env).returncode == 0
    big = "99999999999999999999"
    for args in (["ask", "--cid", big, QUESTION, "--index", str(index)], ["export", big]):
        proc = run_qa(args, env)
        assert proc.returncode == 1 and proc.stdout == ""
        assert proc.stderr.splitlines() == [
            f"qa: no conversation {big} (see `qa export` for the last one)"]


# ---- the chat --------------------------------------------------------------------------


@pytest.fixture
def anyio_backend():
    return "asyncio"


@pytest.mark.anyio
async def test_chat_answers_on_a_damaged_store_and_says_where_it_went(index, env, monkeypatch):
    from test_tui import SIZE, ask as chat_ask, make_app, wait_ready, wait_until
    from tui.widgets.transcript import Notice

    for name in ("XDG_DATA_HOME", "QA_MODEL_CACHE"):
        monkeypatch.setenv(name, env[name])
    monkeypatch.delenv("QA_MODEL", raising=False)
    assert ask(index, env).returncode == 0
    path = store_path(env)
    damaged = damage(path)

    app = make_app(index)
    async with app.run_test(size=SIZE) as pilot:
        await wait_ready(pilot)
        card = await chat_ask(pilot, QUESTION)  # asserts it was answered
        assert ANSWER_WORDS in card.answer.passages[0].hit.text
        await wait_until(pilot, lambda: list(app.chat.query(Notice)), what="the notice")
        (notice,) = [n.text for n in app.chat.query(Notice)]
        (aside,) = path.parent.glob("conversations.sqlite.corrupt-*")
        assert notice.startswith(f"{path} is damaged (") and f"moved aside to {aside}" in notice
        assert aside.read_bytes() == damaged
        await chat_ask(pilot, FOLLOW_UP)  # the new store keeps both turns, in one conversation
        await pilot.pause()
        assert len(list(app.chat.query(Notice))) == 1
    assert conversations_in(path) == [(1, 2)]


@pytest.mark.anyio
async def test_chat_answers_while_another_process_holds_the_store(index, env, monkeypatch):
    from test_tui import SIZE, ask as chat_ask, make_app, wait_ready, wait_until
    from tui.widgets.transcript import Notice

    for name in ("XDG_DATA_HOME", "QA_MODEL_CACHE"):
        monkeypatch.setenv(name, env[name])
    monkeypatch.setenv("QA_LOCK_TIMEOUT", "1")
    monkeypatch.delenv("QA_MODEL", raising=False)
    assert ask(index, env).returncode == 0
    path = store_path(env)

    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN EXCLUSIVE")
    app = make_app(index)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await wait_ready(pilot)
            await chat_ask(pilot, QUESTION)
            await wait_until(pilot, lambda: list(app.chat.query(Notice)), what="the notice")
            (notice,) = [n.text for n in app.chat.query(Notice)]
            assert notice == (f"the conversation was not saved: {path} is locked by another "
                              "process (waited 1 s)")
            holder.execute("ROLLBACK")
            await chat_ask(pilot, FOLLOW_UP)  # the store is tried again, and keeps this one
            await pilot.pause()
            assert len(list(app.chat.query(Notice))) == 1
    finally:
        if holder.in_transaction:
            holder.execute("ROLLBACK")
        holder.close()
    assert conversations_in(path) == [(1, 1), (2, 1)]
