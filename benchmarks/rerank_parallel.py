"""Does word coverage in context (qa.alignment, as qa.rerank uses it) find the translation of an
English sentence among Indonesian ones better than the dense cosine alone? Measured on the
parallel news sentences, which the product never sees.

Run:  QA_MODEL_CACHE=/tmp/qacache python benchmarks/rerank_parallel.py [--sample 400]

Every Indonesian sentence of ../shared/data/news_en_id_parallel.jsonl is embedded as a
passage; a seeded sample of the English sentences is asked as questions. Prints P@1 of the
paired Indonesian sentence by the dense cosine alone and after qa.rerank re-scores the dense
top DEPTH (the pair's share in that top is the ceiling), and, for the first few sentences,
each English content word with the Indonesian token it matched best in the pair.
"""
from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.devsets import DATA  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sample", type=int, default=400)
    ap.add_argument("--show", type=int, default=5)
    args = ap.parse_args()
    path = DATA / "news_en_id_parallel.jsonl"
    if not path.is_file():
        print(f"no parallel sentences at {path}; nothing to measure", file=sys.stderr)
        return
    import numpy as np

    from qa import alignment, rerank
    from qa.engine import load_model
    from qa.types import Hit

    pairs = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    indonesian = [p["id_text"] for p in pairs]
    encoder = load_model(None)
    passages = encoder.embed_passages(indonesian)
    asked = random.Random(1).sample(range(len(pairs)), min(args.sample, len(pairs)))
    questions = encoder.embed_queries([pairs[i]["en"] for i in asked])
    dense_right = reranked_right = in_reach = 0
    for n, (i, qvec) in enumerate(zip(asked, questions)):
        scores = passages @ qvec
        top = np.argsort(-scores)[:rerank.DEPTH]
        hits = [Hit(paragraph_id=int(j), article_id=str(j), title="", source="", paragraph=0, line=0,
                    text=indonesian[j], score=float(scores[j])) for j in top]
        dense_right += int(top[0]) == i
        in_reach += i in set(top.tolist())
        reranked_right += rerank.rerank(encoder, pairs[i]["en"], hits)[0].paragraph_id == i
        if n < args.show:
            q = encoder.token_states(pairs[i]["en"], "query")
            p = encoder.token_states(indonesian[i], "passage")
            sims = q.vectors @ p.vectors.T
            matched = []
            for rows in alignment.content_words(q):
                word = "".join(q.pieces[r] for r in rows).replace("\u2581", "")
                r, c = max(((r, int(sims[r].argmax())) for r in rows), key=lambda rc: sims[rc])
                matched.append(f"{word}->{p.pieces[c].replace(chr(0x2581), '')} {sims[r, c]:.2f}")
            print(f"{pairs[i]['en'][:70]!r}\n   " + ", ".join(matched))
    total = len(asked)
    print(f"\n{total} English sentences over {len(indonesian)} Indonesian ones: P@1 dense "
          f"{dense_right / total:.3f}, re-ranked (depth {rerank.DEPTH}, weight {rerank.WEIGHT}) "
          f"{reranked_right / total:.3f}; the pair in the dense top {rerank.DEPTH}: {in_reach / total:.3f}")


if __name__ == "__main__":
    main()
