"""`qa index watch`: real watchfiles, real FAISS and SQLite, the real model.

The library's watch runs in a thread with a stop event while the test changes files; every
wait polls the store (or the output) with a generous timeout, and nothing asserts how fast.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from index.indexing.lifecycle import open_writable, verify
from index.indexing.watch import WatchBatch, watch_folders
from index.storage.faiss.store import Store
from tests.test_lifecycle import BANJIR, GEMPA, RATES, write

ROOT = Path(__file__).resolve().parent.parent
WAIT = 90.0  # seconds; a shared CI machine may be slow, the watch is not timed

def wait_for(check: Callable[[], object], what: str, timeout: float = WAIT) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.2)
    raise AssertionError(f"gave up waiting for {what}")


def stored(index: Path) -> dict[str, list[str]]:
    """Each article's paragraph texts, read by a reader of its own (as the chat would)."""
    if not (index / "index.sqlite").exists():
        return {}
    with Store.open(index) as store:
        return {a.id: [p.text for p in store.article_paragraphs(a.id)] for a in store.articles()}


class Watching:
    """watch_folders in a thread, with what it reported."""

    def __init__(self, index: Path, embedder, folders: list[Path], **options) -> None:
        self.batches: list[WatchBatch] = []
        self.warnings: list[str] = []
        self.started: list[Path] = []
        self.stop = threading.Event()
        self.failure: BaseException | None = None

        def run() -> None:
            try:
                watch_folders(index, embedder, folders, on_batch=self.batches.append,
                              on_start=self.started.extend, warn=self.warnings.append,
                              stop_event=self.stop, **options)
            except BaseException as exc:  # noqa: BLE001 - handed to the test thread
                self.failure = exc

        self.thread = threading.Thread(target=run, daemon=True)

    def __enter__(self) -> Watching:
        self.thread.start()
        wait_for(lambda: self.started or self.failure, "the watch to start")
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(WAIT)
        assert not self.thread.is_alive(), "the watch did not stop on its stop event"
        if self.failure is not None:
            raise self.failure

    def batches_with(self, path: Path) -> list[WatchBatch]:
        return [b for b in self.batches if str(path) in b.files]


def test_added_edited_and_deleted_files_are_applied(embedder, tmp_path):
    news, index = tmp_path / "news", tmp_path / "idx"
    write(news / "rates.txt", RATES)  # there before the watch: caught up at start
    with Watching(index, embedder, [news], settle=0.5) as watch:
        wait_for(lambda: "rates" in stored(index), "the start-up catch-up")
        # A batch is reported just after its commit: wait for the report too.
        first = wait_for(lambda: watch.batches[:1], "the catch-up's report")[0]
        assert first.catch_up and first.report.added == 1

        banjir = write(news / "sub" / "banjir.txt", BANJIR)
        wait_for(lambda: "banjir" in stored(index), "the new file")
        assert stored(index)["banjir"] == [p.strip() for p in BANJIR.split("\n\n")[1:]]
        from qa.retrieve import search

        with Store.open(index) as reader:
            hits = search(reader, embedder, "Ke mana warga mengungsi saat banjir?", k=3).hits
        assert hits[0].article_id == "banjir" and "mengungsi" in hits[0].text

        banjir.write_text(BANJIR.replace("menunggu air surut", "menunggu banjir surut"),
                          encoding="utf-8")
        wait_for(lambda: "menunggu banjir surut" in " ".join(stored(index).get("banjir", [])),
                 "the edit")
        edit = wait_for(lambda: [b for b in watch.batches_with(banjir) if b.report.updated],
                        "the edit's batch")[0]
        assert edit.report.paragraphs_embedded == 1  # only the changed paragraph
        assert edit.report.paragraphs_reused == 2

        banjir.unlink()
        wait_for(lambda: "banjir" not in stored(index), "the deletion")
        assert set(stored(index)) == {"rates"}
        assert wait_for(lambda: [b.report.removed for b in watch.batches_with(banjir)
                                 if b.report.removed], "the deletion's report") == [1]

        # A folder moved in is read through its files; moved out, its articles go.
        write(tmp_path / "outside" / "quake" / "gempa.txt", GEMPA)
        (tmp_path / "outside" / "quake").rename(news / "quake")
        wait_for(lambda: "gempa" in stored(index), "the folder moved in")
        (news / "quake").rename(tmp_path / "outside" / "quake")
        wait_for(lambda: "gempa" not in stored(index), "the folder moved out")
        wait_for(lambda: watch.batches[-1].report.removed, "the move-out's report")
        assert watch.batches[-1].files == [str(news / "quake")]
    assert not watch.warnings
    with Store.open(index) as store:
        assert verify(store) == []


def test_a_file_written_slowly_is_stored_once_and_whole(embedder, tmp_path):
    news, index = tmp_path / "news", tmp_path / "idx"
    news.mkdir()
    chunks = [part + "\n\n" for part in BANJIR.strip().split("\n\n")]
    article = news / "banjir.txt"
    with Watching(index, embedder, [news], settle=2.0) as watch:
        wait_for(lambda: watch.batches, "the start-up catch-up")
        with article.open("w", encoding="utf-8") as f:
            for chunk in chunks:  # pauses longer than the watcher's debounce, shorter than settle
                f.write(chunk)
                f.flush()
                time.sleep(0.8)
        wait_for(lambda: "banjir" in stored(index), "the slowly written file")
        time.sleep(3)  # time enough for a second (wrong) batch to show up
        assert len(watch.batches_with(article)) == 1
        assert watch.batches_with(article)[0].report.added == 1
        assert stored(index)["banjir"] == [p.strip() for p in BANJIR.split("\n\n")[1:]]

        # JSONL appended a line at a time, each line written in two parts with a pause
        # longer than `settle` between them: a line is never read half-written.
        feed = news / "feed.jsonl"
        for n, (title, text) in enumerate([("Gempa guncang Cianjur", GEMPA.split("\n\n")[1]),
                                           ("Central bank raises rates", RATES.split("\n\n")[1])]):
            line = json.dumps({"id": f"feed{n}", "title": title, "text": text})
            with feed.open("a", encoding="utf-8") as f:
                f.write(line[:40])
                f.flush()
                time.sleep(2.5)
                f.write(line[40:] + "\n")
            wait_for(lambda n=n: f"feed{n}" in stored(index), f"JSONL line {n}")
        assert stored(index)["feed1"] == [RATES.split("\n\n")[1].strip()]

        lines = feed.read_text(encoding="utf-8").splitlines()
        feed.write_text(lines[1] + "\n", encoding="utf-8")  # a line taken out
        wait_for(lambda: "feed0" not in stored(index), "the removed line's article to go")
        assert {"banjir", "feed1"} == set(stored(index))
    assert not any(b.report.errors for b in watch.batches)


def test_an_index_rebuilt_under_the_watch_is_reopened_and_caught_up(embedder, tmp_path):
    from index.indexing.build import build_index

    news, elsewhere, index = tmp_path / "news", tmp_path / "elsewhere", tmp_path / "idx"
    write(news / "rates.txt", RATES)
    write(elsewhere / "gempa.txt", GEMPA)
    with Watching(index, embedder, [news], settle=0.5) as watch:
        wait_for(lambda: "rates" in stored(index), "the start-up catch-up")
        build_index([elsewhere], index, embedder)  # as the chat's Ctrl+R rebuilds
        wait_for(lambda: "rates" in stored(index) and "gempa" in stored(index),
                 "the watched folder caught up in the new index")
        assert any("rebuilt or replaced" in w for w in watch.warnings)
        write(news / "banjir.txt", BANJIR)  # and the new index is the one written to
        wait_for(lambda: "banjir" in stored(index), "a new file after the rebuild")
    with Store.open(index) as store:
        assert verify(store) == []


def test_scratch_hidden_and_index_files_are_ignored(embedder, tmp_path):
    news = tmp_path / "news"
    index = news / "idx"  # the index inside the watched folder
    news.mkdir()
    with Watching(index, embedder, [news], settle=0.5) as watch:
        wait_for(lambda: watch.batches, "the start-up catch-up")
        for name in (".#gempa.txt", "gempa.txt~", ".gempa.txt.swp", "4913", "gempa.swp",
                     "#gempa.txt#", ".hidden/gempa.txt", "notes.pdf"):
            write(news / name, GEMPA)
        (news / "4913").unlink()  # Vim's write test comes and goes
        write(news / "rates.txt", RATES)
        wait_for(lambda: "rates" in stored(index), "the real article")
        time.sleep(2)
    assert set(stored(index)) == {"rates"}
    files = [f for b in watch.batches if not b.catch_up for f in b.files]
    assert files == [str(news / "rates.txt")]
    assert not watch.warnings and not any(b.report.errors for b in watch.batches)


def test_a_file_that_fails_to_read_is_reported_and_keeps_its_articles(embedder, tmp_path):
    news, index = tmp_path / "news", tmp_path / "idx"
    rates = write(news / "rates.txt", RATES)
    with Watching(index, embedder, [news], settle=0.5) as watch:
        wait_for(lambda: "rates" in stored(index), "the start-up catch-up")
        before = stored(index)["rates"]
        rates.write_bytes(b"Central bank raises rates\n\n\xff\xfe broken \xff\n")
        bad = wait_for(lambda: [b for b in watch.batches_with(rates) if b.report.errors],
                       "the read error")[0]
        assert len(bad.report.errors) == 1 and str(bad.report.errors[0]).startswith(f"{rates}: ")
        assert bad.report.removed == 0 and stored(index)["rates"] == before

        write(news / "gempa.txt", GEMPA)  # the watch goes on
        wait_for(lambda: "gempa" in stored(index), "the next file")
    assert stored(index)["rates"] == before


def test_a_watched_folder_that_disappears_removes_nothing(embedder, tmp_path):
    news, other, index = tmp_path / "news", tmp_path / "other", tmp_path / "idx"
    write(news / "rates.txt", RATES)
    write(news / "sub" / "banjir.txt", BANJIR)
    write(other / "gempa.txt", GEMPA)
    aside = tmp_path / "aside"
    with Watching(index, embedder, [news, other], settle=0.5) as watch:
        wait_for(lambda: len(stored(index)) == 3, "the start-up catch-up")
        news.rename(aside)  # as an unmounted drive's folder would vanish
        wait_for(lambda: any("gone" in w for w in watch.warnings), "the report of it")
        assert str(news) in watch.warnings[0]

        write(other / "more" / "banjir2.txt", BANJIR.replace("Senin", "Selasa"))
        wait_for(lambda: "banjir2" in stored(index), "a change in the other folder")
        assert {"rates", "banjir", "gempa"} <= set(stored(index))

        (aside / "rates.txt").unlink()  # changed while away: caught up when back
        aside.rename(news)
        wait_for(lambda: "rates" not in stored(index), "the catch-up when it is back")
        assert set(stored(index)) == {"banjir", "gempa", "banjir2"}
        wait_for(lambda: watch.batches[-1].catch_up, "the catch-up's report")
        assert watch.batches[-1].files == [str(news)]

        write(news / "rates.txt", RATES)  # and it is watched again
        wait_for(lambda: "rates" in stored(index), "a new file in the folder that came back")


def test_an_interrupt_while_embedding_leaves_the_index_unlocked_and_whole(embedder, tmp_path):
    news, index = tmp_path / "news", tmp_path / "idx"
    write(news / "rates.txt", RATES)
    with open_writable(index, embedder) as store:
        pass  # an empty index, so the interrupt comes in the catch-up's embedding

    def interrupt(stage: str, done: int, total: int) -> None:
        if stage == "embed" and done:  # the model's first batch is done, the second not
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        watch_folders(index, embedder, [news], on_batch=lambda b: None, progress=interrupt)
    with open_writable(index, embedder, lock_timeout=0) as store:  # the lock is free
        assert verify(store) == [] and store.articles() == []
        with store.writer():
            pass


def as_from_a_shell() -> None:
    """In the child before it runs: SIGINT unblocked and at its default, as a terminal gives
    it. The child otherwise inherits the test worker's signal state, which earlier tests in
    the same worker can leave changed: in CI (pytest -n 2, the whole suite) the watch twice
    sat in watchfiles for 90 s after Ctrl+C, never seeing it, and never did when this test
    ran alone, with or without -n 2."""
    signal.pthread_sigmask(signal.SIG_UNBLOCK, [signal.SIGINT])
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def signal_masks(pid: int) -> str:
    """The process's blocked and ignored signal masks, as /proc shows them."""
    try:
        status = Path(f"/proc/{pid}/status").read_text().splitlines()
    except OSError:
        return "no /proc"
    return ", ".join(line.replace("\t", " ") for line in status if line.startswith(("SigBlk", "SigIgn")))


def test_cli_watch_applies_a_dropped_file_and_stops_on_ctrl_c(default_model_dir, tmp_path):
    news, index = tmp_path / "news", tmp_path / "idx"
    write(news / "rates.txt", RATES)
    env = {k: v for k, v in os.environ.items() if not k.startswith("QA_")}
    env.update(QA_MODEL_CACHE=str(default_model_dir.parent), XDG_DATA_HOME=str(tmp_path / "data"),
               HOME=str(tmp_path / "home"), QA_INDEX=str(index), NO_COLOR="1", COLUMNS="200",
               PYTHONPATH=str(ROOT), PYTHONFAULTHANDLER="1")
    proc = subprocess.Popen([sys.executable, "-m", "qa", "index", "watch", str(news),
                             "--settle", "0.5"], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, preexec_fn=as_from_a_shell)
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(iter(proc.stdout.readline, "")),
                              daemon=True)
    reader.start()
    try:
        wait_for(lambda: any("caught up" in line for line in lines), "the catch-up line")
        write(news / "gempa.txt", GEMPA)
        wait_for(lambda: any("+1 added" in line and "(1 file)" in line for line in lines),
                 "the batch line")
        masks = signal_masks(proc.pid)
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(WAIT)
        except subprocess.TimeoutExpired:
            # Say where every thread of the watch was (faulthandler prints them on SIGABRT)
            # and how it held SIGINT, instead of a bare timeout.
            proc.send_signal(signal.SIGABRT)
            proc.wait(WAIT)
            pytest.fail(f"the watch did not stop within WAIT s of Ctrl+C ({masks}); its "
                        "threads:\n" + proc.stderr.read()[-6000:])
    finally:
        if proc.poll() is None:
            proc.kill()
    reader.join(WAIT)
    err = proc.stderr.read()
    assert proc.returncode == 0, err
    assert "Traceback" not in err
    assert "Watching " in err and "Ctrl+C stops" in err
    assert err.strip().splitlines()[-1].startswith("Stopped watching")
    check = subprocess.run([sys.executable, "-m", "qa", "index", "verify"], env=env,
                           capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    listed = subprocess.run([sys.executable, "-m", "qa", "index", "list", "--json"], env=env,
                            capture_output=True, text=True, check=True)
    assert sorted(a["id"] for a in json.loads(listed.stdout)) == ["gempa", "rates"]


def test_with_no_folder_named_the_followed_folders_are_watched(embedder, tmp_path):
    news, gone, index = tmp_path / "news", tmp_path / "gone", tmp_path / "idx"
    write(news / "rates.txt", RATES)
    write(gone / "gempa.txt", GEMPA)
    lone = write(tmp_path / "lone.txt", BANJIR)
    from index.indexing.lifecycle import add_paths

    with open_writable(index, embedder) as store:
        add_paths(store, embedder, [news, gone, lone])
    (gone / "gempa.txt").unlink()
    gone.rmdir()  # a followed folder that is not there now: warned about, kept
    with Watching(index, embedder, [], settle=0.5) as watch:
        assert watch.started == [news.resolve()]
        assert any("gone" in w for w in watch.warnings)
        assert any("single files" in w and str(lone.resolve()) in w for w in watch.warnings)
        write(news / "banjir2.txt", BANJIR.replace("Senin", "Selasa"))
        wait_for(lambda: "banjir2" in stored(index), "a file dropped in a followed folder")
        assert {"rates", "gempa", "lone", "banjir2"} <= set(stored(index))


# ---- symlinks: the watch names every file as a sync does (issue 38, item 2) ----------------

PEMILU = """Pemilu serentak digelar

Pemilihan umum serentak digelar di seluruh Indonesia dengan jumlah pemilih lebih dari dua ratus juta orang.
"""

BERAS = """Harga beras naik

Harga beras medium di pasar tradisional naik dua ribu rupiah per kilogram dalam sepekan.
"""


def cli_env(default_model_dir: Path, tmp_path: Path, index: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("QA_")}
    env.update(QA_MODEL_CACHE=str(default_model_dir.parent), XDG_DATA_HOME=str(tmp_path / "data"),
               HOME=str(tmp_path / "home"), QA_INDEX=str(index), NO_COLOR="1", COLUMNS="200",
               PYTHONPATH=str(ROOT), PYTHONFAULTHANDLER="1")
    return env


def qa(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "qa", *args], env=env, cwd=cwd,
                          capture_output=True, text=True, timeout=WAIT)


# The two reports, step by step: a link to a sibling folder made, pointed elsewhere and
# removed; a link back up (a loop) made and removed. `probe` is edited after each step: once
# the watch has applied that edit, it has seen the step too (see the test).
SYMLINK_SCENARIOS = {
    "a link to a sibling folder": dict(
        tree={"W2/2024/banjir.txt": BANJIR, "W2/2024/gempa.txt": GEMPA,
              "W2/2025/pemilu.txt": PEMILU},
        steps=["ln -s 2024 W2/latest", "ln -sfn 2025 W2/latest", "rm W2/latest"],
        probe="W2/2024/banjir.txt"),
    "a link back up": dict(
        tree={"W/banjir.txt": BANJIR, "W/gempa.txt": GEMPA, "W/rates.txt": RATES,
              "W/sub/pemilu.txt": PEMILU, "W/sub/beras.txt": BERAS},
        steps=["ln -s .. W/sub/up", "rm W/sub/up"],
        probe="W/sub/beras.txt"),
}


@pytest.mark.parametrize("scenario", SYMLINK_SCENARIOS)
def test_cli_watch_agrees_with_sync_through_symlinked_folders(default_model_dir, tmp_path,
                                                              scenario):
    """A symlinked folder is the same files, not new articles: after every step `qa index
    list` holds the same articles under their own paths, `verify` passes, and a `qa index
    sync` of the same tree finds nothing to change."""
    case = SYMLINK_SCENARIOS[scenario]
    for name, text in case["tree"].items():
        write(tmp_path / name, text)
    top = next(iter(case["tree"])).split("/")[0]
    index = tmp_path / "idx"
    env = cli_env(default_model_dir, tmp_path, index)
    assert qa(["index", "build", top], env, tmp_path).returncode == 0
    expected = {Path(name).stem: str(tmp_path / name) for name in case["tree"]}

    def listed() -> dict[str, str]:
        out = qa(["index", "list", "--json"], env, tmp_path)
        assert out.returncode == 0, out.stderr
        return {a["id"]: a["source"] for a in json.loads(out.stdout)}

    assert listed() == expected
    proc = subprocess.Popen([sys.executable, "-m", "qa", "index", "watch", "--json",
                             "--settle", "0.5"], env=env, cwd=tmp_path, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, preexec_fn=as_from_a_shell)
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(iter(proc.stdout.readline, "")),
                              daemon=True)
    reader.start()

    def batches() -> list[dict]:
        return [json.loads(line) for line in list(lines) if line.lstrip().startswith("{")]

    probe = tmp_path / case["probe"]
    try:
        wait_for(lambda: any(b["catch_up"] for b in batches()), "the start-up catch-up")
        for n, step in enumerate(case["steps"]):
            done = len(batches())
            subprocess.run(step, shell=True, cwd=tmp_path, check=True)
            # Time for the watch to settle the step, and whatever it marks in turn, before
            # the probe: a later edit of an article, whose batch then follows the step's.
            time.sleep(2.0)
            with probe.open("a", encoding="utf-8") as f:
                f.write(f"\nKabar terbaru nomor {n}: warga diminta tetap waspada.\n")
            wait_for(lambda: any(b["files"] == [str(probe)] for b in batches()[done:]),
                     f"the probe's batch after `{step}`")
            after = batches()[done:]
            assert [(b["added"], b["removed"]) for b in after] == [(0, 0)], (step, after)
            assert listed() == expected, step
            check = qa(["index", "verify"], env, tmp_path)
            assert check.returncode == 0, (step, check.stdout + check.stderr)
            sync = qa(["index", "sync", "--json"], env, tmp_path)
            assert sync.returncode == 0, (step, sync.stderr)
            report = json.loads(sync.stdout)
            assert (report["added"], report["updated"], report["removed"]) == (0, 0, 0), step
            assert report["unchanged"] == len(expected)
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(WAIT)
        finally:
            if proc.poll() is None:
                proc.kill()
    err = proc.stderr.read()
    assert proc.returncode == 0 and "Traceback" not in err, err
    reader.join(WAIT)
    assert not any(b["errors"] for b in batches())


def sync_changes(index: Path, embedder, folder: Path) -> tuple[int, int, int]:
    """What a sync of `folder` would still change in the index (the watch running beside)."""
    from index.indexing.lifecycle import sync_folder

    with open_writable(index, embedder) as store:
        report = sync_folder(store, embedder, folder)
    return report.added, report.updated, report.removed


def sources_of(index: Path) -> dict[str, str]:
    with Store.open(index) as store:
        return {a.id: a.source for a in store.articles()}


def test_links_there_at_start_and_links_to_outside_follow_sync(embedder, tmp_path):
    """watchfiles follows the links there when it starts, reports a folder's events through
    one of them and stops reporting them when that link goes; it does not follow a link made
    later. Each way, an edit is applied to the one article a sync names."""
    news, outside, index = tmp_path / "news", tmp_path / "outside", tmp_path / "idx"
    banjir = write(news / "2024" / "banjir.txt", BANJIR)
    write(news / "rates.txt", RATES)
    luar = write(outside / "in" / "gempa.txt", GEMPA)
    for link in ("latest", "zz"):  # two links to one folder: events come through either
        (news / link).symlink_to("2024", target_is_directory=True)
    both = {"banjir": str(banjir), "rates": str(news / "rates.txt")}
    with Watching(index, embedder, [news], settle=0.5) as watch:
        wait_for(lambda: watch.batches, "the start-up catch-up")
        assert sources_of(index) == both

        def edit(path: Path, n: int, what: str) -> None:
            with path.open("a", encoding="utf-8") as f:
                f.write(f"\nKabar terbaru nomor {n}: warga diminta tetap waspada.\n")
            wait_for(lambda: f"nomor {n}" in " ".join(sum(stored(index).values(), [])), what)

        edit(banjir, 1, "an edit in a folder two links show")
        assert sources_of(index) == both
        (news / "latest").unlink()
        (news / "zz").unlink()
        time.sleep(1.5)
        edit(banjir, 2, "an edit once the links are gone")
        assert sources_of(index) == both
        assert sync_changes(index, embedder, news) == (0, 0, 0)

        (news / "elsewhere").symlink_to(outside, target_is_directory=True)
        linked = str(news / "elsewhere" / "in" / "gempa.txt")
        wait_for(lambda: "gempa" in stored(index), "a folder linked from outside")
        assert sources_of(index) == {**both, "gempa": linked}
        time.sleep(1.5)
        edit(luar, 3, "an edit in the folder linked from outside")
        assert sync_changes(index, embedder, news) == (0, 0, 0)
        # A second link to the same folder: one article still, under whichever link the
        # walk takes; with one of the two links gone, under the other.
        (news / "again").symlink_to(outside, target_is_directory=True)
        time.sleep(1.5)
        edit(luar, 4, "an edit in a folder linked twice from outside")
        assert sync_changes(index, embedder, news) == (0, 0, 0)
        first = sources_of(index)["gempa"]
        assert first in (linked, str(news / "again" / "in" / "gempa.txt"))
        Path(first).parent.parent.unlink()
        wait_for(lambda: sources_of(index).get("gempa") not in (first, None), "the other link")
        assert sync_changes(index, embedder, news) == (0, 0, 0)
        edit(luar, 5, "an edit through the link left")
        remaining = Path(sources_of(index)["gempa"]).parent.parent
        remaining.unlink()
        wait_for(lambda: "gempa" not in stored(index), "the link to outside removed")
        assert sources_of(index) == both
        assert sync_changes(index, embedder, news) == (0, 0, 0)
    assert not watch.warnings and not any(b.report.errors for b in watch.batches)
    with Store.open(index) as store:
        assert verify(store) == []


def test_a_folder_replaced_by_a_file_of_the_same_name_goes_in_that_batch(embedder, tmp_path):
    """Issue 38, item 9: the folder's articles go in the batch that sees the file, not at
    the next catch-up; the file is read when a reader takes it, else it holds no article."""
    import shutil

    news, index = tmp_path / "news", tmp_path / "idx"
    write(news / "sub" / "banjir.txt", BANJIR)
    write(news / "kabar.txt" / "rates.txt", RATES)  # a folder named like an article
    write(news / "gempa.txt", GEMPA)
    with Watching(index, embedder, [news], settle=0.5) as watch:
        wait_for(lambda: len(stored(index)) == 3, "the start-up catch-up")
        shutil.rmtree(news / "sub")
        (news / "sub").write_text("bukan artikel\n", encoding="utf-8")
        wait_for(lambda: "banjir" not in stored(index), "the folder's article to go")
        gone = wait_for(lambda: watch.batches_with(news / "sub"), "its batch")[0]
        assert (gone.report.added, gone.report.removed, gone.report.errors) == (0, 1, [])

        shutil.rmtree(news / "kabar.txt")
        write(news / "kabar.txt", PEMILU)
        wait_for(lambda: "kabar" in stored(index), "the file that replaced the folder")
        assert set(stored(index)) == {"gempa", "kabar"}
        swap = wait_for(lambda: watch.batches_with(news / "kabar.txt"), "its batch")[0]
        assert (swap.report.added, swap.report.removed) == (1, 1)  # in one batch
        assert sync_changes(index, embedder, news) == (0, 0, 0)
    assert not watch.warnings and not any(b.report.errors for b in watch.batches)
