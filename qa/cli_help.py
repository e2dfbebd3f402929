"""How `qa --help` reads: whole sentences wrapped to the terminal, and flags shown as flags.

Typer's "rich" help keeps every line break of a docstring, so a paragraph wrapped at 100
columns in the source breaks mid-sentence on the screen; its "markdown" mode joins a
paragraph's lines and wraps it to the terminal (and shows `code` as code). Typer also labels
every option with its type, flags too (`--json <bool>`, even `--help <bool>`), as if they took
a value: a flag gets an empty label here. Help only; parsing is Typer's own.
"""
from __future__ import annotations

from typing import Any

import typer
from typer.core import TyperCommand, TyperGroup


def _flags_unlabelled(params: list) -> list:
    for param in params:
        if getattr(param, "is_flag", False) and getattr(param, "metavar", None) is None:
            param.metavar = ""
    return params


class _Command(TyperCommand):
    def get_params(self, ctx):
        return _flags_unlabelled(super().get_params(ctx))


class _Group(TyperGroup):
    def get_params(self, ctx):
        return _flags_unlabelled(super().get_params(ctx))


class HelpfulTyper(typer.Typer):
    """A Typer app whose commands and groups write their help as above."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("cls", _Group)
        kwargs.setdefault("rich_markup_mode", "markdown")
        super().__init__(**kwargs)

    def command(self, *args: Any, cls: type[TyperCommand] | None = None, **kwargs: Any):
        return super().command(*args, cls=cls or _Command, **kwargs)
