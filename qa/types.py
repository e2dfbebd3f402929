"""Records that cross module lines on the answering side (retrieve -> answer -> present)."""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Citation:
    """Where a passage came from, in a form a reader can check by opening the file."""

    title: str
    source: str
    paragraph: int
    line: int
    outlet: str | None = None
    date: str | None = None
    url: str | None = None

    def label(self) -> str:
        """`<title> - para N - <source>:<line>`: the format printed next to each hit."""
        parts = [self.title]
        if self.outlet:
            parts.append(self.outlet)
        if self.date:
            parts.append(self.date)
        parts.append(f"para {self.paragraph}")
        parts.append(self.url or f"{self.source}:{self.line}")
        return " - ".join(parts)


@dataclass(frozen=True)
class Hit:
    """A retrieved paragraph with its fused score and the signals that produced it."""

    paragraph_id: int
    article_id: str
    title: str
    source: str
    paragraph: int
    line: int
    text: str
    score: float
    dense_score: float | None = None
    lexical_score: float | None = None
    metadata: dict[str, str] = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class AnswerPassage:
    """A hit as presented: rank, the sentence that best answers, and its citation."""

    rank: int
    hit: Hit
    answer_sentence: str
    sentence_start: int
    sentence_end: int
    citation: Citation


@dataclass
class Answer:
    question: str
    passages: list[AnswerPassage] = field(default_factory=list)
