"""Does answering with the ONNX export change any answer? (issue 6: "answers unchanged")

    QA_MODEL_CACHE=/tmp/qacache python benchmarks/onnx_dev_parity.py [--sets xling,facqa] [--sentences 200] [--limit N]

For every question of each dev set, the top-10 paragraphs are ranked twice on the same pool
index (`qa.evaluate.pool_index`, cached), with the question embedded by sentence-transformers
(the path before) and by the ONNX export (`qa ask` now), one question at a time as `qa ask`
does. Reports how many top-1 hits and top-10 lists differ, the cosine between the two question
vectors, R@1 / MRR@10 both ways, and, on the first `--sentences` questions of each set, whether
`qa.answer.answer` picks the same answer sentence for the top hit.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.devsets import present  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", default="xling,facqa")
    parser.add_argument("--sentences", type=int, default=200)
    parser.add_argument("--limit", type=int, default=0, help="first N questions of each set (0: all)")
    parser.add_argument("--out", type=Path, default=None, help="append the table to this file")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))

    import numpy as np

    from index.models.onnx_encoder import OnnxEncoder
    from qa.answer import answer
    from qa.engine import Engine, load_model, load_st_model
    from qa.evaluate import load_questions, metrics, pool_index
    from qa.retrieve import retrieve

    st = load_st_model(None)
    fast = load_model(None)
    assert isinstance(fast, OnnxEncoder), "the default model has no ONNX export"
    rows = []
    for name, qpath, ppath in present(args.sets):
        questions = load_questions(qpath)[: args.limit or None]
        store, folder = pool_index(ppath, st)
        started = time.perf_counter()
        try:
            ranked: dict[str, dict[str, list[str]]] = {"st": {}, "onnx": {}}
            cos = []
            same_sentence = sentence_n = 0
            for i, q in enumerate(questions):
                vecs = {"st": st.embed_queries([q.question])[0], "onnx": fast.embed_queries([q.question])[0]}
                cos.append(float(vecs["st"] @ vecs["onnx"]))
                for side, vec in vecs.items():
                    ranked[side][q.id] = [h.article_id for h in retrieve(store, vec, q.question, 10)]
                if i < args.sentences:
                    picked = [answer(Engine(store=store, embedder=m, index_ref=folder), q.question, k=5)
                              for m in (st, fast)]
                    sentence_n += 1
                    same_sentence += [p.answer_sentence for p in picked[0].passages] == \
                        [p.answer_sentence for p in picked[1].passages]
        finally:
            store.close()
        top1 = sum(ranked["st"][q.id][:1] != ranked["onnx"][q.id][:1] for q in questions)
        top10 = sum(ranked["st"][q.id] != ranked["onnx"][q.id] for q in questions)
        m_st = metrics(ranked["st"], questions, ks=(1, 10))
        m_fast = metrics(ranked["onnx"], questions, ks=(1, 10))
        for lang in m_st:
            fmt = lambda m: f"{m[lang]['R@1']:.3f} / {m[lang]['MRR@10']:.3f}"  # noqa: E731
            rows.append((f"{name} {lang}", m_st[lang]["n"], fmt(m_st), fmt(m_fast)))
        rows.append((f"{name} all", len(questions), f"top-1 changed: {top1}", f"top-10 list changed: {top10}"))
        rows.append((f"{name} all", len(questions), f"question cosine min {min(cos):.6f}, "
                     f"median {float(np.median(cos)):.7f}",
                     f"same 5 answer sentences: {same_sentence}/{sentence_n}"))
        print(f"{name}: {time.perf_counter() - started:.0f} s", file=sys.stderr)

    table = "\n".join(["| set | n | sentence-transformers R@1 / MRR@10 | ONNX R@1 / MRR@10 |", "|---|---|---|---|",
                       *(f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows)])
    print(table)
    if args.out is not None:
        with open(args.out, "a", encoding="utf-8") as f:
            f.write(f"\n`python benchmarks/onnx_dev_parity.py --sets {args.sets} --sentences {args.sentences}"
                    f"{f' --limit {args.limit}' if args.limit else ''}`:\n\n"
                    f"{table}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
