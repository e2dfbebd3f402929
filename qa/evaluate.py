"""Measure retrieval on question sets: the instrument every ranking change is judged by.

A question set is JSONL (`id`, `question`, `lang`, `context_id`, `answers`) over a passage
pool (`pid`, `title`, `text`); each pool passage becomes a one-paragraph article whose id is
its pid. Indexes of pools are cached by pool content and model, so repeated runs only embed
once.
"""
from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from index.types import Article, Paragraph


@dataclass(frozen=True)
class Question:
    id: str
    question: str
    lang: str
    gold: str
    answers: tuple[str, ...]


def load_questions(path: Path) -> list[Question]:
    out = []
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                row = json.loads(line)
                out.append(Question(row["id"], row["question"], row.get("lang", "?"),
                                    row.get("context_id", ""), tuple(row.get("answers") or ())))
    return out


def load_pool(path: Path) -> list[Article]:
    articles = []
    offset = 0
    with path.open(encoding="utf-8") as fh:
        for number, line in enumerate(fh, start=1):
            if line.strip():
                row = json.loads(line)
                text = row["text"]
                title = row.get("title") or ""
                paragraph = Paragraph(article_id=row["pid"], number=1, text=text, line=number,
                                      start=offset, end=offset + len(line))
                articles.append(Article(id=row["pid"], title=title or text[:60], source=str(path),
                                        paragraphs=[paragraph],
                                        metadata={"pool_title": title} if title else {}))
            offset += len(line)
    return articles


def pool_key(path: Path, fingerprint: str) -> str:
    digest = hashlib.sha256(path.read_bytes())
    digest.update(fingerprint.encode())
    return digest.hexdigest()[:16]


def metrics(ranked: dict[str, list[str]], questions: list[Question], ks=(1, 5, 10)) -> dict:
    """R@k and MRR@10 of the gold paragraph, overall and per language."""
    groups: dict[str, list[Question]] = defaultdict(list)
    for q in questions:
        groups["all"].append(q)
        groups[q.lang].append(q)
    out = {}
    for name, qs in groups.items():
        row = {"n": len(qs)}
        for k in ks:
            row[f"R@{k}"] = sum(q.gold in ranked[q.id][:k] for q in qs) / len(qs)
        rr = 0.0
        for q in qs:
            top = ranked[q.id][:10]
            if q.gold in top:
                rr += 1.0 / (top.index(q.gold) + 1)
        row["MRR@10"] = rr / len(qs)
        out[name] = row
    return out


def pool_index(pool: Path, embedder, progress=None):
    """An index of the pool (one article per passage, id = pid), built once per pool content,
    model and passage recipe, under the user cache dir."""
    from index.build import build_from_articles, manifest_for
    from index.store import Store
    from qa import paths

    folder = paths.cache_dir() / "eval-indexes" / pool_key(pool, manifest_for(embedder).fingerprint)
    if not (folder / "index.sqlite").exists():
        build_from_articles(load_pool(pool), folder, embedder, progress)
    return Store.open(folder, expect=manifest_for(embedder)), folder


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))] if ordered else 0.0


def evaluate(questions: list[Question], engine, k: int = 10, progress=None) -> dict:
    """Rank every question with the product's own answer path and score it.

    Latency is the wall time of `qa.answer.answer` per question (embedding, search, fetch and
    answer-sentence choice), the same work `qa ask` does once the model is loaded.
    """
    import time

    from qa.answer import answer

    ranked: dict[str, list[str]] = {}
    rows = []
    latencies = []
    sentence_hits = sentence_total = 0
    for i, q in enumerate(questions):
        started = time.perf_counter()
        result = answer(engine, q.question, k=k)
        latencies.append(time.perf_counter() - started)
        ranked[q.id] = [p.hit.article_id for p in result.passages]
        sentence = result.passages[0].answer_sentence if result.passages else ""
        if q.answers and ranked[q.id][:1] == [q.gold]:
            sentence_total += 1
            sentence_hits += any(a in sentence for a in q.answers)
        rows.append({"id": q.id, "lang": q.lang, "ranked": ranked[q.id], "answer_sentence": sentence})
        if progress:
            progress("evaluate", i + 1, len(questions))
    out = metrics(ranked, questions, ks=(1, 5, 10))
    summary = {
        "by_lang": out,
        "answer_sentence_hit_rate": sentence_hits / sentence_total if sentence_total else None,
        "answer_sentence_n": sentence_total,
        "latency_ms_p50": 1000 * _percentile(latencies, 0.5),
        "latency_ms_p95": 1000 * _percentile(latencies, 0.95),
    }
    return {"metrics": summary, "questions": rows}
