"""Passage embedding throughput: the export (as `qa index` runs it) against sentence-transformers'
own `encode_document`, on exactly the texts an index of IndoSum's first N articles embeds.

    QA_MODEL_CACHE=/tmp/qacache python benchmarks/index_speed.py [--articles 500]

Both run in this process, one after the other, on the same texts (each paragraph and its
windows, duplicates once, as the index embeds them). Prints texts/s and tokens/s for each, the
ratio, the arithmetic rate against the model's FLOP count (2 per weight per token, word
embeddings excluded, plus attention), the machine's own matrix-multiply rate in float32 and
bfloat16 for scale, and the parity: the worst and median cosine between the two sets of
vectors and how many texts' token ids differ from sentence-transformers' tokenizer.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DATA = ROOT.parent / "shared" / "data" / "indosum_news_articles.jsonl"


def index_texts(articles: int, work: Path) -> list[str]:
    from index.corpus.passages import passage_views
    from index.indexing.sources import read_articles

    source = work / f"indosum-{articles}.jsonl"
    with DATA.open(encoding="utf-8") as full, source.open("w", encoding="utf-8") as out:
        for n, line in enumerate(full):
            if n >= articles:
                break
            out.write(line)
    read = read_articles([source]).articles
    return list(dict.fromkeys(t for a in read for p in a.paragraphs for t in passage_views(a, p)))


def matmul_gflops(dtype) -> float:
    import torch

    a = torch.randn(1024, 384, dtype=dtype)
    b = torch.randn(384, 1536, dtype=dtype)
    for _ in range(5):
        a @ b
    n, started = 200, time.perf_counter()
    for _ in range(n):
        a @ b
    return 2 * 1024 * 384 * 1536 * n / (time.perf_counter() - started) / 1e9


def main() -> int:
    import tempfile

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=500)
    args = parser.parse_args()
    if not DATA.is_file():
        print(f"skipped: {DATA} not found")
        return 0
    import numpy as np

    from qa.engine import load_model, load_st_model

    texts = index_texts(args.articles, Path(tempfile.mkdtemp(prefix="qa-index-speed-")))
    fast = load_model(None)
    started = time.perf_counter()
    ours = fast.embed_passages(texts)
    ours_s = time.perf_counter() - started
    tokens = fast.tokens_embedded

    st = load_st_model(None)
    model = st.model
    started = time.perf_counter()
    ref = model.encode_document(texts, batch_size=32, convert_to_numpy=True, normalize_embeddings=True,
                                show_progress_bar=False)
    st_s = time.perf_counter() - started

    prompted = [fast.passage_prompt + t for t in texts]
    want = st.reference_ids(prompted)
    ids_differ = sum(w != fast.token_ids(t) for w, t in zip(want, prompted))
    cos = (ours * ref).sum(1)
    weights = sum(p.numel() for n, p in model.named_parameters() if "word_embeddings" not in n)
    config = model[0].auto_model.config
    mean_len = tokens / len(texts)
    # Attention scores and their use: 2 matmuls of (tokens x width x hidden) per layer.
    per_token = 2 * weights + 4 * config.num_hidden_layers * config.hidden_size * mean_len
    import torch

    f32, bf16 = matmul_gflops(torch.float32), matmul_gflops(torch.bfloat16)
    print(f"texts {len(texts):,} from {args.articles} IndoSum articles; tokens {tokens:,} "
          f"(mean {mean_len:.1f}); {per_token / 1e6:.1f} MFLOP a token")
    for name, seconds in ((f"export ({fast.runner_note})", ours_s),
                          ("sentence-transformers encode_document", st_s)):
        rate = tokens / seconds
        print(f"{name}: {seconds:.1f} s, {len(texts) / seconds:.0f} texts/s, {rate:,.0f} tokens/s, "
              f"{rate * per_token / 1e9:.0f} GFLOP/s")
    print(f"ratio: {st_s / ours_s:.2f}x")
    print(f"machine matmul (1024x384 @ 384x1536, torch): float32 {f32:.0f} GFLOP/s, "
          f"bfloat16 {bf16:.0f} GFLOP/s")
    print(f"parity: cosine min {cos.min():.6f}, median {float(np.median(cos)):.7f}; "
          f"token ids differing {ids_differ} of {len(texts):,}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
