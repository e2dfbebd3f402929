"""Dev-set sweep of ranking choices: dense only, lexical only, and fused variants.

Run:  python benchmarks/fusion_dev.py [--data ../shared/data] [--out benchmarks/fusion_dev.json]

Each pool is indexed once with the real pipeline (cached under the user cache dir by pool
content and model); each question is embedded once; every fusion variant then re-ranks the
same dense and lexical candidate lists, so variants are compared on identical inputs.
Prints R@1 and MRR@10 per set and language.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from qa.evaluate import load_questions, metrics, pool_index  # noqa: E402

from benchmarks.devsets import SETS  # noqa: E402


def candidates(store, embedder, questions, n=100):
    """Per question: lexical list, and exact (whole, best window) scores of every candidate."""
    qvecs = embedder.embed_queries([q.question for q in questions])
    lexical, views, coverage = {}, {}, {}
    for q, v in zip(questions, qvecs):
        dense_ids = [pid for pid, _ in store.search_dense(v, n)]
        lexical[q.id] = store.search_lexical(q.question, n)
        views[q.id] = store.view_scores(v, dense_ids + [pid for pid, _ in lexical[q.id]])
        coverage[q.id] = store.vocabulary_coverage(q.question)
    return views, lexical, coverage


def variants():
    from qa.retrieve import Fusion, dense_score, fuse

    def rrf(views, lx, k=60):
        dense = sorted(views, key=lambda p: -views[p][0])
        scores = {}
        for lst in (dense, [p for p, _ in lx]):
            for r, pid in enumerate(lst):
                scores[pid] = scores.get(pid, 0) + 1 / (k + r + 1)
        return [pid for pid, _ in sorted(scores.items(), key=lambda x: -x[1])]

    def fused(mix, w, power=None):
        """power None: fixed lexical weight; else weight * coverage**power."""
        def run(views, lx, cov):
            weight = w if power is None else w * cov ** power
            f = Fusion(window_mix=mix, lexical_weight=weight)
            return [r[0] for r in fuse({p: dense_score(a, b, f) for p, (a, b) in views.items()},
                                       lx if weight else [], f)]
        return run

    from qa.retrieve import DEFAULT_FUSION as d

    out = {"default": fused(d.window_mix, d.lexical_weight, d.coverage_power),
           "lexical": lambda views, lx, cov: [p for p, _ in lx],
           "rrf(whole)": lambda views, lx, cov: rrf(views, lx)}
    for mix in (0.0, 0.5):
        for w in (0.0, 0.05, 0.1, 0.2):
            out[f"mix{mix}-lex{w}"] = fused(mix, w)
    for w in (0.05, 0.1, 0.15, 0.2, 0.3):
        for power in (1, 2, 4):
            out[f"mix0.5-lex{w}*cov^{power}"] = fused(0.5, w, power)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    ap.add_argument("--out", type=Path)
    ap.add_argument("--sets", default=",".join(SETS))
    args = ap.parse_args()
    if not args.data.is_dir():
        print(f"no dev data at {args.data}; nothing to measure", file=sys.stderr)
        return
    from qa.engine import load_model

    embedder = load_model(None)
    results = {}
    for name in args.sets.split(","):
        qfile, pfile = SETS[name]
        questions = load_questions(args.data / qfile)
        store, _ = pool_index(args.data / pfile, embedder)
        views, lexical, coverage = candidates(store, embedder, questions)
        pid_of = {p.id: p.article_id for p in store.paragraphs(
            sorted({pid for v in views.values() for pid in v}))}
        for vname, fn in variants().items():
            ranked = {q.id: [pid_of[p] for p in fn(views[q.id], lexical[q.id], coverage[q.id])][:10] for q in questions}
            m = metrics(ranked, questions)
            results.setdefault(name, {})[vname] = m
            langs = " ".join(f"{lang}: R@1 {v['R@1']:.3f} MRR {v['MRR@10']:.3f}" for lang, v in m.items()
                             if lang != "all")
            print(f"{name:6} {vname:10} {langs}")
        for lang in sorted({q.lang for q in questions}):
            covs = sorted(coverage[q.id] for q in questions if q.lang == lang)
            print(f"{name:6} vocabulary coverage {lang}: median {covs[len(covs) // 2]:.2f}, "
                  f"p10 {covs[len(covs) // 10]:.2f}, p90 {covs[len(covs) * 9 // 10]:.2f}")
        store.close()
    if args.out:
        args.out.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
