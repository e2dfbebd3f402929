"""Index lifecycle on IndoSum (3,463 Indonesian news articles): what incremental indexing saves.

    python benchmarks/index_indosum.py [--limit N]

Four figures, one run, one model load:
1. first `add` of the corpus (a copy of the JSONL in a temporary folder): time, paragraphs/s;
2. re-`add` of the same file: should embed nothing (prints paragraphs and vectors embedded);
3. `sync` after editing one paragraph of one article: should embed that paragraph only;
4. the bare model (sentence-transformers' own `encode_document`, batch 32, the passage
   prompt) on exactly the texts step 1 embedded (every view of every paragraph), and the
   ratio indexing / bare: the cost of reading, hashing, stemming, FAISS and SQLite on top of
   the model. The bare texts are encoded half before the add and half after it (even and odd
   positions), after a warm-up, so the machine's drift over a long run (heat, neighbours)
   weighs on both sides alike instead of on whichever runs second.

`--keep DIR` copies the index as it stands after the first add to DIR (replacing it), for the
cold-start and Milvus benchmarks, which need the full index.

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
    parser.add_argument("--keep", type=Path, default=None,
                        help="copy the index after the first add to this folder")
    args = parser.parse_args(argv)
    if not args.data.is_file():
        print(f"IndoSum not found at {args.data}; nothing to measure.", file=sys.stderr)
        return 0

    from index.indexing.lifecycle import add_paths, open_writable, sync_folder
    from index.indexing.sources import read_sources
    from index.corpus.passages import passage_views
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
        articles, _ = read_sources([target])
        texts = [t for a in articles for p in a.paragraphs for t in passage_views(a, p)]
        bare_encode(embedder, texts[:64])  # warm-up: first batches pay for allocation
        bare = bare_encode(embedder, texts[0::2])
        with open_writable(work / "idx", embedder) as store:
            first = add_paths(store, embedder, [target])
            n_par = first.paragraphs_embedded
            print(f"first add:  {first.added} articles, {n_par} paragraphs, "
                  f"{first.vectors_embedded} vectors in {first.seconds:.1f} s = "
                  f"{n_par / first.seconds:.1f} paragraphs/s, "
                  f"{first.vectors_embedded / first.seconds:.1f} vectors/s", flush=True)
            if args.keep:
                shutil.rmtree(args.keep, ignore_errors=True)
                shutil.copytree(work / "idx", args.keep)
                print(f"kept a copy at {args.keep}", flush=True)

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

        bare += bare_encode(embedder, texts[1::2])
        index_rate = first.vectors_embedded / first.seconds
        bare_rate = len(texts) / bare
        print(f"bare model: {len(texts)} texts in {bare:.1f} s = {bare_rate:.1f} vectors/s")
        print(f"indexing/bare throughput: {index_rate / bare_rate:.2f}")
        print(f"index size on disk: {size / 1e6:.1f} MB")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


def bare_encode(embedder, texts: list[str]) -> float:
    """Seconds for sentence-transformers alone to embed `texts` as passages."""
    started = time.perf_counter()
    embedder.model.encode_document(texts, batch_size=32, prompt=embedder.passage_prompt,
                                   normalize_embeddings=True, convert_to_numpy=True,
                                   show_progress_bar=False)
    return time.perf_counter() - started


if __name__ == "__main__":
    sys.exit(main())
