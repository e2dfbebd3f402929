"""Indonesian-aware lexical matching, its migration onto old indexes, and near-duplicates."""
from __future__ import annotations

import sqlite3
from pathlib import Path

from index.corpus import lexical

from index.storage.faiss import schema
from index.storage.faiss.store import Store
from index.corpus.types import Article, Paragraph
from qa.duplicates import collapse
from qa.types import Hit
from tests.test_store import CORPUS, MANIFEST, N_PARAGRAPHS, make_article, unit_vectors


def test_affixes_meet_at_the_stem():
    assert {lexical.stem(w) for w in ("memanggil", "dipanggil", "panggilannya", "pemanggilan")} == {
        "panggil"}
    assert lexical.stem("kebijakan") == "bijak"


def test_english_words_names_and_numbers_pass_through():
    assert lexical.index_text("Russian ambassador summoned 2024 Kim") == \
        "russian ambassador summoned 2024 kim"


def test_names_with_accents_stay_whole():
    # Sastrawi turns every non-ASCII letter into a space; such words must not reach it.
    for word in ("władysław", "józef", "célèbre", "istván", "zürich"):
        assert lexical.stem(word) == word
        assert lexical.query_terms(f"Kapan {word.title()} lahir?") == [word, "lahir"]
    assert lexical.index_text("Józef Sapieha dilahirkan") == "józef sapieha lahir"


def test_query_terms_drop_question_and_function_words_only():
    assert lexical.query_terms("Siapa yang memanggil duta besar Rusia?") == [
        "panggil", "duta", "besar", "rusia"]
    assert lexical.query_terms("Who summoned the Russian ambassador?") == [
        "summoned", "russian", "ambassador"]
    assert lexical.query_terms("apa itu?") == []


def test_lexical_search_matches_across_affixes(tmp_path: Path):
    articles = [make_article("a", ["Seoul memanggil duta besar Rusia pada hari Senin."]),
                make_article("b", ["Harga beras naik di pasar induk."])]
    with Store.create(tmp_path / "idx", MANIFEST) as store:
        ids = store.add_articles(articles, unit_vectors(2, seed=3))
    with Store.open(tmp_path / "idx") as store:
        hits = store.search_lexical("Siapa yang dipanggil Seoul?", 5)
        assert [i for i, _ in hits] == [ids[0]]
        assert store.vocabulary_coverage("duta dipanggil xyzzy") == 2 / 3
        assert store.verify() == []


def test_version_2_index_is_retokenised_on_open(tmp_path: Path):
    """An index written before stemming gains it on first open, without re-embedding."""
    path = tmp_path / "idx"
    vectors = unit_vectors(N_PARAGRAPHS, seed=1)
    with Store.create(path, MANIFEST) as store:
        ids = store.add_articles(CORPUS, vectors)
    db = sqlite3.connect(path / "index.sqlite", isolation_level=None)
    db.execute("BEGIN")
    for stmt in ("DROP TABLE paragraphs_vocab", "DROP TRIGGER paragraphs_fts_insert",
                 "DROP TRIGGER paragraphs_fts_delete", "DROP TRIGGER paragraphs_fts_update",
                 "DROP TRIGGER articles_fts_title"):
        db.execute(stmt)
    db.execute("DELETE FROM paragraphs_fts")
    db.execute("INSERT INTO paragraphs_fts(rowid, text, title) SELECT p.id, p.text, a.title "
               "FROM paragraphs p JOIN articles a ON a.id = p.article_id")
    db.execute("CREATE VIRTUAL TABLE paragraphs_vocab USING fts5vocab(paragraphs_fts, 'row')")
    db.execute("DROP TABLE vectors")  # migration 5's
    db.execute("DROP TABLE word_senses")  # migration 7's
    db.execute("PRAGMA user_version = 2")
    db.execute("COMMIT")
    assert db.execute("SELECT count(*) FROM paragraphs_vocab WHERE term = 'memanggil'").fetchone()[0] == 1
    db.close()
    vector_files = sorted(p.name for p in path.glob("vectors-*.faiss"))

    with Store.open(path) as store:
        assert store.manifest.schema_version == schema.CURRENT
        assert [i for i, _ in store.search_lexical("dipanggil", 5)] == [ids[1]]
        assert store.verify() == []
    assert sorted(p.name for p in path.glob("vectors-*.faiss")) == vector_files
    with Store.open(path, writable=True) as store, store.writer():
        store.remove_articles(["a1"])
    with Store.open(path) as store:
        assert store.search_lexical("dipanggil", 5) == []
        assert store.verify() == []


def test_version_3_index_re_tokenises_accented_names(tmp_path: Path):
    """Migration 4: an index whose FTS rows hold Sastrawi's split of an accented name ("j zef")
    is re-tokenised on open, so the name matches whole and with its accents folded."""
    corpus = [Article(id="pl", title="Sejarah", source="/c/pl.txt", content_hash="pl",
                      paragraphs=[Paragraph("pl", number=1, text="Józef Sapieha lahir di Wrocław.",
                                            line=1, start=0, end=1)]),
              Article(id="x", title="Lain", source="/c/x.txt", content_hash="x",
                      paragraphs=[Paragraph("x", number=1, text="Sebuah zef dan j biasa.",
                                            line=1, start=0, end=1)])]
    path = tmp_path / "idx"
    with Store.create(path, MANIFEST) as store:
        ids = store.add_articles(corpus, unit_vectors(2, seed=3))
    db = sqlite3.connect(path / "index.sqlite", isolation_level=None)
    db.execute("BEGIN")
    db.execute("UPDATE paragraphs_fts SET text = 'j zef sapieha lahir di wroc aw' WHERE rowid = ?",
               (ids[0],))
    db.execute("DROP TABLE vectors")  # migration 5's
    db.execute("DROP TABLE word_senses")  # migration 7's
    db.execute("PRAGMA user_version = 3")
    db.execute("COMMIT")
    db.close()
    with Store.open(path) as store:
        assert store.manifest.schema_version == schema.CURRENT
        assert [i for i, _ in store.search_lexical("Józef", 5)] == [ids[0]]
        assert [i for i, _ in store.search_lexical("Jozef Wroclaw", 5)] == [ids[0]]
        assert store.verify() == []


def _hit(pid: int, text: str, score: float) -> Hit:
    return Hit(paragraph_id=pid, article_id=f"a{pid}", title="T", source=f"s{pid}.txt",
               paragraph=1, line=1, text=text, score=score)


def test_near_duplicates_collapse_into_the_best_ranked_hit():
    wire = ("Presiden Joko Widodo meresmikan jalan tol baru sepanjang 40 kilometer di Jawa Tengah "
            "pada Senin pagi, disaksikan ratusan warga.")
    hits = [
        _hit(1, "JAKARTA, KOMPAS.com - " + wire, 0.9),
        _hit(2, "Harga cabai naik tajam di pasar tradisional menjelang akhir tahun.", 0.85),
        _hit(3, "SEMARANG, Tribunnews.com - " + wire.replace("ratusan", "ribuan"), 0.84),
        _hit(4, wire, 0.8),
    ]
    groups = collapse(hits)
    assert [g.hit.paragraph_id for g in groups] == [1, 2]
    assert [c.paragraph_id for c in groups[0].copies] == [3, 4]
    assert groups[1].copies == []


def test_reworded_report_of_the_same_event_stays_separate():
    a = _hit(1, "Presiden meresmikan jalan tol baru di Jawa Tengah pada Senin.", 0.9)
    b = _hit(2, "Jalan tol baru di Jawa Tengah diresmikan Presiden, Senin, di depan warga.", 0.8)
    assert len(collapse([a, b])) == 2


def test_identical_subtitles_collapse():
    hits = [_hit(1, "Foto: Dokumentasi Humas Polda Metro Jaya", 0.7),
            _hit(2, "Foto: dokumentasi humas Polda Metro Jaya", 0.6)]
    groups = collapse(hits)
    assert len(groups) == 1 and groups[0].copies == [hits[1]]
