"""Turn user-given paths into articles, one format reader per file type.

A folder is walked recursively and only files of a known type are read, so a corpus folder
may hold READMEs or images without failing; hidden files and folders (".git", ".DS_Store")
are skipped; symlinked folders are followed once each, so a link loop cannot make the walk
endless. A file named explicitly must be readable and of a known type. A name that is not
valid UTF-8 is reported instead of read (see `_name_error`).

Reader contract: a reader takes a path and returns either one `Article` (most formats: one
file, one article) or a list of `Article | ReadError` (formats holding many articles, such
as JSONL, where one bad line must not lose the others). A reader raises `ReadError` when
the whole file is unusable. `read_paths` flattens all of this into one stream.
"""
from __future__ import annotations

import errno
import os
from collections.abc import Callable, Iterator
from pathlib import Path

from index.errors import ReadError
from index.corpus.read_html import read_html_file
from index.corpus.read_jsonl import read_jsonl_file
from index.corpus.read_markdown import read_markdown_file
from index.corpus.read_text import read_text_file
from index.corpus.types import Article

ReadResult = Article | list[Article | ReadError]
Reader = Callable[[Path], ReadResult]

READERS: dict[str, Reader] = {
    ".txt": read_text_file,
    ".md": read_markdown_file,
    ".markdown": read_markdown_file,
    ".html": read_html_file,
    ".htm": read_html_file,
    ".jsonl": read_jsonl_file,
}


def supported(path: Path) -> bool:
    return path.suffix.lower() in READERS


def _unsupported(path: Path) -> ReadError:
    return ReadError(path, f"unsupported file type '{path.suffix or '(none)'}'")


def _name_error(path: Path) -> ReadError | None:
    """An error for a path whose name is not valid UTF-8, else None.

    Such a name (bytes from another system's encoding) reaches Python with its bad bytes as
    lone surrogates, which SQLite, the terminal and `json` refuse; it is reported, shown with
    the bad bytes as `\\xNN`, rather than carried into the index where it would fail later.
    """
    try:
        str(path).encode("utf-8")
    except UnicodeEncodeError:
        shown = os.fsencode(path).decode("utf-8", "backslashreplace")
        return ReadError(shown, "file name is not valid UTF-8 (rename it)")
    return None


def _missing(path: Path) -> ReadError:
    try:
        os.stat(path)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return ReadError(path, "symlink loop")
        if exc.errno == errno.EACCES:
            return ReadError(path, "permission denied")
    if path.is_symlink():
        return ReadError(path, "broken symlink")
    return ReadError(path, "no such file or directory")


def _walk(root: Path) -> Iterator[Path | ReadError]:
    """Supported files under `root`, sorted; errors for folders that cannot be listed.

    Hidden entries are pruned (not walked), symlinked folders are entered at most once
    (by device and inode), and files of unknown types are skipped silently.
    """
    found: list[Path] = []
    errors: list[ReadError] = []
    visited: set[tuple[int, int]] = set()
    pending = [root]
    while pending:
        folder = pending.pop()
        try:
            info = folder.stat()
        except OSError:
            continue
        key = (info.st_dev, info.st_ino)
        if key in visited:
            continue  # reached again through a symlink: a loop or a second link
        visited.add(key)
        try:
            with os.scandir(folder) as entries:
                children = list(entries)
        except PermissionError:
            errors.append(ReadError(folder, "permission denied"))
            continue
        except OSError as exc:
            errors.append(ReadError(folder, f"cannot list folder ({exc.strerror or exc})"))
            continue
        for entry in children:
            if entry.name.startswith("."):
                continue
            path = Path(entry.path)
            try:
                is_dir = entry.is_dir()  # follows symlinks; loops are caught by `visited`
            except OSError:
                is_dir = False
            if (is_dir or supported(path)) and (bad_name := _name_error(path)) is not None:
                errors.append(bad_name)  # neither read nor walked: see `_name_error`
            elif is_dir:
                pending.append(path)
            elif supported(path):
                # Regular files, and links that may be broken or loop: the reader says which.
                found.append(path)
    yield from sorted(errors, key=lambda e: e.path)
    yield from sorted(found)


def expand_paths(paths: list[Path]) -> Iterator[Path | ReadError]:
    """Files to read, in a stable order, or an error for a path that cannot be used."""
    for path in paths:
        bad_name = _name_error(path)
        if bad_name is not None:
            yield bad_name
        elif path.is_dir():
            yield from _walk(path)
        elif path.exists():
            yield path if supported(path) else _unsupported(path)
        else:
            yield _missing(path)


def read_file(path: Path) -> list[Article | ReadError]:
    """Everything one file yields: its articles, and errors for what could not be read."""
    reader = READERS.get(path.suffix.lower())
    if reader is None:
        return [_unsupported(path)]
    try:
        result = reader(path)
    except ReadError as exc:
        return [exc]
    return result if isinstance(result, list) else [result]


def read_article(path: Path) -> Article:
    """The one article a single-article file holds; raises ReadError otherwise."""
    items = read_file(path)
    for item in items:
        if isinstance(item, ReadError):
            raise item
    if len(items) != 1:
        raise ReadError(path, f"holds {len(items)} articles, not one")
    return items[0]


def read_paths(paths: list[Path]) -> Iterator[Article | ReadError]:
    for item in expand_paths(paths):
        if isinstance(item, ReadError):
            yield item
        else:
            yield from read_file(item)
