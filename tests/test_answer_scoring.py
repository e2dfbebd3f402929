"""SQuAD-style scoring of short answers (qa.answer_scoring), checked by hand."""
from __future__ import annotations

import pytest

from qa.answer_scoring import best_exact, best_f1, f1, normalize, summary


def test_normalize_drops_case_punctuation_and_articles():
    assert normalize("The  Korea Selatan.") == "korea selatan"
    assert normalize("Rp 5,6 miliar!") == "rp 56 miliar"


def test_f1_by_hand():
    assert f1("Korea Selatan", "Korea Selatan") == 1.0
    assert f1("Korea", "Korea Selatan") == pytest.approx(2 * 1 * 0.5 / 1.5)
    assert f1("Moskow", "Korea Selatan") == 0.0
    assert best_f1("Korea", ["Jepang", "Korea Selatan"]) == pytest.approx(2 / 3)
    assert best_exact("korea selatan", ["Korea Selatan"]) == 1.0


def test_summary_counts_only_questions_with_answers():
    s = summary(["Korea Selatan", None, "Moskow", "x"],
                [["Korea Selatan"], ["Bekasi"], ["Korea Selatan"], []])
    assert s["n"] == 3 and s["shown"] == 2
    assert s["coverage"] == pytest.approx(2 / 3)
    assert s["precision"] == 0.5 and s["exact_match"] == 0.5 and s["f1"] == 0.5
    assert summary([None], [["a"]])["precision"] is None
