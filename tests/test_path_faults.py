"""Paths, output and settings qa cannot use: one line on stderr and a non-zero exit, never a
traceback nor Python's "Exception ignored" at exit. Each case runs the real CLI in its own
process.

A parent folder that cannot be written is simulated with /proc and /sys: the tests may run as
root, for whom chmod stops nothing, and mounting a read-only file system needs privileges a
test should not have. /proc refuses new folders with ENOENT, /sys with EPERM (EACCES when not
root); a read-only mount answers EROFS, which takes the same path.
"""
from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
QUESTION = "Siapa yang memanggil duta besar Rusia?"


@pytest.fixture(scope="module")
def env(default_model_dir, tmp_path_factory) -> dict[str, str]:
    home = tmp_path_factory.mktemp("home")
    env = {k: v for k, v in os.environ.items() if not k.startswith("QA_")}
    env.update(QA_MODEL_CACHE=str(default_model_dir.parent), XDG_DATA_HOME=str(home / "data"),
               HOME=str(home), NO_COLOR="1", COLUMNS="200", QA_LOCK_TIMEOUT="5",
               PYTHONPATH=str(ROOT))
    return env


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("corpus")
    (folder / "rusia.txt").write_text(
        "Korea Selatan panggil duta besar Rusia\n\nTRIBUNNEWS.COM, SEOUL - Korea Selatan telah "
        "memanggil duta besar Rusia di Moskow guna membahas pengerahan pasukan Korea Utara.\n",
        encoding="utf-8")
    (folder / "banjir.txt").write_text(
        "Banjir di Jakarta\n\nHujan deras sejak pagi membuat banjir di Jakarta Utara, warga "
        "mengungsi ke masjid terdekat.\n", encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def index(env, corpus, tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("indexes") / "idx"
    built = subprocess.run([sys.executable, "-m", "qa", "index", "build", str(corpus), "--index",
                            str(folder)], env=env, capture_output=True, text=True, timeout=600)
    assert built.returncode == 0, built.stderr
    return folder


def _run(shell_args: str, env: dict[str, str], extra_env: dict[str, str] | None = None):
    """`python -m qa ...` through sh, so redirections (`> /dev/full`, `>&-`) are the shell's."""
    command = f"{shlex.quote(sys.executable)} -m qa {shell_args}"
    return subprocess.run(["sh", "-c", command], env={**env, **(extra_env or {})},
                          capture_output=True, text=True, timeout=600)


def _one_line(proc, *needles: str, before: tuple[str, ...] = ()) -> str:
    """The failed command's stderr: exactly one line (after the `before` notes a successful
    run prints too), holding every needle."""
    lines = proc.stderr.splitlines()
    assert proc.returncode not in (0, None), (proc.returncode, proc.stderr)
    assert "Traceback" not in proc.stderr and "Exception ignored" not in proc.stderr, proc.stderr
    for prefix in before:
        assert lines and lines[0].startswith(prefix), proc.stderr
        lines = lines[1:]
    assert len(lines) == 1 and lines[0].startswith("qa: "), proc.stderr
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
    return lines[0]


LONG_NAME = "a" * 300
DEEP = "/".join(["d"] * 2100)


@pytest.mark.parametrize("args, needles", [
    (f"index list --index {{tmp}}/{LONG_NAME}", ["300 bytes", "at most"]),
    (f"index add {{corpus}} --index {{tmp}}/{LONG_NAME}", ["300 bytes"]),
    (f"ask '{QUESTION}' --index {{tmp}}/{LONG_NAME}", ["300 bytes"]),
    (f"index list --index {{tmp}}/{DEEP}", ["too long"]),
    (f"index build {{corpus}} --index {{tmp}}/{DEEP}", ["too long"]),
    ("index build {corpus} --index /proc/self/x", ["cannot create the index folder"]),
    ("index add {corpus} --index /proc/self/x", ["cannot create the index folder"]),
    ("index list --index /proc/self/x", ["no index at /proc/self/x"]),
    ("index build {corpus} --index /proc/qa-test-index", ["cannot create the index folder"]),
    ("index add {corpus} --index /sys/qa-test-index", ["/sys/qa-test-index", "cannot create"]),
    ("index build {corpus} --index /sys/kernel/qa-test-index", ["cannot create the index folder"]),
], ids=["name-255-list", "name-255-add", "name-255-ask", "deep-list", "deep-build",
        "proc-self-build", "proc-self-add", "proc-self-list", "proc-build", "sys-add", "sys-build"])
def test_index_paths_that_cannot_be(args, needles, env, corpus, tmp_path):
    proc = _run(args.format(tmp=tmp_path, corpus=corpus), env)
    _one_line(proc, *needles)
    assert not os.path.lexists(tmp_path / LONG_NAME)


@pytest.mark.parametrize("redirect", ["> /dev/full", ">&-"], ids=["dev-full", "closed"])
@pytest.mark.parametrize("args", ["index list", "index list --json", "index status",
                                  f"ask '{QUESTION}' --json"])
def test_output_that_cannot_be_written(args, redirect, env, index):
    proc = _run(f"{args} --index {index} {redirect}", env)
    why = "no space left" if "full" in redirect else "standard output is closed"
    _one_line(proc, "cannot write the output", why)


@pytest.mark.parametrize("redirect", ["> /dev/full", ">&-"], ids=["dev-full", "closed"])
def test_an_answer_that_cannot_be_written(redirect, env, index):
    """Plain `qa ask` says which conversation the turn went to before it prints the answer:
    that note, then the one error line."""
    proc = _run(f"ask '{QUESTION}' --index {index} {redirect}", env)
    _one_line(proc, "cannot write the output", before=("conversation ",))


def test_output_to_a_reader_that_went_away(env, index):
    """`| head -c 1`: the pipe closes under a long listing; the exit is quiet, as Unix
    tools' are, and never an "Exception ignored"."""
    proc = _run(f"index list --index {index} | head -c 1", env)
    assert "Traceback" not in proc.stderr and "Exception ignored" not in proc.stderr
    assert proc.stdout == "i"


def test_stderr_that_cannot_be_written_does_not_stop_a_command(env, corpus, tmp_path):
    """What qa would say goes nowhere, but the work is done."""
    folder = tmp_path / "quiet"
    proc = _run(f"index build {corpus} --index {folder} 2>&- && "
                f"{shlex.quote(sys.executable)} -m qa index verify --index {folder} 2>/dev/full", env)
    assert proc.returncode == 0, proc.stderr
    assert (folder / "index.sqlite").exists()


@pytest.mark.parametrize("target", ["write.lock", "/nonexistent/lock"], ids=["loop", "dangling"])
@pytest.mark.parametrize("args", ["index add {corpus}", "index remove rusia --yes",
                                  "index verify"])
def test_write_lock_as_a_symlink(target, args, env, corpus, index, tmp_path):
    copy = tmp_path / "idx"
    subprocess.run(["cp", "-r", str(index), str(copy)], check=True)
    (copy / "write.lock").unlink(missing_ok=True)
    (copy / "write.lock").symlink_to(target)
    proc = _run(f"{args.format(corpus=corpus)} --index {copy}", env)
    _one_line(proc, "write.lock", "symbolic link")
    assert (copy / "write.lock").is_symlink()  # left as it was


@pytest.mark.parametrize("name, value, needle", [
    ("QA_LOCK_TIMEOUT", "nan", "QA_LOCK_TIMEOUT must be a number of seconds from 0"),
    ("QA_LOCK_TIMEOUT", "-3", "QA_LOCK_TIMEOUT must be a number of seconds from 0"),
    ("QA_LOCK_TIMEOUT", "soon", "QA_LOCK_TIMEOUT must be a number of seconds from 0"),
    ("QA_FLAT_MAX_VECTORS", "abc", "QA_FLAT_MAX_VECTORS must be a whole number from 624"),
    ("QA_FLAT_MAX_VECTORS", "0", "QA_FLAT_MAX_VECTORS must be a whole number from 624"),
    ("QA_FLAT_MAX_VECTORS", "1", "QA_FLAT_MAX_VECTORS must be a whole number from 624"),
    ("QA_FLAT_MAX_VECTORS", "1.5e3", "QA_FLAT_MAX_VECTORS must be a whole number from 624"),
])
@pytest.mark.parametrize("command", ["add", "build"])
def test_settings_out_of_range(name, value, needle, command, env, corpus, tmp_path):
    proc = _run(f"index {command} {corpus} --index {tmp_path / 'idx'}", env, {name: value})
    _one_line(proc, needle, repr(value))
    assert not (tmp_path / "idx" / "index.sqlite").exists()


def test_lock_timeout_nan_when_asking(env, index):
    proc = _run(f"ask '{QUESTION}' --index {index}", env, {"QA_LOCK_TIMEOUT": "nan"})
    _one_line(proc, "QA_LOCK_TIMEOUT")


def test_settings_in_range_still_work(env, corpus, tmp_path):
    proc = _run(f"index add {corpus} --index {tmp_path / 'idx'}", env,
                {"QA_FLAT_MAX_VECTORS": "624", "QA_LOCK_TIMEOUT": "0.5"})
    assert proc.returncode == 0, proc.stderr
