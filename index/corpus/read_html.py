"""HTML news pages: the article text as trafilatura extracts it, without navigation, ads
and footers, with the page's title, date, author, site name and URL.

- Paragraphs are the lines of trafilatura's text output (one per extracted paragraph,
  heading, list item or table row), then the shared rules of `read_text.build_article`.
- `line` is the line of the HTML file where the paragraph's text first appears, found by
  looking its first six words up among the words of the page body (tags dropped, entities
  such as `&eacute;` decoded, case ignored), forward from the previous paragraph's place;
  1 when it cannot be found.
- `start`/`end` are offsets into the *extracted text* (trafilatura's plain-text output),
  not into the HTML file: extraction normalises spacing and entities, so the HTML rarely
  holds the paragraph verbatim. `line` is the way back into the file.
- A page whose extraction holds no line of at least six words besides the title (only
  menu items or buttons) is "no article text found".
- Metadata: `date`, `author`, `outlet` (the site name) and `url`, each when found.
"""
from __future__ import annotations

import bisect
import html
import re
from pathlib import Path

from index.errors import ReadError
from index.corpus.read_text import (
    Block,
    article_id_for,
    binary_reason,
    build_article,
    read_source_bytes,
)
from index.corpus.types import Article

_BODY = re.compile(r"<body\b", re.IGNORECASE)
_WORD = re.compile(r"\w[\w'’.,-]*", re.UNICODE)
# One pass over a page: a tag (stopping at the next "<", so "<<<<" cannot make it rescan),
# an entity, a run of plain text, or a lone "<" or "&".
_MARKUP = re.compile(r"<[^<>]*>|&(?:#[0-9]+|#[xX][0-9a-fA-F]+|[A-Za-z][A-Za-z0-9]*);?|[^<&]+|[<&]")
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


def _page_words(raw: str, floor: int) -> tuple[list[str], list[int]]:
    """The words a browser shows from `raw[floor:]` (tags dropped, entities decoded,
    casefolded) and the offset in `raw` where each starts, in one pass over the page."""
    chars: list[str] = []
    where: list[int] = []
    for match in _MARKUP.finditer(raw, floor):
        piece = match.group()
        if piece[0] == "<" and len(piece) > 1:
            chars.append(" ")  # a tag separates words
            where.append(match.start())
        elif piece[0] == "&" and len(piece) > 1:
            shown = html.unescape(piece)
            chars.append(shown)
            where.extend([match.start()] * len(shown))
        else:
            chars.append(piece)
            where.extend(range(match.start(), match.end()))
    text = "".join(chars)
    words, starts = [], []
    for match in _WORD.finditer(text):
        words.append(match.group().casefold())
        starts.append(where[match.start()])
    return words, starts


def _line_finder(raw: str):
    """A function from paragraph text to the 1-based line where it first appears in `raw`,
    searching forward from the previous paragraph's place so repeated phrases map in order.

    The page's words are listed once and indexed by their runs of up to six words, so each
    paragraph costs a dictionary look-up rather than a regex search of the whole page (which
    made long pages quadratic, and missed words written as named entities like `&eacute;`).
    """
    body = _BODY.search(raw)
    floor = body.end() if body else 0
    page, starts = _page_words(raw, floor)
    line_starts = [0] + [m.end() for m in re.finditer(r"\r\n|\r|\n", raw)]
    runs: dict[int, dict[tuple[str, ...], list[int]]] = {}
    state = {"pos": 0}  # index into `page` of the previous paragraph's first word

    def places(key: tuple[str, ...]) -> list[int]:
        size = len(key)
        table = runs.get(size)
        if table is None:  # built once per run length (at most six), on first need
            table = runs[size] = {}
            for i in range(len(page) - size + 1):
                table.setdefault(tuple(page[i:i + size]), []).append(i)
        return table.get(key, [])

    def find(text: str) -> int:
        words = [w.casefold() for w in _WORD.findall(text)]
        # The first words, then the same without the first (it may hold a quote written
        # differently); forward from the last match, else the first place in the body.
        for chosen in (words[:_SEARCH_WORDS], words[1:_SEARCH_WORDS + 1]):
            if len(chosen) < min(2, len(words)) or not chosen:
                continue
            found = places(tuple(chosen))
            if not found:
                continue
            k = bisect.bisect_left(found, state["pos"])
            at = found[k] if k < len(found) else found[0]
            state["pos"] = at
            return bisect.bisect_right(line_starts, starts[at])
        return 1

    return find


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
