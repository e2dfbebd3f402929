"""kill -9 a writer at random moments: the index must reopen in its last committed state.

The writer is this file run as a script. It keeps changing a small corpus folder (atomic
file writes) and bringing the index in line with it through the real lifecycle calls
(sync_folder, add_paths, remove) and the real store. Instead of the model it embeds with a
hash of the text, which keeps a kill cycle under a second; the thing under test is the commit
path, not the model. After each change it appends the committed state to a log. So after a
kill the index must hold either the last logged state or the state of the folder (the change
that was in flight committed); anything else is a lost or half-applied write.

One more test kills the real `qa index add` (real model) at several moments.
"""
from __future__ import annotations

import hashlib
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
DIM = 24
KILLS = 24
WORDS = ("banjir gempa pemilu harga beras cuaca sekolah kereta pasar warga jakarta bandung "
         "surabaya menteri presiden polisi hujan angin laut gunung desa kota rumah jalan").split()


class HashEmbedder:
    """Deterministic unit vectors from the text's hash: same text, same vector, any process."""

    name = "hash-embedder"
    fingerprint = "sha256:test"
    dim = DIM
    query_prompt = ""
    passage_prompt = ""

    def embed_passages(self, texts, batch_size: int = 32, on_batch=None):
        out = np.stack([vector(t) for t in texts]) if texts else np.zeros((0, DIM), np.float32)
        if on_batch:
            on_batch(len(texts))
        return out

    def embed_queries(self, texts):
        return self.embed_passages(texts)


def vector(text: str) -> np.ndarray:
    seed = int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little")
    v = np.random.default_rng(seed).standard_normal(DIM).astype(np.float32)
    return v / np.linalg.norm(v)


def folder_state(folder: Path) -> dict[str, str]:
    from index.indexing.sources import read_sources

    articles, errors = read_sources([folder])
    assert not errors, errors
    return {a.id: a.content_hash for a in articles}


def store_state(store) -> dict[str, str]:
    return {a.id: a.content_hash for a in store.articles()}


def atomic_write(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")  # hidden: never read as an article
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def random_article(rng: random.Random, name: str) -> str:
    paragraphs = [" ".join(rng.choice(WORDS) for _ in range(rng.randint(5, 30)))
                  for _ in range(rng.randint(1, 5))]
    return f"Berita {name}\n\n" + "\n\n".join(paragraphs) + "\n"


def writer_main(index_dir: Path, folder: Path, log: Path, seed: int) -> None:
    """Change the folder, bring the index in line, log the committed state; forever."""
    from index.indexing.lifecycle import add_paths, open_writable, remove, sync_folder

    rng = random.Random(seed)
    embedder = HashEmbedder()
    store = open_writable(index_dir, embedder)
    print("ready", flush=True)
    # A change a killed predecessor made to the folder but never committed: catch up first,
    # so that after every logged step the index mirrors the folder exactly.
    sync_folder(store, embedder, folder)
    _log(log, store)
    while True:
        names = sorted(p.stem for p in folder.glob("*.txt"))
        action = rng.random()
        if names and action < 0.25:
            name = rng.choice(names)
            (folder / f"{name}.txt").unlink()
            if rng.random() < 0.5:
                remove(store, [name])
            else:
                sync_folder(store, embedder, folder)
        elif names and action < 0.6:
            name = rng.choice(names)
            path = folder / f"{name}.txt"
            lines = path.read_text(encoding="utf-8").split("\n\n")
            lines[rng.randrange(1, len(lines))] = " ".join(rng.choice(WORDS) for _ in range(12))
            atomic_write(path, "\n\n".join(lines).rstrip("\n") + "\n")
            add_paths(store, embedder, [path])
        else:
            name = f"a{rng.randrange(10**6)}"
            atomic_write(folder / f"{name}.txt", random_article(rng, name))
            if rng.random() < 0.5:
                add_paths(store, embedder, [folder / f"{name}.txt"])
            else:
                sync_folder(store, embedder, folder)
        _log(log, store)


def _log(log: Path, store) -> None:
    with open(log, "a", encoding="utf-8") as f:
        f.write(json.dumps(store_state(store), sort_keys=True) + "\n")
        f.flush()
        os.fsync(f.fileno())


def last_logged(log: Path) -> dict[str, str] | None:
    if not log.exists():
        return None
    lines = [line for line in log.read_text(encoding="utf-8").splitlines() if line.strip()]
    for line in reversed(lines):
        try:
            return json.loads(line)
        except json.JSONDecodeError:
            continue  # killed while writing the log line
    return None


def check_consistent(store) -> None:
    """verify() passes, and every stored vector is the one for its own paragraph's text."""
    from index.corpus.passages import passage_views
    from index.storage.base import VIEW_SLOTS

    assert store.verify() == []
    index = store._current_faiss()
    for a in store.articles():
        for p in store.article_paragraphs(a.id):
            views = passage_views(None, p)
            keys = np.arange(p.id * VIEW_SLOTS, p.id * VIEW_SLOTS + len(views), dtype=np.int64)
            np.testing.assert_allclose(index.reconstruct_batch(keys),
                                       np.stack([vector(t) for t in views]), atol=1e-5)


def reader_loop(index_dir: Path, stop: threading.Event, failures: list[str], checks: list[int]) -> None:
    """A reader that never takes the lock: every hit it gets must be the paragraph it asked
    for (its exact vector), or gone; never another paragraph."""
    from index.corpus.passages import passage_views
    from index.storage.base import IndexStoreError
    from index.storage.faiss.store import Store

    store = Store.open(index_dir)
    try:
        while not stop.is_set():
            try:
                articles = store.articles()
                if not articles:
                    continue
                a = random.choice(articles)
                paragraphs = store.article_paragraphs(a.id)
                if not paragraphs:
                    continue
                p = random.choice(paragraphs)
                hits = store.search_dense(vector(passage_views(None, p)[0]), 1)
                found = store.paragraphs([pid for pid, _ in hits])
                if found and found[0].text != p.text and hits[0][1] > 0.9999:
                    failures.append(f"asked for {p.text!r}, got {found[0].text!r}")
                checks[0] += 1
            except IndexStoreError as exc:
                if "keeps changing" not in str(exc):
                    failures.append(str(exc))
    finally:
        store.close()


def test_kill_writer_at_random_moments(tmp_path):
    from index.indexing.build import manifest_for
    from index.storage.faiss.store import Store

    index_dir, folder, log = tmp_path / "idx", tmp_path / "corpus", tmp_path / "log.jsonl"
    folder.mkdir()
    Store.create(index_dir, manifest_for(HashEmbedder())).close()
    rng = random.Random(20240601)
    stop = threading.Event()
    failures: list[str] = []
    checks = [0]
    reader = threading.Thread(target=reader_loop, args=(index_dir, stop, failures, checks),
                              daemon=True)
    reader.start()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    committed_runs = 0
    try:
        for kill in range(KILLS):
            proc = subprocess.Popen([sys.executable, __file__, str(index_dir), str(folder), str(log),
                                     str(rng.randrange(10**9))], env=env, stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, text=True)
            assert proc.stdout.readline().strip() == "ready", proc.stderr.read()
            before = last_logged(log)
            time.sleep(rng.uniform(0.0, 0.8))
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=30)
            assert proc.returncode == -signal.SIGKILL, proc.stderr.read()
            after = last_logged(log)
            committed_runs += after != before
            with Store.open(index_dir, writable=True) as store:
                got = store_state(store)
                # The last logged state, or the folder's when the change in flight committed.
                assert got in ({} if after is None else after, folder_state(folder)), kill
                check_consistent(store)
            leftovers = [p.name for p in index_dir.iterdir()
                         if p.name.endswith(".tmp") or p.name.startswith("vectors-")]
            assert len([n for n in leftovers if n.endswith(".faiss")]) == 1, leftovers
    finally:
        stop.set()
        reader.join(timeout=30)
    assert not failures, failures[:5]
    assert checks[0] > 0
    print(f"kills={KILLS} committed_runs={committed_runs} reader_checks={checks[0]}")
    assert committed_runs >= KILLS // 3  # the kills did land after real work, not only at start


ADDER = """
import sys
from pathlib import Path
from test_crash import HashEmbedder
from index.indexing.lifecycle import add_paths, open_writable
embedder = HashEmbedder()
with open_writable(Path(sys.argv[1]), embedder) as store:
    print(add_paths(store, embedder, [Path(sys.argv[2])]).added)
"""


def test_writers_racing_to_create_the_index(tmp_path):
    """Six processes add to an index that does not exist yet: one creates it, the others
    wait for it (none may mistake the half-created index for a broken one)."""
    from index.storage.faiss.store import Store

    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "tests")])}
    for trial in range(4):
        index_dir = tmp_path / f"idx{trial}"
        files = []
        for i in range(6):
            f = tmp_path / f"t{trial}" / f"w{i}" / f"a{i}.txt"
            f.parent.mkdir(parents=True)
            f.write_text(f"Judul {i}\n\nIsi artikel nomor {i} untuk percobaan {trial}.\n")
            files.append(f)
        procs = [subprocess.Popen([sys.executable, "-c", ADDER, str(index_dir), str(f)], env=env,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                 for f in files]
        for proc in procs:
            out, err = proc.communicate(timeout=120)
            assert proc.returncode == 0 and out.strip() == "1", err
        with Store.open(index_dir, writable=True) as store:
            assert sorted(a.id for a in store.articles()) == [f"a{i}" for i in range(6)]
            assert store.verify() == []


def test_kill_real_qa_index_add(default_model_dir, tmp_path):
    """The real command with the real model, killed at several moments of its run."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    rng = random.Random(7)
    for i in range(12):
        (corpus / f"n{i}.txt").write_text(random_article(rng, f"n{i}"), encoding="utf-8")
    index_dir = tmp_path / "idx"
    env = {k: v for k, v in os.environ.items() if not k.startswith("QA_")}
    env.update(QA_MODEL_CACHE=str(default_model_dir.parent), QA_INDEX=str(index_dir),
               XDG_DATA_HOME=str(tmp_path / "data"), NO_COLOR="1")
    first = sorted(corpus.iterdir())[:4]
    subprocess.run([sys.executable, "-m", "qa", "index", "add", *map(str, first)], env=env,
                   check=True, capture_output=True, timeout=600)
    from index.storage.faiss.store import Store

    with Store.open(index_dir) as store:
        before = store_state(store)
    full = folder_state(corpus)
    # How long an uninterrupted run takes here, on a copy, to aim the kills.
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "qa", "index", "add", str(corpus), "--index",
                    str(tmp_path / "timing")], env=env, check=True, capture_output=True, timeout=600)
    duration = time.perf_counter() - started
    outcomes = []
    for fraction in (0.5, 0.85, 0.95, None):
        proc = subprocess.Popen([sys.executable, "-m", "qa", "index", "add", str(corpus)], env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if fraction is None:
            # Aim at the commit itself: kill as soon as the new vectors file starts to appear.
            deadline = time.perf_counter() + duration * 3
            while time.perf_counter() < deadline and proc.poll() is None:
                if any(p.name.endswith(".tmp") or p.name == "vectors-3.faiss"
                       for p in index_dir.iterdir()):
                    break
                time.sleep(0.001)
        else:
            time.sleep(duration * fraction * rng.uniform(0.9, 1.1))
        proc.kill()
        proc.wait(timeout=60)
        with Store.open(index_dir, writable=True) as store:
            got = store_state(store)
            assert got in (before, full)
            assert store.verify() == []
        outcomes.append(got == full)
        verify = subprocess.run([sys.executable, "-m", "qa", "index", "verify"], env=env,
                                capture_output=True, text=True, timeout=600)
        assert verify.returncode == 0, verify.stdout + verify.stderr
        if got == full:
            break
    print(f"duration={duration:.1f}s committed_after_kill={outcomes}")
    # Whatever happened, the next run completes the job.
    subprocess.run([sys.executable, "-m", "qa", "index", "add", str(corpus)], env=env, check=True,
                   capture_output=True, timeout=600)
    with Store.open(index_dir) as store:
        assert store_state(store) == full
        assert store.verify() == []


if __name__ == "__main__":
    writer_main(Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]), int(sys.argv[4]))
