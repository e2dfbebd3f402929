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

from index.errors import UserError
from index.corpus.types import Article, Paragraph
from index.storage.base import ArticleFilter
from qa import answer_scoring


@dataclass(frozen=True)
class Question:
    id: str
    question: str
    lang: str
    gold: str
    answers: tuple[str, ...]


def load_questions(path: Path) -> list[Question]:
    """The question set; a line that is not a usable question stops the run with one error
    naming file:line and why (a skipped question would silently change every figure)."""
    out = []
    seen: dict[str, int] = {}
    for number, row, _, _ in _jsonl_spans(path, "question"):
        qid = _field(path, number, row, "id", key=True)
        question = _field(path, number, row, "question")
        lang = _field(path, number, row, "lang", required=False) or "?"
        gold = _field(path, number, row, "context_id", key=True, required=False) or ""
        answers = row.get("answers") or []
        if not isinstance(answers, list) or not all(isinstance(a, str) for a in answers):
            raise UserError(f"{path}:{number}: `answers` must be a list of strings")
        if qid in seen:
            raise UserError(f"{path}:{number}: question id {qid!r} repeats line {seen[qid]}")
        seen[qid] = number
        out.append(Question(qid, question, lang, gold, tuple(answers)))
    if not out:
        raise UserError(f"{path}: no questions in the file")
    return out


def load_pool(path: Path) -> list[Article]:
    """The passage pool, one article per passage; a line that is not a usable passage stops
    the build with one error naming file:line and why."""
    articles = []
    seen: dict[str, int] = {}
    for number, row, start, end in _jsonl_spans(path, "passage"):
        pid = _field(path, number, row, "pid", key=True)
        text = _field(path, number, row, "text")
        title = _field(path, number, row, "title", required=False) or ""
        if pid in seen:
            raise UserError(f"{path}:{number}: pid {pid!r} repeats line {seen[pid]}")
        seen[pid] = number
        paragraph = Paragraph(article_id=pid, number=1, text=text, line=number, start=start, end=end)
        articles.append(Article(id=pid, title=title or text[:60], source=str(path),
                                paragraphs=[paragraph],
                                metadata={"pool_title": title} if title else {}))
    if not articles:
        raise UserError(f"{path}: no passages in the file")
    return articles


def _jsonl_spans(path: Path, what: str):
    """(line number, JSON object, start, end) for each non-blank line; start and end count
    characters from the file's start, as a paragraph's location does."""
    offset = 0
    try:
        with path.open(encoding="utf-8") as fh:
            for number, line in enumerate(fh, start=1):
                start, offset = offset, offset + len(line)
                if not line.strip():
                    continue
                try:
                    row = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise UserError(f"{path}:{number}: not JSON ({exc.msg} at column {exc.colno})") from None
                if not isinstance(row, dict):
                    raise UserError(f"{path}:{number}: a {what} must be a JSON object, got "
                                    f"{type(row).__name__}")
                yield number, row, start, offset
    except UnicodeDecodeError as exc:
        raise UserError(f"{path}: not UTF-8 text ({exc.reason})") from None
    except OSError as exc:
        raise UserError(f"{path}: cannot read ({exc.strerror or exc})") from None


def _field(path: Path, number: int, row: dict, name: str, *, key: bool = False,
           required: bool = True) -> str | None:
    """A string field of a JSONL row; ids (`key`) may be written as integers too."""
    value = row.get(name)
    if value is None or value == "":
        if required:
            raise UserError(f"{path}:{number}: " + (f"no `{name}` field" if value is None
                                                    else f"`{name}` is empty"))
        return None
    if key and isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if not isinstance(value, str):
        raise UserError(f"{path}:{number}: `{name}` must be a string, got {type(value).__name__}")
    if required and not value.strip():
        raise UserError(f"{path}:{number}: `{name}` is blank")
    return value


def pool_key(path: Path, fingerprint: str) -> str:
    """The pool's content, the model, and what an index holds: a pool indexed by an older qa
    (without word senses, say) is indexed again rather than migrated and missing them."""
    from index.storage.base import SCHEMA_VERSION

    digest = hashlib.sha256(path.read_bytes())
    digest.update(fingerprint.encode())
    digest.update(f"schema {SCHEMA_VERSION}".encode())
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
    from index.indexing.build import build_from_articles, manifest_for
    from index.storage.faiss.store import Store
    from qa import paths

    folder = paths.cache_dir() / "eval-indexes" / pool_key(pool, manifest_for(embedder).fingerprint)
    if not (folder / "index.sqlite").exists():
        build_from_articles(load_pool(pool), folder, embedder, progress)
    return Store.open(folder, expect=manifest_for(embedder)), folder


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))] if ordered else 0.0


def _confident_share(rows: list[dict], questions: list[Question], first: bool) -> float | None:
    """Share of questions judged confident among those whose gold paragraph is (not) ranked
    first."""
    return confident_share([r["confident"] for r, q in zip(rows, questions)
                            if (r["ranked"][:1] == [q.gold]) == first])


def confident_share(judgements: list[bool | None]) -> float | None:
    """Share judged confident; None when there is none to count or no judgement was made (a
    model the calibration was not made for)."""
    if not judgements or any(c is None for c in judgements):
        return None
    return sum(judgements) / len(judgements)


def _short_answer_metrics(questions: list[Question], shown: list[str | None]) -> dict:
    """qa.answer_scoring's summary over all questions and per language."""
    out = {"all": answer_scoring.summary(shown, [list(q.answers) for q in questions])}
    for lang in sorted({q.lang for q in questions}):
        pick = [i for i, q in enumerate(questions) if q.lang == lang]
        out[lang] = answer_scoring.summary([shown[i] for i in pick],
                                           [list(questions[i].answers) for i in pick])
    return out


def evaluate(questions: list[Question], engine, k: int = 10, progress=None,
             where: ArticleFilter | None = None) -> dict:
    """Rank every question with the product's own answer path and score it; `where` limits
    the passages searched, as `qa ask --since/--until/--source/--article` does.

    Latency is the wall time of `qa.answer.answer` per question (embedding, search, fetch and
    answer-sentence choice), the same work `qa ask` does once the model is loaded.
    """
    import time

    from qa.answer import answer

    ranked: dict[str, list[str]] = {}
    rows = []
    latencies = []
    short_answers: list[str | None] = []
    sentence_hits = sentence_total = 0
    for i, q in enumerate(questions):
        started = time.perf_counter()
        result = answer(engine, q.question, k=k, where=where)
        latencies.append(time.perf_counter() - started)
        ranked[q.id] = [p.hit.article_id for p in result.passages]
        sentence = result.passages[0].answer_sentence if result.passages else ""
        if q.answers and ranked[q.id][:1] == [q.gold]:
            sentence_total += 1
            sentence_hits += any(a in sentence for a in q.answers)
        short = result.short_answer
        rows.append({"id": q.id, "lang": q.lang, "ranked": ranked[q.id], "answer_sentence": sentence,
                     "confident": result.confident, "confidence": result.confidence,
                     "short_answer": short.as_dict() if short else None})
        short_answers.append(short.text if short else None)
        if progress:
            progress("evaluate", i + 1, len(questions))
    out = metrics(ranked, questions, ks=(1, 5, 10))
    summary = {
        "by_lang": out,
        "answer_sentence_hit_rate": sentence_hits / sentence_total if sentence_total else None,
        "answer_sentence_n": sentence_total,
        "confident_when_first": _confident_share(rows, questions, first=True),
        "confident_otherwise": _confident_share(rows, questions, first=False),
        "short_answer": _short_answer_metrics(questions, short_answers),
        "latency_ms_p50": 1000 * _percentile(latencies, 0.5),
        "latency_ms_p95": 1000 * _percentile(latencies, 0.95),
    }
    return {"metrics": summary, "questions": rows}
