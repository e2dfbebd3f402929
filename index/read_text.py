"""Plain-text articles: title on the first non-empty line, then paragraphs.

News exports put one paragraph a line, or separate paragraphs with blank lines; both are
read. Lines that link to other stories ("Baca juga: ...") are dropped because they answer
nothing and would pollute retrieval; by-lines such as "Editor: ..." become metadata so a
citation can show them without them competing as passages.
"""
from __future__ import annotations

import hashlib
import re
from pathlib import Path

from index.errors import ReadError
from index.types import Article, Paragraph

# Links to other stories, in the phrasings Indonesian and English outlets use.
_NAVIGATION = re.compile(
    r"^\s*(baca\s+juga|baca|lihat\s+juga|simak\s+juga|simak|tonton\s+juga|klik|"
    r"read\s+also|also\s+read|read\s+more|see\s+also|related|watch)\s*:",
    re.IGNORECASE,
)
# Short "Label: value" lines that describe the article rather than tell it.
_METADATA = re.compile(
    r"^\s*(editor|penulis|reporter|wartawan|sumber|author|by|writer|source|"
    r"tanggal|date|published|diterbitkan|foto|photo|caption|kontributor)\s*:\s*(?P<value>.+?)\s*$",
    re.IGNORECASE,
)
_METADATA_MAX_CHARS = 100


def article_id_for(path: Path) -> str:
    """The file's stem: short, readable and stable across machines for a given file name."""
    return path.stem


def _decode(path: Path, data: bytes) -> str:
    if not data.strip():
        raise ReadError(path, "empty file")
    if b"\x00" in data[:8192]:
        raise ReadError(path, "binary file (contains NUL bytes)")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ReadError(path, f"not valid UTF-8 (bad byte at offset {exc.start})") from None


def _blocks(text: str) -> list[tuple[str, int, int, int]]:
    """Split into (text, line, start, end) blocks.

    One paragraph a line is the common export; when a file uses blank lines between
    paragraphs and wraps lines inside them, the blank-line blocks are the paragraphs.
    """
    lines = text.splitlines(keepends=True)
    offsets = []
    pos = 0
    for line in lines:
        offsets.append(pos)
        pos += len(line)
    wrapped = any(
        lines[i].strip() and lines[i + 1].strip() for i in range(len(lines) - 1)
    ) and any(not line.strip() for line in lines)
    blocks: list[tuple[str, int, int, int]] = []
    if not wrapped:
        for i, line in enumerate(lines):
            body = line.strip()
            if body:
                lead = len(line) - len(line.lstrip())
                start = offsets[i] + lead
                blocks.append((body, i + 1, start, start + len(body)))
        return blocks
    current: list[int] = []
    for i, line in enumerate(lines + ["\n"]):
        if line.strip():
            current.append(i)
            continue
        if current:
            first, last = current[0], current[-1]
            body = " ".join(lines[j].strip() for j in current)
            lead = len(lines[first]) - len(lines[first].lstrip())
            start = offsets[first] + lead
            end = offsets[last] + len(lines[last].rstrip())
            blocks.append((body, first + 1, start, end))
            current = []
    return blocks


def parse_text(path: Path, text: str, article_id: str | None = None) -> Article:
    """Build an Article from decoded text; `path` is only used for naming and errors."""
    blocks = _blocks(text)
    if not blocks:
        raise ReadError(path, "no text")
    aid = article_id or article_id_for(path)
    title = blocks[0][0]
    paragraphs: list[Paragraph] = []
    metadata: dict[str, str] = {}
    seen: set[str] = set()
    for body, line, start, end in blocks:
        if _NAVIGATION.match(body):
            continue
        meta = _METADATA.match(body)
        if meta and len(body) <= _METADATA_MAX_CHARS:
            metadata.setdefault(meta.group(1).strip().lower(), meta.group("value"))
            continue
        key = " ".join(body.split())
        if key in seen:
            continue
        seen.add(key)
        paragraphs.append(
            Paragraph(article_id=aid, number=len(paragraphs) + 1, text=body, line=line,
                      start=start, end=end)
        )
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return Article(id=aid, title=title, source=str(path), paragraphs=paragraphs,
                   metadata=metadata, content_hash=digest)


def read_text_file(path: Path) -> Article:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ReadError(path, "no such file") from None
    except IsADirectoryError:
        raise ReadError(path, "is a directory") from None
    except PermissionError:
        raise ReadError(path, "permission denied") from None
    return parse_text(path, _decode(path, data))
