"""`qa ... --help` reads as prose: every paragraph and every option or command description is
shown whole, wrapped to the terminal (a line ends only where the next word would not fit, never
where the docstring's source line ended), and a flag is not labelled as taking a value
(`--json <bool>`). Checked on the real `qa` process at 80 columns, for every command."""
from __future__ import annotations

import inspect
import os
import re
import subprocess
import sys

import pytest
import typer.core
import typer.main

from qa.cli import app

WIDTH = 80


def _commands(command=None, path=()):
    command = command or typer.main.get_command(app)
    yield path, command
    for name, sub in getattr(command, "commands", {}).items():
        yield from _commands(sub, (*path, name))


COMMANDS = list(_commands())


def _help(path: tuple[str, ...]) -> str:
    env = {**os.environ, "COLUMNS": str(WIDTH), "NO_COLOR": "1", "TERM": "dumb"}
    env.pop("LINES", None)
    proc = subprocess.run([sys.executable, "-m", "qa", *path, "--help"], env=env,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def _words(text: str) -> str:
    """Prose as a reader sees it: one space between words, no Markdown code ticks."""
    return " ".join(text.replace("`", "").split())


def _paragraphs(help_text: str | None) -> list[str]:
    text = inspect.cleandoc(help_text or "").partition("\f")[0]
    return [_words(p) for p in text.split("\n\n") if p.strip()]


def _early_breaks(lines: list[str], width: int) -> list[str]:
    """Lines that end although the next line's first word would have fitted after them."""
    return [f"{a!r} / {b!r}" for a, b in zip(lines, lines[1:])
            if b.strip() and len(a.rstrip()) + 1 + len(b.split()[0]) <= width]


def _cells(out: str, name: str, first_word: str) -> tuple[list[str], int] | None:
    """The lines of the description cell in the panel row of `name` (an option, argument or
    command), which begins with `first_word`, and the cell's width."""
    rows = out.splitlines()
    for i, row in enumerate(rows):
        head = row[1:].split()
        head = head[1:] if head[:1] == ["*"] else head
        if not row.startswith("│") or not head or head[0].removesuffix("...") != name:
            continue
        at = row.find(f" {first_word}", row.find(name) + len(name)) + 1
        if not at:
            return None
        right = row.rindex("│")
        cell = [row[at:right].rstrip()]
        for below in rows[i + 1:]:
            if not below.startswith("│") or below[1:at].strip():
                break
            cell.append(below[at:below.rindex("│")].rstrip())
        return cell, right - at - 1
    return None


def _name(what) -> str:
    if isinstance(what, typer.core.TyperArgument):
        return what.metavar or what.name
    return max(getattr(what, "opts", None) or [what.name], key=len)


@pytest.mark.parametrize("path, command", COMMANDS, ids=[" ".join(p) or "qa" for p, _ in COMMANDS])
def test_help_shows_whole_sentences_and_no_type_on_flags(path, command):
    out = _help(path)
    assert "<bool>" not in out and "…" not in out, out
    # The prose above the panels: each docstring paragraph whole, wrapped at the terminal.
    prose = out.split("╭")[0].splitlines()
    blocks, block = [], []
    for line in prose[prose.index(next(l for l in prose if "Usage:" in l)) + 1:]:
        if line.strip():
            block.append(line[1:])
        elif block:
            blocks.append(block)
            block = []
    blocks += [block] if block else []
    assert [_words(" ".join(b)) for b in blocks] == _paragraphs(command.help), out
    for b in blocks:
        assert not _early_breaks(b, WIDTH - 2), out
    # Every option, argument and subcommand: its description whole, wrapped at its column.
    described = [(p.help, p) for p in command.params if getattr(p, "help", None)]
    described += [(_paragraphs(sub.help)[0], sub)
                  for sub in getattr(command, "commands", {}).values()]
    for text, what in described:
        text = _words(text)
        found = _cells(out, _name(what), text.split()[0])
        assert found, f"{what.name}: {text!r} not found in\n{out}"
        cell, width = found
        prose_lines = [line for line in cell if not line.lstrip().startswith("[")]
        assert _words(" ".join(prose_lines)) == text, f"{what.name}: {cell}"
        assert not _early_breaks(prose_lines, width), f"{what.name}: {cell}"


def test_the_help_of_a_flag_and_of_an_option_with_a_value_differ():
    """Flags stand alone; an option that takes a value says what it takes."""
    out = _help(("ask",))
    json_row = next(line for line in out.splitlines() if "--json" in line)
    assert re.match(r"│ --json +Print one JSON object\.", json_row), json_row
    index_row = next(line for line in out.splitlines() if "--index" in line)
    assert re.match(r"│ --index +DIR +Index folder", index_row), index_row
