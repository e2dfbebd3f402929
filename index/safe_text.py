"""Article text is untrusted: make it inert before any terminal or widget sees it.

Rich and Textual are always handed `Text` objects (never markup strings), and control
characters such as ESC are shown as visible escapes so an article cannot clear the screen,
retitle the terminal, write the clipboard (OSC 52), reorder a line (bidi overrides) or smuggle
in hyperlinks. File names are untrusted in the same way: Linux allows ESC in them.
"""
from __future__ import annotations

import re

# C0 controls but tab and newline, DEL and the C1 controls (U+009B is a one-character CSI in
# many terminals), zero-width and direction marks, bidi embeddings, overrides and isolates.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200b-\u200f\u202a-\u202e\u2066-\u2069]")


def inert(text: str) -> str:
    """Control and bidi-override characters become `\\xNN` / `\\uNNNN`; newlines and tabs stay."""
    def show(match: re.Match[str]) -> str:
        code = ord(match.group())
        return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"

    return _CONTROL.sub(show, text)


def inert_json(dumped: str) -> str:
    """JSON text (from `json.dumps(..., ensure_ascii=False)`) with the characters `inert`
    shows written as `\\uNNNN` escapes: a parser reads exactly the same data, a terminal
    gets nothing to act on. json.dumps already escapes C0 controls inside strings and puts
    only spaces and newlines between them, so every match here lies inside a string."""
    return _CONTROL.sub(lambda m: f"\\u{ord(m.group()):04x}", dumped)
