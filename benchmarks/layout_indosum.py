"""IndoSum through 4-bit IVF codes rescored from float16 against exact search: same answers?

Run:  QA_MODEL_CACHE=/tmp/qacache python benchmarks/layout_indosum.py \\
          --source /tmp/qacache/indosum-full --work /tmp/qa-layouts [--queries 200]

The source index (any layout, any schema version) is copied twice. One copy is moved to
exact search (QA_FLAT_MAX_VECTORS above its size), the other to the layout qa picks for its
size (4-bit IVF codes past 100k vectors), each by one commit that re-adds an article with
its own stored vectors, which is where index.storage.faiss.vectors.migrate moves a layout. Both copies then
hold the same vectors (the float16 table's), so any difference in answers is the layout's.
Queries are the first sentence of IndoSum summaries (as in milvus_indosum.py), embedded
once; per question both copies rank with the product's qa.retrieve.retrieve (top 5: dense and
word candidates, view rescoring, fetch), timed alternately so load on the machine hits both.
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def relayout(path: Path, flat_max: int | None) -> str:
    """Commit one unchanged article so the store fits its layout to the size; returns it."""
    from index.storage.faiss import vectors as ann
    from index.indexing.migrate import _read_article
    from index.storage.faiss.store import Store

    if flat_max is None:
        os.environ.pop(ann.ENV_FLAT_MAX, None)
    else:
        os.environ[ann.ENV_FLAT_MAX] = str(flat_max)
    import numpy as np

    with Store.open(path, writable=True) as store:
        article, vectors = _read_article(store, store.articles()[0])
        store.add_articles([article], np.concatenate(vectors), views=[len(v) for v in vectors])
        layout = str(ann.layout_of(store._current_faiss()))
        problems = store.verify()
    if problems:
        sys.exit(f"{path}: {problems[:3]}")
    os.environ.pop(ann.ENV_FLAT_MAX, None)
    return layout


def main() -> int:
    from milvus_indosum import queries

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, required=True)
    parser.add_argument("--work", type=Path, required=True)
    parser.add_argument("--queries", type=int, default=200)
    args = parser.parse_args()

    copies = {"exact": args.work / "exact", "codes": args.work / "codes"}
    layouts = {}
    for name, path in copies.items():
        if path.exists():
            shutil.rmtree(path)
        shutil.copytree(args.source, path)
        started = time.perf_counter()
        layouts[name] = relayout(path, 10**9 if name == "exact" else None)
        print(f"{name}: {layouts[name]} in {time.perf_counter() - started:.1f} s", file=sys.stderr)

    from index.storage.faiss.store import Store
    from qa.engine import load_model
    from qa.retrieve import retrieve

    stores = {name: Store.open(path) for name, path in copies.items()}
    model = load_model(stores["exact"].manifest.model)
    texts = queries(DATA, args.queries)
    vectors = model.embed_queries(texts)
    for store in stores.values():  # first search maps the file and warms the caches
        retrieve(store, vectors[0], texts[0], 5)
    same_top1 = same_top5 = 0
    times: dict[str, list[float]] = {name: [] for name in stores}
    for i, (text, qvec) in enumerate(zip(texts, vectors)):
        got = {}
        for name in (list(stores) if i % 2 == 0 else list(stores)[::-1]):
            started = time.perf_counter()
            got[name] = [h.paragraph_id for h in retrieve(stores[name], qvec, text, 5)]
            times[name].append(time.perf_counter() - started)
        same_top5 += got["exact"] == got["codes"]
        same_top1 += got["exact"][:1] == got["codes"][:1]
    for store in stores.values():
        store.close()
    n = len(texts)
    print("| layout | ranking p50 / p95 (top 5, embedding excluded) | size on disk |")
    print("|---|---|---|")
    for name, path in copies.items():
        ordered = sorted(times[name])
        p95 = ordered[min(n - 1, round(0.95 * (n - 1)))]
        size = sum(f.stat().st_size for f in path.iterdir() if f.is_file()) / 2**20
        print(f"| {layouts[name]} | {1000 * statistics.median(ordered):.1f} / {1000 * p95:.1f} ms "
              f"| {size:.0f} MB |")
    print(f"\n{n} IndoSum questions: top 1 identical {same_top1}/{n}, "
          f"top 5 identical (same paragraphs, same order) {same_top5}/{n}; "
          f"load average {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
