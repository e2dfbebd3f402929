"""Dev-set experiment: does scoring a paragraph by its best word window help retrieval?

Run:  python benchmarks/windows_dev.py [--data ../shared/data] [--sets tydi,facqa,xling,xquad]

A question often targets one clause of a long paragraph; the paragraph's single vector then
averages that clause with everything else, which hurts most across languages. This embeds
overlapping word windows of every pool paragraph, scores a paragraph by
mix * best window + (1 - mix) * whole paragraph (exact search, numpy), and prints R@1 and
MRR@10 per set and language for several window sizes and mixes. Embeddings are cached in
the user cache dir by pool content and model.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.fusion_dev import SETS  # noqa: E402
from qa import paths  # noqa: E402
from qa.evaluate import load_pool, load_questions, metrics, pool_key  # noqa: E402


def windows(text: str, size: int, stride: int) -> list[str]:
    words = text.split()
    if len(words) <= size:
        return []
    return [" ".join(words[i:i + size]) for i in range(0, len(words) - size + stride, stride)]


def cached(name: str, key: str, make):
    folder = paths.cache_dir() / "dev-embeddings"
    folder.mkdir(parents=True, exist_ok=True)
    f = folder / f"{name}-{key}.npy"
    if f.exists():
        return np.load(f)
    t = time.perf_counter()
    arr = make()
    np.save(f, arr)
    print(f"  embedded {name} ({len(arr)}) in {time.perf_counter() - t:.0f} s", file=sys.stderr)
    return arr


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    ap.add_argument("--sets", default=",".join(SETS))
    ap.add_argument("--sizes", default="12:6")
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()
    from index.corpus.passages import passage_text
    from qa.engine import load_model

    embedder = load_model(None)
    results = {}
    for name in args.sets.split(","):
        qfile, pfile = SETS[name]
        questions = load_questions(args.data / qfile)
        pool = load_pool(args.data / pfile)
        key = pool_key(args.data / pfile, embedder.fingerprint)
        texts = [passage_text(a, a.paragraphs[0]) for a in pool]
        P = cached(f"{name}-para", key, lambda: embedder.embed_passages(texts))
        Q = cached(f"{name}-q", key, lambda: embedder.embed_queries([q.question for q in questions]))
        pids = [a.id for a in pool]
        S_para = Q @ P.T
        variants = {"dense": S_para}
        for spec in args.sizes.split(","):
            size, stride = map(int, spec.split(":"))
            owner, wtexts = [], []
            for i, t in enumerate(texts):
                for w in windows(t, size, stride):
                    owner.append(i)
                    wtexts.append(w)
            W = cached(f"{name}-win{size}x{stride}", key, lambda: embedder.embed_passages(wtexts))
            owner = np.array(owner, dtype=np.int64)
            S_win = Q @ W.T
            best = S_para.copy()
            for j in range(len(owner)):
                pass
            # max over windows per paragraph (paragraphs without windows keep their own score)
            best = S_para.copy()
            order = np.argsort(owner, kind="stable")
            owner_sorted = owner[order]
            starts = np.r_[0, np.flatnonzero(np.diff(owner_sorted)) + 1]
            mx = np.maximum.reduceat(S_win[:, order], starts, axis=1)
            best[:, owner_sorted[starts]] = np.maximum(best[:, owner_sorted[starts]], mx)
            for mix in (0.25, 0.5, 0.75, 1.0):
                variants[f"win{size}x{stride}-mix{mix}"] = mix * best + (1 - mix) * S_para
        for vname, S in variants.items():
            top = np.argsort(-S, axis=1)[:, :10]
            ranked = {q.id: [pids[i] for i in top[j]] for j, q in enumerate(questions)}
            m = metrics(ranked, questions)
            results.setdefault(name, {})[vname] = m
            print(f"{name:6} {vname:22} " + " ".join(
                f"{lang}: R@1 {v['R@1']:.3f} MRR {v['MRR@10']:.3f}" for lang, v in m.items() if lang != "all"),
                flush=True)
    if args.out:
        args.out.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
