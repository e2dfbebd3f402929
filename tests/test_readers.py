"""Readers beyond plain text (Markdown, HTML, JSONL) and bad input of every kind."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from index.corpus import read_text
from index.errors import ReadError
from index.corpus.read import expand_paths, read_file, read_paths
from index.corpus.read_html import read_html_file
from index.corpus.read_jsonl import read_jsonl_file
from index.corpus.read_markdown import read_markdown_file
from index.corpus.read_text import (MAX_BLOCK_CHARS, MAX_FILE_BYTES, MAX_PARAGRAPH_CHARS, MB,
                                    read_text_file)
from index.corpus.types import Article

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
INDOSUM = SHARED_DATA / "indosum_news_articles.jsonl"


def split(items):
    items = list(items)
    good = [i for i in items if isinstance(i, Article)]
    bad = [i for i in items if isinstance(i, ReadError)]
    return good, bad


def reason_for(path: Path) -> str:
    items = read_file(path)
    assert len(items) == 1 and isinstance(items[0], ReadError), items
    assert items[0].path == str(path)
    return items[0].reason


# ---------------------------------------------------------------- Markdown

MARKDOWN = """\
---
title: "Harga Beras Naik di Pasar Induk"
date: 2024-03-01
author: Budi Santoso
source: Warta Kota
url: https://wartakota.example/beras
tags: [ekonomi, pangan]
---

# Harga Beras Naik

Harga beras medium di **Pasar Induk Cipinang** naik menjadi
Rp14.000 per kilogram, menurut [data PD Pasar Jaya](https://pasarjaya.example/data "Data").

## Penyebab kenaikan

- Pasokan dari *Jawa Tengah* turun.
- Biaya angkut naik
  karena harga BBM.
1. Stok gudang _menipis_.

> "Kami berharap harga segera stabil," kata pedagang.

![foto pasar](pasar.jpg)

Baca juga: Harga cabai turun

```
harga = 14000
```

***
Akhir berita dengan \\*bintang\\* dan ~~coretan~~.
"""


def test_markdown_title_metadata_and_paragraphs(tmp_path):
    f = tmp_path / "beras.md"
    f.write_text(MARKDOWN, encoding="utf-8")
    article = read_markdown_file(f)
    assert article.id == "beras"
    assert article.title == "Harga Beras Naik di Pasar Induk"  # front matter wins
    assert article.metadata == {
        "date": "2024-03-01", "author": "Budi Santoso", "outlet": "Warta Kota",
        "url": "https://wartakota.example/beras"}
    texts = [p.text for p in article.paragraphs]
    assert texts == [
        "Harga Beras Naik",
        "Harga beras medium di Pasar Induk Cipinang naik menjadi Rp14.000 per kilogram, "
        "menurut data PD Pasar Jaya.",
        "Penyebab kenaikan",
        "Pasokan dari Jawa Tengah turun.",
        "Biaya angkut naik karena harga BBM.",
        "Stok gudang menipis.",
        '"Kami berharap harga segera stabil," kata pedagang.',
        "harga = 14000",
        "Akhir berita dengan *bintang* dan coretan.",
    ]
    assert [p.number for p in article.paragraphs] == list(range(1, len(texts) + 1))


def test_markdown_lines_and_offsets_point_at_the_source_block(tmp_path):
    f = tmp_path / "beras.md"
    f.write_text(MARKDOWN, encoding="utf-8")
    raw = f.read_text(encoding="utf-8")
    lines = raw.splitlines()
    article = read_markdown_file(f)
    by_text = {p.text: p for p in article.paragraphs}
    assert by_text["Harga Beras Naik"].line == 10
    assert by_text["Penyebab kenaikan"].line == 15
    assert by_text["Biaya angkut naik karena harga BBM."].line == 18
    for p in article.paragraphs:
        block = raw[p.start:p.end]
        assert raw.count("\n", 0, p.start) + 1 == p.line
        assert lines[p.line - 1].strip() and lines[p.line - 1].lstrip().startswith(block.split("\n")[0])
    link = by_text["Harga beras medium di Pasar Induk Cipinang naik menjadi Rp14.000 per kilogram, "
                   "menurut data PD Pasar Jaya."]
    assert raw[link.start:link.end].startswith("Harga beras medium di **Pasar")
    assert raw[link.start:link.end].endswith('"Data").')


def test_markdown_title_from_heading_or_first_line(tmp_path):
    with_heading = tmp_path / "a.md"
    with_heading.write_text("Kata pengantar singkat.\n\n# Judul Utama\n\nIsi.\n", encoding="utf-8")
    assert read_markdown_file(with_heading).title == "Judul Utama"
    plain = tmp_path / "b.md"
    plain.write_text("Judul tanpa tanda\n\nIsi berita.\n", encoding="utf-8")
    article = read_markdown_file(plain)
    assert article.title == "Judul tanpa tanda" and article.metadata == {}
    # The headline is paragraph 1 as a reader counts, but not a passage of its own.
    assert [(p.number, p.line) for p in article.paragraphs] == [(2, 3)]


# ---------------------------------------------------------------- HTML

NEWS_HTML = """\
<!DOCTYPE html>
<html lang="id">
<head>
  <meta charset="utf-8">
  <title>Banjir Rendam Ribuan Rumah di Bekasi - Kabar Nusantara</title>
  <meta property="og:title" content="Banjir Rendam Ribuan Rumah di Bekasi">
  <meta property="og:site_name" content="Kabar Nusantara">
  <meta property="og:url" content="https://kabarnusantara.example/berita/2024/02/banjir-bekasi">
  <meta property="article:published_time" content="2024-02-15T08:30:00+07:00">
  <meta name="author" content="Siti Rahmawati">
  <script>window.dataLayer = [{"page": "article"}];</script>
</head>
<body>
  <header class="site-header">
    <nav class="main-nav">
      <ul>
        <li><a href="/">Beranda</a></li>
        <li><a href="/nasional">Nasional</a></li>
        <li><a href="/ekonomi">Ekonomi</a></li>
      </ul>
    </nav>
  </header>
  <div class="ad-banner" id="ads-top">IKLAN: Diskon 50% untuk semua produk elektronik! Belanja sekarang juga di toko kami.</div>
  <main>
    <article class="article-content">
      <h1 class="headline">Banjir Rendam Ribuan Rumah di Bekasi</h1>
      <div class="byline">Oleh <span class="author">Siti Rahmawati</span> &middot;
        <time datetime="2024-02-15T08:30:00+07:00">15 Februari 2024</time></div>
      <p>Hujan deras yang mengguyur wilayah Bekasi sejak Rabu malam menyebabkan banjir yang
        merendam lebih dari tiga ribu rumah warga di tujuh kecamatan.</p>
      <p>Badan Penanggulangan Bencana Daerah (BPBD) Kota Bekasi mencatat ketinggian air mencapai 150 sentimeter di beberapa titik, terutama di Perumahan <a href="/tag/pondok-gede">Pondok Gede</a> Permai.</p>
      <p>&quot;Kami sudah mengerahkan perahu karet dan petugas untuk mengevakuasi warga lanjut usia dan anak-anak,&quot; kata Kepala BPBD Kota Bekasi, Agus Suryanto, kepada wartawan pada Kamis pagi.</p>
      <div class="ads inline-ad">Pasang iklan Anda di sini. Hubungi 021-555-0000 sekarang untuk penawaran.</div>
      <p>Sebanyak 1.200 warga kini mengungsi di masjid, sekolah, dan balai warga. Pemerintah kota menyiapkan dapur umum di tiga lokasi untuk memenuhi kebutuhan makanan para pengungsi.</p>
      <p>Menurut Badan Meteorologi, Klimatologi, dan Geofisika (BMKG), curah hujan tinggi diperkirakan masih akan terjadi hingga akhir pekan ini di wilayah Jabodetabek.</p>
    </article>
    <aside class="sidebar">
      <h3>Berita Terpopuler</h3>
      <ul>
        <li><a href="/a">Harga Cabai Naik Lagi Jelang Ramadan di Pasar Tradisional</a></li>
        <li><a href="/b">Timnas Menang Tipis atas Vietnam di Laga Persahabatan</a></li>
      </ul>
    </aside>
  </main>
  <footer class="site-footer">
    <p>&copy; 2024 Kabar Nusantara. Hak cipta dilindungi undang-undang.</p>
    <p><a href="/tentang">Tentang Kami</a> | <a href="/kontak">Kontak</a> | <a href="/privasi">Kebijakan Privasi</a></p>
  </footer>
</body>
</html>
"""

NO_ARTICLE_HTML = """\
<!DOCTYPE html>
<html><head><title>Beranda - Kabar Nusantara</title></head>
<body>
<nav><ul><li><a href="/">Beranda</a></li><li><a href="/nasional">Nasional</a></li>
<li><a href="/ekonomi">Ekonomi</a></li></ul></nav>
<div class="login"><button>Masuk</button> <button>Daftar</button></div>
<footer><p>&copy; 2024 Kabar Nusantara</p></footer>
</body></html>
"""


def test_html_article_without_boilerplate_and_with_metadata(tmp_path):
    f = tmp_path / "banjir-bekasi.html"
    f.write_text(NEWS_HTML, encoding="utf-8")
    article = read_html_file(f)
    assert article.id == "banjir-bekasi"
    assert article.title == "Banjir Rendam Ribuan Rumah di Bekasi"
    assert article.metadata["outlet"] == "Kabar Nusantara"
    assert article.metadata["date"] == "2024-02-15"
    assert article.metadata["author"] == "Siti Rahmawati"
    assert article.metadata["url"] == "https://kabarnusantara.example/berita/2024/02/banjir-bekasi"
    text = "\n".join(p.text for p in article.paragraphs)
    for boilerplate in ("Beranda", "IKLAN", "Pasang iklan", "Berita Terpopuler", "Harga Cabai",
                        "Hak cipta", "Kebijakan Privasi", "dataLayer"):
        assert boilerplate not in text
    assert any(p.text.startswith("Hujan deras yang mengguyur wilayah Bekasi") for p in article.paragraphs)
    assert any("Perumahan Pondok Gede Permai." in p.text for p in article.paragraphs)
    assert any(p.text.startswith('"Kami sudah mengerahkan perahu karet') for p in article.paragraphs)
    assert any("Jabodetabek" in p.text for p in article.paragraphs)


def test_html_lines_point_into_the_file_and_offsets_into_the_extracted_text(tmp_path):
    f = tmp_path / "banjir.html"
    f.write_text(NEWS_HTML, encoding="utf-8")
    lines = NEWS_HTML.splitlines()
    article = read_html_file(f)
    by_start = {p.text.split()[0]: p for p in article.paragraphs}
    assert "<h1" in lines[by_start["Banjir"].line - 1]  # the heading, not the <title> in <head>
    assert "Hujan deras" in lines[by_start["Hujan"].line - 1]
    assert "&quot;Kami sudah" in lines[by_start['"Kami'].line - 1]  # entity in the raw HTML
    assert "Badan Penanggulangan" in lines[by_start["Badan"].line - 1]
    assert "Menurut Badan" in lines[by_start["Menurut"].line - 1]
    # Offsets index the extracted text, one paragraph after the other.
    ends = [(p.start, p.end) for p in article.paragraphs]
    assert all(e - s == len(p.text) for (s, e), p in zip(ends, article.paragraphs))
    assert all(a[1] < b[0] for a, b in zip(ends, ends[1:]))


def test_html_without_article_text_is_an_error(tmp_path):
    f = tmp_path / "home.html"
    f.write_text(NO_ARTICLE_HTML, encoding="utf-8")
    assert reason_for(f) == "no article text found"
    empty_body = tmp_path / "blank.htm"
    empty_body.write_text("<html><head><title>x</title></head><body></body></html>", encoding="utf-8")
    assert reason_for(empty_body) == "no article text found"


def test_html_missing_trafilatura_is_a_read_error(tmp_path, monkeypatch):
    f = tmp_path / "a.html"
    f.write_text(NEWS_HTML, encoding="utf-8")
    monkeypatch.setitem(sys.modules, "trafilatura", None)  # makes `import trafilatura` fail
    assert reason_for(f).startswith("reading HTML needs trafilatura")


def test_trafilatura_is_imported_only_when_html_is_read():
    code = "import sys, index.corpus.read; print('trafilatura' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# ---------------------------------------------------------------- JSONL


def test_jsonl_good_lines_load_and_bad_lines_are_errors(tmp_path):
    f = tmp_path / "corpus.jsonl"
    lines = [
        json.dumps({"id": "a1", "title": "Gempa di Cianjur", "text": "Gempa terjadi pagi ini.\n\nWarga mengungsi.",
                    "url": "https://berita.example/gempa", "source": "Berita Contoh", "date": "2022-11-21",
                    "extra": {"ignored": True}}),
        "{not json at all",
        json.dumps({"id": "a3", "title": "Tanpa isi"}),
        "",
        json.dumps({"paragraphs": ["Paragraf pertama yang cukup panjang.", "Baca juga: berita lain",
                                   "Paragraf kedua."], "url_slug": "harga-emas-turun-tajam"}),
        json.dumps([1, 2, 3]),
        json.dumps({"id": 7, "text": "Judul lewat teks\nIsi baris kedua.", "paragraphs": []}),
    ]
    raw = "\n".join(lines) + "\n"
    f.write_text(raw, encoding="utf-8")
    good, bad = split(read_paths([f]))
    assert [a.id for a in good] == ["a1", "corpus:5", "7"]
    assert [e.path for e in bad] == [f"{f}:2", f"{f}:3", f"{f}:6"]
    assert "not valid JSON" in bad[0].reason
    assert bad[1].reason.startswith("no text")
    assert "not a JSON object" in bad[2].reason
    assert str(bad[0]).startswith(f"{f}:2: ")

    gempa, emas, seven = good
    assert gempa.title == "Gempa di Cianjur" and gempa.source == str(f)
    assert gempa.metadata == {"url": "https://berita.example/gempa", "outlet": "Berita Contoh",
                              "date": "2022-11-21"}
    assert [p.text for p in gempa.paragraphs] == ["Gempa terjadi pagi ini.", "Warga mengungsi."]
    assert emas.title == "Harga emas turun tajam"  # from url_slug
    assert [p.text for p in emas.paragraphs] == ["Paragraf pertama yang cukup panjang.", "Paragraf kedua."]
    assert seven.title == "Judul lewat teks"  # no title or slug: the first paragraph
    for article, lineno in ((gempa, 1), (emas, 5), (seven, 7)):
        for p in article.paragraphs:
            assert p.line == lineno
            assert raw[p.start:p.end] == lines[lineno - 1]


def test_jsonl_whole_file_problems(tmp_path):
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n\n", encoding="utf-8")
    assert reason_for(empty) == "empty file"
    zipped = tmp_path / "corpus.jsonl"
    zipped.write_bytes(b"\x1f\x8b\x08\x00" + b"\x00" * 64)
    assert reason_for(zipped) == "binary file (looks like gzip)"


def test_jsonl_bad_utf8_and_over_long_lines_cost_one_line(tmp_path):
    f = tmp_path / "mixed.jsonl"
    good = json.dumps({"text": "Berita baik.\nIsi."}).encode()
    f.write_bytes(good + b"\n" + b'{"text": "\xff\xfe"}\n' + b'{"text": "' + b"x" * 3000 + b'"}\n' + good + b"\n")
    items = read_jsonl_file(f, line_limit=1000)
    good_items, bad = split(items)
    assert [a.id for a in good_items] == ["mixed:1", "mixed:4"]
    assert [e.path for e in bad] == [f"{f}:2", f"{f}:3"]
    assert "not valid UTF-8" in bad[0].reason and "line too long" in bad[1].reason


@pytest.mark.skipif(not INDOSUM.is_file(), reason="../shared/data is absent")
def test_indosum_loads_whole(capsys):
    started = time.perf_counter()
    good, bad = split(read_paths([INDOSUM]))
    seconds = time.perf_counter() - started
    assert bad == []
    assert len(good) == 3463
    assert all(len(a.paragraphs) >= 1 for a in good)
    assert len({a.id for a in good}) == 3463
    assert all(a.metadata.get("outlet") and a.metadata.get("url") and a.title for a in good)
    total = sum(len(a.paragraphs) for a in good)
    with capsys.disabled():
        print(f"\nIndoSum: {len(good)} articles, {total} paragraphs, read in {seconds:.2f} s")
    assert total > 30000


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    "name, content, reason",
    [
        ("empty.txt", b"", "empty file"),
        ("blank.md", b"\n \n\t\n", "empty file"),
        ("nul.txt", b"Judul\nisi\x00\x00 biner", "binary file (contains NUL bytes)"),
        ("control.txt", b"Judul\n" + bytes(range(1, 9)) * 100, "binary file (mostly control characters)"),
        ("report.txt", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n", "binary file (looks like PDF)"),
        ("image.md", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary file (looks like PNG)"),
        ("archive.html", b"PK\x03\x04\x14\x00\x06\x00", "binary file (looks like ZIP)"),
        ("notes.txt", b"\x1f\x8b\x08\x00\x00\x00\x00\x00", "binary file (looks like gzip)"),
        ("latin1.txt", b"Judul\nCaf\xe9 di Bandung\n", "not valid UTF-8 (bad byte at offset 9)"),
    ],
)
def test_bad_files_name_the_reason(tmp_path, name, content, reason):
    f = tmp_path / name
    f.write_bytes(content)
    assert reason_for(f) == reason


def test_utf16_with_byte_order_mark_is_text(tmp_path):
    f = tmp_path / "windows.txt"
    f.write_bytes("Judul Berita\nIsi berita dari Notepad.\n".encode("utf-16"))
    article = read_text_file(f)
    assert article.title == "Judul Berita"
    assert [p.text for p in article.paragraphs] == ["Isi berita dari Notepad."]


def make_large(path: Path, size: int) -> None:
    with open(path, "wb") as handle:  # sparse: instant, and takes no disk space
        handle.truncate(size)


def test_too_large_file_is_refused_without_reading_it(tmp_path, monkeypatch):
    f = tmp_path / "huge.txt"
    make_large(f, 50 * MB)

    def no_reading(path):
        raise AssertionError("the file must not be opened")

    monkeypatch.setattr(read_text, "_open_binary", no_reading)
    started = time.perf_counter()
    for name in ("huge.txt", "huge.md", "huge.html"):
        target = tmp_path / name
        if not target.exists():
            target.symlink_to(f)
        assert reason_for(target) == "too large (50.0 MB > 20 MB limit)"
    assert time.perf_counter() - started < 1.0
    assert MAX_FILE_BYTES == 20 * MB


def test_paragraph_just_under_the_limit_is_read_in_bounded_pieces(tmp_path):
    f = tmp_path / "long.txt"
    sentence = "Ini kalimat panjang dalam berita tanpa jeda baris. "
    body = sentence * (MAX_BLOCK_CHARS // len(sentence))
    f.write_text("Judul\n" + body + "\n", encoding="utf-8")
    raw = f.read_text(encoding="utf-8")
    article = read_text_file(f)
    assert len(article.paragraphs) >= MAX_BLOCK_CHARS // MAX_PARAGRAPH_CHARS
    assert max(len(p.text) for p in article.paragraphs) <= MAX_PARAGRAPH_CHARS
    assert all(p.text.endswith("baris.") for p in article.paragraphs[1:])  # cut at sentence ends
    assert all(raw[p.start:p.end] == p.text and p.line == (1 if p.number == 1 else 2)
               for p in article.paragraphs)


def test_over_long_wrapped_paragraph_keeps_lines_and_offsets(tmp_path):
    f = tmp_path / "wrapped.txt"
    lines = [f"Kalimat nomor {i} dari paragraf panjang ini." for i in range(300)]
    f.write_text("Judul\n\n" + "\n".join(lines) + "\n\nPenutup.\n", encoding="utf-8")
    raw = f.read_text(encoding="utf-8")
    article = read_text_file(f)
    middle = article.paragraphs[:-1]
    assert len(middle) >= 3 and all(len(p.text) <= MAX_PARAGRAPH_CHARS for p in middle)
    assert " ".join(p.text for p in middle) == " ".join(lines)
    for p in middle:
        assert raw.splitlines()[p.line - 1].startswith(p.text.split(" dari")[0])
        assert " ".join(raw[p.start:p.end].split("\n")) == p.text
    assert article.paragraphs[-1].text == "Penutup."


def test_missing_path_and_explicit_unsupported_file(tmp_path):
    (tmp_path / "notes.docx").write_bytes(b"PK\x03\x04")
    items = list(read_paths([tmp_path / "nope.txt", tmp_path / "nope", tmp_path / "notes.docx"]))
    assert [str(i) for i in items] == [
        f"{tmp_path / 'nope.txt'}: no such file or directory",
        f"{tmp_path / 'nope'}: no such file or directory",
        f"{tmp_path / 'notes.docx'}: unsupported file type '.docx'",
    ]


def test_permission_denied(tmp_path, monkeypatch):
    f = tmp_path / "secret.txt"
    f.write_text("Judul\nIsi.\n", encoding="utf-8")
    j = tmp_path / "secret.jsonl"
    j.write_text('{"text": "Isi."}\n', encoding="utf-8")

    def denied(path):
        raise PermissionError(13, "Permission denied", str(path))

    # Root (as in CI) can read a chmod 000 file, so the refusal is simulated at the open.
    monkeypatch.setattr(read_text, "_open_binary", denied)
    assert reason_for(f) == "permission denied"
    assert reason_for(j) == "permission denied"


def test_unlistable_folder_is_one_error(tmp_path, monkeypatch):
    locked = tmp_path / "locked"
    locked.mkdir()
    (locked / "a.txt").write_text("Judul\nIsi.\n", encoding="utf-8")
    (tmp_path / "ok.txt").write_text("Judul\nIsi.\n", encoding="utf-8")
    real_scandir = os.scandir

    def scandir(path="."):
        if Path(path) == locked:
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    good, bad = split(read_paths([tmp_path]))
    assert [a.id for a in good] == ["ok"]
    assert [str(e) for e in bad] == [f"{locked}: permission denied"]


def test_fifo_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "pipe.txt"
    os.mkfifo(fifo)
    assert reason_for(fifo) == "not a regular file"


def test_symlink_loops_do_not_hang_the_walk(tmp_path):
    corpus = tmp_path / "corpus"
    (corpus / "sub").mkdir(parents=True)
    (corpus / "sub" / "berita.txt").write_text("Judul\nIsi.\n", encoding="utf-8")
    (corpus / "sub" / "up").symlink_to(corpus, target_is_directory=True)  # loop to the top
    (corpus / "self").symlink_to(corpus / "self")  # a link to itself
    (corpus / "a.txt").symlink_to(corpus / "b.txt")
    (corpus / "b.txt").symlink_to(corpus / "a.txt")  # two links in a loop
    (corpus / "gone.md").symlink_to(corpus / "missing.md")
    other = tmp_path / "other"
    other.mkdir()
    (other / "luar.txt").write_text("Judul luar\nIsi luar.\n", encoding="utf-8")
    (corpus / "linked").symlink_to(other, target_is_directory=True)
    started = time.perf_counter()
    good, bad = split(read_paths([corpus]))
    assert time.perf_counter() - started < 5
    assert sorted(a.id for a in good) == ["berita", "luar"]  # each file once, linked folder too
    assert sorted(str(e) for e in bad) == [
        f"{corpus / 'a.txt'}: symlink loop",
        f"{corpus / 'b.txt'}: symlink loop",
        f"{corpus / 'gone.md'}: broken symlink",
    ]
    assert str(read_paths([corpus / "a.txt"]).__next__()) == f"{corpus / 'a.txt'}: symlink loop"


def test_mixed_folder_reads_good_files_and_names_each_bad_one(tmp_path):
    root = tmp_path / "mixed"
    (root / "sub" / "deeper").mkdir(parents=True)
    (root / ".git" / "objects").mkdir(parents=True)
    (root / ".cache").mkdir()
    good_files = {
        "a.txt": "Judul A\nIsi berita A.\n",
        "b.md": "# Judul B\n\nIsi berita B.\n",
        "c.html": NEWS_HTML,
        "sub/d.txt": "Judul D\nIsi berita D.\n",
        "sub/deeper/e.markdown": "Judul E\n\nIsi berita E.\n",
    }
    for name, text in good_files.items():
        (root / name).write_text(text, encoding="utf-8")
    (root / "f.jsonl").write_text(
        json.dumps({"id": "f1", "text": "Judul F\nIsi F."}) + "\nrusak\n", encoding="utf-8")
    bad_files = {
        "empty.txt": (b"", "empty file"),
        "nul.txt": (b"Judul\x00\x00", "binary file (contains NUL bytes)"),
        "scan.txt": (b"%PDF-1.4\n", "binary file (looks like PDF)"),
        "sub/latin1.md": (b"Judul\nCaf\xe9\n", "not valid UTF-8 (bad byte at offset 9)"),
        "home.html": (NO_ARTICLE_HTML.encode(), "no article text found"),
    }
    for name, (data, _) in bad_files.items():
        (root / name).write_bytes(data)
    make_large(root / "sub" / "big.txt", 50 * MB)
    skipped = {
        ".hidden.txt": b"Judul\nRahasia.\n",
        ".git/objects/x.txt": b"Judul\nObjek.\n",
        ".cache/c.md": b"# Cache\n",
        "photo.png": b"\x89PNG\r\n\x1a\n",
        "notes.docx": b"PK\x03\x04",
        "README": b"no extension",
    }
    for name, data in skipped.items():
        (root / name).write_bytes(data)

    good, bad = split(read_paths([root]))
    assert sorted(a.id for a in good) == ["a", "b", "c", "d", "e", "f1"]
    expected = {f"{root / name}: {reason}" for name, (_, reason) in bad_files.items()}
    expected.add(f"{root / 'sub' / 'big.txt'}: too large (50.0 MB > 20 MB limit)")
    expected.add(f"{root / 'f.jsonl'}:2: not valid JSON (Expecting value at column 1)")
    assert {str(e) for e in bad} == expected
    assert len(bad) == len(expected)
    assert not any(part in str(e) for e in bad for part in ("hidden", ".git", ".cache", "photo", "docx", "README"))
    # The walk itself is in a stable, sorted order.
    walked = [str(p) for p in expand_paths([root])]
    assert walked == sorted(walked)
