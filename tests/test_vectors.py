"""The FAISS layout chosen by size, and migration between layouts inside the store's commit.

Real FAISS and SQLite throughout. The size threshold is lowered through the environment (as
a user could) so that an index crosses it with a few thousand vectors. Vectors are
clustered, like real embeddings, and questions sit off the clusters' points, like real
questions next to passages: uniform random vectors would make IVF look better than it is.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from index.storage.faiss import vectors as ann
from index.storage.base import VIEW_SLOTS, Manifest
from index.storage.checks import text_hash as _text_hash
from index.storage.faiss.store import Store
from index.corpus.types import Article, Paragraph

ROOT = Path(__file__).resolve().parent.parent
DIM = 32
LIMIT = 1200  # vectors kept exact in these tests
VIEWS = 3  # vectors per paragraph, like whole paragraph + windows
MANIFEST = Manifest("tiny-test-model", "sha256:abc", DIM, "query: ", "passage: ")


def clustered(n: int, seed: int, centers: int = 24, spread: float = 0.6) -> np.ndarray:
    rng = np.random.default_rng(seed)
    hubs = np.random.default_rng(0).standard_normal((centers, DIM)).astype(np.float32)
    v = hubs[rng.integers(0, centers, n)] + spread * rng.standard_normal((n, DIM)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def articles(prefix: str, n_articles: int, per_article: int = 4) -> list[Article]:
    out = []
    for a in range(n_articles):
        aid = f"{prefix}{a}"
        out.append(Article(id=aid, title=f"T {aid}", source=f"/c/{aid}.txt", content_hash=aid,
                           paragraphs=[Paragraph(aid, number=i + 1, text=f"{aid} paragraph {i}",
                                                 line=i + 1, start=0, end=1)
                                       for i in range(per_article)]))
    return out


def add(store: Store, batch: list[Article], seed: int) -> dict[int, np.ndarray]:
    """Add with VIEWS vectors per paragraph; returns the vectors by paragraph id."""
    n = sum(len(a.paragraphs) for a in batch)
    vecs = clustered(n * VIEWS, seed)
    pids = store.add_articles(batch, vecs, views=[VIEWS] * n)
    return {pid: vecs[i * VIEWS:(i + 1) * VIEWS] for i, pid in enumerate(pids)}


def exact_top(stored: dict[int, np.ndarray], q: np.ndarray, k: int) -> list[int]:
    best = {pid: float((v @ q).max()) for pid, v in stored.items()}
    return sorted(best, key=lambda pid: -best[pid])[:k]


def recall_at_10(store: Store, stored: dict[int, np.ndarray], queries: np.ndarray) -> float:
    found = 0
    for q in queries:
        got = {pid for pid, _ in store.search_dense(q, 10)}
        found += len(got & set(exact_top(stored, q, 10)))
    return found / (10 * len(queries))


def layout(store: Store) -> ann.Layout:
    return ann.layout_of(store._current_faiss())


@pytest.fixture
def limit(monkeypatch) -> int:
    monkeypatch.setenv(ann.ENV_FLAT_MAX, str(LIMIT))
    return LIMIT


def test_layout_by_size_with_hysteresis():
    flat = ann.Layout(ann.FLAT)
    limit = 100_000
    assert ann.wanted(limit, flat, limit=limit) == flat
    ivf = ann.wanted(limit + 1, flat, limit=limit)
    assert ivf.kind == ann.IVF_PQ and ivf.nlist == ann.nlist_for(limit + 1)
    # Shrinking a little stays IVF, below half the threshold goes back to exact.
    assert ann.wanted(60_000, ivf, limit=limit) == ivf
    assert ann.wanted(limit // 2 - 1, ivf, limit=limit) == flat
    # Growing threefold keeps the trained lists; tenfold and more retrains with finer ones.
    assert ann.wanted(3 * limit, ivf, limit=limit) == ivf
    grown = ann.wanted(11 * limit, ivf, limit=limit)
    assert grown.kind == ann.IVF_PQ and grown.nlist >= 4 * ivf.nlist
    # Never more lists than k-means can train on the vectors at hand.
    for n in (1, 50, 1001, 10**5, 10**7):
        assert 1 <= ann.nlist_for(n) and ann.nlist_for(n) * 39 <= max(n, 39)
        assert 1 <= ann.nprobe_for(ann.nlist_for(n)) <= ann.nlist_for(n)


def test_env_sets_the_threshold(monkeypatch):
    monkeypatch.delenv(ann.ENV_FLAT_MAX, raising=False)
    assert ann.flat_max() == ann.DEFAULT_FLAT_MAX
    monkeypatch.setenv(ann.ENV_FLAT_MAX, "777")
    assert ann.flat_max() == 777


def test_crossing_the_threshold_migrates_keeping_ids_and_results(tmp_path, limit):
    path = tmp_path / "idx"
    stored: dict[int, np.ndarray] = {}
    with Store.create(path, MANIFEST) as store:
        stored |= add(store, articles("a", 90), seed=1)  # 1080 vectors
        assert layout(store).kind == ann.FLAT
        generation = store.generation
        stored |= add(store, articles("b", 30), seed=2)  # 1440: crosses
        assert store.generation == generation + 1  # migration rode on the same commit
        assert layout(store).kind == ann.IVF_PQ
        assert store.verify() == []  # every SQLite view id is in the IVF and nothing else
    queries = clustered(60, seed=99, spread=0.9)
    with Store.open(path) as reader:  # a read-only open maps the IVF file
        assert layout(reader).kind == ann.IVF_PQ
        assert recall_at_10(reader, stored, queries) >= 0.97
        # Rescoring reads the float16 table, not the 4-bit codes: the float scores to float16
        # rounding, for the candidates' order (search_dense) and the views (view_scores).
        q = queries[0]
        scores = reader.view_scores(q, list(stored))
        errors = [abs(scores[pid][0] - float(v[0] @ q)) for pid, v in stored.items()]
        assert max(errors) < 2e-3
        errors = [abs(scores[pid][1] - float((v[1:] @ q).max())) for pid, v in stored.items()]
        assert max(errors) < 2e-3
        for pid, score in reader.search_dense(q, 10):
            assert score == pytest.approx(float((stored[pid] @ q).max()), abs=2e-3)
        # Each paragraph's own vector still finds that paragraph first.
        for pid in list(stored)[::37]:
            assert reader.search_dense(stored[pid][0], 1)[0][0] == pid


def test_version_4_index_gains_the_vectors_table_then_leaves_8_bit_codes(tmp_path, limit):
    """Migration 5: an index from before the float16 table, searched through the 8-bit IVF
    codes qa wrote then, gets the table filled from those codes on open, answers from it,
    and moves to 4-bit codes on its next write."""
    import faiss
    import sqlite3

    path = tmp_path / "idx"
    with Store.create(path, MANIFEST) as store:
        stored = add(store, articles("a", 120), seed=1)
        generation = store.generation
    keys = np.concatenate([pid * VIEW_SLOTS + np.arange(VIEWS) for pid in stored])
    quantizer = faiss.IndexFlatIP(DIM)
    old = faiss.IndexIVFScalarQuantizer(quantizer, DIM, 16, faiss.ScalarQuantizer.QT_8bit,
                                        faiss.METRIC_INNER_PRODUCT)
    vecs = np.concatenate(list(stored.values()))
    old.train(vecs)
    old.add_with_ids(vecs, keys)
    old.set_direct_map_type(faiss.DirectMap.Hashtable)
    faiss.write_index(old, str(path / f"vectors-{generation}.faiss"))
    db = sqlite3.connect(path / "index.sqlite", isolation_level=None)
    db.execute("DROP TABLE vectors")
    db.execute("DROP TABLE word_senses")  # migration 7's
    db.execute("PRAGMA user_version = 4")
    db.close()

    queries = clustered(40, seed=97, spread=0.9)
    with Store.open(path) as reader:
        assert layout(reader).kind == ann.IVF_SQ8
        assert reader.verify() == []
        table = reader._table_vectors(keys)
        assert float(np.min(np.sum(table * vecs, axis=1))) > 0.99  # decoded from 8 bits
        assert recall_at_10(reader, stored, queries) >= 0.97
    with Store.open(path, writable=True) as store:
        stored |= add(store, articles("b", 5), seed=2)
        assert layout(store).kind == ann.IVF_PQ
        assert store.generation == generation + 1
        assert store.verify() == []
        assert recall_at_10(store, stored, queries) >= 0.97


def test_rescoring_leaves_out_views_a_writer_removed_meanwhile(tmp_path, limit):
    """A reader holds the FAISS generation it loaded while a writer commits a removal: the
    codes still name the removed views, the table no longer has them, and the reader ranks
    what is left instead of failing."""
    path = tmp_path / "idx"
    with Store.create(path, MANIFEST) as store:
        stored = add(store, articles("a", 120), seed=1)
    reader = Store.open(path)
    old = reader._current_faiss()
    assert layout(reader).kind == ann.IVF_PQ
    victim = min(stored)
    q = stored[victim][0][None, :]
    keys, _, _ = ann.search(old, q, 50, reader._stored_vectors)
    assert keys[0] == victim * VIEW_SLOTS
    with Store.open(path, writable=True) as writer:
        writer.remove_articles(["a0"])
    keys, sims, _ = ann.search(old, q, 50, reader._stored_vectors)
    assert len(keys) and not set((keys // VIEW_SLOTS).tolist()) & {victim}
    assert np.all(np.diff(sims) <= 0)
    reader.close()


def test_a_writer_holds_no_copy_of_the_vectors_between_writes(tmp_path, limit):
    """Between two writes a writer only reads, so it maps the committed file as a reader does:
    a long add would otherwise hold a flat index's copy (150 MB at 100,000 vectors) while it
    embeds the next chunk. Its searches and its next write still see everything."""
    path = tmp_path / "idx"
    with Store.create(path, MANIFEST) as store:
        first = add(store, articles("a", 20), seed=1)
        assert store._faiss is None
        pid, v = next(iter(first.items()))
        assert store.search_dense(v[0], 1)[0][0] == pid
        second = add(store, articles("b", 20), seed=2)  # a write after a mapped read
        assert store._faiss is None
        for stored in (first, second):
            for pid, v in list(stored.items())[::7]:
                assert store.search_dense(v[0], 1)[0][0] == pid
        assert store.counts() == (40, 160) and store.verify() == []


def test_a_damaged_vectors_table_stops_the_migration_and_loses_nothing(tmp_path, limit):
    import sqlite3

    from index.storage.base import IndexStoreError

    path = tmp_path / "idx"
    with Store.create(path, MANIFEST) as store:
        add(store, articles("a", 90), seed=1)
        generation = store.generation
    db = sqlite3.connect(path / "index.sqlite", isolation_level=None)
    db.execute("DELETE FROM vectors WHERE id = (SELECT min(id) FROM vectors)")
    db.close()
    with Store.open(path, writable=True) as store:
        with pytest.raises(IndexStoreError, match="damaged, rebuild it"):
            add(store, articles("b", 30), seed=2)  # crosses the threshold: needs the table
    with Store.open(path) as store:
        assert store.generation == generation and store.counts() == (90, 360)
        assert layout(store).kind == ann.FLAT


def test_one_question_is_searched_on_every_core_with_the_same_results(tmp_path, limit):
    """FAISS splits a batch's questions over threads unless told to split a question's lists;
    qa asks one question at a time, so the store's IVF must use mode 1, and it must not change
    what is found."""
    import faiss

    path = tmp_path / "idx"
    with Store.create(path, MANIFEST) as store:
        add(store, articles("a", 120), seed=3)  # 1440 vectors: IVF
    with Store.open(path) as reader:
        index = reader._current_faiss()
        ivf = faiss.extract_index_ivf(index)
        assert ivf.parallel_mode == 1
        queries = clustered(40, seed=7, spread=0.9)
        split = [index.search(q[None, :], 40) for q in queries]
        ivf.parallel_mode = 0
        single = [index.search(q[None, :], 40) for q in queries]
    for (ds, ls), (d1, l1) in zip(split, single):
        assert ls.tolist() == l1.tolist()
        assert np.allclose(ds, d1)


def test_remove_and_re_add_after_migration(tmp_path, limit):
    path = tmp_path / "idx"
    with Store.create(path, MANIFEST) as store:
        stored = add(store, articles("a", 120), seed=1)
        assert layout(store).kind == ann.IVF_PQ
        trained = layout(store)
        gone = {p.id for a in articles("a", 120)[:40] for p in store.article_paragraphs(a.id)}
        assert store.remove_articles([f"a{i}" for i in range(40)]) == 40
        assert layout(store) == trained  # 960 vectors: above half the threshold, still IVF
        for pid in gone:
            del stored[pid]
        back = add(store, articles("a", 10), seed=3)  # same article ids, new paragraphs
        stored |= back
        assert not set(back) & gone  # paragraph ids are never reused
        assert store.verify() == []
        for pid, v in list(back.items())[:10]:
            assert store.search_dense(v[2], 1)[0][0] == pid
        queries = clustered(40, seed=98, spread=0.9)
        hits = {pid for q in queries for pid, _ in store.search_dense(q, 20)}
        assert not hits & gone
        assert recall_at_10(store, stored, queries) >= 0.97


def test_shrinking_below_half_the_threshold_goes_back_to_exact(tmp_path, limit):
    path = tmp_path / "idx"
    with Store.create(path, MANIFEST) as store:
        stored = add(store, articles("a", 120), seed=1)
        assert layout(store).kind == ann.IVF_PQ
        store.remove_articles([f"a{i}" for i in range(80)])  # 480 vectors left
        assert layout(store).kind == ann.FLAT
        assert store.verify() == []  # back to unit length within float32 rounding
        kept = {p.id for a in articles("a", 120)[80:] for p in store.article_paragraphs(a.id)}
        for pid in sorted(kept)[::7]:
            hit, score = store.search_dense(stored[pid][0], 1)[0]
            assert hit == pid and score == pytest.approx(1.0, abs=0.005)


def test_re_used_vectors_stay_close_through_repeated_coding(tmp_path, limit):
    """Lifecycle re-adds an edited article's unchanged paragraphs with the vectors read back
    from the index; they are normalised and coded again each time. That must not walk them
    away from what the model gave, however often an article is edited."""
    path = tmp_path / "idx"
    with Store.create(path, MANIFEST) as store:
        stored = add(store, articles("a", 120), seed=1)
        assert layout(store).kind == ann.IVF_PQ
        paragraphs = store.article_paragraphs("a7")
        original = np.concatenate([stored[p.id] for p in paragraphs])
        for _ in range(8):
            texts = [_text_hash(p.text) for p in paragraphs]
            reused = store.stored_views(texts)
            assert len(reused) == len(paragraphs)
            vecs = np.concatenate([reused[t] for t in texts])
            store.add_articles(articles("a", 120)[7:8], vecs, views=[VIEWS] * len(paragraphs))
            paragraphs = store.article_paragraphs("a7")
        now = store.stored_views(_text_hash(p.text) for p in paragraphs)
        final = np.concatenate([now[_text_hash(p.text)] for p in paragraphs])
        cosines = (final * original).sum(axis=1) / np.linalg.norm(final, axis=1)
        assert cosines.min() > 0.9995
        assert store.verify() == []


def test_verify_reports_a_vector_missing_from_the_ivf(tmp_path, limit):
    import faiss

    path = tmp_path / "idx"
    with Store.create(path, MANIFEST) as store:
        stored = add(store, articles("a", 120), seed=1)
        generation = store.generation
    target = path / f"vectors-{generation}.faiss"
    index = faiss.read_index(str(target))
    victim = min(stored)
    index.remove_ids(np.asarray([victim * VIEW_SLOTS + 1], dtype=np.int64))
    faiss.write_index(index, str(target))
    with Store.open(path) as store:
        problems = store.verify()
    assert any(f"{victim}/1" in p and "missing from" in p for p in problems), problems


CRASHER = """
import os, sys
sys.path.insert(0, {root!r})
sys.path.insert(0, {tests!r})
import index.storage.faiss.store as st
from test_vectors import add, articles
where = sys.argv[1]
if where == "build":  # dies in the middle of migrating: trained, one chunk moved
    import faiss
    original = faiss.IndexIVFPQFastScan.add_with_ids
    def add_then_die(self, *a):
        original(self, *a)
        os._exit(9)
    faiss.IndexIVFPQFastScan.add_with_ids = add_then_die
else:  # dies after the migrated file is on disk, before SQLite names it
    real_write = st._write_vectors
    def write_then_die(*args):
        real_write(*args)
        os._exit(9)
    st._write_vectors = write_then_die
store = st.Store.open({path!r}, writable=True)
add(store, articles("b", 30), seed=2)
"""


@pytest.mark.parametrize("where", ["build", "written"])
def test_kill_during_migration_keeps_the_last_commit(tmp_path, limit, where):
    path = tmp_path / "idx"
    with Store.create(path, MANIFEST) as store:
        stored = add(store, articles("a", 90), seed=1)
        generation = store.generation
        assert layout(store).kind == ann.FLAT
    script = CRASHER.format(root=str(ROOT), tests=str(ROOT / "tests"), path=str(path))
    env = {**os.environ, ann.ENV_FLAT_MAX: str(LIMIT)}
    result = subprocess.run([sys.executable, "-c", script, where], env=env, timeout=120,
                            capture_output=True, text=True)
    assert result.returncode == 9, result.stderr
    if where == "written":
        assert (path / f"vectors-{generation + 1}.faiss").exists()  # on disk, not committed
    with Store.open(path) as store:
        assert store.generation == generation
        assert store.counts() == (90, 360)
        assert layout(store).kind == ann.FLAT
        assert store.verify() == []
        pid = min(stored)
        assert store.search_dense(stored[pid][0], 1)[0][0] == pid
    with Store.open(path, writable=True) as store:  # the next writer migrates for real
        add(store, articles("b", 30), seed=2)
        assert layout(store).kind == ann.IVF_PQ
        assert store.verify() == []
        assert sorted(p.name for p in path.glob("vectors-*")) == [
            f"vectors-{store.generation}.faiss"]
