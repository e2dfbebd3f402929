"""The dev question sets in ../shared/data and their passage pools, shared by the benchmarks."""
from __future__ import annotations

from pathlib import Path

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"

SETS = {
    "tydi": ("tydiqa_goldp_id_dev.jsonl", "tydiqa_goldp_id_passages.jsonl"),
    "facqa": ("facqa_news_id_dev.jsonl", "facqa_news_id_passages.jsonl"),
    "xling": ("xling_enq_idctx_dev.jsonl", "xling_idctx_passages.jsonl"),
    "xquad": ("xquad_en_dev.jsonl", "xquad_en_passages.jsonl"),
}


def present(names: str):
    """(name, question file, passage file) for each of the comma-separated sets whose data is
    here; an absent one is named on stderr and left out."""
    import sys

    for name in names.split(","):
        qfile, pfile = SETS[name]
        if not (DATA / qfile).is_file():
            print(f"{name}: {DATA / qfile} absent, skipped", file=sys.stderr)
            continue
        yield name, DATA / qfile, DATA / pfile
