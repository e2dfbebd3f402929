"""The text that is embedded for a paragraph, which need not be the text that is shown.

Kept in one place because every index must embed paragraphs the same way its queries
expect; `RECIPE` is recorded in the index manifest so a change forces a rebuild instead of
mixing two recipes in one index.
"""
from __future__ import annotations

import re

from index.corpus.types import Article, Paragraph

# Overlapping word windows embedded beside the whole paragraph: a question usually targets
# one clause, and a long paragraph's single vector averages that clause away (worst across
# languages). Sizes chosen on the dev sets: benchmarks/windows_dev.py, benchmarks/RESULTS.md.
WINDOW_WORDS = 12
WINDOW_STRIDE = 6
MAX_WINDOWS = 63  # the store keeps at most 64 vectors per paragraph

RECIPE = f"dateline-1/windows-{WINDOW_WORDS}x{WINDOW_STRIDE}"

# "TRIBUNNEWS.COM, SEOUL - ", "JAKARTA, KOMPAS.com -- ", "Jakarta (ANTARA) - ": the outlet and
# city stamp that opens many wire stories. It says nothing about the content and, being
# the same in every story of an outlet, pulls unrelated questions toward lead paragraphs.
_DATELINE = re.compile(
    r"^\s*(?:[A-Z][\w.]*(?:[ ,.]+[A-Z][\w.]*){0,4}\s*(?:\([A-Za-z. ]{2,30}\))?\s*[-–—]{1,2}\s+)"
)


def strip_dateline(text: str) -> str:
    match = _DATELINE.match(text)
    if not match:
        return text
    stamp, rest = match.group(0), text[match.end():]
    # A stamp names a place or an outlet: a comma, a parenthesis or a word in capitals.
    # Without one, "Kim Jong Un - ..." is a sentence, not a stamp.
    looks_like_stamp = "," in stamp or "(" in stamp or re.search(r"\b[A-Z]{3,}", stamp)
    return rest if looks_like_stamp and len(rest) > 40 and rest[:1].isupper() else text


def passage_text(article: Article, paragraph: Paragraph) -> str:
    return strip_dateline(paragraph.text)


def windows(text: str, size: int = WINDOW_WORDS, stride: int = WINDOW_STRIDE) -> list[str]:
    """Overlapping runs of `size` words; none for a text that is already that short. Very
    long paragraphs get evenly spread windows, capped so the store's id space holds them."""
    words = text.split()
    if len(words) <= size:
        return []
    starts = list(range(0, len(words) - size + stride, stride))
    if len(starts) > MAX_WINDOWS:
        step = len(starts) / MAX_WINDOWS
        starts = [starts[int(i * step)] for i in range(MAX_WINDOWS)]
    return [" ".join(words[i:i + size]) for i in starts]


def passage_views(article: Article, paragraph: Paragraph) -> list[str]:
    """What to embed for one paragraph: the whole text first, then its windows."""
    text = passage_text(article, paragraph)
    return [text, *windows(text)]
