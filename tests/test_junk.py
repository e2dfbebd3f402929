"""Junk never answers (issue 14): paragraphs without a sentence of the story are dropped when
an article is read, in every format, and titles made from URLs carry no URL debris."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from index.corpus.junk import heads_others, is_heading, is_lead_in, junk_kind
from index.corpus.read import read_file
from index.corpus.read_jsonl import _slug_words
from index.corpus.types import Article

JUNK = {
    "(end)": "initials",
    "(rah/rah)": "initials",
    "(ant/ard)": "initials",
    "[sau]": "initials",
    "(T.H - ZG/S023)": "initials",
    "Foto: ANTARA/Sigid Kurniawan dan rekan-rekannya dari biro foto Jakarta hari ini": "photo",
    "(Foto: ANTARA/Wahyu Putro A)": "photo",
    "FOTO: Dok. Humas Pemerintah Provinsi DKI Jakarta, yang dirilis kepada media": "photo",
    "Tim Cook, CEO Apple (Foto: Reuters)": "photo",
    "Reporter: Fair Cholis": "byline",
    "Penulis": "byline",
    "Via Digital Trends.": "byline",
    "Sumber berita Gizmochina dan GadgetMatch.": "byline",
    "Baca Juga :": "navigation",
    "BACA JUGA: Arema Datangkan Pemain Naturalisasi": "navigation",
    "[Baca juga: Upaya Pemerintah Cegah Kemacetan saat Mudik]": "navigation",
    "Lihat juga: Daftar harga BBM terbaru": "navigation",
    "Simak juga: Video pilihan redaksi": "navigation",
    "ADVERTISEMENT": "navigation",
    "SCROLL TO CONTINUE WITH CONTENT": "navigation",
    "Baca_Juga": "navigation",
    "Follow us on Twitter and Facebook": "share",
    "Ikuti kami di Instagram": "share",
    "Share this": "share",
    ("Dapatkan update berita pilihan dan breaking news setiap hari dari Kompas.com. Mari "
     "bergabung di Grup Telegram, caranya klik link lalu join."): "share",
    "Suara.com -": "dateline",
    "* * *": "symbols",
    "–": "symbols",
}
KEPT = [
    '"Jadi Perppu ini hanya perluasan saja," ujarnya.',
    "Ah, semuanya masih menjadi misteri.",
    'Kimmel membalas, "Ya pasti."',
    "Foto itu langsung disukai oleh hampir 4,5 juta pengguna Instagram.",
    "Lihat saja MU yang harus mengeluarkan dana besar.",
    "(tidak ada komentar dari polisi)",
    "Ikuti perkembangan kasus ini, kata dia kepada wartawan.",
    "Ia bilang tidak.",
    "Share prices fell 3 percent on Monday.",
    "Via tol, perjalanan ke Bandung hanya dua jam saja.",
]
STORY = ("Presiden meresmikan jembatan baru di Jakarta pada hari Senin bersama para menteri dan "
         "gubernur setempat.")
STORY2 = ("Jembatan itu menghubungkan dua kecamatan yang selama ini hanya bisa dicapai dengan "
          "perahu kecil, kata pejabat setempat.")


@pytest.mark.parametrize("text, kind", JUNK.items())
def test_each_kind_is_recognised(text, kind):
    assert junk_kind(text) == kind


@pytest.mark.parametrize("text", KEPT)
def test_real_short_paragraphs_are_not_junk(text):
    assert junk_kind(text) is None


HEADINGS = ["Babak Kedua", "Reaksi Pemerintah", "2. Harga Cabai Naik", "Langkah Selanjutnya",
            "What Happens Next", "BERITA TERKAIT", "Sinopsis Film 'Hari yang Panjang'",
            "LIGA 1: Laga Pembuka Ditunda"]
NOT_HEADINGS = ["Skor akhir Persija 2-1 Persib", "Hasil Liga Inggris, Selasa (4/4/2017):",
                "Berikut jadwalnya:", "Ia bilang tidak.", "jadi begitu saja", "Siapa yang menang?",
                "Pelatih: Sukardi Kardok", "JAKARTA: Presiden meresmikan jembatan baru.",
                "(tidak ada komentar dari polisi)", "Presiden meresmikan jembatan baru di Jakarta "
                "pada hari Senin bersama para menteri dan gubernur"]


@pytest.mark.parametrize("text", HEADINGS)
def test_sub_headings_are_recognised(text):
    assert is_heading(text)


@pytest.mark.parametrize("text", NOT_HEADINGS + KEPT)
def test_sentences_lead_ins_and_result_lines_are_not_headings(text):
    assert not is_heading(text)


@pytest.mark.parametrize("text, lead_in", [
    ("Hasil Liga Inggris, Selasa (4/4/2017):", True), ("Berikut jadwalnya:", True),
    ("Pelatih: Sukardi", False), ("Ia berkata: ya.", False),
    ("Harga naik. Penyebabnya ada tiga:", False), (STORY, False)])
def test_a_lists_lead_in_ends_in_its_colon_and_holds_no_sentence(text, lead_in):
    assert is_lead_in(text) is lead_in
    assert heads_others(text) is lead_in


def test_sub_headings_stay_in_the_article_but_are_never_shown_as_passages(tmp_path, embedder):
    """Reading keeps a heading (it counts in the paragraph numbers a citation gives); the
    answer leaves it out, though it matches the question best, and shows the paragraphs."""
    from index.indexing.build import build_index
    from index.storage.faiss.store import Store
    from qa.answer import answer
    from qa.engine import Engine

    path = _write(tmp_path, "txt", [STORY, "Jembatan Baru Presiden", STORY2])
    [article] = read_file(path)
    assert [p.text for p in article.paragraphs] == [STORY, "Jembatan Baru Presiden", STORY2]
    build_index([path], tmp_path / "idx", embedder)
    engine = Engine(store=Store.open(tmp_path / "idx"), embedder=embedder, index_ref=tmp_path / "idx")
    try:
        from qa.retrieve import search

        question = "Jembatan baru presiden"
        assert any(h.text == "Jembatan Baru Presiden" for h in search(engine.store, embedder, question, 10).hits)
        shown = [p.hit.text for p in answer(engine, question, k=5).passages]
        assert shown and "Jembatan Baru Presiden" not in shown
        assert set(shown) == {STORY, STORY2}
    finally:
        engine.close()


def _lines(junk: list[str]) -> list[str]:
    """A story with every junk line between its two paragraphs, then a kept short one."""
    return [STORY, *junk, STORY2, *KEPT]


def _write(tmp_path: Path, fmt: str, lines: list[str]) -> Path:
    if fmt == "txt":
        path = tmp_path / "a.txt"
        path.write_text("Judul berita\n\n" + "\n\n".join(lines) + "\n", encoding="utf-8")
    elif fmt == "md":
        path = tmp_path / "a.md"
        path.write_text("# Judul berita\n\n" + "\n\n".join(lines) + "\n", encoding="utf-8")
    elif fmt == "jsonl":
        path = tmp_path / "a.jsonl"
        path.write_text(json.dumps({"id": "a", "title": "Judul", "paragraphs": lines}) + "\n"
                        + json.dumps({"id": "b", "title": "Judul", "text": "\n".join(lines)}) + "\n",
                        encoding="utf-8")
    else:
        import html

        body = "\n".join(f"<p>{html.escape(line)}</p>" for line in lines)
        path = tmp_path / "a.html"
        path.write_text(f"<html><head><title>Judul berita</title></head><body><article>"
                        f"<h1>Judul berita</h1>\n{body}\n</article></body></html>\n", encoding="utf-8")
    return path


# Markdown reads "* * *" as a thematic break, so it never shows it as text.
@pytest.mark.parametrize("fmt", ["txt", "md", "jsonl", "html"])
def test_junk_is_dropped_when_reading_every_format(tmp_path, fmt):
    junk = [j for j in JUNK if not (fmt == "md" and j in ("* * *",))]
    articles = [a for a in read_file(_write(tmp_path, fmt, _lines(junk))) if isinstance(a, Article)]
    assert articles
    for article in articles:
        texts = [p.text for p in article.paragraphs]
        leaked = [t for t in texts if junk_kind(t)]
        assert not leaked, (fmt, leaked)
        assert STORY in texts and STORY2 in texts
        for kept in KEPT:
            assert kept in texts, (fmt, kept)


@pytest.mark.parametrize("fmt", ["txt", "md"])
def test_dropped_junk_is_not_counted_and_lines_stay_true(tmp_path, fmt):
    path = _write(tmp_path, fmt, [STORY, "(end)", "Foto: ANTARA", "Baca juga: lain", STORY2])
    [article] = read_file(path)
    raw = path.read_text(encoding="utf-8").splitlines()
    assert [(p.number, p.text) for p in article.paragraphs] == [(2, STORY), (3, STORY2)]
    for p in article.paragraphs:
        assert p.text in raw[p.line - 1]


def test_jsonl_record_of_junk_only_is_one_error(tmp_path):
    path = tmp_path / "j.jsonl"
    path.write_text(json.dumps({"id": "x", "paragraphs": ["(end)", "Foto: ANTARA"]}) + "\n"
                    + json.dumps({"id": "y", "text": STORY}) + "\n", encoding="utf-8")
    items = read_file(path)
    assert [getattr(i, "id", None) for i in items] == [None, "y"]
    assert "no text" in items[0].reason


@pytest.mark.parametrize("slug, title", [
    ("menang-6-0-pada-laga-debut-ini-kata-pelatih-persipura.html",
     "Menang 6 0 pada laga debut ini kata pelatih persipura"),
    ("meeting-owl-360-degree-conference-cam?utm_source=welcome-page&utm_medium=box",
     "Meeting owl 360 degree conference cam"),
    ("berita-hari-ini.php#komentar", "Berita hari ini"),
    ("1821380-untuk-kali-keenam-marcuskevin-ditantang", "Untuk kali keenam marcuskevin ditantang"),
    ("178337-sung.ji-hyun.antar.korea.capai.babak.final", "Sung ji hyun antar korea capai babak final"),
    ("https://example.com/news/kabar-baik-dari-bali.aspx?id=3", "Kabar baik dari bali"),
    ("2462831?ICID=RE", ""),
])
def test_url_slugs_become_titles_without_url_debris(slug, title):
    assert _slug_words(slug) == title


def test_jsonl_title_from_slug_falls_back_to_text_when_slug_is_only_an_id(tmp_path):
    path = tmp_path / "s.jsonl"
    path.write_text(json.dumps({"url_slug": "2462831?ICID=RE", "text": STORY}) + "\n"
                    + json.dumps({"url_slug": "kabar-baik.html?utm_source=x", "text": STORY}) + "\n",
                    encoding="utf-8")
    first, second = read_file(path)
    assert first.title == STORY
    assert second.title == "Kabar baik"


def test_an_index_read_under_older_rules_drops_junk_on_the_next_add(tmp_path, embedder, monkeypatch):
    """An unchanged file read under older rules is re-written (not skipped as unchanged) once
    the rules change, reusing every stored vector: junk leaves without a rebuild."""
    from index.corpus import read_text
    from index.indexing.lifecycle import add_paths, open_writable

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.txt").write_text("Judul berita\n\n" + "\n\n".join([STORY, "(end)", STORY2]) + "\n",
                                  encoding="utf-8")
    with monkeypatch.context() as old:  # the reader before the junk rules
        old.setattr(read_text, "READ_RULES", "before-junk")
        old.setattr(read_text, "junk_kind", lambda text: None)
        with open_writable(tmp_path / "idx", embedder) as store:
            add_paths(store, embedder, [corpus])
            assert "(end)" in [p.text for p in store.article_paragraphs("a")]
    with open_writable(tmp_path / "idx", embedder) as store:
        report = add_paths(store, embedder, [corpus])
        texts = [(p.number, p.text) for p in store.article_paragraphs("a")]
        again = add_paths(store, embedder, [corpus])
    assert report.updated == 1 and report.paragraphs_embedded == 0
    assert texts == [(2, STORY), (3, STORY2)]
    assert again.unchanged == 1 and again.updated == 0
