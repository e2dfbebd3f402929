"""Ctrl+C at any moment of a real `qa index add` or `build`: exit 130, the one line
"qa: interrupted", no abort from a native thread, and the index as it was at its last commit.

The interrupt is aimed by what the process shows, not by a clock: the add's progress bar
(drawn on a pseudo-terminal) saying that paragraphs are being embedded, or the build's
staging folder appearing. The corpus is big enough (over `RUNNER_MIN` texts) for a machine
with bfloat16 instructions to embed on OpenVINO's threads, where a Ctrl+C used to abort the
process ("FATAL: exception not rethrown", exit 134); elsewhere it runs on onnxruntime and
the same must hold.
"""
from __future__ import annotations

import os
import pty
import random
import re
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

WORDS = ("pemerintah daerah warga kota banjir jalan harga beras pasar menteri presiden rapat "
         "anggaran sekolah guru siswa rumah sakit dokter pasien polisi kasus laporan desa petani "
         "panen hujan sungai jembatan proyek dana bantuan sosial ekonomi listrik air kantor "
         "gubernur bupati camat lurah pelabuhan kapal nelayan ikan laut pantai wisata").split()
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07")
BAR_LABELS = ("Reading articles", "Embedding paragraphs", "Saving the index")


def _paragraph(rng: random.Random, words: int) -> str:
    sentences: list[str] = []
    while sum(len(s.split()) for s in sentences) < words:
        sentences.append(" ".join(rng.choice(WORDS) for _ in range(rng.randint(8, 16))).capitalize() + ".")
    return " ".join(sentences)


def _corpus(folder: Path, count: int, seed: int = 5) -> Path:
    """`count` short articles of three 40-word paragraphs: about 24 texts to embed each."""
    rng = random.Random(seed)
    folder.mkdir(parents=True)
    for i in range(count):
        title = _paragraph(rng, 6).rstrip(".")
        body = "\n\n".join(_paragraph(rng, 40) for _ in range(3))
        (folder / f"berita_{i:03d}.txt").write_text(f"{title}\n\n{body}\n", encoding="utf-8")
    return folder


def _env(default_model_dir: Path, tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("QA_")}
    env.update(QA_MODEL_CACHE=str(default_model_dir.parent), XDG_DATA_HOME=str(tmp_path / "data"),
               NO_COLOR="1", COLUMNS="160", TERM="xterm")
    return env


def _qa(env: dict[str, str], *args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "qa", *args], env=env, capture_output=True,
                          text=True, timeout=timeout)


def _lines_besides_the_bar(raw: bytes) -> list[str]:
    """What a terminal user reads once the transient bar is gone: every line that is not a
    frame of it."""
    text = ANSI.sub("", raw.decode("utf-8", "replace"))
    lines = [part.strip() for part in re.split(r"[\r\n]+", text)]
    return [line for line in lines if line and not any(label in line for label in BAR_LABELS)]


def test_ctrl_c_while_embedding_exits_130_and_keeps_the_index(default_model_dir, tmp_path):
    corpus = _corpus(tmp_path / "corpus", 120)
    index_dir = tmp_path / "idx"
    env = _env(default_model_dir, tmp_path)
    primary, secondary = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "qa", "index", "add", str(corpus), "--index",
                             str(index_dir)], env=env, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=secondary)
    os.close(secondary)
    raw, sent, seen = b"", False, None
    deadline = time.monotonic() + 600
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([primary], [], [], 0.2)
            if ready:
                try:
                    chunk = os.read(primary, 65536)
                except OSError:  # EIO: the process closed its end
                    break
                if not chunk:
                    break
                raw += chunk
            if not sent:
                counts = re.findall(r"Embedding paragraphs\D*?(\d+)/(\d+)", ANSI.sub("", raw.decode("utf-8", "replace")))
                started = [(int(done), int(total)) for done, total in counts if 0 < int(done) < int(total)]
                if started:
                    seen = started[-1]
                    proc.send_signal(signal.SIGINT)
                    sent = True
            elif proc.poll() is not None and not ready:
                break
    finally:
        if proc.poll() is None and not sent:
            proc.kill()
        code = proc.wait(timeout=120)
        os.close(primary)
    assert sent, f"embedding never showed progress: {raw[-2000:]!r}"
    shown = _lines_besides_the_bar(raw)
    assert code == 130, (code, seen, shown)
    assert shown == ["qa: interrupted"], (seen, shown)
    assert b"FATAL" not in raw and b"Traceback" not in raw
    assert proc.stdout.read() == b""

    verify = _qa(env, "index", "verify", "--index", str(index_dir))
    # Interrupted before its first commit the add may have left no index, or an empty one:
    # either way nothing half-written.
    assert verify.returncode == 0 or "no index at" in verify.stderr, verify.stderr
    rerun = _qa(env, "index", "add", str(corpus), "--index", str(index_dir), "--json")
    assert rerun.returncode == 0, rerun.stderr
    verify = _qa(env, "index", "verify", "--index", str(index_dir))
    assert verify.returncode == 0, verify.stdout + verify.stderr
    assert "ok: 120 articles" in verify.stderr


def test_ctrl_c_during_a_build_keeps_the_old_index(default_model_dir, tmp_path):
    """Interrupted as soon as its staging folder appears (reading done, embedding starting),
    a build says one line on a plain stderr, leaves no staging behind and the index it was
    to replace answers as before."""
    old = _corpus(tmp_path / "old", 3, seed=1)
    corpus = _corpus(tmp_path / "corpus", 120)
    index_dir = tmp_path / "idx"
    env = _env(default_model_dir, tmp_path)
    first = _qa(env, "index", "build", str(old), "--index", str(index_dir))
    assert first.returncode == 0, first.stderr
    staging = index_dir.with_name(f".{index_dir.name}.building")
    proc = subprocess.Popen([sys.executable, "-m", "qa", "index", "build", str(corpus), "--index",
                             str(index_dir)], env=env, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 600
    while not staging.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    assert staging.exists(), proc.communicate()
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert err == "qa: interrupted\n"
    assert out == ""
    assert not staging.exists()
    verify = _qa(env, "index", "verify", "--index", str(index_dir))
    assert verify.returncode == 0 and "ok: 3 articles" in verify.stderr, verify.stderr
