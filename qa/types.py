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
    also_in: tuple[Citation, ...] = ()  # near-duplicates of this passage elsewhere


@dataclass
class Answer:
    """`confidence` is the calibrated probability that the top passage answers; `calibrated`
    says whether the calibration holds for this model and question (only then may a low value
    hide anything; see qa.confidence)."""

    question: str
    passages: list[AnswerPassage] = field(default_factory=list)
    confidence: float | None = None
    calibrated: bool = False
    signals: dict[str, float] = field(default_factory=dict)

    @property
    def confident(self) -> bool:
        from qa.confidence import THRESHOLD

        if not self.passages:
            return False
        return not self.calibrated or self.confidence is None or self.confidence >= THRESHOLD
