"""Issue 20: the word bridge (index.models.word_senses, qa.bridge), what it costs and how well
it maps words. R@1 is measured end to end by `qa eval` (benchmarks/RESULTS.md gives the
commands); this script measures what `qa eval` cannot see.

Run:  QA_MODEL_CACHE=/tmp/qacache python benchmarks/bridge_dev.py [--articles 1000]
                                                [--pairs 0] [--keep DIR | --index DIR]

1. Build cost: IndoSum's first --articles articles indexed twice by `qa index`'s own build
   (index.indexing.build.build_from_articles), without and with word senses, alternately
   twice; seconds per 10,000 paragraphs each way, the table's rows and its size on disk.
2. Word mapping on ../shared/data/news_en_id_parallel.jsonl (--pairs: the first N, 0 all),
   over that index's senses: each English content word the index does not know is mapped
   as a question's word is (qa.bridge.cross); the share whose first (or either of the two)
   mapped terms is a stem of a word of the paired Indonesian sentence, by the first term's
   cosine ("mapped": share of the unknown words given some corpus word; a word none of
   whose near corpus words stands out is given none). `--index DIR` measures 2 and 3 over
   an index kept by an earlier `--keep DIR` (or any index with word senses).
3. Question cost: for those English sentences asked as questions, the time `qa.bridge.cross`
   takes beyond the question's token states (which the re-ranking computes anyway) plus the
   word search it adds, median and 95th percentile; and reading the table once (a process's
   first bridged question).

The earlier single-word prototype (session 10; each corpus word embedded alone) is in git
history and its figures are in RESULTS.md.
"""
from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.devsets import DATA  # noqa: E402


def build_cost(embedder, articles, work: Path, keep: Path) -> Path:
    from index.indexing.build import build_from_articles
    from index.models.onnx_encoder import OnnxEncoder

    paragraphs = sum(len(a.paragraphs) for a in articles)
    seconds: dict[bool, list[float]] = {False: [], True: []}
    folder = work / "with"
    for senses in (False, True, False, True):
        OnnxEncoder.reads_word_senses = senses
        target = work / ("with" if senses else "without")
        shutil.rmtree(target, ignore_errors=True)
        report = build_from_articles(articles, target, embedder)
        seconds[senses].append(report.seconds)
        print(f"  build {'with' if senses else 'without'} senses: {report.seconds:.1f} s", flush=True)
    OnnxEncoder.reads_word_senses = True
    per = {k: 10_000 * min(v) / paragraphs for k, v in seconds.items()}
    print(f"{len(articles)} articles, {paragraphs} paragraphs: best of two builds "
          f"{min(seconds[False]):.1f} s without senses, {min(seconds[True]):.1f} s with; per 10k "
          f"paragraphs {per[False]:.0f} s -> {per[True]:.0f} s (+{per[True] - per[False]:.0f} s, "
          f"x{per[True] / per[False]:.3f})")
    import sqlite3

    db = sqlite3.connect(folder / "index.sqlite")
    rows, size = db.execute("SELECT count(*), sum(length(term) + length(vec) + 8) FROM word_senses").fetchone()
    whole = sum(p.stat().st_size for p in folder.iterdir() if p.is_file())
    print(f"word senses: {rows} terms, about {size / 1e6:.1f} MB of {whole / 1e6:.1f} MB on disk "
          f"({size / rows:.0f} bytes a term)")
    db.close()
    if keep:
        shutil.rmtree(keep, ignore_errors=True)
        shutil.copytree(folder, keep)
    return folder


def mapping(embedder, folder: Path, pairs: int) -> None:
    from index.corpus import lexical
    from index.storage.faiss.store import Store
    from qa import bridge

    with open(DATA / "news_en_id_parallel.jsonl", encoding="utf-8") as f:
        rows = [json.loads(line) for line in f]
    rows = rows[:pairs] if pairs else rows
    store = Store.open(folder)
    started = time.perf_counter()
    table = store.word_senses()
    print(f"reading the table once: {1000 * (time.perf_counter() - started):.0f} ms "
          f"({len(table.terms)} terms)")
    where = {t: i for i, t in enumerate(table.terms)}
    found: list[tuple[float, bool, bool]] = []  # (cosine of the first, first in pair, either)
    unmapped = 0
    costs = []
    import numpy as np

    for row in rows:
        english = row["en"]
        asked = embedder.token_states(english, "query")
        started = time.perf_counter()
        crossing = bridge.cross(store, _Known(asked), english, 0.0)
        store.search_lexical(" ".join(crossing.terms), 100)
        costs.append(1000 * (time.perf_counter() - started))
        stems = {lexical.stem(w) for w in lexical.words(row["id_text"])}
        for word, terms in crossing.mapped:
            if not terms:  # no corpus word stands out from the word's neighbours
                unmapped += 1
                continue
            rows_ = _rows_of(asked, word)
            vector = asked.vectors[rows_].mean(axis=0)
            cos = float(table.vectors[where[terms[0]]] @ (vector / np.linalg.norm(vector)))
            found.append((cos, terms[0] in stems, any(t in stems for t in terms)))
    store.close()
    unknown = len(found) + unmapped
    print(f"{len(rows)} pairs, {unknown} English content words the index does not know; "
          f"{unmapped} ({unmapped / max(unknown, 1):.3f}) mapped to nothing (no corpus word "
          f"stands out, qa.bridge.DISTINCT)")
    print("cosine at least  mapped  first in pair  either in pair")
    for tau in (0.0, 0.5, 0.6, 0.7, 0.8):
        kept = [f for f in found if f[0] >= tau]
        if kept:
            print(f"{tau:15.1f}  {len(kept) / unknown:6.3f}  {sum(f[1] for f in kept) / len(kept):13.3f}"
                  f"  {sum(f[2] for f in kept) / len(kept):14.3f}")
    costs.sort()
    print(f"question cost beyond its token states (mapping + word search): median "
          f"{statistics.median(costs):.2f} ms, p95 {costs[int(0.95 * (len(costs) - 1))]:.2f} ms")


class _Known:
    """An encoder whose `token_states` hands back states already made, so `cross` is timed
    without the encoder pass (the re-ranking makes that pass anyway)."""

    def __init__(self, states) -> None:
        self.states = states

    def token_states(self, text: str, side: str = "query"):
        return self.states


def _rows_of(states, word: str) -> list[int]:
    """The rows of the (first) content word spelled `word`, as qa.bridge reads them."""
    from index.models.token_states import spelled
    from qa import alignment

    for rows in alignment.content_words(states):
        text, kept = spelled(states, rows)
        if text == word:
            return kept
    raise KeyError(word)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--articles", type=int, default=1000)
    parser.add_argument("--pairs", type=int, default=0)
    parser.add_argument("--keep", type=Path, default=None, help="keep the index with senses here")
    parser.add_argument("--index", type=Path, default=None, help="skip 1: an index kept before")
    args = parser.parse_args()
    needed = [DATA / "news_en_id_parallel.jsonl", DATA / "indosum_news_articles.jsonl"]
    missing = [str(p) for p in needed if not p.is_file()]
    if missing:
        print(f"skipped: {', '.join(missing)} not found")
        return
    from index.indexing.sources import read_sources
    from qa.engine import load_model

    embedder = load_model(None)
    if args.index:
        mapping(embedder, args.index, args.pairs)
        return
    work = Path(tempfile.mkdtemp(prefix="qa-bridge-"))
    try:
        source = work / "indosum.jsonl"
        with open(DATA / "indosum_news_articles.jsonl", encoding="utf-8") as f:
            source.write_text("".join(line for _, line in zip(range(args.articles), f)), encoding="utf-8")
        articles, _ = read_sources([source])
        folder = build_cost(embedder, articles, work, args.keep)
        mapping(embedder, folder, args.pairs)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
