"""Junk paragraphs on IndoSum (issue 14): what the reading rules drop, and whether any junk
still reaches a top-5 answer.

    QA_MODEL_CACHE=/tmp/qacache python benchmarks/junk_indosum.py [--questions 200] [--articles 600]
    python benchmarks/junk_indosum.py --no-index      # part 1 only (no model, seconds)

1. Every IndoSum paragraph goes through the real JSONL reader; each one that does not come
   out as a passage is counted by why (`index.corpus.junk` kind, by-line kept as metadata, repeat).
   A random sample (fixed seed) of 40 dropped and 40 kept short (< 60 characters) paragraphs
   is printed so a person can judge the rules' precision by eye.
2. `--questions` articles are chosen with a fixed seed; the first sentence of each one's
   `summary` is a question. They and random distractors (`--articles` in all) are indexed
   with the library (index.indexing.lifecycle.add_paths, real model, FAISS, SQLite), every question is
   answered by the product's answer path (qa.answer.answer, k=5: the passages a user is
   shown, sub-headings left out), and each passage is checked by an independent,
   stricter test than the rules: fewer than 4 words, or no run of 3 lowercase words. The
   count of such hits is printed with each one, so a rule gap shows as a named paragraph.

The data is expected at ../shared/data/indosum_news_articles.jsonl beside the repo.
"""
from __future__ import annotations

import argparse
import collections
import json
import random
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "indosum_news_articles.jsonl"
SEED = 14
_LOWER_RUN = re.compile(r"(?<![^\W\d_])[a-z]+(?:[ ,]+[a-z]+){2,}(?![^\W\d_])")


def strict_junk(text: str) -> bool:
    """The independent check: under 4 words, or no run of three lowercase words."""
    return len(text.split()) < 4 or not _LOWER_RUN.search(text)


def why_dropped(text: str) -> str:
    from index.corpus.junk import junk_kind
    from index.corpus.read_text import _METADATA, _METADATA_MAX_CHARS

    kind = junk_kind(text)
    if kind == "navigation":
        return kind
    if len(text) <= _METADATA_MAX_CHARS and _METADATA.match(text):
        return "by-line kept as metadata"
    return kind or "repeat within the article"


def drop_census(records: list[tuple[int, dict, str]]) -> None:
    from index.corpus.read_jsonl import parse_record
    from index.errors import ReadError

    rng = random.Random(SEED)
    total = 0
    kinds: collections.Counter[str] = collections.Counter()
    dropped: list[tuple[str, str]] = []
    kept_short: list[str] = []
    for lineno, record, line in records:
        paragraphs = [" ".join(p.split()) for p in record.get("paragraphs", []) if p.strip()]
        total += len(paragraphs)
        try:
            article = parse_record(Path("indosum.jsonl"), lineno, line, 0)
            out = collections.Counter(p.text for p in article.paragraphs)
        except ReadError:
            out = collections.Counter()
        for text in paragraphs:
            if out[text] > 0:
                out[text] -= 1
                if len(text) < 60:
                    kept_short.append(text)
                continue
            kind = why_dropped(text)
            kinds[kind] += 1
            dropped.append((kind, text))
    print(f"IndoSum: {len(records)} articles, {total} paragraphs; dropped at reading "
          f"{sum(kinds.values())} ({100 * sum(kinds.values()) / total:.2f}%):")
    for kind, n in kinds.most_common():
        print(f"  {kind:28} {n}")
    print(f"\nrandom 40 of the {len(dropped)} dropped (seed {SEED}):")
    for kind, text in rng.sample(dropped, min(40, len(dropped))):
        print(f"  [{kind}] {text[:110]!r}")
    print(f"\nrandom 40 of the {len(kept_short)} kept paragraphs under 60 characters:")
    for text in rng.sample(kept_short, min(40, len(kept_short))):
        print(f"  {text!r}")


def first_sentence(record: dict) -> str:
    summary = record.get("summary")
    if isinstance(summary, list):  # IndoSum keeps summaries as text; be tolerant
        summary = " ".join(map(str, summary))
    return (summary or "").split(". ")[0].strip()


def top5_check(records: list[tuple[int, dict, str]], n_questions: int, n_articles: int,
               model_name: str | None) -> None:
    from index.indexing.lifecycle import add_paths, open_writable
    from index.storage.faiss.store import Store
    from qa.answer import answer
    from qa.engine import Engine, load_model

    rng = random.Random(SEED)
    usable = [r for r in records if len(first_sentence(r[1]).split()) >= 5]
    chosen = rng.sample(usable, n_questions)
    ids = {id(r) for r in chosen}
    rest = [r for r in records if id(r) not in ids]
    slice_ = chosen + rng.sample(rest, max(0, n_articles - n_questions))
    work = Path(tempfile.mkdtemp(prefix="qa-junk-"))
    try:
        corpus = work / "slice.jsonl"
        corpus.write_text("".join(line + "\n" for _, _, line in slice_), encoding="utf-8")
        embedder = load_model(model_name)
        started = time.perf_counter()
        with open_writable(work / "idx", embedder) as store:
            report = add_paths(store, embedder, [corpus])
        print(f"\nindexed {report.added} articles, {report.paragraphs_embedded} paragraphs "
              f"({report.vectors_embedded} vectors) in {time.perf_counter() - started:.0f} s; "
              f"errors: {len(report.errors)}")
        questions = [first_sentence(r[1]) for r in chosen]
        with Store.open(work / "idx") as store:
            stored = [p for a in store.articles() for p in store.article_paragraphs(a.id)]
            n_strict = sum(strict_junk(p.text) for p in stored)
            print(f"stored passages failing the strict check: {n_strict} of {len(stored)}")
            model = load_model(store.manifest.model)
            engine = Engine(store=store, embedder=model, index_ref=work / "idx")
            flagged = []
            hits_total = 0
            own_top5 = 0
            for (_, record, _), question in zip(chosen, questions):
                hits = [p.hit for p in answer(engine, question, k=5).passages]
                hits_total += len(hits)
                own_top5 += any(h.article_id == str(record.get("id")) for h in hits)
                flagged += [(question, h) for h in hits if strict_junk(h.text)]
        print(f"{len(questions)} questions, {hits_total} top-5 passages: "
              f"{len(flagged)} fail the strict junk check; the question's own article in the "
              f"top 5 for {own_top5}/{len(questions)}")
        for question, hit in flagged:
            print(f"  {hit.article_id} p{hit.paragraph}: {hit.text[:100]!r}  <- {question[:60]!r}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--questions", type=int, default=200)
    parser.add_argument("--articles", type=int, default=600)
    parser.add_argument("--model", default=None)
    parser.add_argument("--no-index", action="store_true", help="part 1 only")
    args = parser.parse_args(argv)
    if not args.data.is_file():
        print(f"IndoSum not found at {args.data}; nothing to measure.", file=sys.stderr)
        return 0
    records = []
    with open(args.data, encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, start=1):
            line = line.rstrip("\n")
            if line.strip():
                records.append((lineno, json.loads(line), line))
    drop_census(records)
    if not args.no_index:
        top5_check(records, args.questions, args.articles, args.model)
    return 0


if __name__ == "__main__":
    sys.exit(main())
