"""What qa does when the machine lets it down: a full disk, a damaged database file, a
read-only mount, a Milvus Lite file held by another process.

Every case ends the same way for the user: one line that names the index and says what to
do, a non-zero exit, no traceback, and the index they had still answering wherever it can.
The faults are real where this machine allows it (a 5 MB tmpfs, a read-only bind mount,
bytes flipped in a real SQLite file, a second process on a real Milvus Lite file); a full
disk is also injected as ENOSPC from the vectors write and as SQLite's own "database or disk
is full", so that path runs everywhere.
"""
from __future__ import annotations

import errno
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from index.storage import MilvusRef, open_store
from index.indexing.lifecycle import add_paths, open_writable, verify
from index.storage.base import DiskFullError, IndexDamagedError, IndexReadOnlyError
from index.storage.faiss.folder import DB_NAME
from index.storage.faiss.store import Store
from tests.test_lifecycle import BANJIR, GEMPA, RATES, write

ROOT = Path(__file__).resolve().parent.parent
QUESTION = "Berapa magnitudo gempa di Cianjur?"


# ---- shared set-up ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def built(embedder, tmp_path_factory) -> Path:
    """A small real index (two Indonesian articles), built once; tests work on copies."""
    base = tmp_path_factory.mktemp("faults")
    corpus = base / "corpus"
    write(corpus / "banjir.txt", BANJIR)
    write(corpus / "gempa.txt", GEMPA)
    with open_writable(base / "idx", embedder) as store:
        add_paths(store, embedder, [corpus])
    return base / "idx"


@pytest.fixture
def index(built, tmp_path) -> Path:
    target = tmp_path / "idx"
    shutil.copytree(built, target)
    return target


@pytest.fixture
def new_articles(tmp_path) -> Path:
    folder = tmp_path / "new"
    write(folder / "rates.txt", RATES)
    for n in range(3):
        write(folder / f"laporan{n}.txt", f"Laporan {n}\n\n" + "\n\n".join(
            f"Paragraf {p} laporan {n}: warga kota {p * n} melaporkan jalan rusak dan lampu "
            f"padam di kelurahan nomor {p + n}." for p in range(8)))
    return folder


@pytest.fixture(scope="module")
def cli_env(default_model_dir, tmp_path_factory):
    home = tmp_path_factory.mktemp("home")
    env = {k: v for k, v in os.environ.items() if not k.startswith("QA_")}
    env.update(QA_MODEL_CACHE=str(default_model_dir.parent), XDG_DATA_HOME=str(home / "data"),
               HOME=str(home), NO_COLOR="1", COLUMNS="200", QA_LOCK_TIMEOUT="5",
               PYTHONPATH=str(ROOT))
    return env


def run_qa(args, env, *, prelude: str = "", timeout: float = 600):
    """`qa ARGS` in a new process; `prelude` is Python run first (to inject a fault)."""
    code = f"{prelude}\nimport sys\nsys.argv = ['qa', *{list(map(str, args))!r}]\n" \
           "from qa.cli import main\nmain()\n"
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                          timeout=timeout)


def one_line_error(proc, *needles: str) -> str:
    """The one error line of a failed command (progress notes such as "Loading the
    embedding model..." may come before it), checked to hold every needle."""
    errors = [line for line in proc.stderr.splitlines() if line.startswith("qa: ")]
    assert proc.returncode != 0, proc.stderr
    assert "Traceback" not in proc.stderr and len(errors) == 1, proc.stderr
    assert proc.stderr.strip().splitlines()[-1] == errors[0], proc.stderr
    for needle in needles:
        assert needle in errors[0], (needle, errors[0])
    return errors[0]


def files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in folder.iterdir()
            if p.name not in ("write.lock", f"{DB_NAME}-shm", f"{DB_NAME}-wal")}


def state(path: Path) -> tuple:
    with Store.open(path) as store:
        return store.counts(), store.generation, [a.id for a in store.articles()]


def mount(*args: str) -> bool:
    """Run mount(8); False where this user or container may not (never an error)."""
    if os.geteuid() != 0 or shutil.which("mount") is None:
        return False
    return subprocess.run(["mount", *args], capture_output=True).returncode == 0


def umount(path: Path) -> None:
    subprocess.run(["umount", str(path)], capture_output=True, check=True)


# ---- 1. a full disk --------------------------------------------------------------------------

def enospc_write(real):
    """index.storage.faiss.vectors.write that fails as a filling disk does, part way through a file (a new
    index's empty file still goes through, so a build gets as far as its vectors)."""
    def write(index, f):
        if index.ntotal == 0:
            return real(index, f)
        f.write(b"x" * 4096)
        raise OSError(errno.ENOSPC, "No space left on device")

    return write


ENOSPC_IN_VECTORS_WRITE = ("import index.storage.faiss.vectors as ann\nfrom tests.test_faults import enospc_write\n"
                           "ann.write = enospc_write(ann.write)")


def test_enospc_while_writing_vectors_rolls_back_and_the_index_still_answers(
        index, embedder, new_articles, monkeypatch):
    before, before_files = state(index), files(index)
    import index.storage.faiss.vectors as ann

    monkeypatch.setattr(ann, "write", enospc_write(ann.write))
    with open_writable(index, embedder) as store:
        with pytest.raises(DiskFullError) as caught:
            add_paths(store, embedder, [new_articles])
        assert str(index) in str(caught.value)
        monkeypatch.undo()
        assert verify(store) == []
    assert state(index) == before
    assert files(index) == before_files  # no half-written or uncommitted vectors file left
    with Store.open(index) as reader:
        qvec = embedder.embed_queries([QUESTION])[0]
        hits = reader.paragraphs([pid for pid, _ in reader.search_dense(qvec, 3)])
        assert hits and hits[0].article_id == "gempa"


def test_sqlite_full_mid_write_rolls_back_and_the_index_still_answers(
        index, embedder, new_articles):
    """SQLite's own SQLITE_FULL ("database or disk is full"), from a page limit that stops
    the database growing exactly as a full disk does."""
    before, before_files = state(index), files(index)
    with open_writable(index, embedder) as store:
        pages = store._conn().execute("PRAGMA page_count").fetchone()[0]
        store._conn().execute(f"PRAGMA max_page_count = {pages}")
        with pytest.raises(DiskFullError, match="disk full"):
            add_paths(store, embedder, [new_articles])
        assert verify(store) == []
    assert state(index) == before
    assert files(index) == before_files


def _fill(folder: Path, leave: int) -> None:
    """Fill the file system under `folder` until at most `leave` bytes are free."""
    with open(folder / "filler", "wb") as f:
        while shutil.disk_usage(folder).free > leave:
            try:
                f.write(b"\0" * min(65536, max(4096, shutil.disk_usage(folder).free - leave)))
                f.flush()
            except OSError as exc:
                assert exc.errno == errno.ENOSPC
                break


def test_cli_add_on_a_full_disk_says_so_and_every_reader_still_works(
        built, tmp_path, new_articles, cli_env):
    """On a 5 MB tmpfs where this machine allows mounting one; elsewhere the same commands
    with ENOSPC injected into the vectors write (then the readers' disk is not full)."""
    disk = tmp_path / "disk"
    disk.mkdir()
    real = mount("-t", "tmpfs", "-o", "size=5m", "tmpfs", str(disk))
    try:
        index = disk / "idx"
        shutil.copytree(built, index)
        before_files = files(index)
        prelude = ""
        if real:
            _fill(disk, leave=24 * 1024)  # room for the WAL to start, not for new vectors
        else:
            prelude = ENOSPC_IN_VECTORS_WRITE
        added = run_qa(["index", "add", "--index", index, new_articles], cli_env, prelude=prelude)
        one_line_error(added, "disk full", str(index))
        assert files(index) == before_files
        if real:
            _fill(disk, leave=0)  # readers too must cope with no room for SQLite's -shm file
        status = run_qa(["index", "status", "--index", index, "--json"], cli_env)
        assert status.returncode == 0 and '"articles": 2' in status.stdout, status.stderr
        listed = run_qa(["index", "list", "--index", index], cli_env)
        assert listed.returncode == 0 and "gempa" in listed.stdout, listed.stderr
        checked = run_qa(["index", "verify", "--index", index], cli_env)
        assert checked.returncode == 0 and "ok: 2 articles" in checked.stderr, checked.stderr
        asked = run_qa(["ask", QUESTION, "--index", index, "--json"], cli_env)
        assert asked.returncode == 0 and '"article_id": "gempa"' in asked.stdout, asked.stderr
        if real:
            removed = run_qa(["index", "remove", "--index", index, "banjir"], cli_env)
            one_line_error(removed, "disk full", str(index))
        assert files(index) == before_files
    finally:
        if real:
            umount(disk)


def test_a_build_that_runs_out_of_space_leaves_the_old_index_and_no_staging_folder(
        built, tmp_path, new_articles, cli_env):
    """On a nearly full 5 MB tmpfs where mounting one is allowed (the new index's database
    then cannot even be created), else with ENOSPC injected into its vectors write."""
    disk = tmp_path / "disk"
    disk.mkdir()
    real = mount("-t", "tmpfs", "-o", "size=5m", "tmpfs", str(disk))
    try:
        index = disk / "idx"
        shutil.copytree(built, index)
        before = state(index)
        if real:
            _fill(disk, leave=24 * 1024)
        proc = run_qa(["index", "build", "--index", index, new_articles], cli_env,
                      prelude="" if real else ENOSPC_IN_VECTORS_WRITE)
        one_line_error(proc, "disk full")
        assert state(index) == before
        assert sorted(p.name for p in disk.iterdir() if p.name.startswith(".")) == []
    finally:
        if real:
            umount(disk)


# ---- 2 and 5. a damaged database or manifest -------------------------------------------------


def _page_of(db_path: Path, table: str) -> tuple[int, int]:
    """(page size, root page) of `table`, read before the damage is done."""
    db = sqlite3.connect(db_path)
    try:
        size = db.execute("PRAGMA page_size").fetchone()[0]
        root = db.execute("SELECT rootpage FROM sqlite_master WHERE name = ?", (table,)).fetchone()[0]
    finally:
        db.close()
    return size, root


def _flip(db_path: Path, page: int, size: int, start: int = 0, length: int = 64) -> None:
    data = bytearray(db_path.read_bytes())
    offset = (page - 1) * size + start
    for i in range(offset, offset + length):
        data[i] ^= 0x5A
    db_path.write_bytes(bytes(data))


READERS = [["ask", QUESTION], ["index", "status"], ["index", "list"], ["index", "verify"]]


def _all_say_damaged(index: Path, env) -> list[str]:
    lines = []
    for args in READERS:
        proc = run_qa([*args, "--index", index], env)
        line = one_line_error(proc, f"the index at {index} is damaged")
        assert "no index" not in line
        lines.append(line)
    return lines


def test_a_corrupt_page_every_command_reads_is_one_line_on_every_command(index, cli_env):
    db_path = index / DB_NAME
    size, manifest_page = _page_of(db_path, "manifest")
    _flip(db_path, manifest_page, size)
    damaged = db_path.read_bytes()
    for line in _all_say_damaged(index, cli_env):
        # The stored text may be what is damaged, so re-embedding it is not offered.
        assert "restore it from a backup" in line and "qa index build" in line
    assert db_path.read_bytes() == damaged  # nothing tried to repair or replace it


def test_a_corrupt_paragraph_page_is_reported_where_it_is_read(index, cli_env):
    db_path = index / DB_NAME
    size, root = _page_of(db_path, "paragraphs")
    _flip(db_path, root, size)
    with Store.open(index) as store:  # the manifest is intact, so opening works
        with pytest.raises(IndexDamagedError, match="malformed"):
            store.verify()
        with pytest.raises(IndexDamagedError):
            store.summary()
    for args in (["index", "verify"], ["index", "status"]):
        one_line_error(run_qa([*args, "--index", index], cli_env), "is damaged")
    listed = run_qa(["index", "list", "--index", index], cli_env)  # reads other pages only
    assert "Traceback" not in listed.stderr


def test_a_truncated_database_is_damaged_not_missing(index, cli_env):
    db_path = index / DB_NAME
    os.truncate(db_path, db_path.stat().st_size // 2)
    _all_say_damaged(index, cli_env)


def test_a_damaged_default_index_is_not_built_over(index):
    """open_engine builds the default index when there is none; a damaged one is not none."""
    from qa.engine import open_engine

    db_path = index / DB_NAME
    os.truncate(db_path, db_path.stat().st_size // 2)
    damaged = db_path.read_bytes()
    with pytest.raises(IndexDamagedError):
        open_engine(index, None, build_default=True)
    assert db_path.read_bytes() == damaged


def test_a_missing_manifest_row_is_damage_not_an_empty_model_name(index, cli_env):
    db = sqlite3.connect(index / DB_NAME)
    db.execute("DELETE FROM manifest WHERE key = 'model'")
    db.commit()
    db.close()
    with pytest.raises(IndexDamagedError, match="manifest lacks model"):
        Store.open(index)
    line = one_line_error(run_qa(["ask", QUESTION, "--index", index], cli_env),
                          "is damaged", "manifest lacks model")
    assert "--model ''" not in line


def test_a_missing_vectors_file_is_damage_that_a_rebuild_from_the_stored_text_repairs(
        index, embedder):
    from index.errors import UserError
    from qa.engine import error_line

    for vectors in index.glob("vectors-*.faiss"):
        vectors.unlink()
    with Store.open(index) as store:
        with pytest.raises(IndexDamagedError) as caught:
            store.search_dense(embedder.embed_queries([QUESTION])[0], 3)
    assert caught.value.text_intact
    assert f"`qa index rebuild --index {index}`" in error_line(caught.value)
    assert error_line(UserError("plain")) == "plain"


# ---- 3. a read-only index ---------------------------------------------------------------------


@pytest.fixture
def read_only_index(built, tmp_path):
    """The index behind a read-only bind mount when this machine allows one (root may write
    through any permission bits, so only a mount stops it); otherwise, for a user who is
    not root, a folder and files without write permission."""
    source, view = tmp_path / "src", tmp_path / "ro"
    shutil.copytree(built, source / "idx")
    view.mkdir()
    if mount("--bind", str(source), str(view)):
        if mount("-o", "remount,ro,bind", str(view)):
            yield view / "idx"
            umount(view)
            return
        umount(view)
    if os.geteuid() == 0:
        pytest.skip("as root only a read-only mount stops writes, and mount is not permitted "
                    "here")
    folder = source / "idx"
    for path in folder.iterdir():
        path.chmod(0o444)
    folder.chmod(0o555)
    yield folder
    folder.chmod(0o755)


def test_readers_answer_from_a_read_only_index_and_writers_get_one_line(
        read_only_index, cli_env, embedder):
    index = read_only_index
    assert not os.access(index, os.W_OK)
    before = sorted(p.name for p in index.iterdir())
    with Store.open(index) as store:
        assert store.counts() == (2, 5)
        qvec = embedder.embed_queries([QUESTION])[0]
        assert store.paragraphs([store.search_dense(qvec, 1)[0][0]])[0].article_id == "gempa"
        assert verify(store) == []
    with pytest.raises(IndexReadOnlyError, match="read-only"):
        Store.open(index, writable=True)
    asked = run_qa(["ask", QUESTION, "--index", index, "--json"], cli_env)
    assert asked.returncode == 0 and '"article_id": "gempa"' in asked.stdout, asked.stderr
    status = run_qa(["index", "status", "--index", index, "--json"], cli_env)
    assert status.returncode == 0 and '"paragraphs": 5' in status.stdout, status.stderr
    listed = run_qa(["index", "list", "--index", index], cli_env)
    assert listed.returncode == 0 and "banjir" in listed.stdout, listed.stderr
    checked = run_qa(["index", "verify", "--index", index], cli_env)
    assert checked.returncode == 0 and "ok: 2 articles" in checked.stderr, checked.stderr
    removed = run_qa(["index", "remove", "--index", index, "banjir"], cli_env)
    one_line_error(removed, f"the index at {index} is read-only")
    assert sorted(p.name for p in index.iterdir()) == before  # no lock file, no -wal/-shm


# ---- 4. QA_LOCK_TIMEOUT on Milvus Lite --------------------------------------------------------


def test_ask_on_a_busy_milvus_lite_file_waits_qa_lock_timeout(embedder, tmp_path, cli_env):
    """Milvus Lite lets one process open a file at a time; a second `qa ask` waits for it as
    long as QA_LOCK_TIMEOUT says, not the 30 s default (and not that twice)."""
    ref = MilvusRef.parse(str(tmp_path / "news.db"), "qa_faults")
    write(tmp_path / "corpus" / "gempa.txt", GEMPA)
    with open_writable(ref, embedder) as store:
        add_paths(store, embedder, [tmp_path / "corpus"])
    env = {**cli_env, "QA_BACKEND": "milvus", "QA_URI": ref.uri, "QA_COLLECTION": ref.collection,
           "QA_LOCK_TIMEOUT": "3"}
    with open_store(ref):  # this process holds the file
        started = time.monotonic()
        asked = run_qa(["ask", QUESTION], env)
        took = time.monotonic() - started
    one_line_error(asked, "gave up after waiting 3s", ref.uri)
    # Loose: well under the 30 s default it used to wait, whatever the machine's load.
    assert took < 25, took
