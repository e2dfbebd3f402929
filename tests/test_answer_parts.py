"""The pieces between retrieval and the screen: sentences, citations, inert text, fusion."""
from pathlib import Path

from qa.citations import display_source
from qa.retrieve import Fusion, fuse
from index.safe_text import inert
from qa.sentences import sentence_spans, split_sentences
from qa.types import Citation


def test_sentences_respect_abbreviations_and_numbers():
    text = ('Kata Dr. Moon di Jl. Sudirman, 1.500 tentara tiba. Lalu dia pergi! '
            '"Ya," katanya. The U.S. said so.')
    assert split_sentences(text) == [
        "Kata Dr. Moon di Jl. Sudirman, 1.500 tentara tiba.", "Lalu dia pergi!",
        '"Ya," katanya.', "The U.S. said so."]


def test_sentence_spans_index_the_paragraph():
    text = "Satu dua tiga.  Empat lima enam? Tujuh"
    spans = sentence_spans(text)
    assert [text[a:b] for a, b in spans] == ["Satu dua tiga.", "Empat lima enam?", "Tujuh"]


def test_citation_label_format():
    c = Citation(title="Judul", source="seeds/x.txt", paragraph=3, line=4)
    assert c.label() == "Judul - para 3 - seeds/x.txt:4"
    web = Citation(title="Judul", source="a.html", paragraph=2, line=9, outlet="Kompas",
                   date="2024-10-21", url="https://example.org/a")
    assert web.label() == "Judul - Kompas - 2024-10-21 - para 2 - https://example.org/a"


def test_display_source_for_seeds_and_relative_paths(tmp_path, monkeypatch):
    from qa import paths

    seed = paths.seeds_dir() / "000_b0220605effb7f3f.txt"
    assert display_source(str(seed)) == "seeds/000_b0220605effb7f3f.txt"
    monkeypatch.chdir(tmp_path)
    (tmp_path / "news").mkdir()
    assert display_source(str(tmp_path / "news" / "a.txt")) == str(Path("news") / "a.txt")


def test_inert_shows_control_characters():
    assert inert("a\x1b[2Jb\x07") == "a\\x1b[2Jb\\x07"
    assert inert("[bold red]x[/]") == "[bold red]x[/]"
    assert inert("line\nnext\ttab") == "line\nnext\ttab"


def test_fusion_bonus_is_bounded_and_keeps_dense_order_without_lexical():
    dense = {1: 0.9, 2: 0.8, 3: 0.7}
    assert [r[0] for r in fuse(dense, [])] == [1, 2, 3]
    # A strong lexical match can lift a close second, but not a distant one.
    fused = fuse(dense, [(2, 10.0)], Fusion(lexical_weight=0.15))
    assert [r[0] for r in fused][:2] == [2, 1]
    fused = fuse(dense, [(3, 10.0)], Fusion(lexical_weight=0.1))
    assert [r[0] for r in fused][0] == 1


def test_answer_type_of_questions_in_both_languages():
    from qa.sentence_choice import answer_type

    assert answer_type("Kapan Soekarno lahir?") == "date"
    assert answer_type("When was the bridge opened?") == "date"
    assert answer_type("Berapa jumlah korban banjir?") == "number"
    assert answer_type("How many people were evacuated?") == "number"
    assert answer_type("Siapa yang memanggil duta besar Rusia?") == "name"
    assert answer_type("Apa ibu kota Jawa Tengah?") is None


def test_sentence_with_the_expected_answer_type_wins_a_near_tie():
    from qa.sentence_choice import Weights, best

    sentences = ["Jembatan Suramadu menghubungkan Surabaya dan Madura.",
                 "Jembatan itu diresmikan pada 10 Juni 2009 oleh presiden."]
    question = "Kapan jembatan Suramadu diresmikan?"
    # The restating sentence is slightly closer by cosine; the dated one answers.
    assert best(question, sentences, [0.86, 0.85], Weights(overlap=0.0)) == 0
    assert best(question, sentences, [0.86, 0.85], Weights(overlap=0.0, answer_type=0.05)) == 1


def test_shared_words_count_after_stemming():
    from qa.sentence_choice import Weights, scores

    s = scores("Siapa yang meresmikan jembatan?", ["Presiden diresmikan jembatan itu.",
                                                   "Cuaca cerah hari itu."], [0.8, 0.8],
               Weights(overlap=0.1))
    assert s[0] == 0.8 + 0.1 and s[1] == 0.8


def test_word_evidence_counts_words_the_corpus_never_saw_as_absent():
    from qa.confidence import word_share
    from index.corpus.lexical import query_terms
    from qa.types import Hit

    hit = Hit(paragraph_id=1, article_id="a", title="Seoul", source="s", paragraph=1, line=1,
              text="Seoul memanggil duta besar Rusia.", score=0.8)
    # An English question's words are absent from Indonesian text (no exemption for them),
    # except names: "Seoul" as such and "Russian" as the near spelling "Rusia".
    assert word_share(query_terms("Who summoned the Russian ambassador Seoul?"), hit) == 0.5
    assert word_share(query_terms("Siapa yang memanggil duta besar Jepang?"), hit) == 0.75
    assert word_share(query_terms("Siapa?"), hit) == 0.5  # no content words: no evidence


def test_json_carries_confidence_and_near_duplicate_citations():
    import json

    from qa.present import to_json
    from qa.types import Answer, AnswerPassage, Hit

    hit = Hit(paragraph_id=1, article_id="a", title="T", source="s.txt", paragraph=2, line=3,
              text="Satu.", score=0.8)
    copy = Citation("T2", "t.txt", 5, 6)
    p = AnswerPassage(rank=1, hit=hit, answer_sentence="Satu.", sentence_start=0, sentence_end=5,
                      citation=Citation("T", "s.txt", 2, 3), also_in=(copy,))
    data = json.loads(to_json(Answer("q", [p], confidence=0.3, calibrated=True)))
    assert data["confident"] is False and data["confidence"] == 0.3
    assert data["hits"][0]["also_in"] == ["T2 - para 5 - t.txt:6"]
    assert data["no_answer_reason"] is None
    data = json.loads(to_json(Answer("q", [p], confidence=0.3, calibrated=True,
                                     no_answer_reason="nothing in the index mentions Prancis")))
    assert data["no_answer_reason"] == "nothing in the index mentions Prancis"
    # Another model: no judgement at all (null), never a default "confident".
    data = json.loads(to_json(Answer("q", [p], confidence=0.3, calibrated=False)))
    assert data["confident"] is None
