"""Reading stays linear in the file's size on adversarial inputs (issue 13), and hostile
JSONL lines or file names cost one error line each, never the whole run.

The timing checks compare a reader with itself on the same machine in the same test: a
~1 MB file against eight times the same shape at 1/8 the size (or, when that is too small
to time, a benign file of the full size in the same format). A quadratic reader is ~8x off
that line at this size; the bound is 4x, so a busy machine does not fail it.
"""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

from benchmarks.read_linear import SHAPES, read_seconds
from index.errors import ReadError
from index.corpus.read import read_file, read_paths
from index.corpus.types import Article

SIZE = 1024 * 1024
BOUND = 4.0
BENIGN = {".txt": "txt-benign", ".md": "md-benign", ".html": "html-benign", ".jsonl": "jsonl-benign"}
ADVERSARIAL = [name for name in SHAPES if not name.endswith("-benign")]
_benign_seconds: dict[str, float] = {}


def _write(folder: Path, name: str, size: int) -> Path:
    suffix, make = SHAPES[name]
    path = folder / f"{name}-{size}{suffix}"
    path.write_text(make(size), encoding="utf-8")
    return path


def _benign(folder: Path, suffix: str) -> float:
    if suffix not in _benign_seconds:
        _benign_seconds[suffix] = read_seconds(_write(folder, BENIGN[suffix], SIZE), repeat=2)
    return _benign_seconds[suffix]


@pytest.mark.parametrize("name", ADVERSARIAL)
def test_reading_is_linear_in_size(tmp_path, name):
    suffix, _ = SHAPES[name]
    small = read_seconds(_write(tmp_path, name, SIZE // 8), repeat=3)
    big = read_seconds(_write(tmp_path, name, SIZE), repeat=2)
    linear = max(8 * small, _benign(tmp_path, suffix))
    assert big < BOUND * linear, f"{name}: {big:.2f}s at 1 MB vs {linear:.2f}s linear"


def test_adversarial_files_still_read_their_text(tmp_path):
    text = read_file(_write(tmp_path, "txt-editor-spaces", 100_000))
    assert all(isinstance(item, Article) for item in text)
    md = read_file(_write(tmp_path, "md-star", 99_000))
    assert isinstance(md[0], Article) and md[0].paragraphs
    assert "*" not in md[0].paragraphs[0].text.replace("* ", "").replace("*a", "")


def test_html_lines_point_at_paragraphs_with_named_entities(tmp_path):
    body = []
    for i in range(40):
        body.append("<div class='x'>\n")
        body.append(f"<p>Caf&eacute; na&iuml;ve nomor {i} di Jakarta, kata Menteri kepada wartawan "
                    f"pada hari Senin tentang r&eacute;sum&eacute; itu.</p>\n")
        body.append("</div>\n")
    page = ("<html><head><title>Judul</title></head><body><article>\n"
            + "".join(body) + "</article></body></html>\n")
    path = tmp_path / "page.html"
    path.write_text(page, encoding="utf-8")
    [article] = read_file(path)
    lines = page.splitlines()
    found = [p for p in article.paragraphs if p.text.startswith("Café naïve nomor")]
    assert len(found) == 40
    for p in found:
        number = p.text.split()[3]
        assert f"nomor {number} di" in lines[p.line - 1], (p.line, p.text)


def _jsonl(tmp_path: Path, lines: list[str]) -> Path:
    path = tmp_path / "c.jsonl"
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


GOOD = json.dumps({"id": "ok", "title": "Judul", "text": "Presiden berkata hal itu penting."})


@pytest.mark.parametrize("bad, reason", [
    ('{"id": ' + "9" * 5000 + ', "text": "Presiden berkata hal itu penting."}', None),
    ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
    ('{"id": "s", "text": "Presiden \\ud800 berkata hal itu penting."}', "lone surrogate"),
    ('{"id": "t", "title": "x\\udfff", "text": "Presiden berkata hal itu penting."}', "lone surrogate"),
])
def test_one_bad_jsonl_line_costs_one_error(tmp_path, bad, reason):
    path = _jsonl(tmp_path, [GOOD, bad, GOOD.replace('"ok"', '"ok2"')])
    items = read_file(path)
    articles = [i for i in items if isinstance(i, Article)]
    errors = [i for i in items if isinstance(i, ReadError)]
    if reason is None:  # a huge number is taken as the text written, not converted
        assert [a.id for a in articles] == ["ok", "9" * 5000, "ok2"] and not errors
        return
    assert [a.id for a in articles] == ["ok", "ok2"]
    [error] = errors
    assert error.path == f"{path}:2" and reason in error.reason
    for article in articles:  # what is kept can be stored
        article.title.encode("utf-8")
        for p in article.paragraphs:
            p.text.encode("utf-8")


@pytest.mark.parametrize("raw, title", [
    ("1e999", "1e999"), ("-0.0", "-0.0"), ("123456789012345678901234567890", "123456789012345678901234567890"),
    ("Infinity", "Infinity"), ("NaN", "NaN"), ("1.50", "1.50"),
])
def test_jsonl_numbers_are_taken_as_written(tmp_path, raw, title):
    path = _jsonl(tmp_path, [f'{{"id": {raw}, "title": {raw}, "text": "Presiden berkata hal itu."}}'])
    [article] = read_file(path)
    assert (article.id, article.title) == (title, title)


@pytest.mark.parametrize("value", ["true", "[1, 2]", '{"a": 1}', "null"])
def test_jsonl_titles_that_are_not_text_fall_back(tmp_path, value):
    path = _jsonl(tmp_path, [f'{{"id": "x", "title": {value}, "text": "Presiden berkata hal itu."}}'])
    [article] = read_file(path)
    assert article.title == "Presiden berkata hal itu."


def test_jsonl_number_is_not_text(tmp_path):
    path = _jsonl(tmp_path, ['{"id": "x", "text": 5}'])
    [error] = read_file(path)
    assert isinstance(error, ReadError) and "no text" in error.reason


_opened: list[str] | None = None


def _audit(event: str, args: tuple) -> None:
    if _opened is not None and event in ("open", "urllib.Request", "socket.connect"):
        _opened.append(f"{event}: {args[0]}")


def test_jsonl_urls_are_kept_as_text_only(tmp_path):
    global _opened
    path = _jsonl(tmp_path, [json.dumps({"id": "x", "url": "file:///etc/passwd",
                                         "source": "file:///etc/shadow",
                                         "text": "Presiden berkata hal itu penting."})])
    if not getattr(test_jsonl_urls_are_kept_as_text_only, "hooked", False):
        sys.addaudithook(_audit)  # hooks cannot be removed; `_opened` switches it on and off
        test_jsonl_urls_are_kept_as_text_only.hooked = True
    _opened = []
    try:
        [article] = read_file(path)
        seen = _opened
    finally:
        _opened = None
    assert not [o for o in seen if "passwd" in o or "shadow" in o or "urllib" in o
                or "socket" in o], seen
    assert any(str(path) in o for o in seen)  # the hook does see what the reader opens
    assert article.metadata["url"] == "file:///etc/passwd"
    assert article.source == str(path)  # the file read, never the record's URL
    assert "root:" not in " ".join(p.text for p in article.paragraphs)


def test_file_name_that_is_not_utf8_is_one_error(tmp_path):
    folder = tmp_path / "corpus"
    folder.mkdir()
    (folder / "good.txt").write_text("Judul\n\nPresiden berkata hal itu penting.\n", encoding="utf-8")
    bad = Path(os.fsdecode(os.fsencode(folder) + b"/bad\xff\xfename.txt"))
    bad.write_text("Judul\n\nIsi berita yang benar.\n", encoding="utf-8")
    items = list(read_paths([folder]))
    articles = [i for i in items if isinstance(i, Article)]
    errors = [i for i in items if isinstance(i, ReadError)]
    assert [a.id for a in articles] == ["good"]
    [error] = errors
    assert "bad\\xff\\xfename.txt" in str(error) and "not valid UTF-8" in error.reason
    str(error).encode("utf-8")  # printable as it is


def test_cli_indexes_good_files_beside_a_bad_name_and_bad_lines(tmp_path, default_model_dir):
    """`qa index add` on a real folder: the good files are indexed, each bad input is one line
    naming it and why, the exit code is 1, no traceback; a later sync says the same."""
    import subprocess
    import sys

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "good.txt").write_text("Judul\n\nPresiden meresmikan jembatan baru di Jakarta.\n",
                                     encoding="utf-8")
    bad_name = Path(os.fsdecode(os.fsencode(corpus) + b"/bad\xff\xfename.txt"))
    bad_name.write_text("Judul\n\nIsi berita yang lain.\n", encoding="utf-8")
    (corpus / "c.jsonl").write_text("\n".join([
        json.dumps({"id": "j1", "text": "Gubernur membuka pasar baru di Bandung."}),
        '{"id": ' + "9" * 5000 + ', "text": "Menteri meninjau pelabuhan di Makassar."}',
        "[" * 100_000 + "]" * 100_000,
        '{"id": "s", "text": "Presiden \\ud800 berkata."}',
    ]) + "\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("QA_")}
    env.update(QA_MODEL_CACHE=str(default_model_dir.parent), XDG_DATA_HOME=str(tmp_path / "data"),
               HOME=str(tmp_path), NO_COLOR="1", COLUMNS="200")
    for command in (["index", "add", str(corpus), "--json"], ["index", "sync", str(corpus), "--json"]):
        proc = subprocess.run([sys.executable, "-m", "qa", *command], env=env,
                              capture_output=True, text=True, timeout=600)
        assert proc.returncode == 1, proc.stderr
        assert "Traceback" not in proc.stderr + proc.stdout
        report = json.loads(proc.stdout)
        if command[1] == "add":
            assert report["added"] == 3  # good.txt, j1 and the 5,000-digit id
        else:
            assert report["removed"] == 0 and report["added"] == 0
        errors = report["errors"]
        assert len(errors) == 3, errors
        assert any("bad\\xff\\xfename.txt" in e and "not valid UTF-8" in e for e in errors)
        assert any(e.startswith(f"{corpus / 'c.jsonl'}:3:") and "nested too deeply" in e for e in errors)
        assert any(e.startswith(f"{corpus / 'c.jsonl'}:4:") and "surrogate" in e for e in errors)
