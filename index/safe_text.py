"""Article text is untrusted: make it inert before any terminal, widget or clipboard sees it.

Rich and Textual are always handed `Text` objects (never markup strings), and control
characters such as ESC are shown as visible escapes so an article cannot clear the screen,
retitle the terminal, write the clipboard (OSC 52), reorder a line (bidi overrides) or smuggle
in hyperlinks. File names are untrusted in the same way: Linux allows ESC and newlines in them.

Three strengths, by what the text is:
- `inert`: paragraph text shown as a paragraph; its own newlines and tabs stay.
- `one_line`: a title, id, file name, url, citation: a value that is one line by nature, so a
  line break in it is shown as `\\n`; otherwise a file named "x\\n[9] Fake - para 1 - y.txt"
  prints a line of its choosing, indistinguishable from a real hit.
- `one_paragraph`: paragraph text on one line (a pipe, a clipboard): the line breaks inside a
  paragraph are the file's wrapping, not the story's, so they become spaces.
"""
from __future__ import annotations

import re

# C0 controls but tab and newline, DEL and the C1 controls (U+009B is a one-character CSI in
# many terminals; U+0085 is NEL), zero-width and direction marks, the Unicode line and
# paragraph separators, bidi embeddings, overrides and isolates.
_CONTROL = re.compile(
    r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
# Every character Python (str.splitlines) or a terminal takes as ending a line, and tab.
_BREAKS = r"\t\n\x0b\x0c\r\x1c-\x1e\x85\u2028\u2029"
_FOLD = re.compile(f" *[{_BREAKS}][{_BREAKS} ]*")


def _show(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def inert(text: str) -> str:
    """Control, line-separator and bidi-override characters become `\\xNN` / `\\uNNNN`;
    newlines and tabs stay."""
    return _CONTROL.sub(_show, text)


def one_line(text: str) -> str:
    """`inert`, and newlines and tabs shown as `\\n` and `\\t`: the result never spans, or
    starts, a line of its own."""
    return inert(text).replace("\n", "\\n").replace("\t", "\\t")


def one_paragraph(text: str) -> str:
    """Paragraph text as one line of prose: each run of line breaks and tabs becomes one
    space, then `inert`."""
    return inert(_FOLD.sub(" ", text).strip())


def inert_json(dumped: str) -> str:
    """JSON text (from `json.dumps(..., ensure_ascii=False)`) with the characters `inert`
    shows written as `\\uNNNN` escapes: a parser reads exactly the same data, a terminal
    gets nothing to act on. json.dumps already escapes C0 controls inside strings and puts
    only spaces and newlines between them, so every match here (C1 controls, U+2028 and
    U+2029 among them) lies inside a string."""
    return _CONTROL.sub(lambda m: f"\\u{ord(m.group()):04x}", dumped)
