"""Plain-text articles: title on the first non-empty line, then paragraphs.

News exports put one paragraph a line, or separate paragraphs with blank lines; both are
read. Lines that link to other stories ("Baca juga: ...") and other junk (see `index.corpus.junk`)
are dropped because they answer nothing and would pollute retrieval; by-lines such as
"Editor: ..." become metadata so a citation can show them without them competing as
passages.

Also the shared ground for the other readers: `read_source_bytes` refuses what cannot be an
article (missing, unreadable, not a regular file, too large) without reading a large file
into memory, `decode` refuses binary data and names its likely type, and `build_article`
applies the paragraph rules (navigation, by-lines, repeats, over-long paragraphs) every
format shares.
"""
from __future__ import annotations

import errno
import hashlib
import os
import re
import stat
from pathlib import Path

from index.errors import ReadError
from index.corpus.junk import junk_kind
from index.corpus.types import Article, Paragraph

MB = 1024 * 1024
# One article file above this is refused before it is read: no news article is this large,
# and reading it whole would only cost memory. JSONL corpora are streamed and not limited.
MAX_FILE_BYTES = 20 * MB
# A paragraph longer than this is split (at sentence ends where possible) so one runaway
# "paragraph" (a file without line breaks, say) cannot become a single huge passage.
# Real news paragraphs stay far below it (IndoSum's longest is about 3,200 characters).
MAX_PARAGRAPH_CHARS = 4000
# Past these an article is refused, with its file named, rather than split: a "paragraph" of
# 100,000 characters with no line break is no prose a citation can point into (every piece
# would cite the same line), and one article is embedded and committed as one unit, so its
# vectors must fit beside everything else an indexing run holds (600 MB). A million
# characters in long paragraphs make about 16,000 vectors, one commit's chunk (see
# index.indexing.chunked); a 19 MB one-line file made 318,784 and took 1.3 GB.
MAX_BLOCK_CHARS = 100_000
MAX_ARTICLE_CHARS = 1_000_000
MAX_TITLE_CHARS = 300
# How much of a file's start is inspected for binary content.
_SNIFF_BYTES = 8192
# Share of control bytes (other than tab, newline, CR, form feed, escape) above which data
# is taken to be binary even without NUL bytes.
_CONTROL_RATIO = 0.10
_CONTROL_BYTES = frozenset(range(0x20)) - {0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x1B}

# File signatures of formats people commonly drop into a corpus folder by mistake.
_MAGIC: list[tuple[bytes, str]] = [
    (b"%PDF-", "PDF"),
    (b"\x89PNG\r\n\x1a\n", "PNG"),
    (b"\xff\xd8\xff", "JPEG"),
    (b"GIF87a", "GIF"),
    (b"GIF89a", "GIF"),
    (b"PK\x03\x04", "ZIP"),
    (b"PK\x05\x06", "ZIP"),
    (b"PK\x07\x08", "ZIP"),
    (b"\x1f\x8b", "gzip"),
    (b"BZh", "bzip2"),
    (b"\xfd7zXZ\x00", "xz"),
    (b"(\xb5/\xfd", "zstd"),
    (b"7z\xbc\xaf\x27\x1c", "7-Zip"),
    (b"Rar!\x1a\x07", "RAR"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "MS Office (OLE)"),
    (b"\x7fELF", "ELF executable"),
    (b"SQLite format 3\x00", "SQLite"),
    (b"{\\rtf", "RTF"),
]

# Short "Label: value" lines that describe the article rather than tell it.
# The value is taken greedily and stripped afterwards: a lazy `.+?` before `\s*$` retries the
# trailing-space run at every position, quadratic in a line of many spaces.
_METADATA = re.compile(
    r"^\s*(editor|penulis|reporter|wartawan|sumber|author|by|writer|source|"
    r"tanggal|date|published|diterbitkan|foto|photo|caption|kontributor)\s*:\s*(?P<value>\S.*)$",
    re.IGNORECASE | re.DOTALL,
)
_METADATA_MAX_CHARS = 100
# Part of every article's content hash. Changed when the reading rules change what an
# unchanged file yields (as the junk rules of index.corpus.junk did), so the next `add` or `sync`
# re-writes such articles (reusing the stored vectors of every paragraph text it already
# has) instead of skipping them as unchanged with their old paragraphs.
READ_RULES = "junk-1"
# Where an over-long paragraph may be cut: after a sentence end (with an optional closing
# quote or bracket) followed by whitespace.
_SENTENCE_END = re.compile(r"[.!?…][\"'”’)\]]*\s+")

# (text, line, start, end): a paragraph candidate with its place in the decoded text.
Block = tuple[str, int, int, int]


def article_id_for(path: Path) -> str:
    """The file's stem: short, readable and stable across machines for a given file name."""
    return path.stem


def _megabytes(size: int) -> str:
    return f"{size / MB:.1f} MB"


def _open_binary(path: Path):
    """Open for reading; a seam so tests can simulate errors root does not get."""
    return open(path, "rb")


def check_source(path: Path) -> os.stat_result:
    """Stat `path` and refuse anything that cannot be read as one file, with the reason."""
    try:
        info = path.stat()
    except FileNotFoundError:
        reason = "broken symlink" if path.is_symlink() else "no such file"
        raise ReadError(path, reason) from None
    except PermissionError:
        raise ReadError(path, "permission denied") from None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise ReadError(path, "symlink loop") from None
        raise ReadError(path, f"cannot read ({exc.strerror or exc})") from None
    if stat.S_ISDIR(info.st_mode):
        raise ReadError(path, "is a directory")
    if not stat.S_ISREG(info.st_mode):
        # FIFOs and devices: reading one could block forever or never end.
        raise ReadError(path, "not a regular file")
    return info


def read_source_bytes(path: Path, limit: int = MAX_FILE_BYTES) -> bytes:
    """The file's bytes, or a ReadError; files above `limit` are refused unread."""
    info = check_source(path)
    if info.st_size > limit:
        raise ReadError(path, f"too large ({_megabytes(info.st_size)} > {limit // MB} MB limit)")
    try:
        with _open_binary(path) as handle:
            data = handle.read(limit + 1)  # never more than the limit, even if the file grew
    except FileNotFoundError:
        raise ReadError(path, "no such file") from None
    except IsADirectoryError:
        raise ReadError(path, "is a directory") from None
    except PermissionError:
        raise ReadError(path, "permission denied") from None
    except OSError as exc:
        raise ReadError(path, f"cannot read ({exc.strerror or exc})") from None
    if len(data) > limit:
        raise ReadError(path, f"too large (> {limit // MB} MB limit)")
    return data


def binary_reason(data: bytes) -> str | None:
    """Why `data` (a file's start) looks binary, or None when it may be text."""
    head = data[:_SNIFF_BYTES]
    for magic, name in _MAGIC:
        if head.startswith(magic):
            if name == "bzip2" and not (head[3:4] in b"123456789" and head[4:10] == b"1AY&SY"):
                continue  # "BZh" alone may start a text; bzip2 follows it with a fixed header
            return f"binary file (looks like {name})"
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return None  # UTF-16 with a byte-order mark: text, decoded below
    if b"\x00" in head:
        return "binary file (contains NUL bytes)"
    if head and sum(1 for b in head if b in _CONTROL_BYTES) / len(head) > _CONTROL_RATIO:
        return "binary file (mostly control characters)"
    return None


def decode(path: Path | str, data: bytes) -> str:
    """UTF-8 (or UTF-16 with a byte-order mark) text, or a ReadError naming the problem."""
    if not data.strip():
        raise ReadError(path, "empty file")
    reason = binary_reason(data)
    if reason:
        raise ReadError(path, reason)
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise ReadError(path, f"not valid UTF-16 (bad byte at offset {exc.start})") from None
    else:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise ReadError(path, f"not valid UTF-8 (bad byte at offset {exc.start})") from None
    if not text.strip():
        raise ReadError(path, "empty file")
    return text


# Kept for callers of the old private name.
_decode = decode


def line_offsets(lines: list[str]) -> list[int]:
    offsets, pos = [], 0
    for line in lines:
        offsets.append(pos)
        pos += len(line)
    return offsets


def _blocks(text: str) -> list[Block]:
    """Split into (text, line, start, end) blocks.

    One paragraph a line is the common export; when a file uses blank lines between
    paragraphs and wraps lines inside them, the blank-line blocks are the paragraphs.
    """
    lines = text.splitlines(keepends=True)
    offsets = line_offsets(lines)
    wrapped = any(
        lines[i].strip() and lines[i + 1].strip() for i in range(len(lines) - 1)
    ) and any(not line.strip() for line in lines)
    blocks: list[Block] = []
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


def _cut_points(text: str, limit: int) -> list[int]:
    """Positions that cut `text` into pieces of at most `limit` characters, preferring
    sentence ends, then whitespace, and cutting mid-word only when there is neither."""
    cuts: list[int] = []
    pos = 0
    while len(text) - pos > limit:
        window_end = pos + limit
        floor = pos + limit // 2
        cut = None
        for match in _SENTENCE_END.finditer(text, floor, window_end + 1):
            if match.end() <= window_end:
                cut = match.end()
        if cut is None:
            space = max(text.rfind(" ", floor, window_end), text.rfind("\n", floor, window_end))
            cut = space + 1 if space > pos else window_end
        cuts.append(cut)
        pos = cut
    return cuts


def _joined(span: str) -> str:
    """How a block's lines become its text: stripped and joined with single spaces."""
    return " ".join(line.strip() for line in span.splitlines() if line.strip())


def split_long(block: Block, raw: str | None = None, limit: int = MAX_PARAGRAPH_CHARS) -> list[Block]:
    """Split one over-long block into pieces of at most about `limit` characters.

    When `raw` (the decoded file) is given and the block's text is its span with the lines
    joined (as plain-text blocks are), each piece gets its own offsets and start line;
    otherwise (the text was rewritten, e.g. Markdown stripped) the pieces share the
    block's line and offsets.
    """
    body, line, start, end = block
    if len(body) <= limit:
        return [block]
    span = raw[start:end] if raw is not None else None
    if span is None or _joined(span) != body:
        cuts = _cut_points(body, limit)
        return [(body[a:b].strip(), line, start, end)
                for a, b in zip([0, *cuts], [*cuts, len(body)]) if body[a:b].strip()]
    pieces: list[Block] = []
    cuts = _cut_points(span, limit)
    counted, p_line = start, line  # line breaks are counted once, piece by piece
    for a, b in zip([0, *cuts], [*cuts, len(span)]):
        piece = span[a:b]
        text = _joined(piece)
        if not text:
            continue
        p_start = start + a + (len(piece) - len(piece.lstrip()))
        p_end = start + a + len(piece.rstrip())
        p_line += len((raw[counted:p_start] + "x").splitlines()) - 1
        counted = p_start
        pieces.append((text, p_line, p_start, p_end))
    return pieces


def short_title(text: str, limit: int = MAX_TITLE_CHARS) -> str:
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text.rfind(" ", 0, limit)
    return text[: cut if cut > limit // 2 else limit].rstrip() + "…"


def build_article(
    path: Path | str,
    article_id: str,
    title: str,
    blocks: list[Block],
    *,
    raw: str | None = None,
    metadata: dict[str, str] | None = None,
    content: str = "",
    source: str | None = None,
    title_block: bool = False,
    where: str | None = None,
) -> Article:
    """Apply the shared paragraph rules to candidate blocks and number what remains.

    Navigation lines are dropped, short by-lines go to metadata (values already in
    `metadata` win), other junk (`index.corpus.junk`: initials, photo credits, share prompts...)
    is dropped, exact repeats are kept once, over-long blocks are split. Dropped lines are
    not counted in the paragraph numbers.

    With `title_block`, the first block is the headline: a reader counts it as paragraph 1,
    but it is not stored as a passage, because it is shown with every hit's citation and, as a
    summary of the whole article, it would match every question about the article without
    answering any. A file holding nothing but a headline keeps it as its only passage.
    """
    blocks_all = blocks
    paragraphs: list[Paragraph] = []
    meta: dict[str, str] = dict(metadata or {})
    seen: set[str] = set()
    where = str(path) if where is None else where
    size = 0
    first_number = 1
    if title_block and blocks:
        seen.add(" ".join(blocks[0][0].split()))
        first_number = 2
        blocks = blocks[1:]
    for block in blocks:
        body = block[0]
        kind = junk_kind(body)
        if kind == "navigation":
            continue
        by_line = _METADATA.match(body) if len(body) <= _METADATA_MAX_CHARS else None
        if by_line:
            meta.setdefault(by_line.group(1).strip().lower(), by_line.group("value").strip())
            continue
        if kind is not None:
            continue  # see index.corpus.junk: not a passage, and not counted, like navigation
        _check_paragraph(path, where, block)  # before the word list below: 19 MB made 160 MB of words
        key = " ".join(body.split())
        if key in seen:
            continue
        seen.add(key)
        size += len(key)
        if size > MAX_ARTICLE_CHARS:
            raise ReadError(where, f"more than {MAX_ARTICLE_CHARS:,} characters of article text, "
                                   "more than qa indexes as one article; split it into several "
                                   "files")
        for text, line, start, end in split_long(block, raw):
            paragraphs.append(
                Paragraph(article_id=article_id, number=len(paragraphs) + first_number, text=text,
                          line=line, start=start, end=end)
            )
    if not paragraphs and title_block:
        return build_article(path, article_id, title, blocks_all, raw=raw, metadata=metadata,
                             content=content, source=source, where=where)
    digest = hashlib.sha256(f"{READ_RULES}\0{content}".encode("utf-8", "surrogatepass")).hexdigest()
    return Article(id=article_id, title=short_title(title), source=source or str(path),
                   paragraphs=paragraphs, metadata=meta, content_hash=digest)


def _check_paragraph(path: Path | str, where: str, block: Block) -> None:
    """Refuse (ReadError) a paragraph whose text, runs of white space counted once, passes
    MAX_BLOCK_CHARS; named by its line (a JSONL line: `where`)."""
    body, line = block[0], block[1]
    if len(body) <= MAX_BLOCK_CHARS:
        return
    # Slice by slice, so a 19 MB paragraph is judged on its first few hundred kilobytes
    # without a list of its millions of words; a run cut by a slice edge counts twice.
    length = 0
    for n, start in enumerate(range(0, len(body), _SLICE)):
        length += len(_SPACE_RUNS.sub(" ", body[start:start + _SLICE]))
        if length > MAX_BLOCK_CHARS + n + 1:
            at = f"{path}:{line}" if str(where) == str(path) else where
            raise ReadError(at, f"a paragraph of {len(body):,} characters with no line break, "
                                f"over the {MAX_BLOCK_CHARS:,} qa reads as one paragraph; break "
                                "it into lines or paragraphs")


_SPACE_RUNS = re.compile(r"\s+")
_SLICE = 1 << 16


def parse_text(path: Path, text: str, article_id: str | None = None) -> Article:
    """Build an Article from decoded text; `path` is only used for naming and errors."""
    blocks = _blocks(text)
    if not blocks:
        raise ReadError(path, "no text")
    aid = article_id or article_id_for(path)
    return build_article(path, aid, blocks[0][0], blocks, raw=text, content=text, title_block=True)


def read_text_file(path: Path) -> Article:
    return parse_text(path, decode(path, read_source_bytes(path)))
