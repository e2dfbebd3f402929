"""Dev-set sweep of answer-sentence choice: which sentence of the answering paragraph to
highlight.

Run:  python benchmarks/sentence_dev.py [--sets tydi,facqa,xquad] [--limit N]

For every question, the gold paragraph (from its pool) is split into sentences as the product
splits them; each scorer picks one; a pick is a hit when it contains a gold answer string.
This is the answer-sentence hit rate of `qa eval` restricted to the scorer, on every question
rather than only those whose paragraph was ranked first, so scorers are compared on identical
inputs. Prints the hit rate per set for each scorer.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from qa.evaluate import load_questions  # noqa: E402
from qa.sentences import sentence_spans  # noqa: E402

from benchmarks.devsets import SETS  # noqa: E402


def cached_cosines(embedder, name, questions, texts, spans, cache: Path | None, prefixes=None):
    """Per question: its gold paragraph's sentences and their cosines with the question.
    Cached (keyed by set, question count and splitter output) so scorer sweeps re-embed nothing."""
    import hashlib

    key = hashlib.sha256(json.dumps([name, [q.id for q in questions], spans]).encode()).hexdigest()[:12]
    path = cache / f"sentences-{name}-{key}.json" if cache else None
    if path and path.exists():
        return json.loads(path.read_text())
    prefixes = prefixes or [""] * len(texts)
    flat = [p + t[a:b] for p, t, ss in zip(prefixes, texts, spans) for a, b in ss]
    vecs = embedder.embed_passages(flat)
    qvecs = embedder.embed_queries([q.question for q in questions])
    rows, i = [], 0
    for qv, t, ss in zip(qvecs, texts, spans):
        rows.append(([t[a:b] for a, b in ss], [float(v @ qv) for v in vecs[i:i + len(ss)]]))
        i += len(ss)
    if path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(rows))
    return rows


def variants():
    """Scorer name -> fn(question, sentences, cosines) -> index of the chosen sentence."""
    import re

    from qa.sentence_choice import Weights, best

    def legacy(question, sents, cos):
        """The first release: raw-word overlap, weight 0.05."""
        words = lambda t: {w.lower() for w in re.findall(r"\w+", t) if len(w) > 2}  # noqa: E731
        q = words(question)
        s = [c + 0.05 * len(q & words(x)) / max(len(q), 1) for x, c in zip(sents, cos)]
        return max(range(len(s)), key=s.__getitem__)

    from qa.sentence_choice import DEFAULT_WEIGHTS

    out = {"legacy (raw overlap 0.05)": legacy,
           "cosine only": lambda q, s, c: max(range(len(c)), key=c.__getitem__),
           "first sentence": lambda q, s, c: 0,
           f"default {DEFAULT_WEIGHTS}": lambda q, s, c: best(q, s, c, DEFAULT_WEIGHTS)}
    for ov in (0.0, 0.05):
        for ty in (0.0, 0.1, 0.15, 0.2):
            for first in (0.0, 0.02, 0.04):
                for attr in (0.0, 0.1, 0.2, 0.3, 0.4):
                    w = Weights(overlap=ov, answer_type=ty, first=first, attribute=attr)
                    out[f"overlap {ov} type {ty} first {first} attribute {attr}"] = (
                        lambda q, s, c, w=w: best(q, s, c, w))
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    ap.add_argument("--sets", default="tydi,facqa,xling")
    ap.add_argument("--limit", type=int, default=600)
    ap.add_argument("--cache", type=Path, help="folder for cached sentence cosines")
    ap.add_argument("--title-context", action="store_true",
                    help="embed each sentence with its passage title in front")
    args = ap.parse_args()
    if not args.data.is_dir():
        print(f"no dev data at {args.data}; nothing to measure", file=sys.stderr)
        return
    from qa.engine import load_model

    embedder = load_model(None)
    for name in args.sets.split(","):
        qfile, pfile = SETS[name]
        pool, titles = {}, {}
        with (args.data / pfile).open(encoding="utf-8") as fh:
            for line in fh:
                row = json.loads(line)
                pool[row["pid"]] = row["text"]
                titles[row["pid"]] = row.get("title") or row["text"][:60]
        questions = [q for q in load_questions(args.data / qfile) if q.answers and q.gold in pool]
        questions = questions[: args.limit]
        texts = [pool[q.gold] for q in questions]
        spans = [sentence_spans(t) for t in texts]
        prefixes = [titles[q.gold] + ": " if args.title_context else "" for q in questions]
        rows = cached_cosines(embedder, name + ("-title" if args.title_context else ""), questions,
                              texts, spans, args.cache, prefixes)
        scorers = variants()
        hits = {s: 0 for s in scorers}
        multi = sum(len(ss) > 1 for ss in spans)
        for q, (sents, cos) in zip(questions, rows):
            for s, fn in scorers.items():
                best = fn(q.question, sents, cos)
                hits[s] += any(a in sents[best] for a in q.answers)
        print(f"{name}: {len(questions)} questions, {multi} with several sentences")
        for s in scorers:
            print(f"  {s:40} hit rate {hits[s] / len(questions):.3f}", flush=True)


if __name__ == "__main__":
    main()
