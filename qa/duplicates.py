"""Near-duplicate hits: the same wire story in several outlets, a subtitle repeated in every
article of a series. Showing them as separate hits wastes the reader's top five on one text;
collapsing them into one hit that says where else it appears keeps the evidence and the room.

Two paragraphs are near-duplicates when their word trigrams overlap almost entirely
(Jaccard >= `THRESHOLD`), after case-folding and without the dateline that outlets prefix
("JAKARTA, KOMPAS.com - "). Word trigrams rather than embeddings: a reworded paragraph about
the same event is a different source worth showing, and cosine similarity cannot tell the two
apart at e5's compressed scale; shared word sequences can.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from index.corpus.passages import strip_dateline
from qa.types import Hit

THRESHOLD = 0.7
_WORD = re.compile(r"\w+", re.UNICODE)


@dataclass
class Group:
    """A hit and the lower-ranked hits that repeat its text."""

    hit: Hit
    copies: list[Hit] = field(default_factory=list)


def shingles(text: str) -> frozenset[tuple[str, ...]]:
    words = _WORD.findall(strip_dateline(text).casefold())
    if len(words) < 3:
        return frozenset({tuple(words)})
    return frozenset(zip(words, words[1:], words[2:]))


def similarity(a: frozenset, b: frozenset) -> float:
    if not a or not b:
        return 0.0
    return len(a & b) / len(a | b)


def collapse(hits: list[Hit], threshold: float = THRESHOLD) -> list[Group]:
    """Groups in rank order; each hit joins the first higher-ranked group it repeats."""
    groups: list[tuple[Group, frozenset]] = []
    for hit in hits:
        sh = shingles(hit.text)
        for group, lead in groups:
            if similarity(sh, lead) >= threshold:
                group.copies.append(hit)
                break
        else:
            groups.append((Group(hit), sh))
    return [g for g, _ in groups]
