"""The index store against real FAISS and SQLite, with random unit vectors (no model)."""
from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from index.errors import UserError
from index.storage.base import (
    IndexLockedError,
    IndexMissingError,
    IndexStoreError,
    Manifest,
    ModelMismatchError,
    VIEW_SLOTS,
)
from index.storage.faiss.folder import DB_NAME
from index.storage.faiss.store import Store
from index.corpus.types import Article, Paragraph

DIM = 16
ROOT = Path(__file__).resolve().parent.parent
MANIFEST = Manifest(
    model="tiny-test-model",
    fingerprint="sha256:abc",
    dim=DIM,
    query_prompt="query: ",
    passage_prompt="passage: ",
)


def make_article(article_id: str, texts: list[str], **metadata: str) -> Article:
    paragraphs = []
    offset = 0
    for n, text in enumerate(texts, start=1):
        paragraphs.append(
            Paragraph(article_id, number=n, text=text, line=2 * n + 1, start=offset,
                      end=offset + len(text))
        )
        offset += len(text) + 1
    return Article(
        id=article_id,
        title=f"Title of {article_id}",
        source=f"/corpus/{article_id}.txt",
        paragraphs=paragraphs,
        metadata=dict(metadata),
        content_hash=f"hash-{article_id}",
    )


def unit_vectors(n: int, seed: int) -> np.ndarray:
    v = np.random.default_rng(seed).standard_normal((n, DIM)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


CORPUS = [
    make_article("a1", ["Korea Utara mengirim pasukan ke Rusia.", "Seoul memanggil duta besar."],
                 Editor="willy Widianto"),
    make_article("a2", ["The central bank raised interest rates.", "Markets fell sharply.",
                        "Analysts expect another hike."]),
    make_article("a3", ["Banjir melanda Jakarta pada hari Senin."],
                 Outlet="Tribun", Date="2024-10-20"),
]
N_PARAGRAPHS = sum(len(a.paragraphs) for a in CORPUS)


@pytest.fixture
def built(tmp_path: Path) -> tuple[Path, np.ndarray, list[int]]:
    vectors = unit_vectors(N_PARAGRAPHS, seed=1)
    with Store.create(tmp_path / "idx", MANIFEST) as store:
        ids = store.add_articles(CORPUS, vectors)
    return tmp_path / "idx", vectors, ids


def vector_files(path: Path) -> list[str]:
    return sorted(p.name for p in path.glob("vectors-*"))


def test_round_trip(built: tuple[Path, np.ndarray, list[int]]) -> None:
    path, vectors, ids = built
    assert len(ids) == len(set(ids)) == N_PARAGRAPHS
    with Store.open(path, expect=MANIFEST) as store:
        assert store.manifest == MANIFEST
        assert store.counts() == (3, N_PARAGRAPHS)
        for row, pid in enumerate(ids):
            hits = store.search_dense(vectors[row], k=3)
            assert hits[0][0] == pid
            assert hits[0][1] == pytest.approx(1.0, abs=1e-5)
            assert all(score <= hits[0][1] for _, score in hits)
        # a scaled query is normalised, so scores remain cosines
        assert store.search_dense(vectors[0] * 7.5, k=1)[0][1] == pytest.approx(1.0, abs=1e-5)

        got = store.paragraphs(list(reversed(ids)))
        assert [p.id for p in got] == list(reversed(ids))
        expected = [(a, p) for a in CORPUS for p in a.paragraphs]
        for stored, (article, para) in zip(reversed(got), expected):
            assert stored.article_id == article.id
            assert stored.title == article.title
            assert stored.source == article.source
            assert stored.metadata == article.metadata
            assert (stored.number, stored.line, stored.start, stored.end, stored.text) == (
                para.number, para.line, para.start, para.end, para.text
            )
        arts = {a.id: a for a in store.articles()}
        assert arts["a2"].paragraphs == 3 and arts["a2"].content_hash == "hash-a2"
        assert arts["a1"].metadata == {"Editor": "willy Widianto"}
        assert store.verify() == []


def test_replace_article_does_not_duplicate(built: tuple[Path, np.ndarray, list[int]]) -> None:
    path, vectors, ids = built
    new = make_article("a2", ["Rates were cut instead."])
    new_vec = unit_vectors(1, seed=2)
    with Store.open(path, writable=True) as store:
        new_ids = store.add_articles([new], new_vec)
        assert store.counts() == (3, N_PARAGRAPHS - 3 + 1)
        assert not set(new_ids) & set(ids)  # ids are never reused
        old_a2 = ids[2:5]
        assert store.paragraphs(old_a2) == []
        assert store.search_dense(new_vec[0], k=1)[0][0] == new_ids[0]
        hit_ids = [i for i, _ in store.search_dense(vectors[2], k=N_PARAGRAPHS)]
        assert not set(hit_ids) & set(old_a2)
        assert [i for i, _ in store.search_lexical("hike", 5)] == []
        assert [i for i, _ in store.search_lexical("instead", 5)] == new_ids
        assert store.verify() == []
    with Store.open(path) as store:
        assert store.counts() == (3, N_PARAGRAPHS - 2)
        assert store.verify() == []


def test_remove_articles(built: tuple[Path, np.ndarray, list[int]]) -> None:
    path, vectors, ids = built
    with Store.open(path, writable=True) as store:
        assert store.remove_articles(["a1", "does-not-exist"]) == 1
        assert store.remove_articles(["a1"]) == 0
        assert store.counts() == (2, N_PARAGRAPHS - 2)
        assert store.paragraphs(ids[:2]) == []
        hit_ids = {i for i, _ in store.search_dense(vectors[0], k=N_PARAGRAPHS)}
        assert hit_ids == set(ids[2:])
        assert store.search_lexical("Korea Seoul", 10) == []
        assert store.verify() == []
    db = sqlite3.connect(path / DB_NAME)
    assert db.execute("SELECT count(*) FROM paragraphs_fts").fetchone()[0] == N_PARAGRAPHS - 2
    db.close()


def test_lexical_search(built: tuple[Path, np.ndarray, list[int]]) -> None:
    path, _, ids = built
    with Store.open(path) as store:
        hits = store.search_lexical("banjir", 5)
        assert [i for i, _ in hits] == [ids[5]]
        assert hits[0][1] > 0
        # title is indexed too: every paragraph of a2 matches its title word
        assert {i for i, _ in store.search_lexical("a2", 10)} == set(ids[2:5])
        ranked = store.search_lexical("central bank interest", 5)
        assert ranked[0][0] == ids[2]
        assert store.search_lexical("", 5) == []
        assert store.search_lexical("?!", 5) == []


@pytest.mark.parametrize(
    "query",
    ['"unbalanced', "bank*", "(rates", "rates NEAR markets", "NEAR(", "-rates", "title: rates",
     "rates AND OR NOT", '"" * ( ) : - ^ + {x}', "rates'; DROP TABLE paragraphs; --"],
)
def test_lexical_query_syntax_never_raises(built: tuple[Path, np.ndarray, list[int]],
                                           query: str) -> None:
    path, _, ids = built
    with Store.open(path) as store:
        hits = store.search_lexical(query, 5)
        if "rates" in query or "bank" in query:
            assert ids[2] in [i for i, _ in hits]
        assert store.counts() == (3, N_PARAGRAPHS)


def test_model_mismatch(built: tuple[Path, np.ndarray, list[int]]) -> None:
    path, _, _ = built
    other = Manifest("bigger-model", "sha256:def", 32, "query: ", "passage: ")
    with pytest.raises(ModelMismatchError) as err:
        Store.open(path, expect=other)
    message = str(err.value)
    assert "tiny-test-model" in message and "bigger-model" in message
    assert f"qa index build --index {path}" in message
    assert "qa ask --model tiny-test-model" in message
    assert isinstance(err.value, UserError)  # the CLI prints it without a traceback

    same_name = Manifest("tiny-test-model", "sha256:abc", DIM, "query: ", "")
    with pytest.raises(ModelMismatchError, match="passage_prompt"):
        Store.open(path, expect=same_name)


def test_missing_index(tmp_path: Path) -> None:
    with pytest.raises(IndexMissingError, match="qa index build"):
        Store.open(tmp_path / "nowhere")
    assert not (tmp_path / "nowhere").exists()
    (tmp_path / "empty").mkdir()
    with pytest.raises(IndexMissingError):
        Store.open(tmp_path / "empty", writable=True)
    assert not (tmp_path / "empty" / DB_NAME).exists()


def test_create_refuses_existing_unless_overwrite(
    built: tuple[Path, np.ndarray, list[int]],
) -> None:
    path, _, _ = built
    with pytest.raises(IndexStoreError, match="already exists"):
        Store.create(path, MANIFEST)
    with Store.create(path, MANIFEST, overwrite=True) as store:
        assert store.counts() == (0, 0)
        assert store.search_dense(unit_vectors(1, 3)[0], 5) == []
        assert store.verify() == []
    assert vector_files(path) == ["vectors-1.faiss"]


def test_verify_reports_faiss_tampering(built: tuple[Path, np.ndarray, list[int]]) -> None:
    import faiss

    path, _, ids = built
    with Store.open(path) as store:
        generation = store.generation
    target = path / f"vectors-{generation}.faiss"
    index = faiss.read_index(str(target))
    index.remove_ids(np.asarray([ids[0] * VIEW_SLOTS], dtype=np.int64))
    faiss.write_index(index, str(target))
    with Store.open(path) as store:
        problems = store.verify()
    assert any("missing from vectors-" in p and f"{ids[0]}/0" in p for p in problems), problems
    assert any("holds 5 vectors, SQLite 6" in p for p in problems), problems


def test_verify_reports_sqlite_tampering(built: tuple[Path, np.ndarray, list[int]]) -> None:
    path, _, ids = built
    db = sqlite3.connect(path / DB_NAME)
    db.execute("DROP TRIGGER paragraphs_fts_delete")
    db.execute("DELETE FROM paragraphs WHERE id = ?", (ids[1],))
    db.commit()
    db.close()
    with Store.open(path) as store:
        problems = store.verify()
    assert any("unknown to SQLite in vectors-" in p for p in problems), problems
    assert any("in FTS have no SQLite paragraph" in p for p in problems), problems


def test_verify_reports_missing_vectors_file(built: tuple[Path, np.ndarray, list[int]]) -> None:
    path, vectors, _ = built
    for f in path.glob("vectors-*.faiss"):
        f.unlink()
    with Store.open(path) as store:
        assert any("is missing" in p for p in store.verify())
        with pytest.raises(IndexStoreError, match="missing"):
            store.search_dense(vectors[0], 1)


def test_stale_generation_files_are_cleaned(built: tuple[Path, np.ndarray, list[int]]) -> None:
    path, _, _ = built
    with Store.open(path) as store:
        generation = store.generation
    assert vector_files(path) == [f"vectors-{generation}.faiss"]  # the create's file went
    current = (path / f"vectors-{generation}.faiss").read_bytes()
    (path / "vectors-1.faiss").write_bytes(current)
    (path / f"vectors-{generation + 1}.faiss").write_bytes(b"left by a crashed writer")
    (path / f"vectors-{generation + 1}.faiss.999.tmp").write_bytes(b"half written")
    with Store.open(path) as reader:  # readers leave files alone
        assert reader.verify() == []
    assert len(vector_files(path)) == 4
    with Store.open(path, writable=True) as store:
        assert vector_files(path) == [f"vectors-{generation}.faiss"]
        store.add_articles([make_article("a4", ["more"])], unit_vectors(1, 4))
        assert vector_files(path) == [f"vectors-{generation + 1}.faiss"]
        assert store.verify() == []


def test_reader_follows_writer_commits(built: tuple[Path, np.ndarray, list[int]]) -> None:
    path, _, _ = built
    vec = unit_vectors(1, seed=5)
    with Store.open(path) as reader, Store.open(path, writable=True) as writer:
        assert reader.search_dense(vec[0], 1)[0][1] < 0.99  # loads the current generation
        (new_id,) = writer.add_articles([make_article("a5", ["fresh news"])], vec)
        assert reader.search_dense(vec[0], 1)[0] == (new_id, pytest.approx(1.0, abs=1e-5))
        assert reader.counts() == (4, N_PARAGRAPHS + 1)
        with pytest.raises(IndexStoreError, match="read-only"):
            reader.remove_articles(["a1"])


def test_writer_batch_is_atomic(built: tuple[Path, np.ndarray, list[int]]) -> None:
    path, _, _ = built
    with Store.open(path, writable=True) as store:
        generation = store.generation
        with pytest.raises(RuntimeError):
            with store.writer():
                store.remove_articles(["a1"])
                store.add_articles([make_article("a6", ["x"])], unit_vectors(1, 6))
                raise RuntimeError("boom")
        assert store.counts() == (3, N_PARAGRAPHS)
        assert store.generation == generation
        assert store.verify() == []
        with store.writer():
            store.remove_articles(["a1"])
            store.add_articles([make_article("a6", ["x"])], unit_vectors(1, 6))
        assert store.generation == generation + 1  # one commit for the whole batch
        assert store.counts() == (3, N_PARAGRAPHS - 1)
        assert store.verify() == []


def test_bad_vectors_rejected(built: tuple[Path, np.ndarray, list[int]]) -> None:
    path, _, _ = built
    with Store.open(path, writable=True) as store:
        art = make_article("a7", ["one", "two"])
        with pytest.raises(ValueError, match="shape"):
            store.add_articles([art], unit_vectors(3, 7))
        with pytest.raises(ValueError, match="zero"):
            store.add_articles([art], np.zeros((2, DIM), dtype=np.float32))
        with pytest.raises(ValueError, match="repeated"):
            store.add_articles([art, art], unit_vectors(4, 7))
        assert store.counts() == (3, N_PARAGRAPHS)


def test_second_writer_times_out(built: tuple[Path, np.ndarray, list[int]]) -> None:
    path, _, _ = built
    holder = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(f"""
            import sys, time
            sys.path.insert(0, {str(ROOT)!r})
            from index.storage.faiss.store import Store
            store = Store.open({str(path)!r}, writable=True)
            with store.writer():
                print("locked", flush=True)
                sys.stdin.readline()
        """)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        with Store.open(path, writable=True, lock_timeout=0.3) as store:
            with pytest.raises(IndexLockedError, match="another qa process"):
                store.remove_articles(["a1"])
            assert store.search_lexical("banjir", 1)  # reading is not blocked
    finally:
        assert holder.stdin is not None
        holder.stdin.write("\n")
        holder.stdin.close()
        holder.wait(timeout=30)
    with Store.open(path, writable=True, lock_timeout=5) as store:
        assert store.remove_articles(["a1"]) == 1


def test_crash_before_commit_keeps_last_state(built: tuple[Path, np.ndarray, list[int]]) -> None:
    """Kill the writer after the new vectors file is on disk but before SQLite commits."""
    path, vectors, ids = built
    with Store.open(path) as store:
        generation = store.generation
    script = textwrap.dedent(f"""
        import os, sys
        sys.path.insert(0, {str(ROOT)!r})
        import numpy as np
        import index.storage.faiss.store as st
        real = st._write_vectors
        def write_then_die(*args):
            real(*args)
            os._exit(9)
        st._write_vectors = write_then_die
        store = st.Store.open({str(path)!r}, writable=True)
        store.remove_articles(["a1"])
    """)
    result = subprocess.run([sys.executable, "-c", script], timeout=60)
    assert result.returncode == 9
    assert f"vectors-{generation + 1}.faiss" in vector_files(path)
    with Store.open(path) as store:
        assert store.generation == generation
        assert store.counts() == (3, N_PARAGRAPHS)
        assert store.search_dense(vectors[0], 1)[0][0] == ids[0]
        assert store.verify() == []
    with Store.open(path, writable=True) as store:
        assert vector_files(path) == [f"vectors-{generation}.faiss"]
        assert store.remove_articles(["a1"]) == 1
        assert store.verify() == []


def test_window_views_rank_a_paragraph_once_and_score_exactly(tmp_path):
    """A paragraph with window vectors is found through any of them, listed once, and its
    whole/window scores come back exactly; removing the article removes every view."""
    path = tmp_path / "views"
    article = make_article("v1", ["short one", "a longer paragraph with windows"])
    vecs = unit_vectors(4, seed=7)  # paragraph 1: whole; paragraph 2: whole + 2 windows
    with Store.create(path, MANIFEST) as store:
        pids = store.add_articles([article], vecs, views=[1, 3])
    with Store.open(path) as store:
        assert store.verify() == []
        hits = store.search_dense(vecs[3], k=5)
        assert hits[0][0] == pids[1] and hits[0][1] == pytest.approx(1.0, abs=1e-5)
        assert sorted(pid for pid, _ in hits) == sorted(pids)
        scores = store.view_scores(vecs[3], pids)
        assert scores[pids[1]][1] == pytest.approx(1.0, abs=1e-5)
        assert scores[pids[1]][0] == pytest.approx(float(vecs[1] @ vecs[3]), abs=1e-5)
        assert scores[pids[0]][0] == scores[pids[0]][1] == pytest.approx(float(vecs[0] @ vecs[3]), abs=1e-5)
    with Store.open(path, writable=True) as store:
        with pytest.raises(ValueError):
            store.add_articles([make_article("v2", ["x"])], unit_vectors(2, 1), views=[1])
        store.remove_articles(["v1"])
        assert store.verify() == []
        assert store.search_dense(vecs[3], k=5) == []


def test_article_paragraphs_in_reading_order(built):
    path, _, _ = built
    with Store.open(path) as store:
        rows = store.article_paragraphs("a2")
        assert [p.number for p in rows] == [1, 2, 3]
        assert rows[0].text == "The central bank raised interest rates."
        assert store.article_paragraphs("nope") == []
