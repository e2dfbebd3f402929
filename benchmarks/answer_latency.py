"""Warm `qa.answer.answer` latency on the seed index: the working tree against an earlier
revision's answer path, in one process, on the same questions, interleaved so both see the
same machine load.

Run:  python benchmarks/answer_latency.py [--baseline 2f248c3] [--repeats 5] [--index DIR]
                                          [--questions FILE.jsonl --limit N]

With --questions, the first N questions of a JSONL question set (its `question` field) are
asked instead of the built-in ones: e.g. FacQA's factoid questions over the IndoSum index,
where the short answer's extractor runs on every answer.

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
    """The revision's answer module, wired to that revision's own copies of the qa modules
    it imports that the working tree may have changed (confidence, alignment, rerank,
    bridge, retrieve)."""
    import qa

    def source(path):
        return subprocess.run(["git", "show", f"{rev}:{path}"], cwd=ROOT, check=True,
                              capture_output=True, text=True).stdout

    def load(name, own):
        module = types.ModuleType(f"baseline_{name}")
        sys.modules[module.__name__] = module  # dataclasses look their module up
        module.__dict__.update(own)
        exec(compile(source(f"qa/{name}.py"), f"{rev}:qa/{name}.py", "exec"), module.__dict__)
        return module

    names = ("confidence", "alignment", "rerank", "bridge", "retrieve")
    saved = dict(vars(qa))
    saved_modules = {n: sys.modules.get(f"qa.{n}") for n in names}
    try:
        for name in names:
            try:
                # Found by `from qa import x` and by `from qa.x import y` in the next ones.
                setattr(qa, name, load(name, {}))
                sys.modules[f"qa.{name}"] = getattr(qa, name)
            except subprocess.CalledProcessError:
                pass  # the revision has no such module
        answer = load("answer", {})
    finally:
        for name in names:
            if name in saved:
                setattr(qa, name, saved[name])
            elif hasattr(qa, name):
                delattr(qa, name)
            if saved_modules[name] is not None:
                sys.modules[f"qa.{name}"] = saved_modules[name]
    return answer.answer


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--baseline", default="2f248c3")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--index", type=Path, default=Path("/tmp/honest/latency-seed"))
    ap.add_argument("--questions", type=Path, help="JSONL question set to ask instead")
    ap.add_argument("--limit", type=int, default=40)
    args = ap.parse_args()
    questions = QUESTIONS
    if args.questions:
        import json

        with args.questions.open(encoding="utf-8") as f:
            questions = [json.loads(line)["question"] for line in f if line.strip()][:args.limit]
    from qa.answer import answer as current
    from qa.engine import build, open_engine

    if not (args.index / "index.sqlite").exists():
        build(None, args.index, None)
    engine = open_engine(args.index, None, build_default=False)
    baseline = load_revision(args.baseline)
    for fn in (current, baseline):  # warm both paths (model session, caches, stemmer)
        for q in questions:
            fn(engine, q)
    times = {"working tree": {q: [] for q in questions}, args.baseline: {q: [] for q in questions}}
    for _ in range(args.repeats):
        for q in questions:
            for name, fn in (("working tree", current), (args.baseline, baseline)):
                started = time.perf_counter()
                fn(engine, q)
                times[name][q].append(time.perf_counter() - started)
    engine.close()
    for name, by_question in times.items():
        ts = [t for per in by_question.values() for t in per]
        print(f"{name:14} answer(): p50 {1000 * statistics.median(ts):.1f} ms, "
              f"mean {1000 * statistics.fmean(ts):.1f} ms over {len(ts)} calls")
    ratio = [statistics.median(times["working tree"][q]) / statistics.median(times[args.baseline][q])
             for q in questions]
    print(f"working tree / baseline, median over questions of the per-question p50 ratio: "
          f"{statistics.median(ratio):.3f}")
    print("p50 per question (working tree / baseline):")
    for q in questions:
        print(f"  {1000 * statistics.median(times['working tree'][q]):6.1f} / "
              f"{1000 * statistics.median(times[args.baseline][q]):6.1f} ms  {q}")


if __name__ == "__main__":
    main()
