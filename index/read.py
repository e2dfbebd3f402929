"""Turn user-given paths into articles, one format reader per file type.

A folder is walked recursively and only files of a known type are read, so a corpus folder
may hold READMEs or images without failing; a file named explicitly must be readable.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

from index.errors import ReadError
from index.read_text import read_text_file
from index.types import Article

READERS: dict[str, Callable[[Path], Article]] = {
    ".txt": read_text_file,
}


def supported(path: Path) -> bool:
    return path.suffix.lower() in READERS


def expand_paths(paths: list[Path]) -> Iterator[Path | ReadError]:
    """Files to read, in a stable order, or an error for a path that cannot be used."""
    for path in paths:
        if path.is_dir():
            for child in sorted(p for p in path.rglob("*") if p.is_file()):
                if supported(child) and not any(part.startswith(".") for part in child.relative_to(path).parts):
                    yield child
        elif path.exists():
            yield path if supported(path) else ReadError(path, f"unsupported file type '{path.suffix or '(none)'}'")
        else:
            yield ReadError(path, "no such file or directory")


def read_article(path: Path) -> Article:
    reader = READERS.get(path.suffix.lower())
    if reader is None:
        raise ReadError(path, f"unsupported file type '{path.suffix or '(none)'}'")
    return reader(path)


def read_paths(paths: list[Path]) -> Iterator[Article | ReadError]:
    for item in expand_paths(paths):
        if isinstance(item, ReadError):
            yield item
            continue
        try:
            yield read_article(item)
        except ReadError as exc:
            yield exc
