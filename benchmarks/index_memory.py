"""Peak resident memory of `qa index add` on IndoSum (the whole file, or its first N articles).

Run:  QA_MODEL_CACHE=/tmp/qacache python benchmarks/index_memory.py [--articles 500] [--work DIR]

The add runs as its own process into a fresh index; its RSS is read from /proc every 0.25 s
(Linux), so the figure is the process's own peak and the timeline shows where it grows (the
model loading, each commit's chunk, the longest batches). Prints the peak, when it was reached,
and a 20-point timeline.
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "indosum_news_articles.jsonl"


def rss_mb(pid: int) -> tuple[float, float] | None:
    """(resident MB, of which file-backed: mapped libraries and model files)."""
    seen = {}
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                key = line.split(":")[0]
                if key in ("VmRSS", "RssFile"):
                    seen[key] = int(line.split()[1]) / 1024
    except FileNotFoundError:
        return None
    return (seen["VmRSS"], seen.get("RssFile", 0.0)) if "VmRSS" in seen else None


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--articles", type=int, default=0, help="first N articles (0: all)")
    parser.add_argument("--work", type=Path, default=None)
    args = parser.parse_args()
    if not DATA.is_file():
        print(f"skipped: {DATA} not found")
        return
    work = args.work or Path(tempfile.mkdtemp(prefix="qa-index-memory-"))
    work.mkdir(parents=True, exist_ok=True)
    source = DATA
    if args.articles:
        source = work / f"indosum-{args.articles}.jsonl"
        with DATA.open(encoding="utf-8") as full, source.open("w", encoding="utf-8") as out:
            for n, line in enumerate(full):
                if n >= args.articles:
                    break
                out.write(line)
    command = [sys.executable, "-m", "qa", "index", "add", "--index", str(work / "index"),
               str(source), "--json"]
    started = time.time()
    proc = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    samples: list[tuple[float, float]] = []
    while proc.poll() is None:
        mb = rss_mb(proc.pid)
        if mb is not None:
            samples.append((time.time() - started, *mb))
        time.sleep(0.25)
    out, err = proc.communicate()
    print(f"exit {proc.returncode}, {time.time() - started:.0f} s; {out.decode().strip()[-400:]}")
    if proc.returncode:
        print(err.decode()[-600:])
    if samples:
        at, peak, mapped = max(samples, key=lambda s: s[1])
        print(f"peak RSS {peak:.0f} MB at {at:.0f} s ({mapped:.0f} MB of it file-backed)")
        step = max(1, len(samples) // 20)
        print("timeline (s:MB) " + " ".join(f"{t:.0f}:{m:.0f}" for t, m, _ in samples[::step]))


if __name__ == "__main__":
    main()
