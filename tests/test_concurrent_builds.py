"""A build holds the index's writer lock from its first file read to its swap: a second build
waits for it (or gives up with one line), and an add started meanwhile either waits and adds
to the index the build leaves, or gives up with one line; none reports an article added that
the swap then drops. Real `qa` processes, the real model, on both backends.

The overlap is made by what the first build shows, not by a clock: once it holds the lock
(FAISS: its `.NAME.building` folder exists; Milvus Lite: the file is held open) it is stopped
(SIGSTOP) while the others start and meet the lock, and continued (SIGCONT) afterwards, so
a fast machine cannot finish the build before they try.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from test_interrupts import _corpus

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def env(default_model_dir, tmp_path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("QA_")}
    env.update(QA_MODEL_CACHE=str(default_model_dir.parent), XDG_DATA_HOME=str(tmp_path / "data"),
               NO_COLOR="1", COLUMNS="200", PYTHONPATH=str(ROOT))
    return env


def _start(env, *args: str, **extra: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "qa", *args], env={**env, **extra},
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def _run(env, *args: str, **extra: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "qa", *args], env={**env, **extra},
                          capture_output=True, text=True, timeout=900)


def _wait_for(condition, proc: subprocess.Popen, what: str) -> None:
    deadline = time.monotonic() + 600
    while not condition():
        assert proc.poll() is None, (what, proc.communicate())
        assert time.monotonic() < deadline, what
        time.sleep(0.02)


def _waiting(env, *args: str, **extra: str) -> subprocess.Popen:
    """A writer started while the first build is stopped, returned once it says it waits
    for the lock; its stderr is read into `proc.stderr_lines` meanwhile."""
    import threading

    proc = _start(env, *args, **extra)
    proc.stderr_lines = []
    threading.Thread(target=lambda: proc.stderr_lines.extend(proc.stderr), daemon=True).start()
    _wait_for(lambda: any("waiting for another qa writer" in line for line in proc.stderr_lines),
              proc, "the writer waiting for the lock")
    return proc


def _finish(proc: subprocess.Popen) -> tuple[str, str]:
    """stdout and all of stderr of a `_waiting` writer once it ends."""
    out = proc.stdout.read()
    proc.wait(timeout=900)
    time.sleep(0.1)  # the reader thread takes the last lines
    return out, "".join(proc.stderr_lines)


def _done(proc: subprocess.Popen) -> subprocess.CompletedProcess:
    return subprocess.CompletedProcess(proc.args, proc.returncode, proc.stdout_text,
                                       proc.stderr_text)


def _one_error(proc, *needles: str) -> None:
    """Exit 1, no traceback, and exactly one `qa:` line (a "waiting for ..." note may come
    first), holding the needles."""
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    errors = [line for line in proc.stderr.splitlines() if line.startswith("qa: ")]
    assert len(errors) == 1 and proc.stderr.strip().splitlines()[-1] == errors[0], proc.stderr
    for needle in needles:
        assert needle in errors[0], (needle, errors[0])


def _articles(env, *where: str) -> set[str]:
    listed = _run(env, "index", "list", "--json", *where)
    assert listed.returncode == 0, listed.stderr
    return {a["id"] for a in json.loads(listed.stdout)}


def _verified(env, *where: str) -> str:
    verify = _run(env, "index", "verify", *where)
    assert verify.returncode == 0, verify.stdout + verify.stderr
    return verify.stderr


def _extra(folder: Path, name: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.txt"
    path.write_text(f"Artikel {name}\n\nGempa kecil terasa di desa nelayan {name} pada pagi "
                    "hari, warga sempat keluar rumah.\n", encoding="utf-8")
    return path


def test_two_builds_and_adds_during_a_build_on_faiss(env, tmp_path):
    big = _corpus(tmp_path / "big", 120)
    small = _corpus(tmp_path / "small", 3, seed=2)
    index = tmp_path / "idx"
    where = ("--index", str(index))
    old = _run(env, "index", "build", str(small), *where)  # an index the builds replace
    assert old.returncode == 0, old.stderr
    staging = tmp_path / ".idx.building"
    first = _start(env, "index", "build", str(big), *where)
    _wait_for(staging.exists, first, "the first build's staging folder")
    os.kill(first.pid, signal.SIGSTOP)

    # Started while it builds: a second build and an add that may wait 1 s give up with one
    # line and claim nothing; an add that may wait waits for the build, then adds to the
    # index the build left.
    refused = _start(env, "index", "build", str(small), *where, QA_LOCK_TIMEOUT="1")
    gives_up = _start(env, "index", "add", str(_extra(tmp_path / "x1", "menyerah")), "--json",
                      *where, QA_LOCK_TIMEOUT="1")
    for proc in (refused, gives_up):
        proc.stdout_text, proc.stderr_text = proc.communicate(timeout=900)
        _one_error(_done(proc), "another qa process is writing to the index")
        assert proc.stdout_text == ""
    waiting = _waiting(env, "index", "add", str(_extra(tmp_path / "x2", "menunggu")), "--json",
                       *where, QA_LOCK_TIMEOUT="600")
    os.kill(first.pid, signal.SIGCONT)
    _, err = first.communicate(timeout=900)
    assert first.returncode == 0, err
    out, err = _finish(waiting)
    assert waiting.returncode == 0, err
    assert json.loads(out)["added"] == 1
    ids = _articles(env, *where)
    assert "menunggu" in ids and "menyerah" not in ids and len(ids) == 121
    assert "ok: 121 articles" in _verified(env, *where)
    assert not staging.exists()

    # A second build that may wait runs after the first, whole: the index is its own.
    first = _start(env, "index", "build", str(big), *where)
    _wait_for(staging.exists, first, "the first build's staging folder")
    os.kill(first.pid, signal.SIGSTOP)
    second = _waiting(env, "index", "build", str(small), *where, QA_LOCK_TIMEOUT="600")
    os.kill(first.pid, signal.SIGCONT)
    _, err = first.communicate(timeout=900)
    assert first.returncode == 0, err
    _, err = _finish(second)
    assert second.returncode == 0, err
    assert _articles(env, *where) == {f"berita_{i:03d}" for i in range(3)}
    assert "ok: 3 articles" in _verified(env, *where)


def test_a_first_build_blocks_a_create_and_a_failed_one_leaves_nothing(env, tmp_path):
    """No index yet: an add that would create it waits for the build, then adds to what the
    build made. A build with nothing to index leaves no folder behind."""
    big = _corpus(tmp_path / "big", 120)
    index = tmp_path / "new"
    where = ("--index", str(index))
    first = _start(env, "index", "build", str(big), *where)
    _wait_for((tmp_path / ".new.building").exists, first, "the staging folder")
    os.kill(first.pid, signal.SIGSTOP)
    add = _waiting(env, "index", "add", str(_extra(tmp_path / "x", "tambahan")), "--json",
                   *where, QA_LOCK_TIMEOUT="600")
    os.kill(first.pid, signal.SIGCONT)
    _, err = first.communicate(timeout=900)
    assert first.returncode == 0, err
    out, err = _finish(add)
    assert add.returncode == 0, err
    assert json.loads(out)["added"] == 1
    assert len(_articles(env, *where)) == 121
    _verified(env, *where)

    empty = tmp_path / "empty-corpus"
    empty.mkdir()
    failed = _run(env, "index", "build", str(empty), "--index", str(tmp_path / "never"))
    _one_error(failed, "nothing to index")
    assert not os.path.lexists(tmp_path / "never")


def test_two_builds_and_an_add_during_a_build_on_milvus_lite(env, tmp_path):
    pytest.importorskip("milvus_lite")
    big = _corpus(tmp_path / "big", 120)
    small = _corpus(tmp_path / "small", 3, seed=2)
    uri = tmp_path / "news.db"
    where = ("--backend", "milvus", "--uri", str(uri), "--collection", "berita")
    old = _run(env, "index", "build", str(small), *where)
    assert old.returncode == 0, old.stderr
    first = _start(env, "index", "build", str(big), *where)
    # Milvus Lite holds its folder's LOCK while a process has it open: the build holds it
    # from before its first file is read to its switch.
    from index.storage.milvus.connect import _lite_lock_held

    _wait_for(lambda: _lite_lock_held(str(uri)), first, "the build holding the Milvus Lite file")
    os.kill(first.pid, signal.SIGSTOP)
    refused = _start(env, "index", "build", str(small), *where, QA_LOCK_TIMEOUT="1")
    gives_up = _start(env, "index", "add", str(_extra(tmp_path / "x1", "menyerah")), "--json",
                      *where, QA_LOCK_TIMEOUT="1")
    for proc in (refused, gives_up):
        proc.stdout_text, proc.stderr_text = proc.communicate(timeout=900)
        _one_error(_done(proc), "Milvus Lite")
    # Started while the build is stopped, it cannot get the file before the build lets go
    # of it, whenever it reaches it: either way its article must be in what is left.
    waiting = _start(env, "index", "add", str(_extra(tmp_path / "x2", "menunggu")), "--json",
                     *where, QA_LOCK_TIMEOUT="600")
    os.kill(first.pid, signal.SIGCONT)
    _, err = first.communicate(timeout=900)
    assert first.returncode == 0, err
    out, err = waiting.communicate(timeout=900)
    assert waiting.returncode == 0, err
    assert json.loads(out)["added"] == 1
    ids = _articles(env, *where)
    assert "menunggu" in ids and "menyerah" not in ids and len(ids) == 121
    _verified(env, *where)
