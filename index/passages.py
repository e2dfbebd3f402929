"""The text that is embedded for a paragraph, which need not be the text that is shown.

Kept in one place because every index must embed paragraphs the same way its queries
expect; `RECIPE` is recorded in the index manifest so a change forces a rebuild instead of
mixing two recipes in one index.
"""
from __future__ import annotations

import re

from index.types import Article, Paragraph

RECIPE = "dateline-1"

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
