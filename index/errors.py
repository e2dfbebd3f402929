"""Errors a user can cause and fix; the CLI prints them as one line, never a traceback."""
from __future__ import annotations

from pathlib import Path


class UserError(Exception):
    """Anything the user can act on: the message is the whole story."""


class ReadError(UserError):
    """A source that cannot be turned into an article; names the file and the reason."""

    def __init__(self, path: Path | str, reason: str):
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")
