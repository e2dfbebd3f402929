"""Scale: exact search against the layout index.storage.faiss.vectors switches to past 100k vectors, at
the IndoSum size (180k vectors), at 1M vectors, and at 5M vectors: a million paragraphs, as
qa stores about five vectors per paragraph (the whole paragraph and its word windows).

Run:  QA_MODEL_CACHE=/tmp/qacache python benchmarks/scale_1m.py
      [--sizes 180000,1000000,5000000] [--queries 300] [--shares 3] [--depths 400,1000]
      [--flat-max 1000000] [--work DIR] [--out benchmarks/RESULTS.md]

Vectors: the real multilingual-e5-small embeddings of the four dev-set pools (paragraphs and
their word windows, ~175k, cached by benchmarks/windows_dev.py under the model cache dir),
padded with random unit vectors to the size asked for, generated a chunk at a time so 5M
never sit in memory at once. Queries: real dev-set question embeddings from the same cache,
so they sit where questions sit (apart from passages), not on top of stored vectors.
Random padding is far from every question, so the top 10 is still drawn from the real part;
but the padding also dominates the sample the 4-bit codes are trained on (83% of it at 1M,
96% at 5M), which fits the codes to the random part and makes them coarser for the real
vectors than training on a real corpus would. Read recall at 1M and 5M with both in mind.

The product's path is measured: 4-bit IVF codes (index.storage.faiss.vectors.new, trained on the sample
index.storage.faiss.vectors.training_rows picks) pick `depth` candidates, which are rescored from float16
vectors in a real SQLite `vectors` table (index.storage.faiss.vector_table, through index.storage.faiss.vectors.search,
as Store.search_dense does). Per layout: build time (train + add; the table's insert time
apart), query p50/p95 for one question, recall@10 against exact search (computed by a
chunked numpy scan, so 5M float32 never need 7.7 GB at once), resident memory of a fresh
process that loads the FAISS file (copied into memory as a writer loads it, and mapped as a
reader does), opens the table and asks every question, and sizes on disk. Exact search is
timed as a flat FAISS index up to --flat-max vectors.
"""
from __future__ import annotations

import argparse
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from index.storage.faiss import vector_table  # noqa: E402
from index.storage.faiss import vectors as ann  # noqa: E402
from qa import paths  # noqa: E402

DIM = 384
CHUNK = 250_000
SLOTS = 64  # ids spaced like paragraph id * VIEW_SLOTS + view, not dense


def real_vectors() -> tuple[np.ndarray, np.ndarray]:
    folder = paths.cache_dir() / "dev-embeddings"
    files = sorted(folder.glob("*.npy"))
    base = [np.load(f) for f in files if "-q-" not in f.name]
    questions = [np.load(f) for f in files if "-q-" in f.name]
    if not base or not questions:
        sys.exit(f"no dev-set embeddings in {folder}; run benchmarks/windows_dev.py first")
    return _unit(np.concatenate(base)), _unit(np.concatenate(questions))


def _unit(x: np.ndarray) -> np.ndarray:
    x = np.ascontiguousarray(x, dtype=np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def chunks(real: np.ndarray, n: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """(ids, unit vectors) of the corpus in order, the same on every call."""
    for start in range(0, n, CHUNK):
        stop = min(n, start + CHUNK)
        parts = [real[start:min(stop, len(real))]] if start < len(real) else []
        pad = stop - max(start, len(real))
        if pad > 0:
            rng = np.random.default_rng(start)
            parts.append(_unit(rng.standard_normal((pad, DIM), dtype=np.float32)))
        yield np.arange(start, stop, dtype=np.int64) * SLOTS, np.concatenate(parts)


def rows(real: np.ndarray, n: int, which: np.ndarray) -> np.ndarray:
    """The corpus vectors at sorted positions `which`."""
    out = []
    for ids, vecs in chunks(real, n):
        start = ids[0] // SLOTS
        sel = which[(which >= start) & (which < start + len(ids))] - start
        out.append(vecs[sel])
    return np.concatenate(out)


def exact_top(real: np.ndarray, n: int, queries: np.ndarray, k: int = 10) -> np.ndarray:
    best_s = np.full((len(queries), k), -np.inf, dtype=np.float32)
    best_i = np.zeros((len(queries), k), dtype=np.int64)
    for ids, vecs in chunks(real, n):
        s = queries @ vecs.T
        top = np.argpartition(-s, k, axis=1)[:, :k]
        cand_s = np.concatenate([best_s, np.take_along_axis(s, top, 1)], axis=1)
        cand_i = np.concatenate([best_i, ids[top]], axis=1)
        order = np.argsort(-cand_s, axis=1)[:, :k]
        best_s, best_i = np.take_along_axis(cand_s, order, 1), np.take_along_axis(cand_i, order, 1)
    return best_i


def recall(got: list[np.ndarray], exact: np.ndarray) -> float:
    return float(np.mean([len(set(g[:10].tolist()) & set(e.tolist())) / 10
                          for g, e in zip(got, exact)]))


def _rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def _stored(db: sqlite3.Connection):
    return lambda keys: vector_table.fetch(db, keys, DIM)


def probe_main(path: Path, table: Path, queries_file: Path, depth: int) -> None:
    """Run as a child: load time and resident memory of one index and its table."""
    import faiss  # noqa: F401  (imported before the baseline: the library is not the index)

    queries = np.load(queries_file)
    result = {}
    for mode in ("copy", "mmap"):
        before = _rss_mb()
        t = time.perf_counter()
        index = ann.read(path, mmap=mode == "mmap")
        result[f"{mode}_load_ms"] = 1000 * (time.perf_counter() - t)
        db = sqlite3.connect(f"file:{table}?mode=ro", uri=True)
        for q in queries:
            ann.search(index, q[None, :], depth, _stored(db))
        result[f"{mode}_rss_mb"] = _rss_mb() - before
        db.close()
        del index
    print(json.dumps(result))


def probe(path: Path, table: Path, queries: Path, depth: int) -> dict:
    out = subprocess.run([sys.executable, __file__, "--probe", str(path), str(table),
                          str(queries), str(depth)], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def measure(n: int, real: np.ndarray, questions: np.ndarray, shares: list[int],
            depths: list[int], flat_max: int, work: Path) -> list[dict]:
    import faiss

    qfile = work / "queries.npy"
    np.save(qfile, questions)
    exact = exact_top(real, n, questions)
    out = []

    if n <= flat_max:
        flat = ann.empty(DIM)
        t = time.perf_counter()
        for ids, vecs in chunks(real, n):
            flat.add_with_ids(vecs, ids)
        build = time.perf_counter() - t
        lat = []
        for q in questions:
            t = time.perf_counter()
            flat.search(q[None, :], 40)
            lat.append(time.perf_counter() - t)
        out.append({"n": n, "layout": "flat (exact)", "build_s": build, "lat": lat,
                    "recall": 1.0, "faiss_mb": 4 * DIM * n / 2**20 + 8 * n / 2**20})
        del flat

    layout = ann.Layout(ann.IVF_PQ, ann.nlist_for(n))
    t = time.perf_counter()
    index = ann.new(layout, DIM, rows(real, n, np.sort(ann.training_rows(n, layout))))
    trained = time.perf_counter() - t
    table = work / f"table-{n}.sqlite"
    table.unlink(missing_ok=True)
    db = sqlite3.connect(table, isolation_level=None)
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("CREATE TABLE vectors (id INTEGER PRIMARY KEY, vec BLOB NOT NULL)")  # as migration 5
    adding = inserting = 0.0
    db.execute("BEGIN")
    for ids, vecs in chunks(real, n):
        t = time.perf_counter()
        index.add_with_ids(vecs, ids)
        adding += time.perf_counter() - t
        t = time.perf_counter()
        vector_table.insert(db, ids, vecs)
        inserting += time.perf_counter() - t
    db.execute("COMMIT")
    f = work / f"ivf-pq-{n}.faiss"
    with open(f, "wb") as fh:
        ann.write(index, fh)
    ivf = faiss.extract_index_ivf(index)
    stored = _stored(db)
    for q in questions[:20]:  # warm the table's pages, as a running index has them
        ann.search(index, q[None, :], max(depths + [ann.rescore_depth(n)]), stored)
    chosen = ann.rescore_depth(n)
    for share in shares:
        ivf.nprobe = max(1, -(-layout.nlist // share))
        for depth in sorted({chosen, *depths}):
            lat, got = [], []
            for q in questions:
                t = time.perf_counter()
                keys, _, _ = ann.search(index, q[None, :], depth, stored)
                lat.append(time.perf_counter() - t)
                got.append(keys)
            default = ivf.nprobe == ann.nprobe_for(layout.nlist) and depth == chosen
            out.append({"n": n, "build_s": trained + adding, "insert_s": inserting,
                        "layout": f"ivf-pq nlist={layout.nlist} nprobe={ivf.nprobe}, "
                                  f"{depth} rescored{' (default)' if default else ''}",
                        "lat": lat, "recall": recall(got, exact), "depth": depth,
                        "faiss_mb": f.stat().st_size / 2**20,
                        "table_mb": table.stat().st_size / 2**20})
    db.close()
    del index
    for row in out:
        if "depth" in row and "(default)" in row["layout"]:
            row.update(probe(f, table, qfile, row["depth"]))
    f.unlink()
    table.unlink()
    return out


def table(rows_: list[dict]) -> str:
    lines = ["| vectors | layout | build (table insert) | query p50 / p95 | recall@10 vs exact | "
             "RSS copied / mapped, after all questions | load copied / mapped | FAISS file + float16 table |",
             "|---|---|---|---|---|---|---|---|"]
    for r in rows_:
        p50, p95 = (1000 * np.percentile(r["lat"], p) for p in (50, 95))
        rss = (f"{r['copy_rss_mb']:.0f} / {r['mmap_rss_mb']:.0f} MB" if "copy_rss_mb" in r else "")
        load = (f"{r['copy_load_ms']:.0f} / {r['mmap_load_ms']:.0f} ms" if "copy_load_ms" in r else "")
        insert = f" ({r['insert_s']:.0f} s)" if "insert_s" in r else ""
        disk = (f"{r['faiss_mb']:.0f} + {r['table_mb']:.0f} MB" if "table_mb" in r
                else f"{r['faiss_mb']:.0f} MB")
        lines.append(f"| {r['n']:,} | {r['layout']} | {r['build_s']:.1f} s{insert} | "
                     f"{p50:.1f} / {p95:.1f} ms | {r['recall']:.3f} | {rss} | {load} | {disk} |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="180000,1000000,5000000")
    ap.add_argument("--queries", type=int, default=300)
    ap.add_argument("--shares", default="3", help="probe 1/share of the lists")
    ap.add_argument("--depths", default="", help="candidates rescored, beside the default")
    ap.add_argument("--flat-max", type=int, default=1_000_000, help="time exact search up to this")
    ap.add_argument("--work", type=Path, default=None, help="folder for the files (default: temp)")
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()
    real, questions = real_vectors()
    rng = np.random.default_rng(1)
    questions = questions[rng.choice(len(questions), min(args.queries, len(questions)),
                                     replace=False)]
    print(f"real vectors {len(real):,}, questions {len(questions)}, "
          f"load average {os.getloadavg()[0]:.1f}", file=sys.stderr)
    out = []
    with tempfile.TemporaryDirectory(dir=args.work) as tmp:
        for n in (int(s) for s in args.sizes.split(",")):
            out += measure(n, real, questions, [int(s) for s in args.shares.split(",")],
                           [int(d) for d in args.depths.split(",") if d], args.flat_max,
                           Path(tmp))
            print(table(out), file=sys.stderr, flush=True)
    print(f"load average at the end {os.getloadavg()[0]:.1f}", file=sys.stderr)
    text = table(out)
    print(text)
    if args.out:
        with open(args.out, "a", encoding="utf-8") as f:
            f.write("\n" + text + "\n")


if __name__ == "__main__":
    if len(sys.argv) == 6 and sys.argv[1] == "--probe":
        probe_main(Path(sys.argv[2]), Path(sys.argv[3]), Path(sys.argv[4]), int(sys.argv[5]))
    else:
        main()
