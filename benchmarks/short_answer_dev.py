"""Dev-set measure of the short answer (qa/short_answer.py): coverage and precision.

Run:  python benchmarks/short_answer_dev.py [--sets facqa:1036,tydi,xling] [--limit N]
                                            [--cache DIR] [--misses N] [--fit] [--by-kind]

The shipped weights come from `--sets facqa:1036,tydi,xling --fit` (--l2 5).

(`set:N`: the first N questions of that set; --limit N: of every set.)

Every question goes through the product's own retrieval and answer path (`qa.answer.answer`
over the set's cached pool index, questions embedded as `qa ask` embeds them). The ranked
passages and their answer sentences are cached once per set in --cache; later runs only
re-run the extractor, in seconds.

With --fit, the extractor's weights are fitted here (logistic regression on every candidate
span, labelled by token F1 >= 0.5 against gold), with 5-fold cross-validation grouped by
question: the figures printed are then each question's held-out result, and the weights
fitted on all questions are printed to paste into qa/short_answer.py.

Prints per set and language: the share of questions with some right candidate (the
ceiling) and whose most probable candidate is right, coverage (share given a short answer)
and precision (share of those whose token F1 against the best gold answer is >= 0.5, SQuAD
normalisation, qa/answer_scoring.py), then coverage/precision at other thresholds. TyDi's
121 official dev questions are reported apart from its 281 questions of TyDi's train split,
which the embedding model was trained on. `qa eval` reports the same measures, with exact
match and mean F1, for any question set.
"""
from __future__ import annotations

import argparse
import json
import math
import sys
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.devsets import DATA, SETS  # noqa: E402
from qa import short_answer as extractor  # noqa: E402
from qa.answer_scoring import RIGHT_F1, best_f1  # noqa: E402
from qa.answer_spans import norm  # noqa: E402
from qa.question_kind import read_question  # noqa: E402
from qa.types import AnswerPassage, Citation, Hit  # noqa: E402

K = 5


def collect(name: str, cache: Path, limit: int | None, cached_only: bool = False) -> list[dict]:
    """The set's questions with their answer path output, from the cache or by answering
    (resumable: one line per question, appended as it is answered)."""
    qfile, pfile = SETS[name]
    rows = [json.loads(line) for line in (DATA / qfile).open(encoding="utf-8") if line.strip()]
    if limit:
        rows = rows[:limit]
    path = cache / f"answers-{name}.jsonl"
    done = {}
    if path.exists():
        for line in path.open(encoding="utf-8"):
            if line.strip():
                r = json.loads(line)
                done[r["id"]] = r
    todo = [r for r in rows if str(r["id"]) not in done]
    if cached_only:
        return [done[str(r["id"])] for r in rows if str(r["id"]) in done]
    if todo:
        _answer_rows(name, pfile, todo, path)
        for line in path.open(encoding="utf-8"):
            if line.strip():
                r = json.loads(line)
                done[r["id"]] = r
    return [done[str(r["id"])] for r in rows]


def _answer_rows(name: str, pfile: str, rows: list[dict], path: Path) -> None:
    from index.indexing.build import manifest_for
    from qa import paths
    from qa.answer import answer
    from qa.engine import Engine, load_model
    from qa.evaluate import pool_index, pool_key

    embedder = load_model(None)
    pool = DATA / pfile
    folder = paths.cache_dir() / "eval-indexes" / pool_key(pool, manifest_for(embedder).fingerprint)
    if not (folder / "index.sqlite").exists():
        print(f"{name}: building the pool index (slow, once) in {folder}", file=sys.stderr)
    store, folder = pool_index(pool, embedder)
    engine = Engine(store=store, embedder=embedder, index_ref=folder)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        answer(engine, "warm up", k=K)
        with path.open("a", encoding="utf-8") as out:
            for i, r in enumerate(rows):
                started = time.perf_counter()
                result = answer(engine, r["question"], k=K)
                ms = 1000 * (time.perf_counter() - started)
                out.write(json.dumps({
                    "id": str(r["id"]), "question": r["question"], "lang": r.get("lang", "?"),
                    "answers": r.get("answers") or [], "gold": str(r.get("context_id", "")),
                    "official_split": r.get("official_split"), "ms": ms,
                    "confidence": result.confidence,
                    "passages": [{"rank": p.rank, "article_id": p.hit.article_id,
                                  "title": p.hit.title, "text": p.hit.text,
                                  "start": p.sentence_start, "end": p.sentence_end,
                                  "score": p.hit.score, "dense": p.hit.dense_score,
                                  "fused": p.hit.fused_score}
                                 for p in result.passages]}, ensure_ascii=False) + "\n")
                if (i + 1) % 50 == 0:
                    out.flush()
                    print(f"{name}: {i + 1}/{len(rows)}", file=sys.stderr)
    finally:
        engine.close()


def passages_of(row: dict) -> list[AnswerPassage]:
    out = []
    for p in row["passages"]:
        hit = Hit(paragraph_id=0, article_id=p["article_id"], title=p["title"], source="",
                  paragraph=1, line=0, text=p["text"], score=p["score"], dense_score=p["dense"],
                  fused_score=p.get("fused"))
        out.append(AnswerPassage(rank=p["rank"], hit=hit, answer_sentence=p["text"][p["start"]:p["end"]],
                                 sentence_start=p["start"], sentence_end=p["end"],
                                 citation=Citation(title=p["title"], source="", paragraph=1, line=0)))
    return out


def evidence(row: dict, weights: dict[str, float] | None = None,
             intercept: float | None = None) -> list[float] | None:
    """Each cached passage's best span probability, as qa.short_answer.by_evidence reads it;
    None where the product would not re-order (no span asked for, or the question was
    re-ranked: its vocabulary coverage was below the extractor's)."""
    passages = passages_of(row)[:extractor.AGREEMENT_DEPTH]
    q = read_question(row["question"]) if passages else None
    if q is None or passages[0].hit.fused_score is not None:
        return None
    return extractor.span_evidence(q, passages, row["confidence"], weights, intercept)


def reordered(row: dict, weights: dict[str, float] | None = None,
              intercept: float | None = None) -> dict:
    """The cached answer with its first passages in by_evidence's order (cached with a tree
    from before it, the order is the search's)."""
    probs = evidence(row, weights, intercept)
    if probs is None:
        return row
    head = [dict(p, score=p["score"] + extractor.evidence_bonus(b))
            for p, b in zip(row["passages"], probs)]
    head.sort(key=lambda p: -p["score"])
    passages = [dict(p, rank=i + 1) for i, p in enumerate(head + row["passages"][len(head):])]
    return dict(row, passages=passages)


def groups_of(name: str, row: dict) -> list[str]:
    if name == "tydi":
        split = "official dev" if row.get("official_split") == "tydiqa_dev" else "train split"
        return ["tydi all", f"tydi {split}"]
    if name == "xling":
        return [f"xling-{row['lang']}"]
    return [name]


def candidate_rows(row: dict) -> list[tuple[str, dict, bool, tuple[int, int]]]:
    """Each candidate's text, evidence, label (token F1 >= 0.5 against gold) and offsets."""
    passages = passages_of(row)
    q = read_question(row["question"]) if passages else None
    if q is None or passages[0].hit.fused_score is not None:
        # A re-ranked top passage means the question's vocabulary coverage was below
        # qa.rerank's threshold, which is extractor.MIN_COVERAGE: the product gives none.
        return []
    text = passages[0].hit.text
    out = []
    others = [p.hit for p in passages[1:]]
    for span, tokens, f in extractor.features(q, passages[0], others, row["confidence"]):
        a, b = tokens[span.first].start, tokens[span.last].end
        out.append((text[a:b], f, best_f1(text[a:b], row["answers"]) >= RIGHT_F1, (a, b)))
    return out


def _fit(questions: list[list[tuple[str, dict, bool]]], l2: float):
    """Weights by name and intercept, from standardised Newton logistic regression."""
    import numpy as np

    from benchmarks.confidence_dev import fit

    names = sorted({k for cands in questions for _, f, _, _ in cands for k in f})
    X = np.array([[f.get(k, 0.0) for k in names] for cands in questions for _, f, _, _ in cands])
    y = np.array([float(lab) for cands in questions for _, _, lab, _ in cands])
    mean, scale, w = fit(X, y, l2=l2)
    weights = {k: float(w[i + 1] / scale[i]) for i, k in enumerate(names)}
    intercept = float(w[0] - sum(w[i + 1] * mean[i] / scale[i] for i in range(len(names))))
    return weights, intercept


def choose(cands, weights=None, intercept=None, margin=None) -> tuple[str, float, bool] | None:
    """The most probable candidate, its probability (0 when another distinct candidate is
    within `margin` of it) and label."""
    margin = extractor.MARGIN if margin is None else margin
    best: dict[str, tuple[float, str, bool, tuple[int, int]]] = {}
    for got, f, lab, where in cands:
        p = extractor.probability(f, weights, intercept)
        key = norm(got)
        if key not in best or best[key][0] < p:
            best[key] = (p, got, lab, where)
    if not best:
        return None
    ranked = sorted(best.values(), key=lambda s: -s[0])
    p, got, lab, (a, b) = ranked[0]
    rival = next((r for r in ranked[1:] if r[3][1] <= a or r[3][0] >= b), None)
    if rival is not None and p - rival[0] < margin:
        p = 0.0
    return got, p, lab


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sets", default="facqa,tydi,xling,xquad")
    ap.add_argument("--limit", type=int, help="first N questions of each set")
    ap.add_argument("--cache", type=Path, default=Path("/tmp/qa-short-answer"))
    ap.add_argument("--misses", type=int, default=0, help="print N wrong short answers per group")
    ap.add_argument("--fit", action="store_true", help="fit the weights (cross-validated)")
    ap.add_argument("--fit-sets", default="facqa,tydi,xling",
                    help="sets whose questions the weights are fitted on")
    ap.add_argument("--l2", type=float, default=5.0)
    ap.add_argument("--repeat", default="", help="sets whose questions count twice in fitting")
    ap.add_argument("--threshold", type=float, default=extractor.THRESHOLD)
    ap.add_argument("--margin", type=float, default=extractor.MARGIN)
    ap.add_argument("--by-kind", action="store_true", help="also report per question kind")
    ap.add_argument("--json", type=Path, help="write the figures here")
    ap.add_argument("--order", action="store_true",
                    help="re-order the cached passages by span evidence first, as the product "
                         "does (the cache holds the search's order)")
    ap.add_argument("--cached-only", action="store_true",
                    help="score only the questions already answered in --cache (no model)")
    args = ap.parse_args()
    if not DATA.is_dir():
        print(f"no dev data at {DATA}; nothing to measure", file=sys.stderr)
        return
    items = []  # (set name, row, candidate rows)
    for item in args.sets.split(","):
        name, _, n = item.partition(":")
        for row in collect(name, args.cache, int(n) if n else args.limit, args.cached_only):
            items.append((name, row, candidate_rows(row)))
    chosen: list[tuple[str, float, bool] | None]
    if args.fit:
        import numpy as np

        fit_sets = set(args.fit_sets.split(","))
        fold = np.random.default_rng(0).integers(0, 5, len(items))
        chosen = [None] * len(items)
        for k in range(5):
            train = [c for i, (name, _, c) in enumerate(items) if fold[i] != k and name in fit_sets]
            train += [c for i, (name, _, c) in enumerate(items)
                      if fold[i] != k and name in fit_sets and name in args.repeat.split(",")]
            weights, intercept = _fit(train, args.l2)
            for i, (_, row, c) in enumerate(items):
                if fold[i] == k:
                    if args.order:
                        c = candidate_rows(reordered(row, weights, intercept))
                    chosen[i] = choose(c, weights, intercept, args.margin)
        weights, intercept = _fit([c for name, _, c in items if name in fit_sets], args.l2)
    else:
        chosen = [choose(candidate_rows(reordered(row)) if args.order else c, margin=args.margin)
                  for _, row, c in items]
    stats: dict[str, dict] = defaultdict(lambda: {"n": 0, "top_right": 0, "any_right": 0,
                                                  "sweep": defaultdict(lambda: [0, 0])})
    for (name, row, cands), got in zip(items, chosen):
        groups = groups_of(name, row)
        if args.by_kind:
            kind = (read_question(row["question"]) or None) and read_question(row["question"]).kind
            groups = groups + [f"{g} {kind}" for g in groups]
        for g in groups:
            s = stats[g]
            s["n"] += 1
            s["any_right"] += any(lab for _, _, lab, _ in cands)
            if got is None:
                continue
            s["top_right"] += got[2]
            for t in sorted({0.4, 0.45, 0.5, 0.55, 0.6, 0.7, args.threshold}):
                if got[1] >= t:
                    s["sweep"][t][0] += 1
                    s["sweep"][t][1] += got[2]
            if got[1] >= args.threshold and not got[2]:
                s.setdefault("misses", []).append((row["question"], got[0], row["answers"][:2]))
    print(f"{'set':22} {'n':>5} {'any':>6} {'best':>6} {'cover':>6} {'prec':>6}   "
          f"(threshold {args.threshold}, margin {args.margin}"
          f"{', cross-validated' if args.fit else ''})")
    out = {}
    for g, s in stats.items():
        shown, good = s["sweep"][args.threshold]
        out[g] = {"n": s["n"], "any_candidate_right": s["any_right"] / s["n"],
                  "best_candidate_right": s["top_right"] / s["n"], "coverage": shown / s["n"],
                  "precision": good / shown if shown else None, "shown": shown}
        prec = f"{good / shown:6.3f}" if shown else "     -"
        print(f"{g:22} {s['n']:>5} {s['any_right'] / s['n']:>6.3f} {s['top_right'] / s['n']:>6.3f} "
              f"{shown / s['n']:>6.3f} {prec}")
    print("(any: some candidate right; best: the most probable one right; a right answer has "
          "token F1 >= 0.5 against gold)")
    print("sweep, coverage/precision per threshold:")
    for g, s in stats.items():
        cells = [f"{t}: {v[0] / s['n']:.3f}/{v[1] / max(v[0], 1):.3f}" for t, v in sorted(s["sweep"].items())]
        print(f"  {g:20} " + "  ".join(cells))
    for g, s in stats.items():
        for m in s.get("misses", [])[:args.misses]:
            print(f"  miss [{g}] {m[0]!r} -> {m[1]!r}; gold {m[2]}")
    if args.fit:
        print("weights fitted on all questions of", args.fit_sets)
        print(f"INTERCEPT = {intercept:.4f}")
        print("WEIGHTS = {")
        for k, v in sorted(weights.items()):
            if not math.isclose(v, 0.0, abs_tol=1e-4):
                print(f"    {k!r}: {v:.4f},")
        print("}")
    if args.json:
        args.json.write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
