"""JSON Lines corpora: one article a line, so one bad line costs one article, not the file.

Each line is an object with `text` (a string, split into paragraphs like a .txt body) or
`paragraphs` (a list of strings, or of objects with `text`), and optionally `id`, `title`,
`url`, `source` (the outlet), `date`, `author`, `category`; other keys are ignored. Without
a `title`, the title comes from `url_slug` turned into words, else the first paragraph
(this is how IndoSum's articles load as they are).

- Article id: the `id` field as a string, else `<file stem>:<line>`. `source` is the file.
- Every paragraph's `line` is the JSONL line number; `start`/`end` are the offsets of that
  whole line in the decoded file (a paragraph's place inside the JSON string is not kept).
- A line that is not JSON, not an object, not UTF-8 or without text yields
  `ReadError("<file>:<line>", reason)`; the other lines still yield their articles.
- The file is streamed line by line, so it has no overall size limit; a single line above
  the per-file limit is refused without being held in memory whole.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

from index.corpus import read_text
from index.errors import ReadError
from index.corpus.read_text import (
    MAX_FILE_BYTES,
    MB,
    Block,
    _blocks as text_blocks,
    article_id_for,
    binary_reason,
    build_article,
    check_source,
)
from index.corpus.types import Article

_OUTLET_KEYS = ("source", "outlet", "sitename", "site_name", "publisher")
_CHUNK = 1 << 20


class _Literal(str):
    """A JSON number or constant (`NaN`, `Infinity`) kept as the text written, so an id or
    title of `1e999` stays "1e999" (not "inf") and a 5,000-digit id is not converted at all
    (Python refuses integers past 4,300 digits)."""


def _load(line: str):
    return json.loads(line, parse_int=_Literal, parse_float=_Literal, parse_constant=_Literal)


def _is_text(value) -> bool:
    return isinstance(value, str) and not isinstance(value, _Literal) and bool(value.strip())


def _string(value) -> str | None:
    """A scalar field as text: strings with their spacing tidied, numbers as written; None
    for anything else (booleans, null, lists, objects)."""
    if isinstance(value, _Literal):
        return str(value)
    if isinstance(value, str) and value.strip():
        return " ".join(value.split())
    return None


# What a URL slug carries that is not the headline's words: a query, a fragment, a page
# extension, and a leading numeric article id ("1821380-untuk-kali-keenam").
_SLUG_TAIL = re.compile(r"[?#].*$", re.DOTALL)
_SLUG_EXTENSION = re.compile(r"\.(?:s?html?|php\d?|aspx?|jsp|cfm|cgi)$", re.IGNORECASE)
_SLUG_ID = re.compile(r"^\d+(?:[-_.]+|$)")


def _slug_words(slug: str) -> str:
    """Headline words from a URL slug (or a whole URL: its last path segment), or "" when
    it holds none."""
    slug = _SLUG_TAIL.sub("", slug).rstrip("/")
    slug = slug.rsplit("/", 1)[-1]
    slug = _SLUG_ID.sub("", _SLUG_EXTENSION.sub("", slug))
    words = " ".join(re.sub(r"[-_+.]+", " ", slug).split())
    return words[:1].upper() + words[1:]


def _paragraph_texts(record: dict) -> list[str]:
    paragraphs = record.get("paragraphs")
    if isinstance(paragraphs, list):
        texts = []
        for item in paragraphs:
            if isinstance(item, dict):
                item = item.get("text")
            if _is_text(item):
                texts.append(" ".join(item.split()))
        if texts:
            return texts
    text = record.get("text")
    if _is_text(text):
        return [body for body, *_ in text_blocks(text)]
    return []


def _check_unicode(where: str, name: str, value: str) -> None:
    """Refuse a `\\ud800`-style escape JSON accepts but no UTF-8 store or terminal can hold."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        code = ord(value[exc.start])
        raise ReadError(where, f"not valid Unicode (lone surrogate \\u{code:04x} "
                               f"in '{name}')") from None


def parse_record(path: Path, lineno: int, line: str, start: int) -> Article:
    """One JSONL line (without its line break) that starts at character `start`."""
    where = f"{path}:{lineno}"
    try:
        record = _load(line)
    except json.JSONDecodeError as exc:
        raise ReadError(where, f"not valid JSON ({exc.msg} at column {exc.colno})") from None
    except RecursionError:
        raise ReadError(where, "not usable JSON (nested too deeply)") from None
    except ValueError as exc:
        raise ReadError(where, f"not valid JSON ({exc})") from None
    if not isinstance(record, dict):
        raise ReadError(where, f"not a JSON object (a {type(record).__name__})")
    texts = _paragraph_texts(record)
    if not texts:
        raise ReadError(where, "no text (needs a non-empty 'text' or 'paragraphs')")
    aid = _string(record.get("id")) or f"{article_id_for(path)}:{lineno}"
    slug = _string(record.get("url_slug"))
    title = _string(record.get("title")) or (_slug_words(slug) if slug else "") or texts[0]
    metadata: dict[str, str] = {}
    outlet = next((v for k in _OUTLET_KEYS if (v := _string(record.get(k)))), None)
    for key, value in (("url", _string(record.get("url"))), ("outlet", outlet),
                       ("date", _string(record.get("date"))),
                       ("author", _string(record.get("author"))),
                       ("category", _string(record.get("category")))):
        if value:
            metadata[key] = value
    for name, value in (("id", aid), ("title", title), *metadata.items(),
                        *(("text", t) for t in texts)):
        _check_unicode(where, name, value)
    end = start + len(line)
    blocks: list[Block] = [(text, lineno, start, end) for text in texts]
    article = build_article(path, aid, title, blocks, metadata=metadata, content=line,
                            where=where)
    if not article.paragraphs:
        raise ReadError(where, "no text (only navigation, by-line or other junk paragraphs)")
    return article


def _lines(handle, limit: int):
    """(line bytes or None when too long, length in bytes) for each line of a binary file."""
    while True:
        line = handle.readline(limit + 1)
        if not line:
            return
        if len(line) <= limit or line.endswith(b"\n"):
            yield line, len(line)
            continue
        size = len(line)
        while not line.endswith(b"\n"):  # skip the rest of an over-long line unread
            line = handle.readline(_CHUNK)
            if not line:
                break
            size += len(line)
        yield None, size


def read_jsonl_file(path: Path, line_limit: int = MAX_FILE_BYTES) -> list[Article | ReadError]:
    check_source(path)
    items: list[Article | ReadError] = []
    try:
        handle = read_text._open_binary(path)
    except PermissionError:
        raise ReadError(path, "permission denied") from None
    except OSError as exc:
        raise ReadError(path, f"cannot read ({exc.strerror or exc})") from None
    with handle:
        head = handle.read(8192)
        reason = binary_reason(head)
        if reason:
            raise ReadError(path, reason)
        handle.seek(0)
        offset = 0  # in characters of the decoded file, as for the other formats
        any_line = False
        for lineno, (data, size) in enumerate(_lines(handle, line_limit), start=1):
            where = f"{path}:{lineno}"
            if data is None or data.strip():
                any_line = True
            if data is None:
                items.append(ReadError(where, f"line too long ({size / MB:.1f} MB > "
                                              f"{line_limit // MB} MB limit)"))
                offset += size  # an estimate: the line was not decoded
                continue
            try:
                line = data.decode("utf-8-sig" if lineno == 1 else "utf-8")
            except UnicodeDecodeError as exc:
                items.append(ReadError(where, f"not valid UTF-8 (bad byte at offset {exc.start} of the line)"))
                offset += len(data.decode("utf-8", "replace"))
                continue
            body = line.rstrip("\r\n")
            if body.strip():
                lead = len(body) - len(body.lstrip())
                try:
                    items.append(parse_record(path, lineno, body.strip(), offset + lead))
                except ReadError as exc:
                    items.append(exc)
            offset += len(line)
    if not any_line:
        raise ReadError(path, "empty file")
    return items
