"""Indexing with the ONNX export: passages embedded as sentence-transformers embeds them, an
index written by either path readable and extendable by the other, and no torch in `qa index`.

Reference: the `embedder` fixture (sentence-transformers). Real model, real export, real
OpenVINO where this CPU has bfloat16 (else the export's onnxruntime float32 path, which the
same assertions hold), real FAISS + SQLite.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from test_onnx import DATA, PARITY, cosines, fast, run_qa_counting_heavy  # noqa: F401 - `fast` is a fixture


def seed_texts() -> list[str]:
    """Every text an index of the bundled seeds embeds (paragraphs and their windows)."""
    from index.corpus.passages import passage_views
    from index.indexing.sources import read_articles
    from qa.paths import seeds_dir

    articles = read_articles([seeds_dir()]).articles
    return [t for a in articles for p in a.paragraphs for t in passage_views(a, p)]


def dev_passages(limit: int = 200) -> list[str]:
    """Real passages of every dev pool, both languages, evenly spread; none without the data."""
    out: list[str] = []
    for path in sorted(DATA.glob("*_passages.jsonl")):
        with open(path, encoding="utf-8") as f:
            rows = [json.loads(line) for line in f]
        step = max(1, len(rows) // (limit // 4))
        out += [r["text"] for r in rows[::step]][: limit // 4]
    return [t for t in out if t.strip()]


@pytest.fixture(params=["runner", "onnxruntime"])
def bulk(request, fast, monkeypatch):
    """The export with bulk passage jobs on the runner this machine allows, or forced onto
    onnxruntime float32; RUNNER_MIN lowered so a test-sized job counts as bulk."""
    import index.models.onnx_encoder as encoder

    monkeypatch.setattr(encoder, "RUNNER_MIN", 1)
    if request.param == "onnxruntime":
        monkeypatch.setenv("QA_PASSAGE_RUNTIME", "onnxruntime")
    fast.release_runner()
    yield fast
    fast.release_runner()


@pytest.fixture(scope="module")
def reference(embedder):
    """The texts both bulk runners are checked on, and sentence-transformers' embeddings of
    them, made once for both (~20 s)."""
    texts = seed_texts() + dev_passages()
    texts.append("Presiden menyampaikan pidato kenegaraan di depan anggota DPR. " * 80)  # > 512 tokens
    return texts, embedder.embed_passages(texts)


def test_passages_match_sentence_transformers(bulk, reference):
    texts, want = reference
    got = bulk.embed_passages(texts)
    assert cosines(got, want).min() >= PARITY, bulk.runner_note
    assert np.allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-4)
    assert bulk.tokens_embedded >= len(texts)


def test_passage_token_ids_are_sentence_transformers_ids(fast, embedder):
    texts = [fast.passage_prompt + t for t in seed_texts() + dev_passages()]
    assert [fast.token_ids(t) for t in texts] == embedder.reference_ids(texts)


def test_the_runner_is_named_or_the_reason_it_is_not_used(bulk):
    bulk.embed_passages(seed_texts()[:50])
    if os.environ.get("QA_PASSAGE_RUNTIME") == "onnxruntime":
        assert bulk.runner_note.startswith("onnxruntime float32 (QA_PASSAGE_RUNTIME=onnxruntime")
        assert bulk.passage_runner() is None
    else:
        assert bulk.runner_note.startswith(("OpenVINO", "onnxruntime float32 ("))


def test_batches_cover_every_text_once_in_few_shapes(fast):
    from index.models.onnx_encoder import BATCH_TOKENS, WIDTHS

    ids = [fast.token_ids(fast.passage_prompt + t) for t in seed_texts()]
    seen: list[int] = []
    shapes = set()
    for rows, embeds, mask in fast._batches(ids, 32, fixed=True):
        seen += rows
        shapes.add(mask.shape)
        assert embeds.shape[:2] == mask.shape and mask.shape[1] in WIDTHS
        assert mask.shape[0] * mask.shape[1] <= max(BATCH_TOKENS, mask.shape[1])
        for row, i in enumerate(rows):
            assert mask[row].sum() == len(ids[i])
    assert sorted(seen) == list(range(len(ids)))
    assert len(shapes) <= len(WIDTHS)


def test_an_index_written_by_either_path_is_extended_by_the_other(embedder, fast, tmp_path,
                                                                 monkeypatch):
    """Built by sentence-transformers, added to by the export (and the other way round): the
    same manifest, a clean verify, and the added article ranks first for its question."""
    import index.models.onnx_encoder as encoder
    from index.indexing.build import build_index
    from index.indexing.lifecycle import add_paths, open_writable
    from index.storage import open_store
    from qa.paths import seeds_dir
    from qa.retrieve import retrieve

    monkeypatch.setattr(encoder, "RUNNER_MIN", 1)
    quake = tmp_path / "gempa.txt"
    quake.write_text("Gempa bumi berkekuatan 6,1 magnitudo mengguncang Kabupaten Cianjur pada "
                     "Senin siang.\n\nBadan Meteorologi menyatakan gempa tidak berpotensi tsunami, "
                     "namun ratusan rumah warga rusak berat.\n", encoding="utf-8")
    for first, second in ((embedder, fast), (fast, embedder)):
        folder = tmp_path / f"index-{type(first).__name__}"
        build_index([seeds_dir()], folder, first)
        with open_writable(folder, second) as store:
            report = add_paths(store, second, [quake])
        assert report.added == 1
        with open_store(folder) as store:
            assert store.verify() == []
            question = "Berapa kekuatan gempa yang mengguncang Cianjur?"
            hits = retrieve(store, fast.embed_queries([question])[0], question, 3)
            assert Path(hits[0].source).name == "gempa.txt"


def test_qa_index_add_never_imports_torch(default_model_dir, tmp_path):
    from qa.paths import seeds_dir

    out, heavy = run_qa_counting_heavy(default_model_dir, "index", "add", str(seeds_dir()),
                                       "--index", str(tmp_path / "index"), "--json")
    assert heavy == []
    report = json.loads(out)
    assert report["added"] > 0 and report["texts_per_second"] > 0
    assert report["tokens_per_second"] >= report["texts_per_second"]


def test_questions_after_a_bulk_job_embed_as_before(bulk):
    """A bulk job lets go of onnxruntime once the runner is checked (an indexing run needs
    nothing else from it); the next question opens it again and gets the same vector."""
    questions = ["Siapa yang memanggil duta besar Rusia?", "Who summoned the Russian ambassador?"]
    before = bulk.embed_queries(questions)
    bulk.embed_passages(seed_texts()[:40])
    after = bulk.embed_queries(questions)
    assert cosines(after, before).min() >= 0.99999


def test_openvino_compiles_a_float16_copy_of_the_graph_written_once(fast, monkeypatch):
    """The runner compiles OpenVINO's own format with float16 weights, mapped from a file
    beside the export (43 MB, where the ONNX graph's float32 weights are 86 MB), written at
    the first load and read by every later one."""
    import platform

    import index.models.onnx_encoder as encoder
    from index.models.openvino_runner import IR_DIRNAME, IR_FILE

    monkeypatch.setattr(encoder, "RUNNER_MIN", 1)
    monkeypatch.setenv("QA_PASSAGE_RUNTIME", "openvino")  # even without bfloat16
    fast.release_runner()
    try:
        runner = fast.passage_runner()
        if platform.machine().lower() not in ("x86_64", "amd64"):  # openvino is not a dependency
            assert runner is None and "OpenVINO is not installed" in fast.runner_note
            return
        assert runner is not None, fast.runner_note
        graph = fast._export_dir / IR_DIRNAME / IR_FILE
        weights = graph.with_suffix(".bin")
        assert graph.is_file() and weights.stat().st_size < 0.6 * (fast._export_dir / "model.onnx.data").stat().st_size
        written = weights.stat().st_mtime_ns
        fast.release_runner()
        assert fast.passage_runner() is not None
        assert weights.stat().st_mtime_ns == written
        texts = seed_texts()[:30]
        monkeypatch.setenv("QA_PASSAGE_RUNTIME", "onnxruntime")
        fast.release_runner()
        want = fast.embed_passages(texts)
        monkeypatch.setenv("QA_PASSAGE_RUNTIME", "openvino")
        fast.release_runner()
        assert cosines(fast.embed_passages(texts), want).min() >= PARITY
    finally:
        fast.release_runner()
