"""Issue 20, first measurements: can e5-small map an English word to the corpus word that
means the same, and does a lexical side built from those words help English questions over
Indonesian paragraphs? A prototype measured outside the product (nothing here is used by qa).

Run:  QA_MODEL_CACHE=/tmp/qacache python benchmarks/bridge_dev.py [--min-count 2]

The bridge: every alphabetic corpus word of three letters or more seen at least --min-count
times is embedded once, alone, as a question is (the query prompt); an English question word the corpus does
not know is embedded the same way and mapped to its nearest corpus word. Prints:

1. Word-mapping precision on ../shared/data/news_en_id_parallel.jsonl, with IndoSum's
   vocabulary as the corpus: of the English content words IndoSum does not know, the share
   whose top mapped word (or its stem) occurs in the paired Indonesian sentence, by cosine
   threshold, with the share of words mapped at that threshold.
2. xling English questions over the xling pool (the vocabulary taken from the pool): R@1 of
   the dense side alone (what qa does today: the coverage rule silences the lexical side),
   and with a lexical side searched for the question's known words plus its mapped words,
   fused as qa fuses Indonesian questions, over a grid of thresholds and weights.
"""
from __future__ import annotations

import argparse
import collections
import json
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DATA = ROOT.parent / "shared" / "data"
# English function words: not looked up (the question's type is the dense side's business).
EN_STOP = set("""a an the of in on at to for from by with and or but is are was were be been being
do does did what which who whom whose when where why how that this these those it its as into
than then there their they he she his her him them we you your our i me my not no yes can could
would should will shall may might must have has had about after before during over under between
many much more most some any each other such only also very just own same so too up down out off
again further once here all both few nor said says""".split())


def vocabulary(texts, min_count: int) -> list[str]:
    from index.corpus.lexical import words

    counts = collections.Counter(w for t in texts for w in words(t) if w.isalpha() and len(w) >= 3)
    return sorted(w for w, c in counts.items() if c >= min_count)


def content_words(text: str) -> list[str]:
    from index.corpus.lexical import words

    return [w for w in words(text) if w.isalpha() and len(w) >= 3 and w not in EN_STOP]


class Bridge:
    """Corpus words embedded once; unknown words mapped to their nearest one."""

    def __init__(self, model, vocab: list[str]) -> None:
        self.model, self.vocab, self.known = model, vocab, set(vocab)
        started = time.perf_counter()
        self.vectors = model.embed_queries(vocab)
        self.seconds = time.perf_counter() - started

    def map(self, unknown: list[str]) -> list[tuple[str, float]]:
        if not unknown:
            return []
        sims = self.model.embed_queries(unknown) @ self.vectors.T
        best = sims.argmax(1)
        return [(self.vocab[j], float(sims[i, j])) for i, j in enumerate(best)]


def word_precision(model, min_count: int) -> None:
    from index.corpus.lexical import stem, words

    indosum = [p for line in open(DATA / "indosum_news_articles.jsonl", encoding="utf-8")
               for p in json.loads(line)["paragraphs"]]
    bridge = Bridge(model, vocabulary(indosum, max(min_count, 3)))
    print(f"IndoSum vocabulary: {len(bridge.vocab)} words embedded in {bridge.seconds:.1f} s")
    pairs = [json.loads(line) for line in open(DATA / "news_en_id_parallel.jsonl", encoding="utf-8")]
    found: list[tuple[float, bool, bool]] = []  # (cosine, word in pair, stem in pair)
    for pair in pairs:
        target = words(pair["id_text"])
        stems = {stem(w) for w in target}
        unknown = [w for w in content_words(pair["en"]) if w not in bridge.known]
        for word, cos in bridge.map(unknown):
            found.append((cos, word in target, stem(word) in stems))
    print(f"English content words IndoSum does not know: {len(found)} in {len(pairs)} pairs")
    print("threshold  mapped  word-in-pair  stem-in-pair")
    for tau in (0.0, 0.88, 0.9, 0.92, 0.94, 0.96):
        kept = [f for f in found if f[0] >= tau]
        if kept:
            print(f"{tau:9.2f}  {len(kept) / len(found):6.3f}  {sum(f[1] for f in kept) / len(kept):12.3f}"
                  f"  {sum(f[2] for f in kept) / len(kept):12.3f}")


def xling_rank(model, min_count: int) -> None:
    from qa.evaluate import pool_index
    from qa.retrieve import DEFAULT_FUSION, candidates, dense_score, fuse

    passages = DATA / "xling_idctx_passages.jsonl"
    pool = [json.loads(line)["text"] for line in open(passages, encoding="utf-8")]
    bridge = Bridge(model, vocabulary(pool, min_count))
    print(f"\nxling pool vocabulary: {len(bridge.vocab)} words embedded in {bridge.seconds:.1f} s")
    store, _ = pool_index(passages, model)
    questions = [json.loads(line) for line in open(DATA / "xling_enq_idctx_dev.jsonl", encoding="utf-8")]
    questions = [q for q in questions if q["lang"] == "en"]
    dense_only = replace(DEFAULT_FUSION, lexical_weight=0.0)
    prepared = []
    map_ms = []
    for q in questions:
        qvec = model.embed_queries([q["question"]])[0]
        words_ = content_words(q["question"])
        started = time.perf_counter()
        mapped = bridge.map([w for w in words_ if w not in bridge.known])
        map_ms.append(1000 * (time.perf_counter() - started))
        dense, _ = candidates(store, qvec, q["question"], DEFAULT_FUSION.candidates, dense_only)
        prepared.append((q, qvec, [w for w in words_ if w in bridge.known], mapped, dense))
    print(f"mapping a question's unknown words: median {np.median(map_ms):.1f} ms")

    def r_at_1(tau: float, weight: float) -> float:
        hits = 0
        for q, qvec, known, mapped, dense in prepared:
            terms = known + [w for w, cos in mapped if cos >= tau]
            lexical = store.search_lexical(" ".join(terms), DEFAULT_FUSION.candidates) if terms and weight else []
            scores = dict(dense)
            extra = [pid for pid, _ in lexical if pid not in scores]
            if extra:
                scores.update({pid: dense_score(w, b) for pid, (w, b) in store.view_scores(qvec, extra).items()})
            top = fuse(scores, lexical, replace(DEFAULT_FUSION, lexical_weight=weight))[0][0]
            hits += store.paragraphs([top])[0].article_id == q["context_id"]
        return hits / len(prepared)

    print(f"English questions: {len(prepared)}; dense side alone R@1 {r_at_1(1.0, 0.0):.3f}")
    print("threshold  " + "  ".join(f"w={w:<5}" for w in (0.01, 0.02, 0.03, 0.05)))
    for tau in (0.0, 0.9, 0.92, 0.94):
        print(f"{tau:9.2f}  " + "  ".join(f"{r_at_1(tau, w):7.3f}" for w in (0.01, 0.02, 0.03, 0.05)))
    store.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--min-count", type=int, default=2)
    args = parser.parse_args()
    needed = [DATA / name for name in ("news_en_id_parallel.jsonl", "indosum_news_articles.jsonl",
                                       "xling_idctx_passages.jsonl", "xling_enq_idctx_dev.jsonl")]
    missing = [str(p) for p in needed if not p.is_file()]
    if missing:
        print(f"skipped: {', '.join(missing)} not found")
        return
    from qa.engine import load_model

    model = load_model(None)
    word_precision(model, args.min_count)
    xling_rank(model, args.min_count)


if __name__ == "__main__":
    main()
