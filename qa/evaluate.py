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
