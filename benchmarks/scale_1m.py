"""Scale: exact FAISS search against the IVF-SQ8 layout index.vectors switches to, at the
IndoSum size (180k vectors) and at 1M vectors.

Run:  QA_MODEL_CACHE=/tmp/qacache python benchmarks/scale_1m.py [--sizes 180000,1000000]
      [--queries 300] [--shares 4,3,2] [--out benchmarks/RESULTS.md]

Vectors: the real multilingual-e5-small embeddings of the four dev-set pools (paragraphs and
their word windows, ~175k, cached by benchmarks/windows_dev.py under the model cache dir),
padded with random unit vectors to the size asked for. Queries: real dev-set question
embeddings from the same cache, so they sit where questions sit (apart from passages), not
on top of stored vectors. Random padding is far from every question, so at 1M the top 10 is
still drawn from the real part: a real 1M corpus is harder than this and the recall printed
for 1M is an upper bound for that share of probed lists.

Per layout: build time (train + add), query p50/p95 for one question at the depth the store
searches (400 vectors for 100 candidate paragraphs), recall@10 against exact search on the
same vectors, resident memory and load time of the file in a fresh process (copied into
memory as a writer loads it, and mapped as a reader does), and size on disk. The default
probes are also timed on one thread, as FAISS searches a single query unless told to split
the probed lists over threads (index.vectors.tune does).
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from index import vectors as ann  # noqa: E402
from qa import paths  # noqa: E402

DIM = 384
DEPTH = 400  # Store.search_dense asks for 4 x 100 candidates


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


def corpus(real: np.ndarray, n: int, seed: int = 0) -> np.ndarray:
    if n <= len(real):
        return real[:n].copy()
    rng = np.random.default_rng(seed)
    pad = rng.standard_normal((n - len(real), DIM), dtype=np.float32)
    return np.concatenate([real, _unit(pad)])


def recall(got: np.ndarray, exact: np.ndarray) -> float:
    return float(np.mean([len(set(g) & set(e)) / 10 for g, e in zip(got, exact)]))


def probe(path: Path, queries: Path) -> dict:
    """Load time and resident memory of one file in a fresh process (run as a child)."""
    out = subprocess.run([sys.executable, __file__, "--probe", str(path), str(queries)],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def _rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def probe_main(path: Path, queries_file: Path) -> None:
    import faiss  # noqa: F401  (imported before the baseline: the library is not the index)

    queries = np.load(queries_file)
    result = {}
    for mode in ("copy", "mmap"):
        before = _rss_mb()
        t = time.perf_counter()
        index = ann.read(path, mmap=mode == "mmap")
        result[f"{mode}_load_ms"] = 1000 * (time.perf_counter() - t)
        result[f"{mode}_rss_loaded_mb"] = _rss_mb() - before
        t = time.perf_counter()
        index.search(queries[:1], DEPTH)
        result[f"{mode}_first_query_ms"] = 1000 * (time.perf_counter() - t)
        for q in queries:
            index.search(q[None, :], DEPTH)
        result[f"{mode}_rss_queried_mb"] = _rss_mb() - before
        del index
    print(json.dumps(result))


def measure(n: int, real: np.ndarray, questions: np.ndarray, shares: list[int],
            tmp: Path) -> list[dict]:
    """Both layouts are held at once and every question is timed on each in turn, so a
    burst of load from other jobs on the machine hits them alike."""
    import faiss

    x = corpus(real, n)
    ids = np.arange(n, dtype=np.int64) * 64  # paragraph-id * VIEW_SLOTS style, not dense
    qfile = tmp / "queries.npy"
    np.save(qfile, questions)

    t = time.perf_counter()
    flat = ann.build(ann.Layout(ann.FLAT), DIM, ids, x)
    flat_build = time.perf_counter() - t
    layout = ann.Layout(ann.IVF_SQ8, ann.nlist_for(n))
    t = time.perf_counter()
    ivf = ann.build(layout, DIM, ids, x)
    ivf_build = time.perf_counter() - t
    del x
    ivf_core = faiss.extract_index_ivf(ivf)
    chosen = ann.nprobe_for(layout.nlist)
    nprobes = [max(1, -(-layout.nlist // share)) for share in shares]

    # "N:serial" is the default probes on one thread (FAISS's parallel_mode 0, which qa used
    # before issue 6 set mode 1 in index.vectors.tune): the gain from the second core.
    serial = f"{chosen}:serial"
    lat: dict[str, list[float]] = {"flat": [], **{str(p): [] for p in nprobes}, serial: []}
    top: dict[str, list[np.ndarray]] = {k: [] for k in lat}
    mode = ivf_core.parallel_mode
    for q in questions:
        for key in lat:
            index = flat if key == "flat" else ivf
            if key != "flat":
                ivf_core.nprobe = int(key.split(":")[0])
                ivf_core.parallel_mode = 0 if key == serial else mode
            t = time.perf_counter()
            _, found = index.search(q[None, :], DEPTH)
            lat[key].append(time.perf_counter() - t)
            top[key].append(found[0][:10])
    exact = np.asarray(top["flat"])

    rows = []
    for key, index, build_s in (("flat", flat, flat_build), ("ivf", ivf, ivf_build)):
        f = tmp / f"{key}-{n}.faiss"
        with open(f, "wb") as fh:
            ann.write(index, fh)
        disk = f.stat().st_size / 2**20
        probed = probe(f, qfile)
        f.unlink()
        if key == "flat":
            rows.append({"n": n, "layout": "flat (exact)", "build_s": build_s, "lat": lat["flat"],
                         "recall": 1.0, "disk_mb": disk, **probed})
            continue
        for nprobe in nprobes:
            mark = " (default)" if nprobe == chosen else ""
            rows.append({"n": n, "layout": f"ivf-sq8 nlist={layout.nlist} nprobe={nprobe}{mark}",
                         "build_s": build_s, "lat": lat[str(nprobe)],
                         "recall": recall(np.asarray(top[str(nprobe)]), exact),
                         "disk_mb": disk, **probed})
        rows.append({"n": n, "layout": f"ivf-sq8 nlist={layout.nlist} nprobe={chosen}, one thread",
                     "build_s": build_s, "lat": lat[serial],
                     "recall": recall(np.asarray(top[serial]), exact), "disk_mb": disk, **probed})
    return rows


def table(rows: list[dict]) -> str:
    lines = ["| vectors | layout | build | query p50 / p95 | recall@10 vs exact | RSS copied (mapped, after queries) | load copied / mapped | size on disk |",
             "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        p50, p95 = (1000 * np.percentile(r["lat"], p) for p in (50, 95))
        lines.append(
            f"| {r['n']:,} | {r['layout']} | {r['build_s']:.1f} s | {p50:.1f} / {p95:.1f} ms | "
            f"{r['recall']:.3f} | {r['copy_rss_queried_mb']:.0f} MB ({r['mmap_rss_queried_mb']:.0f} MB) | "
            f"{r['copy_load_ms']:.0f} / {r['mmap_load_ms']:.0f} ms | {r['disk_mb']:.0f} MB |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="180000,1000000")
    ap.add_argument("--queries", type=int, default=300)
    ap.add_argument("--shares", default="4,3,2", help="probe 1/share of the lists")
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()
    real, questions = real_vectors()
    rng = np.random.default_rng(1)
    questions = questions[rng.choice(len(questions), min(args.queries, len(questions)),
                                     replace=False)]
    print(f"real vectors {len(real):,}, questions {len(questions)}, "
          f"load average {os.getloadavg()[0]:.1f}", file=sys.stderr)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in (int(s) for s in args.sizes.split(",")):
            rows += measure(n, real, questions, [int(s) for s in args.shares.split(",")], Path(tmp))
            print(table(rows), file=sys.stderr)
    print(f"load average at the end {os.getloadavg()[0]:.1f}", file=sys.stderr)
    text = table(rows)
    print(text)
    if args.out:
        with open(args.out, "a", encoding="utf-8") as f:
            f.write("\n" + text + "\n")


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--probe":
        probe_main(Path(sys.argv[2]), Path(sys.argv[3]))
    else:
        main()
