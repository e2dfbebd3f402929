"""`qa eval`: metrics checked against hand computation, and a real run on a tiny set."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from qa.evaluate import Question, metrics


def test_metrics_by_hand():
    qs = [Question("q1", "?", "id", "p1", ()), Question("q2", "?", "id", "p2", ()),
          Question("q3", "?", "en", "p3", ()), Question("q4", "?", "en", "p4", ())]
    ranked = {"q1": ["p1", "p2"],                 # rank 1
              "q2": ["p1", "p3", "p2"],           # rank 3
              "q3": ["x"] * 9 + ["p3"],           # rank 10
              "q4": ["x"] * 10 + ["p4"]}          # rank 11: outside R@10 and MRR@10
    m = metrics(ranked, qs)
    assert m["all"]["n"] == 4
    assert m["all"]["R@1"] == pytest.approx(1 / 4)
    assert m["all"]["R@5"] == pytest.approx(2 / 4)
    assert m["all"]["R@10"] == pytest.approx(3 / 4)
    assert m["all"]["MRR@10"] == pytest.approx((1 + 1 / 3 + 1 / 10 + 0) / 4)
    assert m["id"]["MRR@10"] == pytest.approx((1 + 1 / 3) / 2)
    assert m["en"]["R@1"] == 0.0 and m["en"]["R@10"] == pytest.approx(0.5)


POOL = [
    {"pid": "banjir", "title": "", "text": "Banjir setinggi dua meter merendam ratusan rumah di Bekasi "
     "setelah hujan deras mengguyur sejak Senin malam."},
    {"pid": "gempa", "title": "", "text": "Gempa bermagnitudo 5,6 mengguncang Cianjur dan merusak "
     "ribuan bangunan, kata Badan Nasional Penanggulangan Bencana."},
    {"pid": "bola", "title": "", "text": "Tim nasional Indonesia menang 2-0 atas Vietnam dalam laga "
     "kualifikasi Piala Dunia di Stadion Gelora Bung Karno."},
]
QUESTIONS = [
    {"id": "1", "question": "Berapa magnitudo gempa di Cianjur?", "lang": "id", "context_id": "gempa",
     "answers": ["5,6"]},
    {"id": "2", "question": "Who did the Indonesian national team beat?", "lang": "en",
     "context_id": "bola", "answers": ["Vietnam"]},
    {"id": "3", "question": "Di mana banjir merendam ratusan rumah?", "lang": "id", "context_id": "banjir",
     "answers": ["Bekasi"]},
]


def test_qa_eval_on_a_tiny_set(tmp_path, default_model_dir):
    qfile, pfile = tmp_path / "q.jsonl", tmp_path / "p.jsonl"
    qfile.write_text("".join(json.dumps(r) + "\n" for r in QUESTIONS), encoding="utf-8")
    pfile.write_text("".join(json.dumps(r) + "\n" for r in POOL), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("QA_")}
    env["QA_MODEL_CACHE"] = str(default_model_dir.parent)
    cmd = [sys.executable, "-m", "qa", "eval", str(qfile), "--passages", str(pfile), "-k", "3", "--json"]
    first = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    assert first.returncode == 0, first.stderr
    data = json.loads(first.stdout)
    rows = {r["id"]: r for r in data["questions"]}
    # Each question is about exactly one passage, with distinctive words: ranked first.
    assert [rows[q["id"]]["ranked"][0] for q in QUESTIONS] == [q["context_id"] for q in QUESTIONS]
    assert all(sorted(r["ranked"]) == sorted(p["pid"] for p in POOL) for r in rows.values())
    m = data["metrics"]
    assert m["by_lang"]["all"]["R@1"] == 1.0 and m["by_lang"]["all"]["MRR@10"] == 1.0
    assert m["by_lang"]["en"]["n"] == 1 and m["by_lang"]["id"]["n"] == 2
    assert m["answer_sentence_n"] == 3
    assert m["answer_sentence_hit_rate"] == sum(
        any(a in rows[q["id"]]["answer_sentence"] for a in q["answers"]) for q in QUESTIONS) / 3
    assert m["latency_ms_p50"] > 0 and m["latency_ms_p95"] >= m["latency_ms_p50"]
    # Short answers: a field on every question, scored against the gold answers.
    texts = {p["pid"]: p["text"] for p in POOL}
    shown = []
    for q in QUESTIONS:
        short = rows[q["id"]]["short_answer"]
        if short is not None:
            assert texts[q["context_id"]][short["start"]:short["end"]] == short["text"]
            shown.append((short["text"], q["answers"]))
    sa = m["short_answer"]["all"]
    assert sa["n"] == 3 and sa["shown"] == len(shown) and sa["coverage"] == len(shown) / 3
    if shown:
        from qa.answer_scoring import best_f1
        assert sa["precision"] == sum(best_f1(t, a) >= 0.5 for t, a in shown) / len(shown)
    assert m["short_answer"]["id"]["n"] == 2 and m["short_answer"]["en"]["n"] == 1
    index_files = list((default_model_dir.parent / "eval-indexes").glob("*/index.sqlite"))
    stamps = {f: f.stat().st_mtime_ns for f in index_files}
    second = subprocess.run(cmd[:-1], env=env, capture_output=True, text=True, timeout=600)
    assert second.returncode == 0, second.stderr
    assert "R@1" in second.stdout and "answer sentence" in second.stdout
    assert "short answers (all): given for" in second.stdout
    # The pool's index was reused, not rebuilt.
    assert {f: f.stat().st_mtime_ns for f in index_files} == stamps
