"""Records that cross module lines on the indexing side.

Kept free of heavy imports so the CLI can name them without loading numpy or torch.
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Paragraph:
    """One unit of retrieval, with enough location data for a checkable citation.

    `number` counts paragraphs as a reader sees them (navigation and metadata lines are
    not counted); `line` is the 1-based line of the source file where the paragraph
    starts; `start`/`end` are character offsets into the decoded file text.
    """

    article_id: str
    number: int
    text: str
    line: int
    start: int
    end: int


@dataclass
class Article:
    """A whole article as read from one source.

    `source` is the path (or URL) the reader was given; `metadata` holds lines such as
    `Editor: ...` that describe the article but are not part of its text.
    """

    id: str
    title: str
    source: str
    paragraphs: list[Paragraph]
    metadata: dict[str, str] = field(default_factory=dict)
    content_hash: str = ""
