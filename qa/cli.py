"""The `qa` command: a thin shell over the library (engine, answer, present).

Heavy modules (numpy, faiss, torch, sentence-transformers) are imported inside commands so
`qa --help` stays instant.
"""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from index.errors import UserError

app = typer.Typer(
    help="Ask questions about a folder of news articles (Indonesian, English, mixed).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
index_app = typer.Typer(help="Build and inspect the index.", no_args_is_help=True)
app.add_typer(index_app, name="index")

IndexOpt = Annotated[
    Optional[Path],
    typer.Option("--index", help="Index folder (default: $QA_INDEX or the user data dir).",
                 show_default=False),
]
ModelOpt = Annotated[
    Optional[str],
    typer.Option("--model", help="sentence-transformers model name or folder "
                 "(default: $QA_MODEL, else the index's own model; new indexes: multilingual-e5-small).",
                 show_default=False),
]


def _err(message: str) -> None:
    from rich.console import Console
    from rich.text import Text

    Console(stderr=True).print(Text(f"qa: {message}"), style="red", soft_wrap=True)


def _say(message: str) -> None:
    from rich.console import Console
    from rich.text import Text

    Console(stderr=True).print(Text(message), style="dim", soft_wrap=True)


def _model(model: str | None) -> str | None:
    import os

    return model or os.environ.get("QA_MODEL") or None


def _index_dir(index: Path | None) -> tuple[Path, bool]:
    """The folder, and whether it is the default one (only that one is built on demand)."""
    import os

    from qa import paths

    if index is not None:
        return index.expanduser(), False
    return paths.default_index_dir(), not os.environ.get("QA_INDEX")


class _Bar:
    """rich progress bar for the library's (stage, done, total) callbacks."""

    LABELS = {"read": "Reading articles", "embed": "Embedding paragraphs"}

    def __init__(self) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        self.progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                 TimeRemainingColumn(), console=Console(stderr=True), transient=True)
        self.tasks: dict[str, int] = {}

    def __enter__(self) -> _Bar:
        self.progress.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        self.progress.__exit__(*exc)

    def __call__(self, stage: str, done: int, total: int) -> None:
        if stage not in self.tasks:
            self.tasks[stage] = self.progress.add_task(self.LABELS.get(stage, stage), total=total or None)
        self.progress.update(self.tasks[stage], completed=done, total=total or None)


def _report_errors(errors) -> None:
    for error in errors:
        _err(str(error))


@app.command()
def ask(
    question: Annotated[str, typer.Argument(help="The question, in English or Indonesian.")],
    k: Annotated[int, typer.Option("-k", "--top", min=1, max=100, help="How many passages.")] = 5,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    index: IndexOpt = None,
    model: ModelOpt = None,
) -> None:
    """Answer QUESTION with the best-matching paragraphs and citations."""
    from qa.answer import answer
    from qa.engine import open_engine

    if not question.strip():
        raise UserError("the question is empty")
    index_dir, is_default = _index_dir(index)
    with _Bar() as bar:
        engine = open_engine(index_dir, _model(model), build_default=is_default, progress=bar, say=_say)
    try:
        result = answer(engine, question, k=k)
    finally:
        engine.close()
    if as_json:
        from qa.present import to_json

        sys.stdout.write(to_json(result) + "\n")
    else:
        from rich.console import Console

        from qa.present import print_answer

        print_answer(result, Console(highlight=False))


@index_app.command("build")
def index_build(
    paths: Annotated[Optional[list[Path]], typer.Argument(help="Files or folders (default: the bundled seeds).",
                                                          show_default=False)] = None,
    index: IndexOpt = None,
    model: ModelOpt = None,
) -> None:
    """Build (or rebuild) the index from PATHS; the old index stays until the new one is done."""
    from qa.engine import build

    index_dir, _ = _index_dir(index)
    with _Bar() as bar:
        report = build(paths, index_dir, _model(model), progress=bar, say=_say)
    _report_errors(report.errors)
    _say(f"Indexed {report.articles} articles, {report.paragraphs} paragraphs into {index_dir} "
         f"in {report.seconds:.1f} s")
    if report.errors:
        raise typer.Exit(1)




@app.command()
def chat(
    index: IndexOpt = None,
    model: ModelOpt = None,
    corpus: Annotated[Optional[Path], typer.Option(
        "--corpus", file_okay=False, help="Folder of articles the index is built from; Ctrl+R in "
        "the chat rebuilds the index from it (default: the bundled seeds, if that is what it holds).",
        show_default=False)] = None,
) -> None:
    """Chat with the index in a full-screen terminal app (F1 there lists the keys)."""
    from tui.app import run_chat

    index_dir, is_default = _index_dir(index)
    run_chat(index_dir, _model(model), corpus=corpus.expanduser() if corpus else None,
             build_default=is_default)


def main() -> None:
    try:
        app()
    except UserError as exc:
        _err(str(exc))
        sys.exit(1)
    except KeyboardInterrupt:
        _err("interrupted")
        sys.exit(130)


if __name__ == "__main__":
    main()
