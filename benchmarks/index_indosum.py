"""Index lifecycle on IndoSum (3,463 Indonesian news articles): what incremental indexing saves.

    python benchmarks/index_indosum.py [--limit N]

Four figures, one run, one model load:
1. first `add` of the corpus (a copy of the JSONL in a temporary folder): time, paragraphs/s;
2. re-`add` of the same file: should embed nothing (prints paragraphs and vectors embedded);
3. `sync` after editing one paragraph of one article: should embed that paragraph only;
4. the bare model on exactly the texts step 1 embedded (every view of every paragraph), as
   `embedder.embed_passages` throughput, and the ratio indexing / bare: the cost of reading,
   hashing, FAISS and SQLite on top of the model.

The data file is expected at ../shared/data/indosum_news_articles.jsonl beside the repo.
"""
from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "indosum_news_articles.jsonl"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=0, help="first N articles only (0: all)")
    parser.add_argument("--model", default=None, help="model name or folder (default: qa's)")
    parser.add_argument("--data", type=Path, default=DATA)
    args = parser.parse_args(argv)
    if not args.data.is_file():
        print(f"IndoSum not found at {args.data}; nothing to measure.", file=sys.stderr)
        return 0

    from index.lifecycle import add_paths, open_writable, read_sources, sync_folder
    from index.passages import passage_views
    from qa.engine import load_model

    work = Path(tempfile.mkdtemp(prefix="qa-indosum-"))
    try:
        corpus = work / "corpus"
        corpus.mkdir()
        target = corpus / "indosum.jsonl"
        with open(args.data, encoding="utf-8") as src, open(target, "w", encoding="utf-8") as out:
            for n, line in enumerate(src):
                if args.limit and n >= args.limit:
                    break
                out.write(line)

        embedder = load_model(args.model)
        print(f"model {embedder.name}, corpus {target.stat().st_size / 1e6:.1f} MB"
              f"{f' (first {args.limit} articles)' if args.limit else ''}")
        with open_writable(work / "idx", embedder) as store:
            first = add_paths(store, embedder, [target])
            n_par = first.paragraphs_embedded
            print(f"first add:  {first.added} articles, {n_par} paragraphs, "
                  f"{first.vectors_embedded} vectors in {first.seconds:.1f} s = "
                  f"{n_par / first.seconds:.1f} paragraphs/s, "
                  f"{first.vectors_embedded / first.seconds:.1f} vectors/s")

            again = add_paths(store, embedder, [target])
            print(f"re-add:     {again.unchanged} unchanged, embedded {again.paragraphs_embedded} "
                  f"paragraphs / {again.vectors_embedded} vectors in {again.seconds:.2f} s")

            lines = target.read_text(encoding="utf-8").splitlines()
            middle = len(lines) // 2
            record = json.loads(lines[middle])
            record["paragraphs"][0] = record["paragraphs"][0] + " (Diperbarui pada sore hari.)"
            lines[middle] = json.dumps(record, ensure_ascii=False)
            target.write_text("\n".join(lines) + "\n", encoding="utf-8")
            synced = sync_folder(store, embedder, corpus)
            print(f"sync edit:  {synced.updated} updated, {synced.unchanged} unchanged, embedded "
                  f"{synced.paragraphs_embedded} paragraphs / {synced.vectors_embedded} vectors "
                  f"in {synced.seconds:.2f} s")
            size = sum(p.stat().st_size for p in (work / "idx").iterdir() if p.is_file())

        articles, _ = read_sources([target])
        texts = [t for a in articles for p in a.paragraphs for t in passage_views(a, p)]
        started = time.perf_counter()
        embedder.embed_passages(texts)
        bare = time.perf_counter() - started
        index_rate = first.vectors_embedded / first.seconds
        bare_rate = len(texts) / bare
        print(f"bare model: {len(texts)} texts in {bare:.1f} s = {bare_rate:.1f} vectors/s")
        print(f"indexing/bare throughput: {index_rate / bare_rate:.2f}")
        print(f"index size on disk: {size / 1e6:.1f} MB")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
