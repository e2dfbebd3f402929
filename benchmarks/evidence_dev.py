"""Dev-set measure of ordering the first passages by their span evidence
(qa.short_answer.by_evidence): R@1 per set for several weights and two shapes of the bonus,
with the extractor's weights cross-validated.

Run:  python benchmarks/evidence_dev.py [--sets tydi,xling,facqa] [--cache DIR]

It reads the answers cached by benchmarks/short_answer_dev.py (same --cache; run that first,
with a tree from before the ordering, so the cached order is the search's). The extractor's
weights are fitted on four fifths of the questions (folds by question id, the sets the
shipped weights are fitted on together) and each question is re-ordered with the weights its fold
did not see: the shipped weights were fitted on these very questions' right spans, so
measuring with them would flatter the ordering.
"""
from __future__ import annotations

import argparse
import sys
import zlib
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.devsets import DATA  # noqa: E402
from benchmarks.short_answer_dev import _fit, candidate_rows, collect, evidence, groups_of, \
    passages_of  # noqa: E402
from qa import short_answer as extractor  # noqa: E402

WEIGHTS = (0.0, 0.01, 0.02, 0.03, 0.04, 0.05, 0.07)
FOLDS = 5


def main() -> None:
    if not DATA.is_dir():
        print(f"no dev data at {DATA}; nothing to measure", file=sys.stderr)
        return
    ap = argparse.ArgumentParser()
    ap.add_argument("--sets", default="tydi,xling,facqa")
    ap.add_argument("--cache", type=Path, default=Path("/tmp/qa-short-answer"))
    ap.add_argument("--l2", type=float, default=5.0)
    ap.add_argument("--fit-sets", default="facqa,tydi,xling",
                    help="the sets the extractor is fitted on, as the shipped weights are")
    args = ap.parse_args()
    items = [(name, row, candidate_rows(row), zlib.crc32(row["id"].encode()) % FOLDS)
             for name in args.sets.split(",")
             for row in collect(name, args.cache, None, cached_only=True)]
    fit_sets = set(args.fit_sets.split(","))
    fitted = {k: _fit([c for name, _, c, f in items if f != k and name in fit_sets], args.l2)
              for k in range(FOLDS)}
    shapes = {  # the bonus for a best-span probability p, per weight w
        "over": lambda w, p: w * max(p - extractor.THRESHOLD, 0.0) / (1.0 - extractor.THRESHOLD),
        "linear": lambda w, p: w * p,
    }
    right: dict[str, dict] = defaultdict(lambda: defaultdict(int))
    for name, row, _, fold in items:
        passages = passages_of(row)
        if not passages:
            continue
        probs = evidence(row, *fitted[fold]) or [0.0] * len(passages)
        for g in groups_of(name, row):
            right[g]["n"] += 1
            right[g]["applies"] += any(probs)
            for shape, bonus in shapes.items():
                for w in WEIGHTS:
                    order = sorted(range(len(probs)),
                                   key=lambda i: -(passages[i].hit.score + bonus(w, probs[i])))
                    right[g][shape, w] += passages[order[0]].hit.article_id == row["gold"]
    print(f"R@1 by evidence weight (extractor weights cross-validated, {FOLDS} folds); "
          f"'over': only a span above the extractor's threshold lifts its passage (shipped, "
          f"weight {extractor.EVIDENCE_WEIGHT}); 'linear': every span, by its probability")
    for shape in shapes:
        print(f"{shape:8}{'set':18} {'n':>5} {'applies':>7}  " + "  ".join(f"{w:>6}" for w in WEIGHTS))
        for g, r in right.items():
            print(f"{'':8}{g:18} {r['n']:>5} {r['applies'] / r['n']:>7.3f}  "
                  + "  ".join(f"{r[shape, w] / r['n']:>6.4f}" for w in WEIGHTS))

if __name__ == "__main__":
    main()
