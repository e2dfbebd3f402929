"""Every piece of untrusted text (articles, titles, questions, paths) enters the UI here.

Text is made inert (control characters shown as `\\xNN`) and wrapped in a `Content` object,
which Textual never parses as markup, so `[bold]`, `[link=...]` or an ESC in an article are
shown exactly as written. A title, id or file name is one line by nature (`safe_line`): a
newline in it is shown as `\\n`, never as a line of its own.
"""
from __future__ import annotations

import os
from pathlib import Path

from textual.content import Content

from index.safe_text import inert, one_line


def safe(text: str, style: str = "") -> Content:
    """Untrusted text as literal, optionally styled, content."""
    content = Content(inert(text), strip_control_codes=False)
    return content.stylize(style) if style else content


def safe_line(text: str, style: str = "") -> Content:
    """A single-line value from a file (title, id, source, url) as literal content on one line."""
    return safe(one_line(text), style)


def join(*parts: Content | tuple[str, str] | str) -> Content:
    """Concatenate pieces; plain strings are treated as untrusted text too."""
    out = Content("")
    for part in parts:
        if isinstance(part, Content):
            out = out + part
        elif isinstance(part, tuple):
            out = out + safe(*part)
        else:
            out = out + safe(part)
    return out


def display_path(path: Path) -> str:
    """A path as short as it can be while still opening from here: relative to the working
    directory when inside it, `~/...` under the home folder, else absolute."""
    path = Path(path).expanduser()
    try:
        resolved = path.resolve()
    except OSError:
        resolved = path.absolute()
    cwd = Path.cwd()
    try:
        rel = resolved.relative_to(cwd)
        return str(rel) if str(rel) != "." else "."
    except ValueError:
        pass
    home = Path(os.path.expanduser("~"))
    try:
        return str(Path("~") / resolved.relative_to(home))
    except ValueError:
        return str(resolved)


def plural(n: int, word: str, many: str | None = None) -> str:
    return f"{n} {word if n == 1 else (many or word + 's')}"
