"""IndoSum on both backends: store-side add time, query latency p50/p95, size on disk.

Run:  python benchmarks/milvus_indosum.py --source /path/to/indosum-faiss-index \\
          --work /tmp/qa-indosum-bench [--queries 200] [--out benchmarks/milvus_indosum.json]

Embedding costs the same whichever backend stores the vectors, so it is not repeated here:
the source is an existing FAISS index of the IndoSum articles (`qa index add
indosum_news_articles.jsonl`), opened read-only. Its articles and vectors are copied with
`index.indexing.migrate` into a fresh FAISS folder and into a fresh Milvus Lite file; each copy's time
is that backend's store-side add (reading the source is the same work in both and is timed
separately). Queries are the first sentence of IndoSum summaries, embedded once; latency is
the product's ranking (qa.retrieve.retrieve, top 5: dense + lexical candidates, exact view
rescoring, fetch) per question on each store, with the embedding excluded.
"""
from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def read_time(source) -> float:
    """Seconds to read every article and its vectors from the source (part of both copies)."""
    from index.indexing.migrate import _read_article

    started = time.perf_counter()
    for article in source.articles():
        _read_article(source, article)
    return time.perf_counter() - started


def queries(data: Path, n: int) -> list[str]:
    out = []
    with (data / "indosum_news_articles.jsonl").open(encoding="utf-8") as fh:
        for line in fh:
            summary = json.loads(line).get("summary") or ""
            first = summary.split(". ")[0].strip()
            if len(first.split()) >= 5:
                out.append(first)
            if len(out) >= n:
                break
    return out


def latency(store, embedder, texts: list[str], qvecs) -> dict:
    from qa.retrieve import retrieve

    times, top = [], []
    for text, v in zip(texts, qvecs):
        started = time.perf_counter()
        hits = retrieve(store, v, text, k=5)
        times.append(time.perf_counter() - started)
        top.append([h.article_id for h in hits])
    return {"p50_ms": 1000 * percentile(times, 0.5), "p95_ms": 1000 * percentile(times, 0.95),
            "top": top}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--source", type=Path, required=True)
    parser.add_argument("--work", type=Path, default=Path("/tmp/qa-indosum-bench"))
    parser.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()

    from index.storage import MilvusRef, open_store
    from index.indexing.migrate import migrate
    from qa.engine import load_model

    if args.work.exists():
        shutil.rmtree(args.work)
    args.work.mkdir(parents=True)
    faiss_dir = args.work / "faiss"
    ref = MilvusRef.parse(str(args.work / "milvus.db"), "indosum")
    result: dict = {}
    with open_store(args.source) as source:
        result["source"] = source.summary()
        result["read_seconds"] = read_time(source)
        result["faiss_copy"] = migrate(source, faiss_dir).as_dict()
    with open_store(faiss_dir) as copy:
        result["milvus_copy"] = migrate(copy, ref).as_dict()
    print(json.dumps(result, indent=1), flush=True)

    embedder = load_model(None)
    texts = queries(args.data, args.queries)
    qvecs = embedder.embed_queries(texts)
    with open_store(faiss_dir) as a, open_store(ref) as b:
        for label, store in (("faiss", a), ("milvus", b)):
            store.search_dense(qvecs[0], 5)  # load vectors / warm caches before timing
            result[label] = latency(store, embedder, texts, qvecs)
            result[label]["size_bytes"] = store.size_bytes()
        same = sum(x == y for x, y in zip(result["faiss"].pop("top"), result["milvus"].pop("top")))
        result["top5_identical"] = same / len(texts)
        result["queries"] = len(texts)
    print(json.dumps(result, indent=1))
    if args.out:
        args.out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
