"""Records that cross module lines on the answering side (retrieve -> answer -> present)."""
from __future__ import annotations

from dataclasses import dataclass, field

from index.safe_text import one_line

# The probability (qa.confidence) from which an answer counts as confident. The fitted intercept
# is moved so that this is the operating point benchmarks/honest_dev.py chooses on the
# cross-validated dev figures: the worst set's share of answers kept and of off-topic
# questions flagged at their best together (benchmarks/RESULTS.md).
THRESHOLD = 0.5


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
        """`<title> - para N - <source>:<line>`: the format printed next to each hit, copied
        to the clipboard and written in transcripts. Its parts come from files (a file name
        may hold ESC or a newline), so the label is made one inert line here, once, rather
        than by each of the places that show or copy it; the fields keep the raw values."""
        parts = [self.title]
        if self.outlet:
            parts.append(self.outlet)
        if self.date:
            parts.append(self.date)
        parts.append(f"para {self.paragraph}")
        parts.append(self.url or f"{self.source}:{self.line}")
        return one_line(" - ".join(parts))


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
    # Set by qa.rerank on the hits it read: the search's fused score before the re-ranking,
    # and the paragraph's coverage of the question's words (qa.alignment).
    fused_score: float | None = None
    aligned: float | None = None
    # Set by qa.followup on a question read in its conversation: what that reading added to
    # `score` (the discussed article's bonus, less the penalty of the passage shown last).
    context_bonus: float = 0.0


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


@dataclass(frozen=True)
class ShortAnswer:
    """An answer span shown above the passages (qa.short_answer). `text` is
    `passage.hit.text[start:end]` of the passage ranked `passage_rank` (1-based); `kind` is
    what the question asked for; `probability` the model's estimate that the span answers
    (token F1 >= 0.5 against a reader's answer)."""

    text: str
    passage_rank: int
    start: int
    end: int
    probability: float
    kind: str

    def as_dict(self) -> dict:
        return {"text": self.text, "passage_rank": self.passage_rank, "start": self.start,
                "end": self.end}


@dataclass
class Answer:
    """`confidence` is the calibrated probability that the top passage answers; `calibrated`
    says whether the calibration holds for the index's model (see qa.confidence).
    `no_answer_reason` says in a few words why the answer is judged not confident.
    `bridged`: for a question in another language than the articles, the corpus words each
    of its unknown words was searched as (qa.bridge); empty otherwise."""

    question: str
    passages: list[AnswerPassage] = field(default_factory=list)
    confidence: float | None = None
    calibrated: bool = False
    signals: dict[str, float] = field(default_factory=dict)
    no_answer_reason: str | None = None
    short_answer: ShortAnswer | None = None
    bridged: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def confident(self) -> bool | None:
        """False: nothing found, or the judgement says nothing answers. None: no judgement
        (a model the calibration was not made for): never presented as confident."""
        if not self.passages:
            return False
        if not self.calibrated or self.confidence is None:
            return None
        return self.confidence >= THRESHOLD


@dataclass(frozen=True)
class Reading:
    """How a question was read in its conversation. `mode`: "first" (nothing before it),
    "follow-up" (read with the turns before it; `article_id` is the article it leaned on)
    or "new topic" (self-contained, read on its own). `about` is the few words shown to the
    user ("about: ... (after: ...)"); empty when nothing but the question was used."""

    mode: str = "first"
    about: str = ""
    article_id: str | None = None
    searched: str = ""  # the words given to the word search, when not the question alone


@dataclass
class Turn:
    """One question of a conversation with how it was read and the answer shown."""

    conversation_id: int
    number: int  # 1-based within the conversation
    question: str
    reading: Reading
    answer: Answer
    asked_at: str = ""


@dataclass
class Conversation:
    """A conversation with one index (`index_key` names the index it was held with)."""

    id: int
    index_key: str
    started_at: str
    turns: list[Turn] = field(default_factory=list)
