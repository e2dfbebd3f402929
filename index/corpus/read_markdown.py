"""Markdown articles: blocks become paragraphs, with the Markdown stripped to what a reader
of the rendered page sees.

- Title: front matter `title:`, else the first `# heading`, else the first block.
- Front matter (`---` ... `---` at the very top) is read as simple `key: value` lines:
  `date`, `author`, `source`/`outlet`/`publisher`/`site` (-> `outlet`) and `url`/`link`
  become metadata; other keys are ignored. It is never a paragraph.
- Paragraphs are blank-line blocks; headings (`#` or underlined), each list item, each
  block quote and each fenced code block are paragraphs of their own. Links keep their
  text, images are dropped, emphasis and inline-code markers are removed, code fences keep
  their code (lines joined with newlines), thematic breaks and link definitions are dropped.
- `line` is the line of the file where the block starts and `start`/`end` the offsets of
  the raw Markdown block in the decoded file, so `raw[start:end]` is the source of the
  paragraph's text rather than the text itself.
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
    build_article,
    decode,
    line_offsets,
    read_source_bytes,
)
from index.corpus.types import Article

_FRONT_MATTER_KEYS = {
    "date": "date", "published": "date", "pubdate": "date",
    "author": "author", "authors": "author", "by": "author",
    "source": "outlet", "outlet": "outlet", "publisher": "outlet", "site": "outlet",
    "sitename": "outlet", "url": "url", "link": "url", "canonical": "url",
}
# Every pattern below is linear in its input: a pattern that scans from an opener looking for
# a closer stops at the next opener (a bracket, `<`, ...), so a text of many openers and no
# closer (`[[[[...`, `<a <a <a ...`) costs one pass, not one pass per opener.
_ATX = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+|$)")
_ATX_CLOSE = re.compile(r"(?:^|[ \t])#+$")
_SETEXT = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
_BREAK = re.compile(r"^ {0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*$")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_ITEM = re.compile(r"^( {0,3})([-*+]|\d{1,9}[.)])(?:[ \t]+|$)")
_QUOTE = re.compile(r"^ {0,3}> ?")
_LINK_DEF = re.compile(r"^ {0,3}\[[^\]]+\]:\s*\S+")
_TABLE_RULE = re.compile(r"^\s*+\|?\s*+:?-{2,}:?\s*+(\|\s*+:?-{2,}:?\s*+)*+\|?\s*+$")

_IMAGE = re.compile(r"!\[([^\][]*)\]\([^()]*\)|!\[([^\][]*)\]\[[^\][]*\]")
_LINK = re.compile(r"\[([^\][]+)\]\((?:[^()\s]|\([^()]*\))*(?:\s+\"[^\"]*\")?\)")
_REF_LINK = re.compile(r"\[([^\][]+)\]\[[^\][]*\]")
_AUTOLINK = re.compile(r"<((?:https?|ftp|mailto):[^<>\s]+)>")
_TAG = re.compile(
    r"</?(?:a|abbr|b|big|br|cite|code|del|div|em|font|i|img|ins|kbd|mark|p|q|s|small|span|"
    r"strike|strong|sub|sup|u)\b[^<>]*>", re.IGNORECASE)
_BACKTICKS = re.compile(r"`+")
_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!|>~<\"'])")
# Emphasis as (opener, closer, delimiter length): the text between an opener and the first
# closer after it (at least one character) loses its markers, as a lazy `X(.+?)X` regex
# would strip them, but found with one bisect per opener instead of one scan per opener.
_PAIRS = [
    (re.compile(r"(?=\*\*\S)"), re.compile(r"(?<=\S)(?=\*\*)"), 2),
    (re.compile(r"(?=__\S)"), re.compile(r"(?<=\S)(?=__)"), 2),
    (re.compile(r"(?=~~\S)"), re.compile(r"(?<=\S)(?=~~)"), 2),
    (re.compile(r"(?<![\w*])(?=\*\S)"), re.compile(r"(?<=\S)(?=\*(?![\w*]))"), 1),
    (re.compile(r"(?<![\w_])(?=_\S)"), re.compile(r"(?<=\S)(?=_(?![\w_]))"), 1),
]


def _strip_pairs(text: str, opener: re.Pattern, closer: re.Pattern, size: int) -> str:
    """Remove the markers of each opener ... closer pair, leftmost first, without nesting."""
    closers = [m.start() for m in closer.finditer(text)]
    if not closers:
        return text
    out: list[str] = []
    pos = 0
    for match in opener.finditer(text):
        at = match.start()
        if at < pos:
            continue
        k = bisect.bisect_left(closers, at + size + 1)
        if k == len(closers):
            break  # no closer after this opener, so none after any later one either
        close = closers[k]
        out.append(text[pos:at])
        out.append(text[at + size:close])
        pos = close + size
    out.append(text[pos:])
    return "".join(out)


def _code_spans(text: str, keep) -> str:
    """Replace each code span (a run of N backticks up to the next run of exactly N) by
    `keep(code)`; a run without a closing run of its length stays as it is."""
    runs = [(m.start(), m.end()) for m in _BACKTICKS.finditer(text)]
    later: dict[int, list[int]] = {}  # run length -> indexes of runs of that length
    for index, (a, b) in enumerate(runs):
        later.setdefault(b - a, []).append(index)
    out: list[str] = []
    pos = 0
    index = 0
    while index < len(runs):
        a, b = runs[index]
        if a < pos:
            index += 1
            continue
        same = later[b - a]
        k = bisect.bisect_right(same, index)
        if k == len(same):
            index += 1
            continue
        close = same[k]
        c, d = runs[close]
        code = text[b:c]
        if code.strip():
            out.append(text[pos:a])
            out.append(keep(code))
            pos = d
            index = close + 1
        else:
            index += 1
    out.append(text[pos:])
    return "".join(out)


def inline_text(text: str) -> str:
    """Markdown inline syntax to the text a reader sees."""
    text = " ".join(text.replace("\x00", "").replace("\x01", "").split())  # our markers
    codes: list[str] = []

    def keep_code(code: str) -> str:
        codes.append(code.strip())
        return f"\x00{len(codes) - 1}\x00"

    text = _code_spans(text, keep_code)  # code spans are literal: protect them first
    escaped: list[str] = []

    def keep_escaped(match: re.Match) -> str:
        escaped.append(match.group(1))
        return f"\x01{len(escaped) - 1}\x01"

    text = _ESCAPE.sub(keep_escaped, text)  # "\*" is a literal star, not emphasis
    text = _IMAGE.sub("", text)
    text = _LINK.sub(r"\1", text)
    text = _REF_LINK.sub(r"\1", text)
    text = _AUTOLINK.sub(r"\1", text)
    text = _TAG.sub("", text)
    for opener, closer, size in _PAIRS:
        text = _strip_pairs(text, opener, closer, size)
    text = html.unescape(text)
    text = re.sub("\x01(\\d+)\x01", lambda m: escaped[int(m.group(1))], text)
    text = re.sub("\x00(\\d+)\x00", lambda m: codes[int(m.group(1))], text)
    return " ".join(text.split())


def _unquote(value: str) -> str:
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        value = value[1:-1]
    return value.strip()


def _front_matter(lines: list[str]) -> tuple[int, dict[str, str]]:
    """(number of lines it takes, its simple `key: value` pairs); (0, {}) when absent."""
    if not lines or lines[0].strip() != "---":
        return 0, {}
    for i in range(1, len(lines)):
        if lines[i].strip() in ("---", "..."):
            break
    else:
        return 0, {}  # no closing fence: an opening thematic break, not front matter
    pairs: dict[str, str] = {}
    for line in lines[1:i]:
        match = re.match(r"^([A-Za-z_][\w-]*)\s*:\s*(.*)$", line.rstrip())
        if match and match.group(2).strip() and not match.group(2).strip().startswith(("|", ">", "[", "{")):
            pairs.setdefault(match.group(1).lower(), _unquote(match.group(2)))
        elif match and match.group(2).strip().startswith("["):
            items = [_unquote(x) for x in match.group(2).strip().strip("[]").split(",") if x.strip()]
            if items:
                pairs.setdefault(match.group(1).lower(), ", ".join(items))
    return i + 1, pairs


def _blocks(text: str) -> tuple[list[tuple[Block, int]], dict[str, str]]:
    """((text, line, start, end), heading level or 0) blocks, and the front matter."""
    lines = text.splitlines(keepends=True)
    offsets = line_offsets(lines)
    skip, front = _front_matter(lines)
    out: list[tuple[Block, int]] = []
    current: list[int] = []  # line indexes of the block being gathered
    kind = ""  # "para", "item" or "quote"

    def span(first: int, last: int) -> tuple[int, int]:
        lead = len(lines[first]) - len(lines[first].lstrip())
        return offsets[first] + lead, offsets[last] + len(lines[last].rstrip())

    def flush() -> None:
        nonlocal current, kind
        if current:
            parts = []
            for j in current:
                line = lines[j]
                if kind == "item" and j == current[0]:
                    line = _ITEM.sub("", line, count=1)
                if kind == "quote":
                    line = _QUOTE.sub("", line, count=1)
                if _TABLE_RULE.match(line) and "|" in line:
                    continue
                stripped = line.strip()
                if stripped.startswith("|") or stripped.endswith("|"):
                    cells = [c.strip() for c in stripped.strip("|").split("|")]
                    stripped = " | ".join(c for c in cells if c)
                parts.append(stripped)
            table = all(lines[j].strip().startswith("|") for j in current)
            body = inline_text(("; " if table else " ").join(p for p in parts if p))
            if body:
                start, end = span(current[0], current[-1])
                out.append(((body, current[0] + 1, start, end), 0))
        current, kind = [], ""

    i = skip
    while i < len(lines):
        line = lines[i]
        stripped = line.strip()
        fence = _FENCE.match(line)
        if fence:
            flush()
            marker = fence.group(1)
            j = i + 1
            while j < len(lines) and not lines[j].strip().startswith(marker[0] * len(marker)):
                j += 1
            code = "".join(lines[i + 1:j]).strip("\n").rstrip()
            if code.strip():
                last = min(j, len(lines) - 1)
                start, end = span(i, last)
                out.append(((code, i + 1, start, end), 0))
            i = j + 1
            continue
        if not stripped:
            flush()
            i += 1
            continue
        atx = _ATX.match(line)
        if atx:
            flush()
            # The closing "###" is cut in Python: a regex for it retried the run of trailing
            # spaces at every position of the heading, quadratic in a line of spaces.
            rest = _ATX_CLOSE.sub("", line[atx.end():].strip(" \t\r\n")).strip(" \t")
            body = inline_text(rest)
            if body:
                start, end = span(i, i)
                out.append(((body, i + 1, start, end), len(atx.group(1))))
            i += 1
            continue
        if (current and kind == "para" and _SETEXT.match(line)
                and not (_BREAK.match(line) and line.strip()[0] != "-")):
            # "Title\n=====": the gathered lines are a heading.
            level = 1 if stripped.startswith("=") else 2
            body = inline_text(" ".join(lines[j].strip() for j in current))
            start, _ = span(current[0], current[0])
            end = offsets[i] + len(line.rstrip())
            if body:
                out.append(((body, current[0] + 1, start, end), level))
            current, kind = [], ""
            i += 1
            continue
        if _BREAK.match(line) or _LINK_DEF.match(line):
            flush()
            i += 1
            continue
        if _ITEM.match(line):
            flush()
            current, kind = [i], "item"
            i += 1
            continue
        if _QUOTE.match(line):
            if kind != "quote":
                flush()
                kind = "quote"
            current.append(i)
            i += 1
            continue
        if not current:
            kind = "para"
        current.append(i)
        i += 1
    flush()
    return out, front


def parse_markdown(path: Path, text: str, article_id: str | None = None) -> Article:
    blocks, front = _blocks(text)
    if not blocks:
        raise ReadError(path, "no text")
    metadata: dict[str, str] = {}
    for key, value in front.items():
        target = _FRONT_MATTER_KEYS.get(key)
        if target and value and target not in metadata:
            metadata[target] = value
    if "outlet" in metadata and "://" in metadata["outlet"] and "url" not in metadata:
        metadata["url"] = metadata.pop("outlet")
    h1 = next((b[0] for b, level in blocks if level == 1), None)
    title = front.get("title") or h1 or blocks[0][0][0]
    first = blocks[0][0][0]
    return build_article(path, article_id or article_id_for(path), title,
                         [b for b, _ in blocks], metadata=metadata, content=text,
                         title_block=" ".join(first.split()) == " ".join(title.split()))


def read_markdown_file(path: Path) -> Article:
    return parse_markdown(path, decode(path, read_source_bytes(path)))
