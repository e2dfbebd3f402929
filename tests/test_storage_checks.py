"""The view reduction both backends share: the ranking mixes a paragraph's whole score with its
best window, so FAISS and Milvus must reduce their view cosines the same way."""
from index.storage.base import VIEW_SLOTS
from index.storage.checks import whole_and_best


def _key(paragraph: int, view: int) -> int:
    return paragraph * VIEW_SLOTS + view


def test_whole_and_best_window_per_paragraph_in_any_order() -> None:
    scores = {_key(7, 2): 0.9, _key(3, 0): 0.4, _key(7, 0): 0.5, _key(7, 1): 0.6, _key(3, 1): 0.2}
    assert whole_and_best(list(scores), list(scores.values())) == {3: (0.4, 0.2), 7: (0.5, 0.9)}


def test_a_paragraph_without_windows_repeats_its_whole_score() -> None:
    assert whole_and_best([_key(5, 0)], [0.25]) == {5: (0.25, 0.25)}


def test_a_paragraph_whose_whole_view_was_not_scored_is_left_out() -> None:
    assert whole_and_best([_key(5, 1), _key(6, 0)], [0.8, 0.1]) == {6: (0.1, 0.1)}


def test_nothing_scored_gives_nothing() -> None:
    assert whole_and_best([], []) == {}
