"""Cold `qa ask` and warm query latency (issue 6): what a one-off question costs.

    QA_MODEL_CACHE=/tmp/qacache python benchmarks/cold_start.py \
        [--indosum-index /tmp/qacache/indosum-index] [--runs 7] [--warm 300] [--no-before]

One run measures, so the figures can be compared with each other on a shared machine:
1. the floor: a fresh Python importing numpy, onnxruntime, tokenizers and faiss;
2. cold `qa ask` (a fresh process each time, wall time from spawn to exit, median of --runs)
   on the seed index (the default index in a temporary data dir; the first run builds it and
   is not counted) and on the IndoSum index; questions alternate English / Indonesian;
3. the same with the previous answer path (sentence-transformers loaded to embed the
   question), for the before/after ratio;
4. where a cold process spends its time (one instrumented process per index);
5. warm, in one process at the IndoSum index, measured before the cold runs (whose load
   would switch off onnxruntime's spinning, see index.models.onnx_encoder.cores_idle): per question, the embedding alone
   (`embed_queries`), the ranking alone (`qa.retrieve.retrieve`, the hits' text included),
   embedding + search + fetch as the product runs them (`qa.retrieve.search`, which does the
   word search while the question is embedded), and the whole
   `qa.answer.answer` (which also embeds each hit's sentences to pick the answer sentence),
   p50 / p95 over real dev-set questions.

Prints a markdown table; `--out` appends it to benchmarks/RESULTS.md.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
QUESTIONS = ["Who summoned the Russian ambassador?", "Siapa yang memanggil duta besar Rusia?"]
# The answer path before issue 6: the CLI unchanged, the question embedded by sentence-transformers.
BEFORE = ("import sys, qa.engine as e; e.load_model = e.load_st_model; from qa.cli import main; "
          "sys.argv = ['qa', *sys.argv[1:]]; main()")
FLOOR = "import numpy, onnxruntime, tokenizers, faiss"
PHASES = r"""
import json, sys, time
t0 = time.perf_counter()
from pathlib import Path
from qa.answer import answer
from qa.engine import load_model
from index.storage.faiss.store import Store
import numpy, onnxruntime, tokenizers, faiss
t1 = time.perf_counter()
store = Store.open(Path(sys.argv[1]))
t2 = time.perf_counter()
model = load_model(store.manifest.model)
t3 = time.perf_counter()
load = getattr(store, "_current_faiss", None)
if load is not None:
    load()
t4 = time.perf_counter()
from qa.engine import Engine
answer(Engine(store=store, embedder=model, index_ref=Path(sys.argv[1])), sys.argv[2])
t5 = time.perf_counter()
print(json.dumps({"imports": t1 - t0, "open store": t2 - t1, "load encoder": t3 - t2,
                  "load vectors": t4 - t3, "answer": t5 - t4}))
"""


def env_for(data_home: Path | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("QA_INDEX", "QA_MODEL")}
    env["PYTHONPATH"] = str(ROOT)
    if data_home is not None:
        env["XDG_DATA_HOME"] = str(data_home)
    return env


def timed(cmd: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    proc = subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    took = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd[:6])} failed:\n{proc.stderr}")
    return took


def cold(index: Path | None, runs: int, env: dict[str, str], before: bool) -> list[float]:
    head = [sys.executable, "-c", BEFORE] if before else [sys.executable, "-m", "qa"]
    extra = ["--index", str(index)] if index is not None else []
    return [timed([*head, "ask", QUESTIONS[i % 2], *extra], env) for i in range(runs)]


def phases(index: Path, env: dict[str, str]) -> dict[str, float]:
    out = subprocess.run([sys.executable, "-c", PHASES, str(index), QUESTIONS[1]], env=env,
                         capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def dev_questions(n: int) -> list[str]:
    """Real questions, English and Indonesian, spread over the dev sets."""
    files = [DATA / f for f in ("xling_enq_idctx_dev.jsonl", "facqa_news_id_dev.jsonl",
                                "tydiqa_goldp_id_dev.jsonl", "xquad_en_dev.jsonl")]
    rows = [[json.loads(line)["question"] for line in open(f, encoding="utf-8")] for f in files if f.is_file()]
    if not rows:
        return QUESTIONS * (n // 2)
    per = max(1, n // len(rows))
    return [q for qs in rows for q in qs[:: max(1, len(qs) // per)][:per]]


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def warm(index: Path, n: int, before: bool) -> dict[str, object]:
    from index.storage.faiss.store import Store
    from qa.answer import answer
    from qa.engine import Engine, load_model, load_st_model
    from qa.retrieve import retrieve, search

    store = Store.open(index)
    questions = dev_questions(n)
    out: dict[str, object] = {"questions": len(questions), "vectors": None}
    try:
        from index.models.onnx_encoder import cores_idle

        out["spin"], out["load"] = cores_idle(), os.getloadavg()[0]
        model = load_model(store.manifest.model)
        engine = Engine(store=store, embedder=model, index_ref=index)
        for q in QUESTIONS:  # first search loads the vectors; not a warm figure
            answer(engine, q)
        embed, ranking, both, total = [], [], [], []
        for q in questions:
            # The headline figure first, while the question's words are new to the process
            # (stems are cached per word, SQLite pages stay warm): the later calls on the same
            # question would find them ready.
            t0 = time.perf_counter()
            search(store, model, q, 5)
            t1 = time.perf_counter()
            qvec = model.embed_queries([q])[0]
            t2 = time.perf_counter()
            retrieve(store, qvec, q, 5)
            t3 = time.perf_counter()
            answer(engine, q)
            t4 = time.perf_counter()
            both.append(t1 - t0)
            embed.append(t2 - t1)
            ranking.append(t3 - t2)
            total.append(t4 - t3)
        out.update({"embed": embed, "search": ranking, "embed+search": both, "answer": total})
        if before:
            st = load_st_model(store.manifest.model)
            out["embed (sentence-transformers)"] = []
            for q in questions:
                t0 = time.perf_counter()
                st.embed_queries([q])
                out["embed (sentence-transformers)"].append(time.perf_counter() - t0)
        _, paragraphs = store.counts()
        out["paragraphs"] = paragraphs
    finally:
        store.close()
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--indosum-index", type=Path, default=Path("/tmp/qacache/indosum-index"))
    parser.add_argument("--runs", type=int, default=7, help="fresh processes per cold figure")
    parser.add_argument("--before-runs", type=int, default=3,
                        help="fresh processes for the sentence-transformers figures")
    parser.add_argument("--warm", type=int, default=300, help="questions for the warm figures")
    parser.add_argument("--no-before", action="store_true", help="skip the sentence-transformers path")
    parser.add_argument("--out", type=Path, default=None, help="append the table to this file")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))  # this checkout's qa, as in the measured subprocesses
    before = not args.no_before
    indosum = args.indosum_index if (args.indosum_index / "index.sqlite").is_file() else None

    rows: list[tuple[str, str]] = []
    load_before = os.getloadavg()[0]
    # Warm first: the cold runs below keep both cores busy for a minute, and the load average
    # they leave would measure the warm path with onnxruntime's spinning switched off.
    w = warm(indosum, args.warm, before) if indosum is not None else {}
    rows.append(("floor: python + numpy, onnxruntime, tokenizers, faiss",
                 f"{statistics.median(timed([sys.executable, '-c', FLOOR], env_for()) for _ in range(args.runs)):.2f} s"))
    with tempfile.TemporaryDirectory() as tmp:
        env = env_for(Path(tmp))
        timed([sys.executable, "-m", "qa", "ask", QUESTIONS[0]], env)  # builds the default index
        seed = cold(None, args.runs, env, before=False)
        rows.append((f"cold `qa ask`, seed index (median of {args.runs})",
                     f"**{statistics.median(seed):.2f} s** (min {min(seed):.2f}, max {max(seed):.2f})"))
        if before:
            old = cold(None, args.before_runs, env, before=True)
            rows.append((f"  before (sentence-transformers, median of {args.before_runs})",
                         f"{statistics.median(old):.2f} s; after/before {statistics.median(seed) / statistics.median(old):.2f}"))
        seed_dir = Path(tmp) / "qa" / "indexes" / "default"
        rows.append(("  where the time goes (one process)",
                     ", ".join(f"{k} {v:.2f}" for k, v in phases(seed_dir, env).items()) + " s"))
    if indosum is not None:
        env = env_for()
        big = cold(indosum, args.runs, env, before=False)
        rows.append((f"cold `qa ask`, IndoSum index (median of {args.runs})",
                     f"**{statistics.median(big):.2f} s** (min {min(big):.2f}, max {max(big):.2f})"))
        if before:
            old = cold(indosum, args.before_runs, env, before=True)
            rows.append((f"  before (sentence-transformers, median of {args.before_runs})",
                         f"{statistics.median(old):.2f} s; after/before {statistics.median(big) / statistics.median(old):.2f}"))
        rows.append(("  where the time goes (one process)",
                     ", ".join(f"{k} {v:.2f}" for k, v in phases(indosum, env).items()) + " s"))
        rows.insert(0, ("IndoSum index", f"{w['paragraphs']:,} paragraphs"))
        rows.append(("  onnxruntime threads spin (index.models.onnx_encoder.cores_idle)",
                     f"{'yes' if w['spin'] else 'no'}: load average {w['load']:.1f} when the "
                     "warm session was made"))
        for key in ("embed", "search", "embed+search", "answer", "embed (sentence-transformers)"):
            if key in w:
                values = [1000 * v for v in w[key]]  # type: ignore[union-attr]
                label = {"embed+search": "**embedding + search + fetch**"}.get(key, key)
                value = f"p50 {pct(values, 0.5):.1f} ms, p95 {pct(values, 0.95):.1f} ms"
                rows.append((f"warm {label} ({w['questions']} dev questions)",
                             f"**{value}**" if key == "embed+search" else value))
    else:
        rows.append(("IndoSum index", f"not found at {args.indosum_index}: not measured"))
    rows.append(("load average (1 min) at start / end", f"{load_before:.1f} / {os.getloadavg()[0]:.1f}"))

    table = "\n".join(["| figure | value |", "|---|---|", *(f"| {a} | {b} |" for a, b in rows)])
    print(table)
    if args.out is not None:
        stamp = time.strftime("%Y-%m-%d %H:%M")
        with open(args.out, "a", encoding="utf-8") as f:
            f.write(f"\nRun {stamp}, `python benchmarks/cold_start.py --runs {args.runs} --warm {args.warm}`:\n\n"
                    f"{table}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
