"""Fit and measure the "no confident answer" signal (qa/confidence.py).

Run:  python benchmarks/confidence_dev.py [--data ../shared/data] [--folds 5]

IDK-MRC: 764 Indonesian questions, half of them unanswerable from their paragraph; 762 of
their 764 paragraphs are in the TyDi pool, so each question is asked, through the product's
own answer path, against the TyDi pool index (4,650 paragraphs, the answerable paragraph
among them when there is one). Label: the question has an answer.

Prints cross-validated AUC and accuracy of each signal alone and of a logistic model fitted
on IDK-MRC alone, and, as a check that was never fitted on, the flag rate on questions asked
of the wrong corpus (TyDi and xling questions over the FacQA news pool) next to FacQA's own
questions over it. IDK-MRC is one more signal: the shipped coefficients are fitted on the
real case (the answer not in the index) by benchmarks/honest_dev.py.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from qa.confidence import Signals  # noqa: E402
from qa.evaluate import load_questions, pool_index  # noqa: E402

FEATURES = list(Signals.__dataclass_fields__)


def collect(engine, questions, label_of):
    from qa.answer import answer

    X, y = [], []
    for q in questions:
        result = answer(engine, q.question, k=5)
        if not result.signals:
            continue
        X.append([result.signals[f] for f in FEATURES])
        y.append(label_of(q))
    return np.array(X, dtype=float), np.array(y, dtype=float)


def fit(X, y, l2=1e-2, steps=50):
    """Logistic regression by Newton's method on standardised features."""
    mean, scale = X.mean(0), X.std(0) + 1e-9
    Z = np.hstack([np.ones((len(X), 1)), (X - mean) / scale])
    w = np.zeros(Z.shape[1])
    for _ in range(steps):
        p = 1 / (1 + np.exp(-Z @ w))
        grad = Z.T @ (p - y) + l2 * np.r_[0, w[1:]]
        hess = (Z.T * (p * (1 - p))) @ Z + l2 * np.diag(np.r_[0, np.ones(len(w) - 1)])
        w -= np.linalg.solve(hess, grad)
    return mean, scale, w


def predict(model, X):
    mean, scale, w = model
    return 1 / (1 + np.exp(-(w[0] + ((X - mean) / scale) @ w[1:])))


def auc(scores, y):
    order = np.argsort(scores)
    ranks = np.empty(len(scores))
    ranks[order] = np.arange(1, len(scores) + 1)
    pos = y == 1
    n1, n0 = pos.sum(), (~pos).sum()
    return (ranks[pos].sum() - n1 * (n1 + 1) / 2) / (n1 * n0)


def report(name, p, y, threshold=0.5):
    flag = p < threshold
    noans = y == 0
    acc = ((~flag) == (y == 1)).mean()
    prec = (flag & noans).sum() / max(flag.sum(), 1)
    rec = (flag & noans).sum() / max(noans.sum(), 1)
    kept = ((~flag) & ~noans).sum() / max((~noans).sum(), 1)
    print(f"{name:28} AUC {auc(p, y):.3f}  acc {acc:.3f}  'no confident answer': precision {prec:.3f} "
          f"recall {rec:.3f}; answerable kept {kept:.3f}")
    return {"auc": auc(p, y), "accuracy": acc, "flag_precision": prec, "flag_recall": rec,
            "answerable_kept": kept}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--out", type=Path)
    ap.add_argument("--features", type=Path, help="save the IDK-MRC features here (.npz)")
    args = ap.parse_args()
    if not args.data.is_dir():
        print(f"no dev data at {args.data}; nothing to measure", file=sys.stderr)
        return
    from qa.engine import Engine, load_model

    embedder = load_model(None)
    store, folder = pool_index(args.data / "tydiqa_goldp_id_passages.jsonl", embedder)
    engine = Engine(store=store, embedder=embedder, index_ref=folder)
    idk = load_questions(args.data / "idk_mrc_id_dev.jsonl")
    X, y = collect(engine, idk, lambda q: float(bool(q.answers)))
    if args.features:
        np.savez(args.features, X=X, y=y)
    print(f"IDK-MRC over the TyDi pool: {len(y)} questions, {int(y.sum())} answerable")

    results = {}
    for i, f in enumerate(FEATURES):
        results[f] = report(f"{f} alone (no fit)", X[:, i], y, threshold=np.median(X[:, i]))
    rng = np.random.default_rng(0)
    folds = rng.permutation(len(y)) % args.folds
    cv = np.empty(len(y))
    for k in range(args.folds):
        model = fit(X[folds != k], y[folds != k])
        cv[folds == k] = predict(model, X[folds == k])
    results["logistic, 5-fold CV"] = report(f"logistic, {args.folds}-fold CV", cv, y)
    for t in (0.3, 0.4, 0.5, 0.6):
        results[f"logistic, CV, threshold {t}"] = report(f"  threshold {t}", cv, y, threshold=t)

    model = fit(X, y)
    mean, scale, w = model
    print("\n# IDK-MRC-only fit (for comparison; qa/confidence.py's comes from honest_dev.py)")
    print("MEANS =", {f: round(float(m), 5) for f, m in zip(FEATURES, mean)})
    print("SCALES =", {f: round(float(s), 5) for f, s in zip(FEATURES, scale)})
    print("WEIGHTS =", {f: round(float(v), 5) for f, v in zip(FEATURES, w[1:])})
    print("INTERCEPT =", round(float(w[0]), 5))
    store.close()

    # Never fitted on: questions about other corpora, asked of the FacQA news pool, judged by
    # the model just fitted on IDK-MRC (the same one pasted into qa/confidence.py).
    from qa.types import THRESHOLD

    store, folder = pool_index(args.data / "facqa_news_id_passages.jsonl", embedder)
    engine = Engine(store=store, embedder=embedder, index_ref=folder)
    own = load_questions(args.data / "facqa_news_id_dev.jsonl")[:400]
    other = load_questions(args.data / "tydiqa_goldp_id_dev.jsonl")
    xling = [q for q in load_questions(args.data / "xling_enq_idctx_dev.jsonl") if q.lang == "en"][:200]
    for name, qs in (("FacQA questions (answerable)", own), ("TyDi questions (off-corpus)", other),
                     ("xling EN questions (off-corpus)", xling)):
        Xo, _ = collect(engine, qs, lambda q: 0.0)
        flagged = float(np.mean(predict(model, Xo) < THRESHOLD))
        results[f"facqa pool: {name}"] = {"flagged": flagged}
        print(f"FacQA pool, {name:32}: flagged 'no confident answer' {flagged:.3f} of {len(qs)}")
    store.close()
    if args.out:
        args.out.write_text(json.dumps(results, indent=1, default=float))


if __name__ == "__main__":
    main()
