"""Article text is untrusted: make it inert before any terminal or widget sees it.

Rich and Textual are always handed `Text` objects (never markup strings), and control
characters such as ESC are shown as visible escapes so an article cannot clear the screen,
retitle the terminal or smuggle in hyperlinks.
"""
from __future__ import annotations

import re

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")


def inert(text: str) -> str:
    """Control and bidi-override characters become `\\xNN` / `\\uNNNN`; newlines and tabs stay."""
    def show(match: re.Match[str]) -> str:
        code = ord(match.group())
        return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"

    return _CONTROL.sub(show, text)
