"""qa replaces or deletes only what it can prove it wrote, and asks before removing a lot.

Each refusal is checked the way a user meets it: a real `qa` process exits non-zero with one
line and no traceback, and the folder or file it was pointed at is byte for byte as it was
(every path, every file's SHA-256, and no `.NAME.old` / `.NAME.building` beside it). The
indexes are real (real model, SQLite, FAISS), kept to a few short articles.
"""
from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from index.errors import UserError
from index.indexing.lifecycle import (RemovalNeedsConfirming, add_paths, open_writable, remove,
                             sync_folder)
from tests.test_lifecycle import BANJIR, GEMPA, RATES, write

ROOT = Path(__file__).resolve().parent.parent


def snapshot(path: Path) -> dict[str, str]:
    """Every entry under `path` (hidden ones too) and each file's content hash; for a file,
    its own hash. Also the names beside it, so a sibling qa created would show."""
    out: dict[str, str] = {"<beside>": ",".join(sorted(p.name for p in path.parent.iterdir()))}
    if path.is_file():
        out["."] = hashlib.sha256(path.read_bytes()).hexdigest()
        return out
    for root, dirs, files in os.walk(path):
        for name in dirs:
            out[os.path.relpath(os.path.join(root, name), path)] = "dir"
        for name in files:
            full = os.path.join(root, name)
            out[os.path.relpath(full, path)] = hashlib.sha256(Path(full).read_bytes()).hexdigest()
    return out


def user_folder(path: Path) -> Path:
    """A folder of someone's work that is not an index."""
    write(path / "thesis.docx", "Bab 1. Pendahuluan\n")
    write(path / "notes.txt", "catatan penting\n")
    (path / "photos").mkdir()
    (path / "photos" / "a.jpg").write_bytes(bytes(range(256)))
    return path


# Environment variables by which tools (onnxruntime's telemetry among them) recognise a CI run.
CI_MARKERS = {"CI", "GITHUB_ACTIONS", "TF_BUILD", "JENKINS_URL", "GITLAB_CI", "BUILDKITE",
              "CIRCLECI", "TRAVIS", "CONTINUOUS_INTEGRATION"}


def as_a_users_machine(env: dict[str, str]) -> dict[str, str]:
    """`env` without what tells the runtimes not to report usage: CI markers and the
    developer's own onnxruntime settings, so a test sees what a user's machine does."""
    return {k: v for k, v in env.items() if k not in CI_MARKERS and not k.startswith("ORT_")}


def run_qa(args, env, cwd=None):
    return subprocess.run([sys.executable, "-m", "qa", *args], env=env, capture_output=True,
                          timeout=600, cwd=cwd)


def refused(proc, *needles: str) -> str:
    """The one error line of a refusal, after checking exit code and absence of a traceback
    (a command that loads the model first says so on a progress line, which is not an error)."""
    err = proc.stderr.decode("utf-8", "replace")
    assert proc.returncode != 0, err
    assert "Traceback" not in err, err
    lines = [line for line in err.splitlines() if line.strip()]
    assert all(line.startswith("qa: ") or line == "Loading the embedding model..."
               for line in lines), err
    lines = [line for line in lines if line.startswith("qa: ")]
    assert len(lines) == 1, err
    for needle in needles:
        assert needle in lines[0], err
    return lines[0]


def ok(proc):
    assert proc.returncode == 0, proc.stderr.decode("utf-8", "replace")
    return proc


@pytest.fixture
def env(default_model_dir, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("QA_")}
    env.update(QA_MODEL_CACHE=str(default_model_dir.parent), XDG_DATA_HOME=str(tmp_path / "data"),
               HOME=str(tmp_path / "home"), NO_COLOR="1", COLUMNS="300", QA_LOCK_TIMEOUT="5",
               PYTHONPATH=str(ROOT))
    return env


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    folder = tmp_path / "corpus"
    write(folder / "banjir.txt", BANJIR)
    write(folder / "gempa.txt", GEMPA)
    return folder


def ids(index: Path) -> list[str]:
    """The article ids stored (read in-process: a `qa` process per look is slow)."""
    from index.storage.faiss.store import Store

    with Store.open(index) as store:
        return sorted(a.id for a in store.articles())


# ---- 1. a folder or file that is not a qa index is never replaced -----------------------------


def test_build_into_a_folder_of_user_files_is_refused_and_leaves_it_untouched(env, corpus, tmp_path):
    thesis = user_folder(tmp_path / "thesis")
    before = snapshot(thesis)
    line = refused(run_qa(["index", "build", str(corpus), "--index", str(thesis)], env),
                   str(thesis), "not a qa index", "thesis.docx")
    assert "choose an empty or new folder" in line
    assert snapshot(thesis) == before
    # `add` would scatter an index among the files (and a later build would then refuse):
    # refused too, and it leaves no lock file behind.
    refused(run_qa(["index", "add", str(corpus), "--index", str(thesis)], env), "not a qa index")
    assert snapshot(thesis) == before


def test_a_qa_index_with_a_user_file_dropped_into_it_is_not_replaced(env, embedder, corpus, tmp_path):
    """A rebuild would delete the user's file along with the old index."""
    index = tmp_path / "idx"
    with open_writable(index, embedder) as store:
        add_paths(store, embedder, [corpus])
    write(index / "my-notes.txt", "mine\n")
    before = snapshot(index)
    refused(run_qa(["index", "build", str(corpus), "--index", str(index)], env), "my-notes.txt")
    refused(run_qa(["index", "rebuild", "--index", str(index)], env), "my-notes.txt")
    after = snapshot(index)
    # Opening the index may add SQLite's own -wal/-shm beside its database; nothing else moves.
    assert {k: v for k, v in after.items() if not k.endswith(("-wal", "-shm"))} == before
    # Everything else still works on it: it is an index, just not one qa may replace whole.
    assert ids(index) == ["banjir", "gempa"]


def test_index_pointing_at_a_file_is_refused_for_every_command(env, corpus, tmp_path):
    somefile = write(tmp_path / "somefile.txt", "the user's own text\n")
    before = snapshot(somefile)
    for args in (["index", "build", str(corpus)], ["index", "add", str(corpus)],
                 ["index", "sync", str(corpus)], ["index", "remove", "banjir"],
                 ["index", "rebuild"], ["ask", "banjir?"]):
        refused(run_qa([*args, "--index", str(somefile)], env), "somefile.txt", "a file")
        assert snapshot(somefile) == before, args
    # A folder to be made inside a file cannot be either.
    refused(run_qa(["index", "add", str(corpus), "--index", str(somefile / "idx")], env),
            "is a file, not a folder")
    assert snapshot(somefile) == before


def test_an_sqlite_file_of_another_program_is_not_deleted(env, embedder, corpus, tmp_path):
    """`index.sqlite` is a common name: another program's database there is not an
    interrupted qa index, whatever Store.create(overwrite=...) is asked."""
    import sqlite3

    from index.indexing.build import manifest_for
    from index.storage.base import IndexStoreError
    from index.storage.faiss.store import Store

    folder = tmp_path / "app"
    folder.mkdir()
    db = sqlite3.connect(folder / "index.sqlite")
    db.execute("CREATE TABLE contacts (name TEXT)")
    db.execute("INSERT INTO contacts VALUES ('Sari')")
    db.commit()
    db.close()
    before = snapshot(folder)
    refused(run_qa(["index", "add", str(corpus), "--index", str(folder)], env), "index.sqlite")
    refused(run_qa(["index", "build", str(corpus), "--index", str(folder)], env), "index.sqlite")
    with pytest.raises(IndexStoreError, match="not a qa index"):
        Store.create(folder, manifest_for(embedder), overwrite=True)
    assert snapshot(folder) == before


def test_migrate_to_a_user_folder_is_refused_even_with_overwrite(embedder, corpus, tmp_path):
    """The FAISS target of `qa index migrate --to faiss` (here from a FAISS source: the copy
    path is the same whatever the source backend)."""
    from index.storage import open_store
    from index.indexing.migrate import migrate

    source = tmp_path / "src"
    with open_writable(source, embedder) as store:
        add_paths(store, embedder, [corpus])
    thesis = user_folder(tmp_path / "thesis")
    somefile = write(tmp_path / "somefile.txt", "text\n")
    before = snapshot(thesis), snapshot(somefile)
    with open_store(source) as store:
        for overwrite in (False, True):
            for target in (thesis, somefile):
                with pytest.raises(UserError, match="not a qa index|a file"):
                    migrate(store, target, overwrite=overwrite)
        assert (snapshot(thesis), snapshot(somefile)) == before
        # An empty folder is fine to use, and so is an existing qa index with --overwrite.
        (tmp_path / "empty").mkdir()
        assert migrate(store, tmp_path / "empty").articles == 2
        assert migrate(store, tmp_path / "empty", overwrite=True).articles == 2


def test_migrate_to_faiss_from_milvus_refuses_a_user_folder(env, embedder, corpus, tmp_path):
    from index.storage import MilvusRef

    ref = MilvusRef.parse(str(tmp_path / "news.db"), "qa_default")
    with open_writable(ref, embedder) as store:
        add_paths(store, embedder, [corpus])
    thesis = user_folder(tmp_path / "thesis")
    before = snapshot(thesis)
    for extra in ([], ["--overwrite"]):
        refused(run_qa(["index", "migrate", "--to", "faiss", "--uri", str(tmp_path / "news.db"),
                        "--index", str(thesis), *extra], env), "not a qa index")
        assert snapshot(thesis) == before


def test_a_leftover_staging_or_old_folder_that_is_not_ours_is_kept(env, embedder, corpus, tmp_path):
    """`.NAME.building` and `.NAME.old` are qa's names, but a user may own such a folder."""
    from index.storage.faiss.staging import recover_swap

    index = tmp_path / "idx"
    staging = user_folder(tmp_path / ".idx.building")
    before = snapshot(staging)
    refused(run_qa(["index", "build", str(corpus), "--index", str(index)], env), ".idx.building")
    assert snapshot(staging) == before and not index.exists()
    # With no index at the path, a `.idx.old` is put back only if it is a qa index.
    retired = user_folder(tmp_path / ".idx.old")
    recover_swap(index)
    assert not index.exists() and snapshot(retired)["thesis.docx"] == before["thesis.docx"]


# ---- 2. paths no index folder can have ---------------------------------------------------------


def test_root_and_non_utf8_paths_are_clear_errors(env, corpus, tmp_path):
    refused(run_qa(["index", "build", str(corpus), "--index", "/"], env), "filesystem root")
    refused(run_qa(["index", "add", str(corpus), "--index", "/"], env), "filesystem root")
    bad = os.fsencode(tmp_path) + b"/idx-\xff"
    proc = subprocess.run([sys.executable, "-m", "qa", "index", "add", str(corpus), "--index", bad],
                          env=env, capture_output=True, timeout=600)
    line = refused(proc, "not valid UTF-8")
    assert "\\xff" in line  # the byte is shown, not dropped or mangled
    assert not os.path.exists(bad)


def test_dot_is_the_current_folder_when_empty_and_refused_when_it_holds_files(env, corpus, tmp_path):
    here = tmp_path / "here"
    here.mkdir()
    inode = here.stat().st_ino
    ok(run_qa(["index", "build", str(corpus), "--index", "."], env, cwd=here))
    # Filled in place: a shell sitting in the folder still sits in the index.
    assert here.stat().st_ino == inode
    assert ids(here) == ["banjir", "gempa"]
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(".")]
    thesis = user_folder(tmp_path / "thesis")
    before = snapshot(thesis)
    refused(run_qa(["index", "build", str(corpus), "--index", "."], env, cwd=thesis),
            "not a qa index")
    assert snapshot(thesis) == before


def test_indexing_and_asking_write_nothing_into_the_users_home(env, corpus, tmp_path):
    # Data and the model cache have their own folders (XDG_DATA_HOME, QA_MODEL_CACHE); the
    # home folder is the user's. onnxruntime 1.32 wrote a telemetry device id there on import,
    # except on machines that say they are CI: run as a user's machine.
    env = as_a_users_machine(env)
    home = Path(env["HOME"])
    ok(run_qa(["index", "build", str(corpus), "--index", str(tmp_path / "idx")], env))
    ok(run_qa(["ask", "Di mana banjir terjadi?", "--index", str(tmp_path / "idx")], env))
    assert not home.exists(), sorted(str(p.relative_to(home)) for p in home.rglob("*"))


def test_the_runtimes_qa_loads_report_nothing_and_write_nothing_into_home(tmp_path):
    # Indexing a real corpus runs OpenVINO where the CPU has bfloat16; the few articles above
    # stay under the batch size that loads it, so the imports are checked here directly.
    env = as_a_users_machine(dict(os.environ))
    env.update(HOME=str(tmp_path / "home"), PYTHONPATH=str(ROOT))
    code = ("import sys, index.models, onnxruntime, openvino\n"
            "from openvino.tools.ovc import telemetry_utils\n"
            "print(telemetry_utils.tm.__name__)\n")
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["openvino.tools.ovc.telemetry_stub"]
    assert not (tmp_path / "home").exists(), sorted(map(str, (tmp_path / "home").rglob("*")))


# ---- what must keep working -------------------------------------------------------------------


def test_build_into_an_empty_folder_then_rebuild_and_build_again(embedder, corpus, tmp_path):
    from index.indexing.build import build_index
    from index.indexing.lifecycle import rebuild, verify
    from index.storage.faiss.store import Store

    index = tmp_path / "idx"
    index.mkdir()
    build_index([corpus / "banjir.txt"], index, embedder)
    assert ids(index) == ["banjir"]
    build_index([corpus], index, embedder)  # over an existing qa index
    assert ids(index) == ["banjir", "gempa"]
    assert rebuild(index, embedder).updated == 2
    assert ids(index) == ["banjir", "gempa"]
    with Store.open(index, writable=True) as store:
        assert verify(store) == []
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(".")]  # nothing left over


# ---- 3. removing many articles is confirmed first ---------------------------------------------


def test_removing_an_ancestor_of_every_source_needs_yes(env, embedder, tmp_path):
    corpus = tmp_path / "news"
    for n in range(12):
        write(corpus / f"n{n:02}.txt", f"Berita {n}\n\nKabar nomor {n} tentang pasar kota {n}.\n")
    index = tmp_path / "idx"
    with open_writable(index, embedder) as store:
        add_paths(store, embedder, [corpus])
    everything = ids(index)
    assert len(everything) == 12
    for target in ("/", str(corpus)):
        line = refused(run_qa(["index", "remove", target, "--index", str(index)], env),
                       "12 of the index's 12 articles", "--yes", "nothing was removed")
        assert "n00" in line and str(corpus / "n00.txt") in line
        assert ids(index) == everything
    # A few named ones go without a question, as before.
    removed = json.loads(ok(run_qa(["index", "remove", "n00", str(corpus / "n01.txt"), "--json",
                                    "--index", str(index)], env)).stdout)
    assert removed["removed"] == 2
    removed = json.loads(ok(run_qa(["index", "remove", "/", "--yes", "--json", "--index",
                                    str(index)], env)).stdout)
    assert removed["removed"] == 10 and ids(index) == []


def test_remove_library_raises_with_the_plan_and_removes_nothing(embedder, corpus, tmp_path):
    with open_writable(tmp_path / "idx", embedder) as store:
        add_paths(store, embedder, [corpus])
        with pytest.raises(RemovalNeedsConfirming) as caught:
            remove(store, [str(corpus)])
        assert caught.value.plan.ids == ["banjir", "gempa"] and caught.value.plan.total == 2
        assert len(store.articles()) == 2
        assert remove(store, ["gempa"]).removed == 1  # one of two: no question
        assert remove(store, [str(corpus)], confirmed=True).removed == 1
        assert store.articles() == []


# ---- 4. sync and add -------------------------------------------------------------------------


def test_sync_of_a_folder_that_now_yields_nothing_keeps_its_articles(env, embedder, tmp_path):
    """An unmounted drive or a mistyped path looks like an empty folder: when mirroring it
    would drop what `remove` asks to confirm, sync refuses and drops nothing."""
    corpus = tmp_path / "drive"
    for n in range(11):
        write(corpus / f"n{n:02}.txt", f"Berita {n}\n\nKabar nomor {n} tentang pasar kota {n}.\n")
    index = tmp_path / "idx"
    with open_writable(index, embedder) as store:
        add_paths(store, embedder, [corpus, write(tmp_path / "other" / "rates.txt", RATES)])
    everything = ids(index)
    moved = corpus.rename(tmp_path / "moved")
    corpus.mkdir()
    line = refused(run_qa(["index", "sync", str(corpus), "--index", str(index)], env),
                   "holds no readable articles", "11 from it", "nothing removed")
    assert "qa index remove" in line
    assert ids(index) == everything
    with open_writable(index, embedder) as store:
        with pytest.raises(UserError, match="filesystem root"):
            sync_folder(store, embedder, Path("/"))
        assert ids(index) == everything
        # Files deleted one by one are still mirrored as before.
        corpus.rmdir()
        moved.rename(corpus)
        (corpus / "n00.txt").unlink()
        assert sync_folder(store, embedder, corpus).removed == 1
    assert ids(index) == sorted(set(everything) - {"n00"})


def test_sync_keeps_articles_of_a_subfolder_that_cannot_be_listed(embedder, corpus, tmp_path,
                                                                  monkeypatch):
    """A permission problem on a subfolder is an error to report, not a deletion."""
    import index.corpus.read

    write(corpus / "sub" / "rates.txt", RATES)
    with open_writable(tmp_path / "idx", embedder) as store:
        add_paths(store, embedder, [corpus])
        real_scandir = os.scandir
        locked = str(corpus / "sub")

        def scandir(path):
            if str(path) == locked:
                raise PermissionError(13, "Permission denied", locked)
            return real_scandir(path)

        monkeypatch.setattr(index.corpus.read.os, "scandir", scandir)
        report = sync_folder(store, embedder, corpus)
        assert report.removed == 0 and any("permission denied" in str(e) for e in report.errors)
        assert sorted(a.id for a in store.articles()) == ["banjir", "gempa", "rates"]


def test_an_index_folder_inside_the_corpus_is_neither_read_nor_harmed(embedder, corpus):
    from index.indexing.build import build_index

    index = corpus / "idx"
    with open_writable(index, embedder) as store:
        first = sync_folder(store, embedder, corpus)
        assert (first.added, first.errors) == (2, [])
        again = sync_folder(store, embedder, corpus)
        assert (again.unchanged, again.removed, again.errors) == (2, 0, [])
    assert build_index([corpus], index, embedder).errors == []
    assert ids(index) == ["banjir", "gempa"]
    assert sorted(p.name for p in corpus.iterdir()) == ["banjir.txt", "gempa.txt", "idx"]


# ---- the model cache's folder swap -----------------------------------------------------------


def test_folder_swap_does_not_replace_or_clear_what_it_did_not_build(tmp_path):
    from index.models.folder_swap import rebuilt

    final = user_folder(tmp_path / "model")
    lookalike = user_folder(tmp_path / ".model.my-notes")
    before = snapshot(final), snapshot(lookalike)
    with pytest.raises(UserError, match="not a folder qa built"):
        with rebuilt(final, is_ours=lambda p: (p / "qa_model.json").exists()) as tmp:
            tmp.mkdir()
    assert (snapshot(final), snapshot(lookalike)) == before
    (final / "qa_model.json").write_text("{}")
    with rebuilt(final, is_ours=lambda p: (p / "qa_model.json").exists()) as tmp:
        tmp.mkdir()
        (tmp / "qa_model.json").write_text("{}")
    assert sorted(p.name for p in final.iterdir()) == ["qa_model.json"]
    assert snapshot(lookalike)["thesis.docx"] == before[1]["thesis.docx"]
