"""A paragraph or an article past a sane size (issue 38, item 7: a 19 MB one-paragraph file
became 318,784 vectors and 1.3 GB of memory): a long paragraph is split at sentence ends, one
past MAX_BLOCK_CHARS or an article past MAX_ARTICLE_CHARS is refused on one line naming the
file (and line), and everything else in the same run is indexed. Through the real CLI."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from index.corpus.read_text import MAX_ARTICLE_CHARS, MAX_BLOCK_CHARS, MAX_PARAGRAPH_CHARS

ROOT = Path(__file__).resolve().parent.parent
SENTENCE = "Warga kota itu menunggu hujan reda sebelum pulang ke rumah masing-masing. "


@pytest.fixture
def env(default_model_dir, tmp_path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("QA_")}
    env.update(QA_MODEL_CACHE=str(default_model_dir.parent), XDG_DATA_HOME=str(tmp_path / "data"),
               NO_COLOR="1", COLUMNS="200", PYTHONPATH=str(ROOT))
    return env


def _qa(env, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "qa", *args], env=env, capture_output=True,
                          text=True, timeout=900)


def _errors(proc) -> list[str]:
    assert "Traceback" not in proc.stderr
    return [line for line in proc.stderr.splitlines() if line.startswith("qa: ")]


def test_oversized_paragraphs_and_articles_are_refused_the_rest_indexed(env, tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    paragraph = SENTENCE * (MAX_BLOCK_CHARS // len(SENTENCE) + 20)  # just past the limit
    (corpus / "satu-baris.txt").write_text(f"Judul panjang\n{paragraph}\n", encoding="utf-8")
    lines = [SENTENCE * 50] * (MAX_ARTICLE_CHARS // len(SENTENCE * 50) + 2)
    book = "Buku\n\n" + "\n\n".join(f"{n} {line}" for n, line in enumerate(lines)) + "\n"
    (corpus / "buku.txt").write_text(book, encoding="utf-8")  # every paragraph is fine
    (corpus / "biasa.txt").write_text(f"Berita biasa\n\n{SENTENCE * 2}\n", encoding="utf-8")
    # Just over the split size: read as pieces cut at sentence ends.
    (corpus / "panjang.txt").write_text(
        f"Paragraf panjang\n\n{SENTENCE * (2 * MAX_PARAGRAPH_CHARS // len(SENTENCE) + 3)}\n",
        encoding="utf-8")
    records = [{"id": "baik", "title": "Baik", "text": SENTENCE * 3},
               {"id": "raksasa", "title": "Raksasa", "text": paragraph}]
    (corpus / "umpan.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records),
                                        encoding="utf-8")
    index = tmp_path / "idx"
    added = _qa(env, "index", "add", str(corpus), "--index", str(index), "--json")

    assert added.returncode == 1, added.stderr
    errors = sorted(_errors(added))
    assert len(errors) == 3, added.stderr
    book_error, line_error, jsonl_error = errors
    assert book_error.startswith(f"qa: {corpus / 'buku.txt'}: more than {MAX_ARTICLE_CHARS:,}")
    assert line_error.startswith(f"qa: {corpus / 'satu-baris.txt'}:2: a paragraph of "
                                 f"{len(paragraph.strip()):,} characters")
    assert f"over the {MAX_BLOCK_CHARS:,}" in line_error
    assert jsonl_error.startswith(f"qa: {corpus / 'umpan.jsonl'}:2: a paragraph of")
    report = json.loads(added.stdout)
    assert report["added"] == 3 and len(report["errors"]) == 3

    listed = {a["id"]: a for a in json.loads(_qa(env, "index", "list", "--json", "--index",
                                                 str(index)).stdout)}
    assert set(listed) == {"biasa", "panjang", "baik"}
    assert listed["panjang"]["paragraphs"] == 3  # cut in three at sentence ends
    verify = _qa(env, "index", "verify", "--index", str(index))
    assert verify.returncode == 0, verify.stdout + verify.stderr


def test_a_huge_one_paragraph_file_is_refused_without_embedding(env, tmp_path):
    """The issue's case at full size: a 19 MB one-line file costs one line and little
    memory (the figure is in benchmarks/RESULTS.md); the build keeps nothing half-made."""
    big = tmp_path / "besar.txt"
    with open(big, "w", encoding="utf-8") as f:
        f.write("Judul\n")
        for _ in range(19 * 1024 * 1024 // len(SENTENCE)):
            f.write(SENTENCE)
        f.write("\n")
    built = _qa(env, "index", "build", str(big), "--index", str(tmp_path / "idx"))
    errors = _errors(built)
    assert built.returncode == 1 and len(errors) == 1, built.stderr
    assert errors[0].startswith(f"qa: nothing to index: {big}:2: a paragraph of ")
    assert not os.path.lexists(tmp_path / "idx")
