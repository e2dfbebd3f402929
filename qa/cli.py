"""The `qa` command: a thin shell over the library (engine, answer, present).

Heavy modules (numpy, faiss, torch, sentence-transformers) are imported inside commands so
`qa --help` stays instant.
"""
from __future__ import annotations

import contextlib
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from index.errors import UserError
from qa.cli_help import HelpfulTyper
from qa.filter_options import ArticleOpt, SinceOpt, SourceOpt, UntilOpt, article_filter
from qa.index_options import BackendOpt, CollectionOpt, IndexOpt, JsonOpt, ModelOpt, UriOpt

app = HelpfulTyper(
    help="Ask questions about a folder of news articles (Indonesian, English, mixed).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
index_app = HelpfulTyper(help="Build and inspect the index.", no_args_is_help=True)
app.add_typer(index_app, name="index")

def _err(message: str) -> None:
    """One error line on stderr. Messages name files and articles, so they are made inert
    here, once for every caller (see _out)."""
    from rich.console import Console
    from rich.text import Text

    from index.safe_text import inert

    Console(stderr=True).print(Text(inert(f"qa: {message}")), style="red", soft_wrap=True)


def _say(message: str) -> None:
    from rich.console import Console
    from rich.text import Text

    from index.safe_text import inert

    Console(stderr=True).print(Text(inert(message)), style="dim", soft_wrap=True)


def _out(line: str) -> None:
    """One line of plain text on stdout (its trailing newline is the only one written): ids,
    titles and paths come from files (Linux allows ESC and newlines in a file name), so
    control and bidi characters are shown as `\\xNN` and line breaks as `\\n` rather than sent."""
    from index.safe_text import one_line

    sys.stdout.write(one_line(line.removesuffix("\n")) + "\n")


def _out_json(data, indent: int | None = None) -> None:
    """One JSON document on stdout; characters a terminal would act on are `\\u` escapes."""
    import json

    from index.safe_text import inert_json

    sys.stdout.write(inert_json(json.dumps(data, ensure_ascii=False, indent=indent)) + "\n")


def _model(model: str | None) -> str | None:
    """--model or $QA_MODEL (Typer reads it); None: the index's own, or the default."""
    return model or None


def _index_ref(ctx: typer.Context, index: Path | None, backend: str | None = None,
               uri: str | None = None, collection: str | None = None):
    """The index named by the options (a folder or a Milvus collection), and whether it is
    the default folder (only that one is built on demand)."""
    from qa.index_options import from_env, resolve

    return resolve(index, backend, uri, collection, env=from_env(ctx))


class _Bar:
    """rich progress bar for the library's (stage, done, total) callbacks; its labels are
    plain text (never Rich markup) made inert, like every other line the CLI writes."""

    LABELS = {"read": "Reading articles", "embed": "Embedding paragraphs",
              "save": "Saving the index", "load": "Reading the stored articles",
              "check": "Checking the index", "copy": "Copying articles"}

    def __init__(self) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        console = Console(stderr=True)
        # Where no bar can be drawn (a log file, a pipe) rich would still end with a blank
        # line; disabled, it writes nothing, so an error or Ctrl+C stays one line.
        self.progress = Progress(TextColumn("{task.description}", markup=False), BarColumn(),
                                 MofNCompleteColumn(), _rate_column(), TimeRemainingColumn(),
                                 console=console, transient=True,
                                 disable=not console.is_interactive)
        self.tasks: dict[str, int] = {}

    def __enter__(self) -> _Bar:
        self.progress.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        self.progress.__exit__(*exc)

    def __call__(self, stage: str, done: int, total: int) -> None:
        if stage not in self.tasks:
            from index.safe_text import inert

            self.tasks[stage] = self.progress.add_task(inert(self.LABELS.get(stage, stage)),
                                                       total=total or None)
        self.progress.update(self.tasks[stage], completed=done, total=total or None)


def _rate_column():
    """Texts (or articles) a second, beside the bar's count and time left."""
    from rich.progress import ProgressColumn
    from rich.text import Text

    class Rate(ProgressColumn):
        def render(self, task) -> Text:
            speed = task.finished_speed or task.speed
            return Text(f"{speed:,.0f}/s" if speed else "", style="progress.data.speed")

    return Rate()


def _report_errors(errors) -> None:
    """One line per file: `<file>: <reason>`, the file's name shown on that line whatever
    it holds."""
    from index.safe_text import one_line

    for error in errors:
        _err(one_line(str(error)))


@app.command()
def ask(
    ctx: typer.Context,
    question: Annotated[str, typer.Argument(help="The question, in English or Indonesian.")],
    k: Annotated[int, typer.Option("-k", "--top", min=1, max=100, metavar="N",
                                   help="How many passages.")] = 5,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    index: IndexOpt = None,
    backend: BackendOpt = None,
    uri: UriOpt = None,
    collection: CollectionOpt = None,
    model: ModelOpt = None,
    continue_: Annotated[bool, typer.Option("-c", "--continue", help="Continue the last "
                                            "conversation with this index: the question is read "
                                            "in the turns before it.")] = False,
    cid: Annotated[Optional[int], typer.Option("--cid", help="Continue the conversation with "
                                               "this id.", show_default=False)] = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    source: SourceOpt = None,
    article: ArticleOpt = None,
) -> None:
    """Answer QUESTION with the best-matching paragraphs and citations.

    Every question is kept as a turn of a conversation (a new one unless -c or --cid);
    `qa export` writes it out. --since, --until, --source and --article search only the
    articles that pass them (exit code 1 when none does).
    """
    from qa.conversation_keeper import ConversationKeeper, ask_and_keep, continuation
    from qa.conversations import index_key
    from qa.engine import open_engine
    from qa.filtering import NothingMatches, check

    if not question.strip():
        raise UserError("the question is empty")
    where = article_filter(since, until, source, article)
    index_ref, is_default = _index_ref(ctx, index, backend, uri, collection)
    with ConversationKeeper() as conversations:  # its faults cost the record, not the answer
        where_to = continuation(conversations, index_key(index_ref), cid, last=continue_)
        with _Bar() as bar:
            engine = open_engine(index_ref, _model(model), build_default=is_default, progress=bar,
                                 say=_say)
        try:
            check(engine.store, where)
            kept = ask_and_keep(engine, conversations, where_to, question, k=k, where=where)
        except NothingMatches as exc:
            if not as_json:
                raise
            _out_json({"error": str(exc), "filter": exc.where.as_dict()}, indent=2)
            raise typer.Exit(1) from None
        finally:
            engine.close()
    turn, result = kept.turn, kept.turn.answer
    if as_json:
        import json

        from qa.present import to_json

        data = json.loads(to_json(result))
        data.update(conversation_id=turn.conversation_id if kept.saved else None,
                    turn=turn.number if kept.saved else None,
                    read_as=turn.reading.about or None, context=turn.reading.mode,
                    filter=where.as_dict() if where else None)
        _out_json(data, indent=2)
    else:
        from rich.console import Console

        from qa.present import print_answer

        if kept.saved:
            _say(f"conversation {turn.conversation_id}, turn {turn.number}"
                 + (f" - {turn.reading.about}" if turn.reading.about else ""))
        elif turn.reading.about:
            _say(turn.reading.about)
        print_answer(result, Console(highlight=False))
    if kept.notice:
        _err(kept.notice)
    if kept.read_alone:  # answered, but not as asked: the conversation it continues is lost
        raise typer.Exit(1)


@app.command("export")
def export(
    ctx: typer.Context,
    cid: Annotated[Optional[int], typer.Argument(help="Conversation id (default: the last "
                                                 "conversation with the index).",
                                                 show_default=False)] = None,
    fmt: Annotated[str, typer.Option("--format", help="md (Markdown) or json.")] = "md",
    index: IndexOpt = None,
    backend: BackendOpt = None,
    uri: UriOpt = None,
    collection: CollectionOpt = None,
) -> None:
    """Write a conversation's transcript (questions, answer sentences, full citations)."""
    from qa.conversation_keeper import ConversationKeeper
    from qa.conversations import index_key, unreadable_line
    from qa.export import to_json, to_markdown

    fmt = fmt.strip().lower()
    if fmt not in ("md", "json"):
        raise UserError(f"--format must be md or json, got {fmt!r}")
    with ConversationKeeper() as conversations:
        if cid is None:
            index_ref, _ = _index_ref(ctx, index, backend, uri, collection)
            key = index_key(index_ref)
            cid = conversations.run(lambda store: store.last_id(key))
            if cid is None:
                raise UserError(f"no conversation with {index_ref} yet; ask one: qa ask \"...\"")
        conversation, unreadable = conversations.run(lambda store: store.read(cid))
    if fmt == "json":
        from index.safe_text import inert_json

        sys.stdout.write(inert_json(to_json(conversation)) + "\n")
    else:  # to_markdown makes every text it writes inert itself
        sys.stdout.write(to_markdown(conversation) + "\n")
    if unreadable:  # the rest is written; the gap is said, and the exit code tells a script
        _err(unreadable_line(cid, unreadable) + "; left out of the transcript")
        raise typer.Exit(1)


@index_app.command("build")
def index_build(
    ctx: typer.Context,
    paths: Annotated[Optional[list[Path]], typer.Argument(help="Files or folders (default: the bundled seeds).",
                                                          show_default=False)] = None,
    index: IndexOpt = None,
    backend: BackendOpt = None,
    uri: UriOpt = None,
    collection: CollectionOpt = None,
    model: ModelOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Build (or rebuild) the index from PATHS; the old index stays until the new one is done."""
    from index.storage import check_replaceable
    from qa.engine import build

    index_ref, _ = _index_ref(ctx, index, backend, uri, collection)
    check_replaceable(index_ref)  # before loading the model; checked again at the swap
    with _Bar() as bar:
        report = build(paths, index_ref, _model(model), progress=bar, say=_say)
    _report_errors(report.errors)
    if as_json:
        _out_json(report.as_dict())
    else:
        _say(f"Indexed {report.articles} articles, {report.paragraphs} paragraphs into {index_ref} "
             f"in {report.seconds:.1f} s")
    if report.errors:
        raise typer.Exit(1)


def _lock_timeout() -> float | None:
    from qa.engine import lock_timeout

    return lock_timeout()


def _writer_model(index_ref, model: str | None):
    """The model to embed new paragraphs with: the one asked for, else the index's own. One
    asked for by another name than the index's is refused before it is loaded."""
    from index.indexing.lifecycle import index_manifest
    from index.storage.base import ModelMismatchError
    from index.storage.checks import check_model_name
    from qa.engine import load_model

    have = index_manifest(index_ref, _say, _lock_timeout())
    asked = _model(model)
    if asked and have is not None:
        try:
            check_model_name(index_ref, have, asked)
        except ModelMismatchError as exc:
            raise _mismatch(index_ref, exc, asked) from None
    return load_model(asked or (have.model if have is not None else None), _say)


def _mismatch(index_ref, exc: Exception, model: str) -> UserError:
    """The model mismatch as a user error, with the way to re-embed the index for `model`."""
    import shlex

    from index.storage.base import cli_args

    return UserError(f"{exc}\nor re-embed what it holds:  qa index rebuild "
                     f"{cli_args(index_ref)} --model {shlex.quote(model)}")


def _open_writable(index_ref, embedder):
    from index.indexing.lifecycle import open_writable
    from index.storage.base import ModelMismatchError

    try:
        return open_writable(index_ref, embedder, lock_timeout=_lock_timeout(), on_wait=_say)
    except ModelMismatchError as exc:
        raise _mismatch(index_ref, exc, embedder.name) from None


def _open_existing(index_ref, writable: bool = False):
    """The named index; opened read-only when it cannot be written (a read-only mount, a
    full disk), so `verify` still checks all but what needs a write, and a command that
    does write is refused with that reason at its first write, before changing anything."""
    from index.storage import open_store, recover
    from index.storage.base import DiskFullError, IndexReadOnlyError

    recover(index_ref)
    try:
        return open_store(index_ref, writable=writable, lock_timeout=_lock_timeout(),
                          on_upgrade=_say)
    except (IndexReadOnlyError, DiskFullError) as exc:
        if not writable:
            raise
        store = open_store(index_ref, lock_timeout=_lock_timeout(), on_upgrade=_say)
        store.unwritable = exc
        return store


def _finish(report, as_json: bool) -> None:
    _report_errors(report.errors)
    if as_json:
        _out_json(report.as_dict())
    else:
        _say(report.line())
    if report.errors:
        raise typer.Exit(1)


@index_app.command("add")
def index_add(
    ctx: typer.Context,
    paths: Annotated[list[Path], typer.Argument(help="Files or folders (read recursively).",
                                                show_default=False)],
    index: IndexOpt = None,
    backend: BackendOpt = None,
    uri: UriOpt = None,
    collection: CollectionOpt = None,
    model: ModelOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Add articles, or refresh changed ones; unchanged articles embed nothing."""
    from index.indexing.lifecycle import add_paths

    index_ref, _ = _index_ref(ctx, index, backend, uri, collection)
    embedder = _writer_model(index_ref, model)
    with _open_writable(index_ref, embedder) as store, _Bar() as bar:
        report = add_paths(store, embedder, paths, progress=bar, say=_say)
    _finish(report, as_json)


@index_app.command("sync")
def index_sync(
    ctx: typer.Context,
    folder: Annotated[Optional[Path], typer.Argument(
        help="The folder the index should mirror (default: every folder and file the index "
             "follows, as `qa index status` lists them).", show_default=False)] = None,
    index: IndexOpt = None,
    backend: BackendOpt = None,
    uri: UriOpt = None,
    collection: CollectionOpt = None,
    model: ModelOpt = None,
    prune: Annotated[bool, typer.Option("--prune", help="Drop the articles of followed "
                                        "folders or files that are gone, and stop following "
                                        "them (default: keep them and say so).")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Make the index mirror FOLDER (or all it follows): add new files, re-read changed ones,
    drop deleted ones.

    Only articles whose source lies under the folder are dropped; articles added from
    elsewhere stay, and so do those of files that failed to read this time. A followed folder
    that is gone (an unmounted drive) keeps its articles unless --prune is given.
    """
    from index.indexing.lifecycle import sync_folder, sync_recorded

    index_ref, _ = _index_ref(ctx, index, backend, uri, collection)
    if folder is not None and not folder.expanduser().is_dir():
        raise UserError(f"{folder}: not a folder (sync needs the folder the index should mirror)")
    if folder is not None and prune:
        raise UserError("--prune is for a sync of everything the index follows; to drop what a "
                        "folder held: qa index remove FOLDER")
    embedder = _writer_model(index_ref, model)
    with _open_writable(index_ref, embedder) as store, _Bar() as bar:
        if folder is None:
            report = sync_recorded(store, embedder, progress=bar, say=_say, prune=prune)
        else:
            report = sync_folder(store, embedder, folder, progress=bar, say=_say)
    _finish(report, as_json)


class _BarPerBatch:
    """A progress bar that appears when a watch batch starts working and goes before its
    line is printed, so bar and lines never share the terminal."""

    def __init__(self) -> None:
        self.bar: _Bar | None = None

    def __call__(self, stage: str, done: int, total: int) -> None:
        if not sys.stderr.isatty():
            return  # a log file gets the lines, not a bar's leftovers
        if self.bar is None:
            self.bar = _Bar().__enter__()
        self.bar(stage, done, total)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)
            self.bar = None


@index_app.command("watch")
def index_watch(
    ctx: typer.Context,
    folders: Annotated[Optional[list[Path]], typer.Argument(
        help="The folders to keep the index in step with (read recursively; default: the "
             "folders the index follows, as `qa index status` lists them).",
        metavar="[DIR...]", show_default=False)] = None,
    index: IndexOpt = None,
    backend: BackendOpt = None,
    uri: UriOpt = None,
    collection: CollectionOpt = None,
    model: ModelOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object a line per "
                                          "batch.")] = False,
    catch_up: Annotated[bool, typer.Option("--catch-up/--no-catch-up", help="First sync the "
                                           "folders, catching up with changes made while "
                                           "nothing watched them.")] = True,
    settle: Annotated[Optional[float], typer.Option(
        "--settle", min=0.1, max=600, metavar="S", help="Seconds a file must stay unchanged "
        "before it is read, so a file still being written is not read half-way (default: 2).",
        show_default=False)] = None,
) -> None:
    """Keep the index in step with the folders DIR (default: those it follows) while it
    runs, until Ctrl+C.

    New, changed and deleted files are applied within seconds, in batches, as `add` and
    `sync` would apply them (only changed paragraphs are embedded). A folder that disappears
    (an unmounted drive) is reported and nothing is removed for it.
    """
    from index.indexing.watch import watch_folders
    from index.storage.base import MilvusRef

    index_ref, _ = _index_ref(ctx, index, backend, uri, collection)
    for folder in folders or []:  # before loading the model
        if not folder.expanduser().is_dir():
            raise UserError(f"{folder}: not a folder (watch needs the folders to keep the "
                            "index in step with)")
    embedder = _writer_model(index_ref, model)
    bar = _BarPerBatch()

    def started(roots: list[Path]) -> None:
        _say(f"Watching {', '.join(map(str, roots))} for the index at {index_ref}; "
             "Ctrl+C stops.")
        if isinstance(index_ref, MilvusRef) and index_ref.local:
            _say("Milvus Lite allows one process at a time: while this watch runs, qa chat "
                 "and qa ask cannot open this index. To watch and ask at once, use the FAISS "
                 "backend or a Milvus server.")

    def batch(done) -> None:
        bar.close()
        _report_errors(done.report.errors)
        if as_json:
            _out_json(done.as_dict())
        else:
            _out(done.line() + "\n")
        sys.stdout.flush()

    def warn(message: str) -> None:
        bar.close()
        _err(message)

    import signal

    options = {} if settle is None else {"settle": settle}
    # A service manager's stop (SIGTERM) ends the watch as Ctrl+C does: cleanly, exit 0.
    on_term = signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        watch_folders(index_ref, embedder, folders or [], on_batch=batch, on_start=started,
                      say=_say, warn=warn, progress=bar, initial_sync=catch_up,
                      lock_timeout=_lock_timeout(), **options)
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, on_term)
        bar.close()
    _say("Stopped watching; every batch reported above is in the index, and what changed "
         "since is caught up by the next watch or sync.")


@index_app.command("remove")
def index_remove(
    ctx: typer.Context,
    articles: Annotated[list[str], typer.Argument(help="Article ids, source files or folders.",
                                                  show_default=False)],
    index: IndexOpt = None,
    backend: BackendOpt = None,
    uri: UriOpt = None,
    collection: CollectionOpt = None,
    as_json: JsonOpt = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Remove even when that is more than "
                                      "10 articles or every article in the index.")] = False,
) -> None:
    """Remove articles (by id, or every article from a source file or folder) and their vectors.

    More than 10 articles at once, or all of them, are only listed unless --yes is given.
    """
    from index.indexing.lifecycle import RemovalNeedsConfirming, remove

    index_ref, _ = _index_ref(ctx, index, backend, uri, collection)
    with _open_existing(index_ref, writable=True) as store, _Bar() as bar:
        try:
            report = remove(store, articles, say=_say, progress=bar, confirmed=yes)
        except RemovalNeedsConfirming as exc:
            raise UserError(f"{exc}; run again with --yes to remove them") from None
    _finish(report, as_json)


@index_app.command("status")
def index_status(ctx: typer.Context, index: IndexOpt = None, backend: BackendOpt = None,
                 uri: UriOpt = None, collection: CollectionOpt = None,
                 as_json: JsonOpt = False) -> None:
    """Articles, paragraphs, vectors, model, word bridge, size on disk and last change of the
    index."""
    from index.indexing.lifecycle import status

    index_ref, _ = _index_ref(ctx, index, backend, uri, collection)
    with _open_existing(index_ref) as store:
        info = status(store)
    if as_json:
        _out_json(info)
        return
    rows = [("index", info["index"]), ("backend", info["backend"]),
            ("model", f"{info['model']} ({info['dim']} dimensions)"),
            ("articles", str(info["articles"])), ("paragraphs", str(info["paragraphs"])),
            ("vectors", str(info["vectors"])), ("word bridge", _bridge_line(info)),
            ("size", _size(info["size_bytes"])), ("last change", info["updated_at"])]
    for name, value in rows:
        _out(f"{name:<12}{value}\n")
    _out(f"{'follows':<12}{_sources_line(info['sources'])}\n")
    for source in info["sources"]:
        mark = "" if source["exists"] else "  (gone: articles kept; qa index sync --prune drops them)"
        _out(f"  {source['kind']:<8}{source['path']}{mark}\n")


def _bridge_line(info: dict) -> str:
    """How many words the index keeps senses of (qa.bridge), or why it keeps none."""
    from index.models import DEFAULT_MODEL

    senses = info.get("word_senses")
    if senses is None:
        return "not kept by this backend"
    if senses:
        return f"{senses} words"
    if info["model"] != DEFAULT_MODEL:
        return "none (made for the default model only)"
    return "none yet (qa index rebuild makes it)" if info["paragraphs"] else "none yet"


def _sources_line(sources: list[dict]) -> str:
    if not sources:
        return "nothing recorded (qa index sync DIR records a folder)"
    gone = sum(not s["exists"] for s in sources)
    return f"{len(sources)} folder(s) or file(s)" + (f", {gone} gone" if gone else "")


def _size(n: int | None) -> str:
    if n is None:
        return "unknown (kept by the server)"
    for unit in ("bytes", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n} bytes"


@index_app.command("list")
def index_list(ctx: typer.Context, index: IndexOpt = None, backend: BackendOpt = None,
               uri: UriOpt = None, collection: CollectionOpt = None,
               as_json: JsonOpt = False) -> None:
    """Every article: id, title, paragraphs, source."""
    index_ref, _ = _index_ref(ctx, index, backend, uri, collection)
    with _open_existing(index_ref) as store:
        articles = store.articles()
    if as_json:
        _out_json([{"id": a.id, "title": a.title, "paragraphs": a.paragraphs, "source": a.source,
                    "added_at": a.added_at} for a in articles])
        return
    from qa.citations import display_source
    from index.safe_text import one_line

    # Plain columns, never wrapped: one line an article, ids and paths whole for grep and
    # copy-paste. Widths are those of the text as shown (a newline in a name as `\\n`).
    ids = [one_line(a.id) for a in articles]
    width = max([len("id"), *map(len, ids)])
    _out(f"{'id':<{width}}  {'paras':>5}  {'title':<50}  source\n")
    for a, shown_id in zip(articles, ids):
        title = one_line(a.title)
        title = title if len(title) <= 50 else title[:49] + "…"
        _out(f"{shown_id:<{width}}  {a.paragraphs:>5}  {title:<50}  {display_source(a.source)}\n")


@index_app.command("verify")
def index_verify(ctx: typer.Context, index: IndexOpt = None, backend: BackendOpt = None,
                 uri: UriOpt = None, collection: CollectionOpt = None) -> None:
    """Check that SQLite, full-text index and vectors agree; exits 1 with one line per problem."""
    from index.indexing.lifecycle import verify

    index_ref, _ = _index_ref(ctx, index, backend, uri, collection)
    with _open_existing(index_ref, writable=True) as store, _Bar() as bar:
        bar("check", 0, 1)  # reads every vector: seconds on a large index
        problems = verify(store)
        bar("check", 1, 1)
        articles, paragraphs = store.counts()
    for problem in problems:
        _out(f"{problem}\n")
    if problems:
        _err(f"{len(problems)} problem(s) in {index_ref}; rebuild it with: qa index rebuild")
        raise typer.Exit(1)
    _say(f"ok: {articles} articles, {paragraphs} paragraphs; texts, full-text index and "
         "vectors agree")


@index_app.command("rebuild")
def index_rebuild(ctx: typer.Context, index: IndexOpt = None, backend: BackendOpt = None,
                  uri: UriOpt = None, collection: CollectionOpt = None,
                  model: ModelOpt = None, as_json: JsonOpt = False) -> None:
    """Re-embed every stored paragraph, e.g. after a model or passage-recipe change.

    Works from the stored text (the source files are not needed), writes a new index beside
    the old one and swaps it in; the old one stays usable until then.
    """
    from index.indexing.lifecycle import index_model, rebuild
    from qa.engine import load_model

    index_ref, _ = _index_ref(ctx, index, backend, uri, collection)
    name = _model(model) or index_model(index_ref, _say)
    if name is None:
        with _open_existing(index_ref):  # raises the store's own "no index" message
            pass
    embedder = load_model(name, _say)
    with _Bar() as bar:
        report = rebuild(index_ref, embedder, progress=bar, say=_say, lock_timeout=_lock_timeout())
    if as_json:
        _out_json(report.as_dict())
        return
    _say(f"Re-embedded {report.updated} articles, {report.paragraphs_embedded} paragraphs "
         f"({report.vectors_embedded} vectors) with {embedder.name} in {report.seconds:.1f} s")


@app.command()
def chat(
    ctx: typer.Context,
    index: IndexOpt = None,
    backend: BackendOpt = None,
    uri: UriOpt = None,
    collection: CollectionOpt = None,
    model: ModelOpt = None,
    corpus: Annotated[Optional[Path], typer.Option(
        "--corpus", file_okay=False, help="Folder Ctrl+R in the chat re-syncs the index with "
        "(default: the folders and files the index follows, as `qa index status` lists them).",
        show_default=False)] = None,
    resume: Annotated[bool, typer.Option("--resume", help="Reopen the last conversation with "
                                         "this index: its turns are shown and the next question "
                                         "continues it.")] = False,
    since: SinceOpt = None,
    until: UntilOpt = None,
    source: SourceOpt = None,
    article: ArticleOpt = None,
) -> None:
    """Chat with the index in a full-screen terminal app (F1 there lists the keys).

    Questions are read in the conversation so far and every turn is kept (Ctrl+L starts a
    new one, Ctrl+O reopens an earlier one, `qa export` writes one out). --since, --until,
    --source and --article start it filtered; `/filter ...` in the question box changes that."""
    from tui.app import run_chat

    where = article_filter(since, until, source, article)
    index_ref, is_default = _index_ref(ctx, index, backend, uri, collection)
    run_chat(index_ref, _model(model), corpus=corpus.expanduser() if corpus else None,
             build_default=is_default, resume=resume, where=where)


@app.command("eval")
def eval_(
    ctx: typer.Context,
    questions: Annotated[Path, typer.Argument(help="Questions JSONL (id, question, lang, context_id, answers).",
                                              exists=True, dir_okay=False)],
    passages: Annotated[Optional[Path], typer.Option("--passages", help="Passage pool JSONL (pid, "
                                                     "title, text).", exists=True, dir_okay=False,
                                                     show_default=False)] = None,
    k: Annotated[int, typer.Option("-k", min=1, max=100, metavar="N",
                                   help="Ranks kept per question.")] = 10,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    model: ModelOpt = None,
    backend: BackendOpt = None,
    uri: UriOpt = None,
    collection: CollectionOpt = None,
    articles: Annotated[Optional[Path], typer.Option(
        "--articles", help="Conversations only: article pool JSONL (one article a line, with "
        "paragraphs).", exists=True, dir_okay=False, show_default=False)] = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    source: SourceOpt = None,
    article: ArticleOpt = None,
) -> None:
    """Measure retrieval on a question set: R@1/5/10 and MRR@10 per language, answer-sentence
    hit rate, query latency. The pool's index is cached, so a second run embeds nothing; with
    --backend milvus it is copied (not re-embedded) into a collection named after the pool.

    A file of conversations (records with `turns`, over --articles) is asked turn by turn:
    hit rate of the top passage per language and turn, in context, alone and standalone.

    A line that is not a usable question or passage (not JSON, no `question` or `text`, an id
    repeated) stops the run with one error naming FILE:LINE and the reason: no line is
    skipped, since a skipped one would change every figure."""
    from qa.conversation_eval import is_conversation_file
    from qa.engine import load_model
    from qa.evaluate import evaluate, load_questions, pool_index
    from qa.filtering import check
    from qa.index_options import backend_name

    where = article_filter(since, until, source, article)
    if is_conversation_file(questions):
        _eval_conversations(questions, articles, k, as_json, model, where)
        return
    if passages is None:
        raise UserError(f"{questions}: a question set needs --passages POOL.jsonl")
    loaded = load_questions(questions)  # a bad line is reported before any embedding
    with _Bar() as bar:
        store, folder = pool_index(passages, load_model(_model(model), _say), bar)
        if backend_name(backend) != "faiss":
            store, folder = _pool_copy(ctx, store, folder, backend, uri, collection, bar)
        with _pool_engine(store, folder, model) as engine:
            check(engine.store, where)
            result = evaluate(loaded, engine, k=k, progress=bar, where=where)
    if as_json:
        _out_json(result)
        return
    m = result["metrics"]
    print(f"{'lang':6} {'n':>5} {'R@1':>6} {'R@5':>6} {'R@10':>6} {'MRR@10':>7}")
    for lang, row in m["by_lang"].items():
        _out(f"{lang:6} {row['n']:>5} {row['R@1']:>6.3f} {row['R@5']:>6.3f} {row['R@10']:>6.3f} "
             f"{row['MRR@10']:>7.3f}\n")  # lang comes from the question file
    rate = m["answer_sentence_hit_rate"]
    print(f"answer sentence holds a gold answer: "
          f"{'n/a' if rate is None else f'{rate:.3f}'} (of {m['answer_sentence_n']} ranked first)")
    if m.get("confident_when_first") is not None:
        other = m["confident_otherwise"]
        print(f"judged confident: {m['confident_when_first']:.3f} of questions whose answer is "
              f"ranked first, {'n/a' if other is None else f'{other:.3f}'} of the others")
    for lang, sa in m["short_answer"].items():
        if sa["n"]:
            _out(f"short answers ({lang}): given for {sa['coverage']:.3f} of {sa['n']}; among them "
                 + ("none" if not sa["shown"] else
                    f"right (token F1 >= 0.5) {sa['precision']:.3f}, exact match "
                    f"{sa['exact_match']:.3f}, mean F1 {sa['f1']:.3f}") + "\n")
    print(f"latency per question: p50 {m['latency_ms_p50']:.0f} ms, p95 {m['latency_ms_p95']:.0f} ms")


@contextlib.contextmanager
def _pool_engine(store, folder, model: str | None):
    """An engine over an evaluation pool's index whose questions go through the same model
    path as `qa ask` (the ONNX export if any); closed when the block ends."""
    from qa.engine import Engine, load_model

    engine = Engine(store=store, embedder=load_model(_model(model), _say), index_ref=folder)
    try:
        yield engine
    finally:
        engine.close()


def _eval_conversations(conversations: Path, articles: Path | None, k: int, as_json: bool,
                        model: str | None, where=None) -> None:
    from qa.conversation_eval import MODES, article_pool_index, evaluate_conversations, load_conversations
    from qa.engine import load_model
    from qa.filtering import check

    if articles is None:
        raise UserError(f"{conversations}: conversations need --articles POOL.jsonl")
    loaded = load_conversations(conversations)
    with _Bar() as bar:
        store, folder = article_pool_index(articles, load_model(_model(model), _say), bar)
        with _pool_engine(store, folder, model) as engine:
            check(engine.store, where)
            result = evaluate_conversations(loaded, engine, k=k, progress=bar, where=where)
    if as_json:
        _out_json(result)
        return
    m = result["metrics"]
    print(f"top passage answers (hit@1), {len(loaded)} conversations")
    turns = sorted({t for r in result["turns"] for t in [str(r["turn"])]}, key=int) + ["all"]
    print(f"{'mode':11} {'lang':5} " + " ".join(f"{'turn ' + t if t != 'all' else t:>7}" for t in turns))
    for mode in MODES:
        for lang, by_turn in m.get(mode, {}).items():
            cells = " ".join(f"{by_turn[t]['hit@1']:>7.2f}" if t in by_turn else f"{'-':>7}"
                             for t in turns)
            print(f"{mode:11} {lang:5} {cells}")
    judged = m.get("context", {}).get("all", {}).get("all", {})
    if judged.get("confident_when_first") is not None:
        other = judged["confident_otherwise"]
        print(f"judged confident in context: {judged['confident_when_first']:.3f} of turns whose top "
              f"passage answers, " + ("-" if other is None else f"{other:.3f}") + " of the others")
    print("short answers in context, given / right among given (token F1 >= 0.5):")
    for lang, by_turn in m.get("context", {}).items():
        cells = []
        for t in turns:
            sa = by_turn.get(t, {}).get("short_answer") or {}
            cells.append("-" if not sa.get("n") else
                         f"{sa['coverage']:.2f}/" + ("-" if sa["precision"] is None else f"{sa['precision']:.2f}"))
        _out(f"{'context':11} {lang:5} " + " ".join(f"{c:>9}" for c in cells) + "\n")


def _pool_copy(ctx: typer.Context, store, folder: Path,
               backend, uri, collection, bar):
    """The cached pool index, copied once into the backend the options name, in a collection
    named after the pool unless --collection names one ($QA_COLLECTION does not: it names
    the user's own index, not an evaluation copy)."""
    from index.storage import exists, open_store
    from index.indexing.migrate import migrate
    from qa.index_options import from_env, resolve

    env = from_env(ctx)
    named = None if "collection" in env else collection
    target, _ = resolve(None, backend, uri, named or f"eval_{folder.name}", env=env)
    try:
        if not exists(target):
            migrate(store, target, progress=bar)
        manifest = store.manifest
    finally:
        store.close()
    return open_store(target, expect=manifest), target


@index_app.command("migrate")
def index_migrate(
    ctx: typer.Context,
    to: Annotated[str, typer.Option("--to", help="The backend to copy the index to: milvus "
                                    "(from the FAISS folder --index) or faiss (from the Milvus "
                                    "collection at --uri).", show_default=False)],
    index: IndexOpt = None,
    uri: UriOpt = None,
    collection: CollectionOpt = None,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace an index already at "
                                            "the target (only once the copy is complete).")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Copy an index between the FAISS folder and Milvus without re-embedding anything.

    The FAISS side is named by --index, the Milvus side by --uri and --collection; the source
    is left as it was.
    """
    from index.indexing.migrate import migrate

    to = to.strip().lower()
    if to not in ("milvus", "faiss"):
        raise UserError(f"--to must be milvus or faiss, got {to!r}")
    faiss_side, _ = _index_ref(ctx, index, "faiss")
    milvus_side, _ = _index_ref(ctx, None, "milvus", uri, collection)
    source, target = (faiss_side, milvus_side) if to == "milvus" else (milvus_side, faiss_side)
    with _open_existing(source) as store, _Bar() as bar:
        report = migrate(store, target, overwrite=overwrite, progress=bar)
    if as_json:
        import json

        sys.stdout.write(json.dumps(report.as_dict()) + "\n")
    else:
        _say(f"{report.line()}: {source} -> {target}")


def main() -> None:
    from qa.standard_streams import OutputError, install

    install()
    try:
        try:
            app()
        finally:
            sys.stdout.flush()  # what is still buffered fails here, where it is caught
    except OutputError as exc:
        _output_failed(exc)
    except UserError as exc:
        from qa.engine import error_line

        _err(error_line(exc))
        sys.exit(1)
    except KeyboardInterrupt:
        _interrupted()
    except SystemExit as exc:
        if exc.code == 130 and _from_interrupt(exc):  # Typer turns Ctrl+C into a bare exit 130
            _interrupted()
        raise


def _interrupted() -> None:
    _err("interrupted")
    sys.exit(130)


def _from_interrupt(exc: BaseException | None) -> bool:
    while exc is not None:
        if isinstance(exc, KeyboardInterrupt):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def _output_failed(exc: OSError) -> None:
    """stdout cannot be written (`> /dev/full`, `>&-`): one line on stderr where it can go,
    exit 1, and nothing more tried on stdout, so Python adds no "Exception ignored" at exit."""
    from qa.standard_streams import describe, silence_stdout

    silence_stdout()
    with contextlib.suppress(OSError):
        _err(f"cannot write the output: {describe(exc)}")
    sys.exit(1)


if __name__ == "__main__":
    main()
