"""HTML news pages: the article text as trafilatura extracts it, without navigation, ads
and footers, with the page's title, date, author, site name and URL.

- Paragraphs are the lines of trafilatura's text output (one per extracted paragraph,
  heading, list item or table row), then the shared rules of `read_text.build_article`.
- `line` is the line of the HTML file where the paragraph's text first appears, found by
  searching the page body for its first six words (tags, entities and spacing in between
  are tolerated), forward from the previous paragraph's place; 1 when it cannot be found.
- `start`/`end` are offsets into the *extracted text* (trafilatura's plain-text output),
  not into the HTML file: extraction normalises spacing and entities, so the HTML rarely
  holds the paragraph verbatim. `line` is the way back into the file.
- A page whose extraction holds no line of at least six words besides the title (only
  menu items or buttons) is "no article text found".
- Metadata: `date`, `author`, `outlet` (the site name) and `url`, each when found.
"""
from __future__ import annotations

import html
import re
from pathlib import Path

from index.errors import ReadError
from index.read_text import (
    Block,
    article_id_for,
    binary_reason,
    build_article,
    read_source_bytes,
)
from index.types import Article

_BODY = re.compile(r"<body\b", re.IGNORECASE)
_WORD = re.compile(r"\w[\w'’.,-]*", re.UNICODE)
# Between two words of a paragraph the HTML may hold spaces, punctuation, tags or entities.
_GAP = r"(?:[^\w<&]|&[#\w]+;|<[^>]*>)+"
_SEARCH_WORDS = 6
# An article has at least one line this many words long besides its title; extractions
# with none (menus, link lists of one or two words) count as "no article text".
_MIN_SENTENCE_WORDS = 6


def _decode_html(path: Path, data: bytes) -> str:
    if not data.strip():
        raise ReadError(path, "empty file")
    reason = binary_reason(data)
    if reason:
        raise ReadError(path, reason)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    # A page in a legacy encoding (declared in its <meta charset>): let trafilatura guess.
    from trafilatura.utils import decode_file

    return decode_file(data)


def _line_finder(raw: str):
    """A function from paragraph text to the 1-based line where it first appears in `raw`,
    searching forward from the previous paragraph's place so repeated phrases map in order."""
    body = _BODY.search(raw)
    floor = body.end() if body else 0
    state = {"pos": floor}
    line_starts = [0] + [m.end() for m in re.finditer(r"\r\n|\r|\n", raw)]

    def line_of(offset: int) -> int:
        lo, hi = 0, len(line_starts) - 1
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if line_starts[mid] <= offset:
                lo = mid
            else:
                hi = mid - 1
        return lo + 1

    def find(text: str) -> int:
        words = _WORD.findall(text)
        # The first words, then the same without the first (it may hold an entity or a
        # quote written differently); forward from the last match, then the earlier body.
        for chosen in (words[:_SEARCH_WORDS], words[1:_SEARCH_WORDS + 1]):
            if len(chosen) < min(2, len(words)) or not chosen:
                continue
            pattern = re.compile(_GAP.join(_html_word(w) for w in chosen), re.IGNORECASE)
            match = pattern.search(raw, state["pos"]) or pattern.search(raw, floor, state["pos"])
            if match:
                state["pos"] = match.start()
                return line_of(match.start())
        return 1

    return find


def _html_word(word: str) -> str:
    """A regex for one word as it may be written in HTML (characters or entities)."""
    parts = []
    for ch in word:
        escaped = html.escape(ch, quote=True)
        options = {re.escape(ch), re.escape(escaped), f"&#{ord(ch)};", f"&#x{ord(ch):x};"}
        parts.append("(?:" + "|".join(sorted(options)) + ")" if len(options) > 1 else re.escape(ch))
    return "".join(parts)


def parse_html(path: Path, raw: str, article_id: str | None = None) -> Article:
    try:
        import trafilatura
    except ImportError as exc:
        raise ReadError(path, f"reading HTML needs trafilatura ({exc})") from None
    try:
        doc = trafilatura.bare_extraction(
            raw, with_metadata=True, include_comments=False, include_tables=True,
            include_images=False, include_links=False, fast=False,
        )
    except Exception as exc:  # noqa: BLE001 - a parser failure is this file's problem only
        raise ReadError(path, f"could not parse HTML ({type(exc).__name__}: {exc})") from None
    text = (getattr(doc, "text", None) or "") if doc is not None else ""
    title = (getattr(doc, "title", None) or "").strip() if doc is not None else ""
    if not any(len(line.split()) >= _MIN_SENTENCE_WORDS and line.strip() != title
               for line in text.splitlines()):
        # Nothing but menu items, buttons or a bare heading: a page without an article.
        raise ReadError(path, "no article text found")
    find_line = _line_finder(raw)
    blocks: list[Block] = []
    pos = 0
    for line in text.splitlines(keepends=True):
        body = line.strip()
        if body:
            start = pos + len(line) - len(line.lstrip())
            blocks.append((body, find_line(body), start, start + len(body)))
        pos += len(line)
    metadata: dict[str, str] = {}
    for key, attr in (("date", "date"), ("author", "author"), ("outlet", "sitename"), ("url", "url")):
        value = getattr(doc, attr, None)
        if isinstance(value, str) and value.strip():
            metadata[key] = " ".join(value.split())
    title = title or blocks[0][0]
    return build_article(path, article_id or article_id_for(path), title, blocks,
                         metadata=metadata, content=raw)


def read_html_file(path: Path) -> Article:
    return parse_html(path, _decode_html(path, read_source_bytes(path)))
