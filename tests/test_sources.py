"""The index remembers what it follows: every folder and file added is recorded, `sync` with
no argument re-reads them all, a source that vanished keeps its articles until pruned.

Real model, real stores of both kinds (FAISS + SQLite, Milvus Lite); the CLI as a real
process where the user-facing output is the point.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from index.errors import UserError
from index.indexing.build import build_index
from index.indexing.lifecycle import (add_paths, open_writable, rebuild, remove, sync_folder,
                                      sync_recorded, verify)
from index.storage import open_store
from tests.test_backends import cli_env, milvus_ref, run_qa  # noqa: F401 - fixture
from tests.test_lifecycle import BANJIR, GEMPA, RATES, write

TSUNAMI = """Peringatan tsunami dicabut

Badan Meteorologi mencabut peringatan tsunami dua jam setelah gempa di lepas pantai Maluku.
"""


@pytest.fixture(params=["faiss", "milvus"])
def ref(request, tmp_path):
    return tmp_path / "idx" if request.param == "faiss" else milvus_ref(tmp_path)


@pytest.fixture
def news(tmp_path: Path) -> tuple[Path, Path]:
    """A folder of two articles and, elsewhere, one lone file."""
    folder = tmp_path / "news"
    write(folder / "banjir.txt", BANJIR)
    write(folder / "gempa.txt", GEMPA)
    lone = write(tmp_path / "elsewhere" / "rates.txt", RATES)
    return folder, lone


def followed(store) -> list[tuple[str, str]]:
    return [(s.kind, s.path) for s in store.sources()]


def titles(store) -> set[str]:
    return {a.title for a in store.articles()}


def test_add_records_folders_and_files_and_sync_rereads_them_all(ref, embedder, news):
    folder, lone = news
    with open_writable(ref, embedder) as store:
        add_paths(store, embedder, [folder, lone, folder.parent / "no-such-folder"])
        assert sorted(followed(store)) == sorted([("folder", str(folder.resolve())),
                                                  ("file", str(lone.resolve()))])
        # New, changed and deleted files under the folder, and an edit of the lone file.
        write(folder / "tsunami.txt", TSUNAMI)
        (folder / "gempa.txt").unlink()
        write(lone, RATES.replace("a quarter point", "half a point"))
        report = sync_recorded(store, embedder)
        assert (report.added, report.updated, report.removed) == (1, 1, 1)
        assert report.vanished == []
        assert titles(store) == {"Banjir merendam Jakarta Timur", "Peringatan tsunami dicabut",
                                 "Central bank raises rates"}
        again = sync_recorded(store, embedder)
        assert (again.added, again.updated, again.removed, again.paragraphs_embedded) == (0, 0, 0, 0)
        assert verify(store) == []


def test_a_vanished_source_keeps_its_articles_until_pruned(ref, embedder, news, tmp_path):
    folder, lone = news
    with open_writable(ref, embedder) as store:
        add_paths(store, embedder, [folder, lone])
        shutil.move(folder, tmp_path / "unmounted")
        said: list[str] = []
        report = sync_recorded(store, embedder, say=said.append)
        assert report.vanished == [str(folder.resolve())]
        assert report.removed == 0 and store.counts()[0] == 3
        assert any("gone" in line and "2 articles are kept" in line for line in said)
        assert "1 source gone, articles kept" in report.line()
        pruned = sync_recorded(store, embedder, prune=True)
        assert pruned.removed == 2 and pruned.vanished == []
        assert titles(store) == {"Central bank raises rates"}
        assert followed(store) == [("file", str(lone.resolve()))]


def test_remove_of_a_folder_stops_following_it(ref, embedder, news):
    folder, lone = news
    with open_writable(ref, embedder) as store:
        add_paths(store, embedder, [folder, lone])
        remove(store, [str(folder)])
        assert followed(store) == [("file", str(lone.resolve()))]
        remove(store, ["rates"])  # by article id: the file is still followed
        assert followed(store) == [("file", str(lone.resolve()))]


def test_a_file_inside_a_followed_folder_is_synced_once(ref, embedder, news):
    folder, _ = news
    with open_writable(ref, embedder) as store:
        add_paths(store, embedder, [folder / "banjir.txt"])
        sync_folder(store, embedder, folder)
        assert len(store.sources()) == 2
        write(folder / "banjir.txt", BANJIR + "\nAir mulai surut pada Selasa sore.\n")
        report = sync_recorded(store, embedder)
        assert (report.added, report.updated, report.unchanged) == (0, 1, 1)


def test_an_index_that_records_nothing_says_how_to_start(ref, embedder, news):
    folder, _ = news
    with open_writable(ref, embedder) as store:
        add_paths(store, embedder, [folder])
        store.forget_sources([s.path for s in store.sources()])  # as an older qa left it
        with pytest.raises(UserError, match="qa index sync DIR"):
            sync_recorded(store, embedder)


def test_build_follows_its_paths_only_and_rebuild_keeps_them(embedder, news, tmp_path):
    folder, lone = news
    index = tmp_path / "idx"
    with open_writable(index, embedder) as store:
        add_paths(store, embedder, [lone])
    build_index([folder], index, embedder)
    with open_store(index) as store:
        assert followed(store) == [("folder", str(folder.resolve()))]
    rebuild(index, embedder)
    with open_store(index) as store:
        assert followed(store) == [("folder", str(folder.resolve()))]
        assert store.counts()[0] == 2


def test_cli_sync_without_argument_and_status(cli_env, news, tmp_path):
    folder, lone = news
    index = str(tmp_path / "idx")
    added = run_qa(["index", "add", "--index", index, str(folder), str(lone)], cli_env)
    assert added.returncode == 0, added.stderr
    status = run_qa(["index", "status", "--index", index], cli_env)
    assert status.returncode == 0, status.stderr
    assert "follows     2 folder(s) or file(s)" in status.stdout
    assert f"folder  {folder.resolve()}" in status.stdout

    write(folder / "tsunami.txt", TSUNAMI)
    synced = run_qa(["index", "sync", "--index", index, "--json"], cli_env)
    assert synced.returncode == 0, synced.stderr
    assert json.loads(synced.stdout)["added"] == 1

    shutil.move(folder, tmp_path / "unmounted")
    gone = run_qa(["index", "sync", "--index", index, "--json"], cli_env)
    assert gone.returncode == 0, gone.stderr
    assert json.loads(gone.stdout)["vanished"] == [str(folder.resolve())]
    assert "gone" in gone.stderr and "Traceback" not in gone.stderr
    status = run_qa(["index", "status", "--index", index, "--json"], cli_env)
    info = json.loads(status.stdout)
    assert info["articles"] == 4
    assert [s["exists"] for s in info["sources"]] == [False, True] or \
        [s["exists"] for s in info["sources"]] == [True, False]

    refused = run_qa(["index", "sync", str(lone.parent), "--prune", "--index", index], cli_env)
    assert refused.returncode == 1 and "--prune" in refused.stderr
    pruned = run_qa(["index", "sync", "--prune", "--index", index, "--json"], cli_env)
    assert pruned.returncode == 0, pruned.stderr
    assert json.loads(pruned.stdout)["removed"] == 3
