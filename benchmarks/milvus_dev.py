"""Does the Milvus backend rank like the default FAISS + SQLite store? Dev-set comparison.

Run:  python benchmarks/milvus_dev.py --uri /tmp/qa-dev.db [--data ../shared/data]
          [--sets xling,facqa,tydi,xquad] [--out benchmarks/milvus_dev.json]

Each pool's cached FAISS index (built by qa.evaluate.pool_index) is copied to a scratch folder
and migrated into Milvus Lite (no re-embedding), so both backends hold the same vectors. Every
question is embedded once; the product's ranking (qa.retrieve.retrieve, top 10) then runs on
both stores. Reported per set: share of questions whose top-10 is identical in order, and as a
set; R@1 / R@10 / MRR@10 of each backend; the same agreement for the dense list and the
lexical list alone (where any difference comes from); store-side time per question.
"""
from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from qa.evaluate import load_questions, metrics, pool_index  # noqa: E402

from benchmarks.devsets import SETS  # noqa: E402


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def stores_for(name: str, pool: Path, embedder, uri: str, scratch: Path):
    """(FAISS store on a private copy of the cached pool index, Milvus store migrated from it)."""
    from index.storage import MilvusRef, exists, open_store
    from index.indexing.build import manifest_for
    from index.indexing.migrate import migrate

    from qa import paths
    from qa.evaluate import pool_key

    cached = paths.cache_dir() / "eval-indexes" / pool_key(pool, manifest_for(embedder).fingerprint)
    copy = scratch / cached.name
    if not copy.exists():  # the copy is ours; the shared cache is only read (or built once)
        if not (cached / "index.sqlite").exists():
            pool_index(pool, embedder)[0].close()
        shutil.copytree(cached, copy, ignore=shutil.ignore_patterns("write.lock"))
    faiss_store = open_store(copy, expect=manifest_for(embedder))
    ref = MilvusRef.parse(uri, f"dev_{name}_{cached.name}")
    seconds = None
    if not exists(ref):
        seconds = migrate(faiss_store, ref).seconds
    return faiss_store, open_store(ref, expect=manifest_for(embedder)), seconds


def compare(name: str, files: tuple[str, str], data: Path, embedder, uri: str, scratch: Path,
            limit: int | None) -> dict:
    from qa.retrieve import retrieve

    questions = load_questions(data / files[0])[:limit]
    faiss_store, milvus_store, migrate_s = stores_for(name, data / files[1], embedder, uri, scratch)
    qvecs = embedder.embed_queries([q.question for q in questions])
    ranked = {"faiss": {}, "milvus": {}}
    times = {"faiss": [], "milvus": []}
    same_order = same_set = dense_same = lexical_same = 0
    examples = []
    for q, v in zip(questions, qvecs):
        for label, store in (("faiss", faiss_store), ("milvus", milvus_store)):
            started = time.perf_counter()
            hits = retrieve(store, v, q.question, k=10)
            times[label].append(time.perf_counter() - started)
            ranked[label][q.id] = [h.article_id for h in hits]
        a, b = ranked["faiss"][q.id], ranked["milvus"][q.id]
        same_order += a == b
        same_set += set(a) == set(b)
        if a != b and len(examples) < 5:
            examples.append({"id": q.id, "faiss": a, "milvus": b})

        def ids(store, pairs):
            return [p.article_id for p in store.paragraphs([pid for pid, _ in pairs])]

        dense_same += (ids(faiss_store, faiss_store.search_dense(v, 10))
                       == ids(milvus_store, milvus_store.search_dense(v, 10)))
        lexical_same += (ids(faiss_store, faiss_store.search_lexical(q.question, 10))
                         == ids(milvus_store, milvus_store.search_lexical(q.question, 10)))
    n = len(questions)
    out = {"n": n, "top10_identical": same_order / n, "top10_same_set": same_set / n,
           "dense_top10_identical": dense_same / n, "lexical_top10_identical": lexical_same / n,
           "migrate_seconds": migrate_s, "differing_examples": examples}
    for label in ("faiss", "milvus"):
        m = metrics(ranked[label], questions)["all"]
        out[label] = {"R@1": m["R@1"], "R@10": m["R@10"], "MRR@10": m["MRR@10"],
                      "retrieve_ms_p50": 1000 * percentile(times[label], 0.5),
                      "retrieve_ms_p95": 1000 * percentile(times[label], 0.95)}
    faiss_store.close()
    milvus_store.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    parser.add_argument("--uri", required=True, help="Milvus Lite file (.db) or server URL")
    parser.add_argument("--scratch", type=Path, default=Path("/tmp/qa-milvus-dev"))
    parser.add_argument("--sets", default="xling,facqa,tydi,xquad")
    parser.add_argument("--limit", type=int, default=None, help="first N questions per set")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()

    from qa.engine import load_model

    embedder = load_model(None)
    args.scratch.mkdir(parents=True, exist_ok=True)
    results = {}
    for name in args.sets.split(","):
        results[name] = compare(name, SETS[name], args.data, embedder, args.uri, args.scratch,
                                args.limit)
        r = results[name]
        print(f"{name:6} n={r['n']:5}  top-10 identical {r['top10_identical']:.4f} "
              f"(same set {r['top10_same_set']:.4f}; dense {r['dense_top10_identical']:.4f}, "
              f"lexical {r['lexical_top10_identical']:.4f})  R@1 faiss {r['faiss']['R@1']:.3f} "
              f"milvus {r['milvus']['R@1']:.3f}  retrieve p50 faiss "
              f"{r['faiss']['retrieve_ms_p50']:.0f} ms, milvus {r['milvus']['retrieve_ms_p50']:.0f} ms",
              flush=True)
    if args.out:
        args.out.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
