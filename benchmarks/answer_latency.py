"""Warm `qa.answer.answer` latency on the seed index: the working tree against an earlier
revision's answer path, in one process, on the same questions, interleaved so both see the
same machine load.

Run:  python benchmarks/answer_latency.py [--baseline 2f248c3] [--repeats 5] [--index DIR]

The baseline's qa/answer.py and qa/confidence.py are read with `git show` and loaded as
separate modules over the same engine (same model session, same index, everything else from
the working tree). Prints p50 and mean per side.
"""
from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
import types
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

QUESTIONS = [
    "Who summoned the Russian ambassador?", "Siapa yang memanggil duta besar Rusia?",
    "What is the capital of France?", "Apa ibu kota Prancis?",
    "How many North Korean soldiers arrived in Russia?", "Berapa tentara Korea Utara tiba di Rusia?",
    "What did Dmitry Peskov say?", "Bagaimana cara memasak nasi?",
]


def load_revision(rev: str):
    """The revision's answer module, wired to that revision's confidence module."""
    def source(path):
        return subprocess.run(["git", "show", f"{rev}:{path}"], cwd=ROOT, check=True,
                              capture_output=True, text=True).stdout

    conf = types.ModuleType("baseline_confidence")
    sys.modules[conf.__name__] = conf  # dataclasses look their module up
    exec(compile(source("qa/confidence.py"), f"{rev}:qa/confidence.py", "exec"), conf.__dict__)
    answer = types.ModuleType("baseline_answer")
    sys.modules[answer.__name__] = answer
    code = source("qa/answer.py").replace("from qa import confidence, sentence_choice",
                                          "from qa import sentence_choice")
    answer.__dict__["confidence"] = conf
    exec(compile(code, f"{rev}:qa/answer.py", "exec"), answer.__dict__)
    return answer.answer


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--baseline", default="2f248c3")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--index", type=Path, default=Path("/tmp/honest/latency-seed"))
    args = ap.parse_args()
    from qa.answer import answer as current
    from qa.engine import build, open_engine

    if not (args.index / "index.sqlite").exists():
        build(None, args.index, None)
    engine = open_engine(args.index, None, build_default=False)
    baseline = load_revision(args.baseline)
    for fn in (current, baseline):  # warm both paths (model session, caches, stemmer)
        for q in QUESTIONS:
            fn(engine, q)
    times = {"working tree": [], args.baseline: []}
    for _ in range(args.repeats):
        for q in QUESTIONS:
            for name, fn in (("working tree", current), (args.baseline, baseline)):
                started = time.perf_counter()
                fn(engine, q)
                times[name].append(time.perf_counter() - started)
    engine.close()
    for name, ts in times.items():
        print(f"{name:14} answer(): p50 {1000 * statistics.median(ts):.1f} ms, "
              f"mean {1000 * statistics.fmean(ts):.1f} ms over {len(ts)} calls")


if __name__ == "__main__":
    main()
