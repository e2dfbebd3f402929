"""The pieces between retrieval and the screen: sentences, citations, inert text, fusion."""
from pathlib import Path

from qa.citations import display_source
from qa.retrieve import Fusion, fuse
from qa.safe_text import inert
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
