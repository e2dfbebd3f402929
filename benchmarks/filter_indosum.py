"""Filtered questions on IndoSum (issue 18): are they as fast as unfiltered ones, and is every
hit inside the filter?

    QA_MODEL_CACHE=/tmp/qacache python benchmarks/filter_indosum.py [--index DIR] [--questions 100]

1. Three filters (one outlet, a date range, outlet and range) and for each `--questions`
   questions: the first sentence of the `summary` of IndoSum articles that pass it (fixed
   seed), as benchmarks/junk_indosum.py makes them, so that a filtered question is one a
   user would filter for (its answer passes).
2. Every question is answered by the product's answer path (qa.answer.answer, k=5, as `qa ask`
   does once the model is loaded) with and without its filter, all interleaved in one run,
   and the wall time of each is recorded: p50 and mean per filter, filtered and unfiltered,
   and their ratio; likewise the retrieval alone (qa.retrieve.search, k=5: embedding, both
   searches, fusion, fetch). The first filtered question of each filter also pays for
   finding the passing paragraphs (index.storage.faiss.article_filter), timed on its own.
3. Checks: every passage shown, and every hit of the retrieval under it (qa.retrieve.search,
   k=5), belongs to an article that passes the filter (asked of the store per article, by
   id); the retrieval returns k hits whenever at least k paragraphs pass.
4. The dense side alone (`Store.search_dense(q, 100, where)`, what retrieval asks for), by
   three strategies: every passing vector scored from the stored vectors, a FAISS id selector
   (what the store uses above `_FILTER_EXACT_VIEWS` passing vectors), and a deepening
   over-fetch of the unfiltered search kept only where it passes; mean time each, and how
   many of the exact top 100 each finds.

The index defaults to /tmp/qacache/indosum-index (`qa index add --index ... indosum.jsonl`).
An index written by an older qa is copied to a temporary folder and upgraded there, so the
one given is never changed. The data is read from ../shared/data/indosum_news_articles.jsonl
beside the repo; without it or the index there is nothing to measure.
"""
from __future__ import annotations

import argparse
import json
import random
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "indosum_news_articles.jsonl"
INDEX = Path("/tmp/qacache/indosum-index")
SEED = 18
DENSE_DEPTH = 100  # what retrieval asks the dense side for (qa.retrieve.Fusion.candidates)


def first_sentence(record: dict) -> str:
    summary = record.get("summary")
    if isinstance(summary, list):
        summary = " ".join(map(str, summary))
    return (summary or "").split(". ")[0].strip()


def usable_index(index: Path, work: Path) -> Path:
    """`index`, or a copy of it in `work` when it must be upgraded first (never upgraded in
    place: another qa may be using it)."""
    from index.storage.faiss.schema import CURRENT

    db = sqlite3.connect(f"{(index / 'index.sqlite').resolve().as_uri()}?mode=ro", uri=True)
    try:
        version = db.execute("PRAGMA user_version").fetchone()[0]
    finally:
        db.close()
    if version >= CURRENT:
        return index
    copy = work / "index"
    shutil.copytree(index, copy, ignore=shutil.ignore_patterns("write.lock"))
    print(f"{index} is at schema {version}: measuring an upgraded copy in {copy}")
    return copy


def ms(values: list[float]) -> str:
    return f"p50 {1000 * statistics.median(values):6.1f} ms, mean {1000 * statistics.mean(values):6.1f} ms"


def dense_strategies(store, embedder, questions: dict[str, list[str]], filters: dict) -> None:
    from index.storage.faiss import store as faiss_store

    print(f"\ndense side, {DENSE_DEPTH} paragraphs a question (mean ms; share of the exact "
          "top 100 found):")
    for name, where in filters.items():
        qvecs = embedder.embed_queries(questions[name])
        found_passing = store._passing(where)
        passing = set(found_passing.pids.tolist())
        times = {"exact": [], "selector": [], "over-fetch": []}
        found = {key: 0 for key in times}
        for q in qvecs:
            saved = faiss_store._FILTER_EXACT_VIEWS
            try:
                faiss_store._FILTER_EXACT_VIEWS = 1 << 60
                started = time.perf_counter()
                exact = [p for p, _ in store.search_dense(q, DENSE_DEPTH, where)]
                times["exact"].append(time.perf_counter() - started)
                faiss_store._FILTER_EXACT_VIEWS = 0
                started = time.perf_counter()
                selected = [p for p, _ in store.search_dense(q, DENSE_DEPTH, where)]
                times["selector"].append(time.perf_counter() - started)
            finally:
                faiss_store._FILTER_EXACT_VIEWS = saved
            started = time.perf_counter()
            depth = DENSE_DEPTH
            while True:
                hits = store.search_dense(q, depth)
                kept = [p for p, _ in hits if p in passing][:DENSE_DEPTH]
                if len(kept) >= DENSE_DEPTH or len(hits) < depth:
                    break
                depth *= 4
            times["over-fetch"].append(time.perf_counter() - started)
            truth = set(exact)
            found["exact"] += len(truth)
            found["selector"] += len(truth & set(selected))
            found["over-fetch"] += len(truth & set(kept))
        total = found["exact"] or 1
        cells = ", ".join(f"{key} {1000 * statistics.mean(t):6.1f} ms ({found[key] / total:.3f})"
                          for key, t in times.items())
        print(f"  {name:24} {found_passing.vectors:>7} vectors pass: {cells}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, default=INDEX)
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--questions", type=int, default=100)
    parser.add_argument("--k", type=int, default=5)
    parser.add_argument("--outlet", default="kumparan")
    parser.add_argument("--since", default="2017-04-01")
    parser.add_argument("--until", default="2017-09-30")
    parser.add_argument("--dated-outlet", default="cnn indonesia",
                        help="the outlet of the outlet+range filter")
    args = parser.parse_args(argv)
    if not args.data.is_file() or not (args.index / "index.sqlite").is_file():
        print(f"IndoSum ({args.data}) or its index ({args.index}) not found; nothing to measure.",
              file=sys.stderr)
        return 0
    from index.storage.base import ArticleFilter
    from index.storage.faiss import article_filter
    from index.storage.faiss.store import Store
    from qa.answer import answer
    from qa.engine import Engine, load_model
    from qa.filtering import admits
    from qa.retrieve import search

    since, until = date.fromisoformat(args.since), date.fromisoformat(args.until)
    filters = {
        f"source {args.outlet}": ArticleFilter(outlets=(args.outlet,)),
        f"{since}..{until}": ArticleFilter(since=since, until=until),
        f"{args.dated_outlet}, range": ArticleFilter(since=since, until=until,
                                                      outlets=(args.dated_outlet,)),
    }
    work = Path(tempfile.mkdtemp(prefix="qa-filter-bench-"))
    try:
        folder = usable_index(args.index, work)
        with Store.open(folder) as store:
            records = []
            with open(args.data, encoding="utf-8") as fh:
                for line in fh:
                    if line.strip():
                        record = json.loads(line)
                        if len(first_sentence(record).split()) >= 5:
                            records.append(record)
            articles, paragraphs = store.counts()
            print(f"index {args.index}: {articles} articles, {paragraphs} paragraphs, "
                  f"{store.summary()['vectors']} vectors; dated {store.published_span()}")
            rng = random.Random(SEED)
            questions: dict[str, list[str]] = {}
            for name, where in filters.items():
                inside = [r for r in records if admits(store, where, str(r.get("id")))]
                chosen = rng.sample(inside, min(args.questions, len(inside)))
                questions[name] = [first_sentence(r) for r in chosen]
                started = time.perf_counter()
                article_filter.passing(store._conn(), where, store.generation)
                print(f"  filter {name:24} passes {store.count_matching(where)} (articles, "
                      f"paragraphs); finding them: {1000 * (time.perf_counter() - started):.1f} ms")
            engine = Engine(store=store, embedder=load_model(store.manifest.model),
                            index_ref=folder)
            answer(engine, questions[next(iter(filters))][0], k=args.k)  # warm: model, FAISS
            times = {n: {"unfiltered": [], "filtered": []} for n in filters}
            retrieval = {n: {"unfiltered": [], "filtered": []} for n in filters}
            outside: list[str] = []
            short: list[str] = []
            shown = {n: 0 for n in filters}
            for i in range(max(len(q) for q in questions.values())):
                for name, where in filters.items():
                    if i >= len(questions[name]):
                        continue
                    question = questions[name][i]
                    for how, applied in (("unfiltered", None), ("filtered", where)):
                        started = time.perf_counter()
                        result = answer(engine, question, k=args.k, where=applied)
                        times[name][how].append(time.perf_counter() - started)
                        started = time.perf_counter()
                        hits = search(store, engine.embedder, question, args.k, where=applied).hits
                        retrieval[name][how].append(time.perf_counter() - started)
                    shown[name] += len(result.passages)
                    for hit in [p.hit for p in result.passages] + hits:
                        if not admits(store, where, hit.article_id):
                            outside.append(f"{name}: {hit.article_id} <- {question[:50]!r}")
                    if len(hits) < min(args.k, store.count_matching(where)[1]):
                        short.append(f"{name}: {len(hits)} hits <- {question[:50]!r}")
            for what, table in (("answer path", times), ("retrieval alone", retrieval)):
                print(f"\nk={args.k}, {what} (interleaved, one run), each filter's questions "
                      "without and with it:")
                for name, runs in table.items():
                    ratio = statistics.median(runs["filtered"]) / statistics.median(runs["unfiltered"])
                    print(f"  {name:24} n={len(runs['filtered'])}  unfiltered {ms(runs['unfiltered'])}"
                          f"  filtered {ms(runs['filtered'])}  x{ratio:.2f} (p50)")
            print(f"hits outside their filter: {len(outside)}; retrievals with fewer than k "
                  f"hits where k pass: {len(short)}; passages shown per filter: {shown}")
            for line in outside[:20] + short[:20]:
                print(f"  {line}")
            dense_strategies(store, engine.embedder, questions, filters)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
