"""Word alignment through token states (qa.alignment): a question's words find their
counterparts in a paragraph of the other language, and a word with none lowers the score.
Real model."""
from __future__ import annotations

from pathlib import Path

import pytest

from qa.alignment import content_words, coverage

SEED = Path(__file__).resolve().parents[1] / "seeds" / "000_b0220605effb7f3f.txt"


@pytest.fixture(scope="module")
def paragraph(embedder):
    text = next(p for p in SEED.read_text(encoding="utf-8").split("\n") if "memanggil duta besar" in p)
    return embedder.token_states(text, "passage")


def words(embedder, question):
    states = embedder.token_states(question, "query")
    return ["".join(states.pieces[r] for r in rows).replace("\u2581", "") for rows in content_words(states)]


def test_content_words_leave_out_question_words_and_punctuation(embedder):
    assert words(embedder, "Who summoned the Russian ambassador?") == ["summoned", "Russian", "ambassador?"]
    assert words(embedder, "Siapa yang memanggil duta besar Rusia?") == ["memanggil", "duta", "besar", "Rusia?"]
    assert coverage(embedder.token_states("Siapa?", "query"), embedder.token_states("Ada.", "passage")) is None


def test_a_translated_question_is_covered_and_an_unrelated_one_is_not(embedder, paragraph):
    """The paragraph says Korea Selatan summoned Russia's ambassador (in Indonesian)."""
    def cov(q):
        return coverage(embedder.token_states(q, "query"), paragraph)

    card_en, card_id = cov("Who summoned the Russian ambassador?"), cov("Siapa yang memanggil duta besar Rusia?")
    off_en, off_id = cov("What is the capital of France?"), cov("Apa ibu kota Prancis?")
    assert card_en > off_en + 0.05
    assert card_id > off_id + 0.05
    assert card_id > card_en  # the same words spelled alike match best
