"""How much re-ranking the first passages by word coverage (qa/rerank.py) moves R@1, per dev
set and language, over a grid of weights and depths: how DEPTH and WEIGHT were chosen.

Run:  python benchmarks/rerank_dev.py [--sets xling,tydi,facqa,xquad] [--sample 800]
                                      [--variant plain|title|idf] [--work /tmp/rerank]

For each question, the product's own search (qa.retrieve.search) gives the fused top 10; the
first five hits' per-word coverage (qa.alignment, token states of the default model) is
read once and cached under --work, so the grid costs nothing more. Variants of the coverage,
measured and not shipped: `title` reads the article's title before the paragraph, `idf`
weights each question word by its inverse document frequency in the pool. Prints, per set and
language, R@1 without re-ranking and at each weight (re-ranking the first 3 and 5 of every
question), then re-ranking only questions whose vocabulary coverage is below a threshold, then
the shipped point's figures with a 2-fold cross-validated choice of weight beside them (folds
by question id), so the optimism of choosing on the same questions is in view.
"""
from __future__ import annotations

import argparse
import json
import math
import random
import sys
import time
import zlib
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.devsets import DATA, present  # noqa: E402

WEIGHTS = (0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4)
DEPTHS = (3, 5)
GATES = (0.5, 0.6, 0.7, 0.8, 0.9, 1.01)


def collect(name: str, qfile: Path, pfile: Path, sample: int | None, variant: str, depth: int) -> list[dict]:
    """One record per question: gold, coverage of the question's vocabulary, and for each of
    the first `depth` hits its pool id, fused score and per-word best cosines."""
    from index.corpus import lexical
    from qa import alignment
    from qa.engine import load_model
    from qa.evaluate import load_questions, pool_index
    from qa.retrieve import search

    embedder = load_model(None)
    store = pool_index(pfile, embedder)[0]
    paragraphs = store.counts()[1]
    questions = load_questions(qfile)
    if sample and len(questions) > sample:
        questions = random.Random(1).sample(questions, sample)
    out, started = [], time.time()
    for q in questions:
        query = search(store, embedder, q.question, 10)
        asked = embedder.token_states(q.question, "query")
        words = alignment.content_words(asked)
        spelled = ["".join(asked.pieces[r] for r in rows).replace("\u2581", "") for rows in words]
        terms = [next(iter(lexical.query_terms(w)), "") for w in spelled]
        df = _document_frequencies(store, terms) if variant == "idf" else {}
        idf = [math.log((paragraphs + 1) / (df.get(t, 0) + 0.5)) for t in terms]
        head = query.hits[:depth]
        texts = [f"{h.title}: {h.text}" if variant == "title" else h.text for h in head]
        hits = []
        for h, text in zip(head, texts):
            states = embedder.token_states(text, "passage")
            best = (asked.vectors @ states.vectors.T).max(axis=1) if len(states.pieces) else None
            per = [float(max(best[r] for r in rows)) for rows in words] if best is not None else []
            hits.append({"id": h.article_id, "score": h.score, "per_word": per})
        out.append({"id": q.id, "lang": q.lang, "gold": q.gold, "coverage": query.coverage,
                    "idf": idf, "hits": hits})
    print(f"{name}: {len(out)} questions in {time.time() - started:.0f} s", file=sys.stderr, flush=True)
    return out


def _document_frequencies(store, terms: list[str]) -> dict[str, int]:
    """Paragraphs holding each term, read from the FAISS store's FTS vocabulary (the product
    has no use for it, so the store does not offer it)."""
    wanted = [t for t in dict.fromkeys(terms) if t]
    if not wanted:
        return {}
    rows = store._conn().execute(
        f"SELECT term, doc FROM paragraphs_vocab WHERE term IN ({','.join('?' * len(wanted))})", wanted)
    return dict(rows)


def coverage(record: dict, hit: dict, variant: str) -> float:
    per = hit["per_word"]
    if not per:
        return 0.0
    if variant == "idf":
        w = record["idf"]
        return sum(a * b for a, b in zip(w, per)) / sum(w)
    return sum(per) / len(per)


def r_at_1(records: list[dict], lang: str, weight: float, depth: int, variant: str,
           below: float = 2.0) -> tuple[float, int]:
    """R@1 with the first `depth` hits re-ranked at `weight`, for questions whose vocabulary
    coverage is below `below` (the others keep the search's order)."""
    hit = n = 0
    for r in records:
        if r["lang"] != lang:
            continue
        n += 1
        head = r["hits"][:depth] if r["coverage"] < below else r["hits"][:1]
        if head:
            best = max(head, key=lambda h: h["score"] + weight * max(coverage(r, h, variant), 0.0))
            hit += best["id"] == r["gold"]
    return (hit / n if n else float("nan")), n


def cross_validated(records: list[dict], lang: str, depth: int, variant: str, below: float) -> float:
    """R@1 with the weight chosen on the other half of the questions, two folds."""
    folds = [[r for r in records if zlib.crc32(r["id"].encode()) % 2 == k] for k in (0, 1)]
    right = total = 0
    for k in (0, 1):
        chosen = max((0.0, *WEIGHTS), key=lambda w: r_at_1(folds[1 - k], lang, w, depth, variant, below)[0])
        value, n = r_at_1(folds[k], lang, chosen, depth, variant, below)
        right += value * n
        total += n
    return right / total if total else float("nan")


def main() -> None:
    from qa import rerank

    ap = argparse.ArgumentParser()
    ap.add_argument("--sets", default="xling,tydi,facqa,xquad")
    ap.add_argument("--sample", type=int, default=800, help="questions per set at most (seeded)")
    ap.add_argument("--variant", choices=("plain", "title", "idf"), default="plain")
    ap.add_argument("--work", type=Path, default=Path("/tmp/rerank"))
    args = ap.parse_args()
    if not DATA.is_dir():
        print(f"no dev data at {DATA}; nothing to measure", file=sys.stderr)
        return
    for name, qfile, pfile in present(args.sets):
        cache = args.work / f"{name}-{args.variant}-{args.sample}.json"
        if cache.exists():
            records = json.loads(cache.read_text())
        else:
            records = collect(name, qfile, pfile, args.sample, args.variant, max(DEPTHS))
            cache.parent.mkdir(parents=True, exist_ok=True)
            cache.write_text(json.dumps(records))
        for lang in sorted({r["lang"] for r in records}):
            base, n = r_at_1(records, lang, 0.0, 1, args.variant)
            print(f"\n{name}-{lang} ({n} questions, {args.variant}): R@1 without re-ranking {base:.3f}")
            for depth in DEPTHS:
                cells = " ".join(f"{w}:{r_at_1(records, lang, w, depth, args.variant)[0]:.3f}" for w in WEIGHTS)
                print(f"  every question, depth {depth}: {cells}")
            cells = " ".join(
                f"<{g}:{r_at_1(records, lang, rerank.WEIGHT, rerank.DEPTH, args.variant, g)[0]:.3f}"
                f"({sum(r['coverage'] < g for r in records if r['lang'] == lang) / n:.2f})" for g in GATES)
            print(f"  only below a vocabulary coverage (share re-ranked), depth {rerank.DEPTH}, "
                  f"weight {rerank.WEIGHT}: {cells}")
            shipped, _ = r_at_1(records, lang, rerank.WEIGHT, rerank.DEPTH, args.variant, rerank.COVERAGE_BELOW)
            cv = cross_validated(records, lang, rerank.DEPTH, args.variant, rerank.COVERAGE_BELOW)
            print(f"  shipped (coverage < {rerank.COVERAGE_BELOW}, depth {rerank.DEPTH}, weight "
                  f"{rerank.WEIGHT}): {shipped:.3f} ({shipped - base:+.3f}); weight chosen by 2-fold CV: {cv:.3f}")

if __name__ == "__main__":
    main()
