"""Do passages embedded by the ONNX export rank like passages embedded by sentence-transformers?
(issue 19: "dev-set R@1 unchanged within 0.005 on every set and language")

    QA_MODEL_CACHE=/tmp/qacache python benchmarks/passage_dev_parity.py [--sets xling,facqa,xquad,tydi] [--work DIR]

For each dev set, its pool is indexed twice: by sentence-transformers (`qa.evaluate.pool_index`,
the cached index `qa eval` uses) and by the model `qa index` now loads (the export, through the
bfloat16 runner where this CPU has one), into `--work`. Every question is embedded once, as
`qa ask` does, and ranked on both. Prints R@1 / MRR@10 per language both ways, how many top-1
hits differ, the seconds each build took, and whether the token ids of every pool text are the
ones sentence-transformers' tokenizer gives.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.devsets import present  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", default="xling,facqa,xquad,tydi")
    parser.add_argument("--work", type=Path, default=None, help="where the export-built pools go")
    args = parser.parse_args(argv)

    from index.corpus.passages import passage_views
    from index.indexing.build import build_from_articles
    from index.models.onnx_encoder import OnnxEncoder
    from index.storage.faiss.store import Store
    from qa.engine import load_model, load_st_model
    from qa.evaluate import load_pool, load_questions, metrics, pool_index, pool_key
    from qa.retrieve import retrieve

    fast = load_model(None)
    assert isinstance(fast, OnnxEncoder), "the default model has no ONNX export"
    st = load_st_model(None)
    work = args.work or Path(tempfile.mkdtemp(prefix="qa-passage-parity-"))
    rows = []
    for name, qpath, ppath in present(args.sets):
        questions = load_questions(qpath)
        articles = load_pool(ppath)
        texts = [fast.passage_prompt + t for a in articles for p in a.paragraphs
                 for t in passage_views(a, p)]
        want = st.reference_ids(texts)
        ids_differ = sum(w != fast.token_ids(t) for w, t in zip(want, texts))
        started = time.perf_counter()
        reference, _ = pool_index(ppath, st)
        st_seconds = time.perf_counter() - started
        folder = work / pool_key(ppath, "export")
        started = time.perf_counter()
        cached = (folder / "index.sqlite").exists()
        if not cached:
            build_from_articles(articles, folder, fast)
        onnx_seconds = time.perf_counter() - started
        built = Store.open(folder)
        try:
            ranked: dict[str, dict[str, list[str]]] = {"st": {}, "onnx": {}}
            for q in questions:
                vec = fast.embed_queries([q.question])[0]
                ranked["st"][q.id] = [h.article_id for h in retrieve(reference, vec, q.question, 10)]
                ranked["onnx"][q.id] = [h.article_id for h in retrieve(built, vec, q.question, 10)]
        finally:
            reference.close()
            built.close()
        top1 = sum(ranked["st"][q.id][:1] != ranked["onnx"][q.id][:1] for q in questions)
        m_st, m_fast = metrics(ranked["st"], questions, ks=(1, 10)), metrics(ranked["onnx"], questions, ks=(1, 10))
        for lang in m_st:
            rows.append((f"{name} {lang}", m_st[lang]["n"],
                         f"{m_st[lang]['R@1']:.3f} / {m_st[lang]['MRR@10']:.3f}",
                         f"{m_fast[lang]['R@1']:.3f} / {m_fast[lang]['MRR@10']:.3f}",
                         f"{m_fast[lang]['R@1'] - m_st[lang]['R@1']:+.3f}"))
        rows.append((f"{name} all", len(questions), f"top-1 changed: {top1}",
                     f"pool texts {len(texts)}, token ids differing: {ids_differ}",
                     (f"built in {onnx_seconds:.0f} s ({fast.runner_note})" if cached is False
                      else "export-built pool cached") + "; reference "
                     f"{'cached' if st_seconds < 5 else f'{st_seconds:.0f} s'}"))
        print(f"{name} done", file=sys.stderr, flush=True)
    print("| set | n | passages by sentence-transformers R@1 / MRR@10 | by the export | R@1 change |")
    print("|---|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(str(c) for c in row) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
