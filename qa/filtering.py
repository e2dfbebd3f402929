"""What a question may search: the user's dates, outlets and article ids read into an
`ArticleFilter`, the chat's `/filter` command, and the one line said when a filter lets no
article through.

The filtering itself happens in the store (index.storage.base.ArticleFilter), so the
results of a filtered question are the best passages that pass, not the top k filtered down.
Dates are whole days, YYYY-MM-DD; a month (YYYY-MM) or a year (YYYY) stands for its first
day as a lower bound and its last day as an upper one, so `--since 2017-03 --until 2017-03`
is March 2017. Outlets are compared as index.corpus.published.outlet_key normalises them.
"""
from __future__ import annotations

import calendar
import re
from collections.abc import Sequence
from dataclasses import replace
from datetime import date
from typing import TYPE_CHECKING

from index.corpus.published import outlet_key
from index.errors import UserError
from index.storage.base import ArticleFilter

if TYPE_CHECKING:
    from index.storage.base import IndexStore

COMMAND = "/filter"
_OFF = ("off", "clear", "none", "all")
_KEYWORDS = ("since", "until", "source", "article")
_BOUND = re.compile(r"(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?")


class NothingMatches(UserError):
    """A filter that no article passes; `where` is the filter, for a JSON error object."""

    def __init__(self, message: str, where: ArticleFilter) -> None:
        super().__init__(message)
        self.where = where


def date_bound(text: str, *, end: bool, name: str) -> date:
    """A date the user typed (YYYY-MM-DD, YYYY-MM or YYYY) as a bound: the first day of a
    month or year for a lower bound, its last day for an upper one (`end`)."""
    match = _BOUND.fullmatch(text.strip())
    if match is None:
        raise UserError(f"{name} {text!r}: not a date; give YYYY-MM-DD, YYYY-MM or YYYY")
    year = int(match.group(1))
    month = int(match.group(2)) if match.group(2) else (12 if end else 1)
    try:
        last = calendar.monthrange(year, month)[1] if 1 <= month <= 12 else 0
        day = int(match.group(3)) if match.group(3) else (last if end else 1)
        return date(year, month, day)
    except ValueError:
        raise UserError(f"{name} {text!r}: no such date") from None


_NEEDS = ("a date (YYYY-MM-DD, YYYY-MM or YYYY)", "a date (YYYY-MM-DD, YYYY-MM or YYYY)",
          "an outlet name", "an article id (see qa index list)")


def make_filter(since: str | None = None, until: str | None = None,
                sources: Sequence[str] = (), articles: Sequence[str] = (),
                names: tuple[str, str, str, str] = ("--since", "--until", "--source",
                                                    "--article")) -> ArticleFilter | None:
    """The filter the user asked for, None when they asked for none; a one-line UserError for
    a bad date, an outlet with no letters or digits, or bounds that cross. An empty value
    (`--since ""`, often an unset shell variable) is an error for every option alike: taken
    as "no filter" it would search everything while the user meant to narrow it."""
    for name, need, values in zip(names, _NEEDS, ([since], [until], sources, articles)):
        if any(v is not None and not v.strip() for v in values):
            raise UserError(f"{name} is empty: give {need}, or leave {name} out")
    low = date_bound(since, end=False, name=names[0]) if since else None
    high = date_bound(until, end=True, name=names[1]) if until else None
    if low and high and low > high:
        raise UserError(f"{names[0]} {since} is after {names[1]} {until}: no date is in between")
    outlets = []
    for source in sources:
        key = outlet_key(source)
        if not key:
            raise UserError(f"{names[2]} {source!r}: not an outlet name")
        outlets.append(key)
    ids = list(articles)
    where = ArticleFilter(low, high, tuple(dict.fromkeys(outlets)), tuple(dict.fromkeys(ids)))
    return where or None


def is_command(text: str) -> bool:
    return text.strip().split(maxsplit=1)[:1] == [COMMAND]


def parse_command(text: str) -> ArticleFilter | None:
    """The filter a chat command sets: `/filter since 2017-03-01 until 2017-06 source kompas
    source cnn indonesia article ID` (a source or an article runs to the next keyword), or
    None for `/filter off`. The command replaces the whole filter."""
    words = text.split()
    if not words or words[0] != COMMAND:
        raise UserError(f"not a {COMMAND} command")
    words = words[1:]
    if not words:
        raise UserError(f"{COMMAND} needs since, until, source, article or off "
                        f"(e.g. {COMMAND} since 2017-03-01 source kompas)")
    if len(words) == 1 and words[0].casefold() in _OFF:
        return None
    values: dict[str, list[str]] = {k: [] for k in _KEYWORDS}
    i = 0
    while i < len(words):
        keyword = words[i].casefold()
        if keyword not in _KEYWORDS:
            raise UserError(f"{COMMAND}: expected since, until, source, article or off, "
                            f"got {words[i]!r}")
        j = i + 1
        while j < len(words) and words[j].casefold() not in _KEYWORDS:
            j += 1
        value = " ".join(words[i + 1:j])
        if not value:
            raise UserError(f"{COMMAND} {keyword}: needs a value")
        if keyword in ("since", "until") and (values[keyword] or j - i > 2):
            raise UserError(f"{COMMAND} {keyword}: give one date, YYYY-MM-DD, YYYY-MM or YYYY")
        values[keyword].append(value)
        i = j
    return make_filter(values["since"][0] if values["since"] else None,
                       values["until"][0] if values["until"] else None,
                       values["source"], values["article"], names=_KEYWORDS)


def nothing_matches(store: IndexStore, where: ArticleFilter | None) -> str | None:
    """The one line to show when no paragraph passes `where` (None when some do): what was
    asked for and, part by part, why nothing is left."""
    if not where or store.count_matching(where)[1] > 0:
        return None
    reasons = []
    if where.dated:
        span = store.published_span()
        if span is None:
            reasons.append("no article in the index has a known date")
        else:
            reasons.append(f"the index's dated articles run {span[0].isoformat()}.."
                           f"{span[1].isoformat()} (articles without a date pass no "
                           "since/until)")
    if where.outlets and not store.count_matching(ArticleFilter(outlets=where.outlets))[0]:
        reasons.append(f"no article is from {' or '.join(where.outlets)}")
    if where.article_ids and not store.count_matching(
            ArticleFilter(article_ids=where.article_ids))[0]:
        reasons.append("no article has the id " + " or ".join(where.article_ids))
    return "; ".join([f"no article matches {where.describe()}", *reasons])


def check(store: IndexStore, where: ArticleFilter | None) -> None:
    """Raise NothingMatches when no paragraph passes `where`."""
    message = nothing_matches(store, where)
    if message is not None:
        assert where is not None
        raise NothingMatches(message, where)


def admits(store: IndexStore, where: ArticleFilter | None, article_id: str) -> bool:
    """Whether the article `article_id` passes `where` (a conversation's article may not,
    once the filter changed)."""
    if not where:
        return True
    if where.article_ids and article_id not in where.article_ids:
        return False
    return store.count_matching(replace(where, article_ids=(article_id,)))[0] > 0
