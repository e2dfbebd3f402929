"""Fit and measure "no confident answer" (qa/confidence.py) on benchmarks/calibration_data.py's rows.

Run:  python benchmarks/honest_dev.py [--rows /tmp/honest/calibration_rows.json] [--folds 5]
                                      [--features top,lead,z,sentence,words] [--threshold 0.5]

Training rows: answerable questions whose answering paragraph is ranked first (label 1); the
same questions with that paragraph removed, questions asked of another set's pool and everyday
questions (label 0). Folds are grouped by question, so a question's variants (full, removed,
off-topic, its English and Indonesian xling rows) never straddle a training and a test fold.

Prints, per set and language, from cross-validated probabilities: ROC AUC of answerable
(ranked first) against answer removed, the share of answerable-and-first kept as answers, and
the share of removed / off-topic / everyday questions flagged, at the threshold; then the same
with the coefficients fitted on all rows, which are printed to paste into qa/confidence.py.
"""
from __future__ import annotations

import argparse
import json
import sys
import zlib
from collections import defaultdict
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.confidence_dev import auc, fit, predict  # noqa: E402
from qa.confidence import MEANS  # noqa: E402

DEFAULT_FEATURES = list(MEANS)  # the shipped model's features


def slices(rows):
    """(name, rows) for every set and language, in a fixed order."""
    by = defaultdict(list)
    for r in rows:
        by[(r["set"], r["lang"])].append(r)
    return sorted(by.items())


def table(rows, p, threshold):
    """Per set and language: AUC (first vs removed), kept, flagged removed/off-topic/everyday."""
    out = {}
    for (s, lang), rs in slices([{**r, "_p": float(pi)} for r, pi in zip(rows, p)]):
        pos = [r["_p"] for r in rs if r["kind"] == "full" and r["label"] == 1]
        rem = [r["_p"] for r in rs if r["kind"] == "removed"]
        off = [r["_p"] for r in rs if r["kind"] == "offtopic"]
        every = defaultdict(list)
        for r in rs:
            if r["kind"] == "everyday":
                every[r["pool"]].append(r["_p"])
        row = {}
        if pos and rem:
            y = np.r_[np.ones(len(pos)), np.zeros(len(rem))]
            row["auc_first_vs_removed"] = float(auc(np.r_[pos, rem], y))
        if pos:
            row["kept"] = float(np.mean(np.array(pos) >= threshold))
            row["n_first"] = len(pos)
        if rem:
            row["removed_flagged"] = float(np.mean(np.array(rem) < threshold))
        if off:
            row["offtopic_flagged"] = float(np.mean(np.array(off) < threshold))
            row["n_offtopic"] = len(off)
        for pool, ps in every.items():
            row[f"everyday_{pool}_flagged"] = float(np.mean(np.array(ps) < threshold))
        out[f"{s}-{lang}"] = row
    return out


def logit(p: float) -> float:
    return float(np.log(p / (1 - p)))


def balanced_cut(rows, p) -> float:
    """The cut on `p` maximising min(worst set's kept share, worst set's off-topic flagged)."""
    best = (-1.0, 0.5)
    for t in np.round(np.arange(0.01, 1.0, 0.01), 2):
        tab = table(rows, p, t).values()
        kept = min((r["kept"] for r in tab if "kept" in r), default=0.0)
        off = min((r["offtopic_flagged"] for r in tab if "offtopic_flagged" in r), default=0.0)
        best = max(best, (min(kept, off), float(t)))  # on a tie, the stricter cut
    return best[1]


def show(title, t):
    print(f"\n{title}")
    print(f"{'set':12} {'AUC':>6} {'kept':>6} {'n1st':>5} {'rem.fl':>7} {'off.fl':>7} {'n_off':>5}  everyday")
    for name, r in t.items():
        every = " ".join(f"{k[9:-8]} {v:.3f}" for k, v in r.items() if k.startswith("everyday_"))
        print(f"{name:12} {r.get('auc_first_vs_removed', float('nan')):6.3f} {r.get('kept', float('nan')):6.3f} "
              f"{r.get('n_first', 0):5d} {r.get('removed_flagged', float('nan')):7.3f} "
              f"{r.get('offtopic_flagged', float('nan')):7.3f} {r.get('n_offtopic', 0):5d}  {every}")


def matrix(rows, features):
    """The product's own features (qa.confidence.features) of each row's signals, so what is
    fitted here is exactly what the answer path computes."""
    from qa.confidence import Signals
    from qa.confidence import features as model_features

    fields = list(Signals.__dataclass_fields__)
    return np.array([[model_features(Signals(**{f: r.get(f) for f in fields}))[f] for f in features]
                     for r in rows], dtype=float)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=Path, nargs="+", default=[Path("/tmp/honest/calibration_rows.json")])
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--features", default=",".join(DEFAULT_FEATURES))
    ap.add_argument("--threshold", type=float, default=None, help="default: the shipped one")
    ap.add_argument("--l2", type=float, default=1e-2)
    ap.add_argument("--idk", action="store_true", help="also train on IDK-MRC rows")
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()
    if not all(path.exists() for path in args.rows):
        print(f"no rows at {args.rows}; run benchmarks/calibration_data.py first", file=sys.stderr)
        return
    features = args.features.split(",")
    if args.threshold is None:
        from qa.types import THRESHOLD

        args.threshold = THRESHOLD
    unique = {}
    for path in args.rows:  # several collections may overlap: one row per question and case
        for r in json.loads(path.read_text()):
            unique.setdefault((r["kind"], r["set"], r["lang"], r["pool"], r["id"]), r)
    rows = [r for r in unique.values() if r["label"] is not None]
    if not args.idk:
        rows = [r for r in rows if r["kind"] != "idk"]
    X, y = matrix(rows, features), np.array([r["label"] for r in rows], dtype=float)
    folds = np.array([zlib.crc32(r["group"].encode()) % args.folds for r in rows])
    print(f"{len(rows)} rows ({int(y.sum())} answerable and first); features {features}")

    for i, f in enumerate(features):
        print(f"  {f:12} alone: AUC {auc(X[:, i], y):.3f} (all rows)")
    cv = np.empty(len(y))
    for k in range(args.folds):
        train = folds != k
        cv[~train] = predict(fit(X[train], y[train], l2=args.l2), X[~train])
    print(f"logistic, {args.folds}-fold grouped CV: AUC {auc(cv, y):.3f} (all rows)")
    # The rows hold about two no-answer cases to each answerable one, a mix of our choosing,
    # so the fitted probabilities carry that prior. The operating point is chosen instead: the
    # cut where the worst set's share of answerable questions kept and its share of off-topic
    # questions flagged are best together (max of their minimum, the two bars); the
    # intercept printed below is moved so that this cut falls at the product's THRESHOLD.
    point = balanced_cut(rows, cv)
    shift = logit(args.threshold) - logit(point)
    print(f"operating point (cross-validated): {point:.2f} on the fitted scale, moved to {args.threshold}")
    results = {"operating_point": point, "cv": table(rows, cv, point)}
    show("cross-validated, at the operating point", results["cv"])
    print("\nthreshold sweep (cross-validated, fitted scale): worst set's share kept / off-topic flagged / "
          "removed flagged / everyday flagged")
    for t in np.round(np.arange(0.1, 0.91, 0.05), 2):
        tab = table(rows, cv, t)
        worst = {k: min((r[k] for r in tab.values() if k in r), default=float("nan"))
                 for k in ("kept", "offtopic_flagged", "removed_flagged")}
        every = min((v for r in tab.values() for k, v in r.items() if k.startswith("everyday_")),
                    default=float("nan"))
        print(f"  {t:.2f}: kept {worst['kept']:.3f}  off-topic {worst['offtopic_flagged']:.3f}  "
              f"removed {worst['removed_flagged']:.3f}  everyday {every:.3f}")
    model = fit(X, y, l2=args.l2)
    mean, scale, w = model
    w = w.copy()
    w[0] += shift
    results["fitted"] = table(rows, predict((mean, scale, w), X), args.threshold)
    show(f"fitted on all rows, threshold {args.threshold} (intercept moved)", results["fitted"])

    print("\n# paste into qa/confidence.py")
    print("MEANS =", {f: round(float(m), 5) for f, m in zip(features, mean)})
    print("SCALES =", {f: round(float(s), 5) for f, s in zip(features, scale)})
    print("WEIGHTS =", {f: round(float(v), 5) for f, v in zip(features, w[1:])})
    print("INTERCEPT =", round(float(w[0]), 5))
    if args.out:
        args.out.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
