"""Reading articles: what becomes a paragraph, its number, its line and its offsets."""
from pathlib import Path

import pytest

from index.errors import ReadError
from index.corpus.read import read_paths
from index.corpus.read_text import read_text_file

SEED = Path(__file__).resolve().parents[1] / "seeds" / "000_b0220605effb7f3f.txt"


def test_seed_title_metadata_and_navigation():
    article = read_text_file(SEED)
    assert article.id == "000_b0220605effb7f3f"
    assert article.title.startswith("Korut-Korsel Memanas")
    assert article.metadata == {"editor": "willy Widianto"}
    texts = [p.text for p in article.paragraphs]
    assert not any(t.startswith("Baca juga") for t in texts)
    assert not any(t.startswith("Editor:") for t in texts)
    # The subtitle (line 2) is repeated on line 6 and kept once.
    assert sum(t.startswith("Sekitar 1.500 tentara") for t in texts) == 1


def test_seed_numbers_lines_and_offsets():
    article = read_text_file(SEED)
    raw = SEED.read_text(encoding="utf-8")
    lines = raw.splitlines()
    # The headline counts as paragraph 1 for a reader but is not a passage of its own.
    assert [p.number for p in article.paragraphs] == list(range(2, len(article.paragraphs) + 2))
    for p in article.paragraphs:
        assert raw[p.start:p.end] == p.text
        assert lines[p.line - 1].strip() == p.text
    by_line = {p.line: p for p in article.paragraphs}
    assert by_line[4].number == 3
    assert by_line[4].text.startswith("TRIBUNNEWS.COM, SEOUL - Korea Selatan telah memanggil duta besar Rusia")
    nav = sum(1 for line in lines if line.startswith("Baca juga"))
    # non-empty lines - navigation - 1 by-line - 1 repeat - the headline
    assert len(article.paragraphs) == len([x for x in lines if x.strip()]) - nav - 1 - 1 - 1


def test_blank_line_blocks_are_paragraphs(tmp_path):
    f = tmp_path / "wrapped.txt"
    f.write_text("Title here\n\nFirst paragraph starts\nand wraps here.\n\nSecond one.\n", encoding="utf-8")
    article = read_text_file(f)
    assert article.title == "Title here"
    assert [p.text for p in article.paragraphs] == ["First paragraph starts and wraps here.", "Second one."]
    assert [(p.number, p.line) for p in article.paragraphs] == [(2, 3), (3, 6)]


def test_headline_only_file_keeps_its_headline_as_a_passage(tmp_path):
    f = tmp_path / "headline.txt"
    f.write_text("Gempa di Cianjur\n", encoding="utf-8")
    article = read_text_file(f)
    assert [(p.number, p.text) for p in article.paragraphs] == [(1, "Gempa di Cianjur")]


@pytest.mark.parametrize(
    "content, reason",
    [(b"", "empty file"), (b"  \n\n", "empty file"), (b"abc\x00def", "binary"),
     (b"Judul\n\xff\xfe bad", "not valid UTF-8")],
)
def test_bad_files_name_the_reason(tmp_path, content, reason):
    f = tmp_path / "bad.txt"
    f.write_bytes(content)
    with pytest.raises(ReadError) as info:
        read_text_file(f)
    assert reason in str(info.value) and str(f) in str(info.value)


def test_folder_reads_good_files_and_reports_bad_ones(tmp_path):
    (tmp_path / "good.txt").write_text("Judul\nIsi berita.\n", encoding="utf-8")
    (tmp_path / "empty.txt").write_text("", encoding="utf-8")
    (tmp_path / "notes.bin").write_bytes(b"\x00\x01")  # unknown type inside a folder: skipped
    items = list(read_paths([tmp_path, tmp_path / "missing.txt"]))
    good = [i for i in items if not isinstance(i, ReadError)]
    bad = [str(i) for i in items if isinstance(i, ReadError)]
    assert [a.id for a in good] == ["good"]
    assert any("empty.txt: empty file" in b for b in bad)
    assert any("missing.txt: no such file" in b for b in bad)
    assert not any("notes.bin" in b for b in bad)
