"""The model folder and its ONNX export are replaced whole or not at all."""
from __future__ import annotations

import pytest

from index.models.folder_swap import rebuilt


def test_finished_build_replaces_folder_and_leaves_nothing_beside_it(tmp_path):
    final = tmp_path / "model"
    final.mkdir()
    (final / "old.txt").write_text("old")
    with rebuilt(final) as tmp:
        tmp.mkdir()
        (tmp / "new.txt").write_text("new")
        assert (final / "old.txt").exists()  # readers still see the old folder meanwhile
    assert sorted(p.name for p in final.iterdir()) == ["new.txt"]
    assert [p.name for p in tmp_path.iterdir()] == ["model"]


def test_failed_build_keeps_old_folder(tmp_path):
    final = tmp_path / "model"
    final.mkdir()
    (final / "old.txt").write_text("old")
    with pytest.raises(RuntimeError):
        with rebuilt(final) as tmp:
            tmp.mkdir()
            (tmp / "half.txt").write_text("half")
            raise RuntimeError("killed part-way")
    assert sorted(p.name for p in final.iterdir()) == ["old.txt"]
    assert [p.name for p in tmp_path.iterdir()] == ["model"]


def test_leftovers_of_a_killed_build_are_cleared(tmp_path):
    final = tmp_path / "model"
    stale = tmp_path / ".model.tmp-123-abcd"
    stale.mkdir()
    (stale / "x").write_text("x")
    with rebuilt(final) as tmp:
        tmp.mkdir()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]
