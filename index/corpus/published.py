"""When and by whom an article was published, normalised so that filters can compare them:
the date as a `datetime.date`, the outlet as a key that "KOMPAS.com", "kompas.com",
"www.kompas.com" and "Kompas" all share.

The date is taken, in this order, from the article's own metadata (a `date`, `tanggal`,
`published` or `diterbitkan` field or by-line), from its URL's path (`/2017/04/03/`,
`/20170403...`), or from a dateline opening its first paragraphs ("JAKARTA, Senin
(3/4/2017) -", "Jakarta, 3 April 2017 —"). Numeric dates are read day first, as Indonesian
news writes them. Nothing is ever guessed: a date without a year ("Senin (27/3)"), a
weekday alone, an id or a file name gives no date, and an article without one passes no
date bound of a filter.

Written by hand rather than with dateparser or dateutil, measured (benchmarks/RESULTS.md,
"Issue 18: filters"): dateparser 1.5 takes 0.13-0.2 s to import and as long again for its
first parse, then 1.7 ms a date, and guesses: "Senin" is read as last Monday, "kemarin" as
yesterday, "Senin (27/3)" as 27 March of this year; dateutil knows no Indonesian month
names and fills a missing year from today. What is needed is two dozen month names and four
patterns (8 microseconds a date), each checked by tests/test_filters.py.

Computed when an article is stored (both backends call `provenance`), and for an index
written before this existed, by its upgrade, from what it stored: the same metadata and
first paragraphs, so the answer is the same either way.
"""
from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from urllib.parse import urlsplit

# Metadata keys holding a publication date, most specific first: `date` is what the JSONL,
# HTML and Markdown readers fill; the others are by-lines a text file may carry.
DATE_KEYS = ("date", "published", "tanggal", "diterbitkan")
OUTLET_KEYS = ("outlet", "site")
DATELINE_PARAGRAPHS = 2  # a dateline may stand alone as the first paragraph

_MONTHS = {
    "january": 1, "januari": 1, "jan": 1,
    "february": 2, "februari": 2, "pebruari": 2, "feb": 2, "peb": 2,
    "march": 3, "maret": 3, "mar": 3,
    "april": 4, "apr": 4,
    "may": 5, "mei": 5,
    "june": 6, "juni": 6, "jun": 6,
    "july": 7, "juli": 7, "jul": 7,
    "august": 8, "agustus": 8, "aug": 8, "agu": 8, "agt": 8, "ags": 8,
    "september": 9, "sept": 9, "sep": 9,
    "october": 10, "oktober": 10, "oct": 10, "okt": 10,
    "november": 11, "nopember": 11, "nov": 11, "nop": 11,
    "december": 12, "desember": 12, "dec": 12, "des": 12,
}
_MONTH = "(?P<month_name>" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?"
_WEEKDAY = (r"(?:senin|selasa|rabu|kamis|jumat|jum'at|sabtu|minggu|ahad|monday|tuesday|"
            r"wednesday|thursday|friday|saturday|sunday|mon|tue|wed|thu|fri|sat|sun)\.?")
_YEAR = r"(?P<year>(?:19|20)\d\d)"

# Each pattern names year, month (or month_name) and day; the earliest match in a text wins.
_PATTERNS = [
    # 2017-04-03, 2017/04/03, 2017-04-03T10:00:00+07:00
    re.compile(rf"(?<!\d){_YEAR}[-/.](?P<month>\d{{1,2}})[-/.](?P<day>\d{{1,2}})(?!\d)"),
    # 03/04/2017, 3-4-2017, 3.4.2017: day first
    re.compile(rf"(?<!\d)(?P<day>\d{{1,2}})[-/.](?P<month>\d{{1,2}})[-/.]{_YEAR}(?!\d)"),
    # 3 April 2017, 03 Apr. 2017, 3-Apr-2017
    re.compile(rf"(?<!\d)(?P<day>\d{{1,2}})(?:\s+|\s*-\s*){_MONTH}(?:,?\s+|\s*-\s*){_YEAR}(?!\d)",
               re.IGNORECASE),
    # April 3, 2017 / April 3rd 2017
    re.compile(rf"\b{_MONTH}\s+(?P<day>\d{{1,2}})(?:st|nd|rd|th)?,?\s+{_YEAR}(?!\d)",
               re.IGNORECASE),
]

# In a URL's path: /2017/04/03/, /2017-04-03-, and a run of 8, 12 or 14 digits that starts
# with a date (/20170403/, CNN Indonesia's /20170903205418-277-.../).
_URL_PATTERNS = [
    re.compile(rf"/{_YEAR}/(?P<month>\d{{1,2}})/(?P<day>\d{{1,2}})(?=/|$)"),
    re.compile(rf"(?<![^/_-]){_YEAR}-(?P<month>\d\d)-(?P<day>\d\d)(?![0-9])"),
    re.compile(rf"(?<![^/_-]){_YEAR}(?P<month>\d\d)(?P<day>\d\d)(?:\d{{4}}|\d{{6}})?(?![0-9])"),
]

# "JAKARTA, Senin (3/4/2017) -", "Jakarta, 3 April 2017 —", "BANDUNG, KOMPAS.com, Senin,
# 3 April 2017 -": a place, an optional outlet, an optional weekday, the date, then a dash
# (or nothing more: a dateline standing as its own paragraph).
_DATELINE = re.compile(
    r"^\s*[^\W\d_][^\d,()\-–—]{0,40}?\s*[,\-–—]\s*"
    r"(?:[^\W\d_][\w.]{1,30}\s*,\s*)?"
    rf"(?:{_WEEKDAY}\s*,?\s*)?"
    r"\(?\s*(?P<date>[^()\-–—]{6,30}?|\d{1,2}[/.-]\d{1,2}[/.-]\d{4})\s*\)?"
    r"\s*(?:[-–—]|\(|$)",
    re.IGNORECASE,
)

_DOMAIN = re.compile(r"[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,}")
_HOST_PREFIXES = ("www", "m", "amp", "mobile")
# Second-level labels that are part of a country's suffix (kompas.co.id, bbc.co.uk).
_SECOND_LEVEL = {"co", "com", "or", "go", "ac", "net", "org", "web", "sch", "my", "biz", "gov"}
_NOT_WORD = re.compile(r"[\W_]+")


@dataclass(frozen=True)
class Provenance:
    """An article's publication date (None: unknown) and outlet key ("" unknown)."""

    published: date | None
    outlet: str


def provenance(metadata: Mapping[str, str], texts: Sequence[str]) -> Provenance:
    """`texts`: the article's paragraphs in order (only the first few are read)."""
    return Provenance(published_date(metadata, texts), article_outlet(metadata))


def published_date(metadata: Mapping[str, str], texts: Sequence[str]) -> date | None:
    for key in DATE_KEYS:
        value = metadata.get(key)
        if value and (found := parse_date(value)) is not None:
            return found
    url = metadata.get("url")
    if url and (found := date_in_url(url)) is not None:
        return found
    return dateline_date(texts[:DATELINE_PARAGRAPHS])


def parse_date(text: str) -> date | None:
    """The first complete date written in `text` (ISO, day/month/year, or with a month name
    in English or Indonesian), or None."""
    best: tuple[int, date] | None = None
    for pattern in _PATTERNS:
        for match in pattern.finditer(text):
            found = _date_of(match)
            if found is not None:
                if best is None or match.start() < best[0]:
                    best = (match.start(), found)
                break
    return None if best is None else best[1]


def date_in_url(url: str) -> date | None:
    """A date in a URL's path, or None; the host, query and fragment are never read (an id
    there is not a date)."""
    try:
        path = urlsplit(url.strip()).path
    except ValueError:
        return None
    for pattern in _URL_PATTERNS:
        for match in pattern.finditer(path):
            found = _date_of(match)
            if found is not None:
                return found
    return None


def dateline_date(texts: Sequence[str]) -> date | None:
    """The date of a dateline opening one of `texts`, or None."""
    for text in texts:
        match = _DATELINE.match(text)
        if match is not None and (found := parse_date(match.group("date"))) is not None:
            return found
    return None


def article_outlet(metadata: Mapping[str, str]) -> str:
    """The outlet key from the metadata's outlet, else from the URL's host; "" when neither."""
    for key in OUTLET_KEYS:
        value = metadata.get(key)
        if value and (key_ := outlet_key(value)):
            return key_
    url = metadata.get("url")
    if url and "://" in url:
        try:
            host = urlsplit(url.strip()).hostname or ""
        except ValueError:
            host = ""
        return outlet_key(host) if host else ""
    return ""


def outlet_key(name: str) -> str:
    """An outlet's name as filters compare it: case-folded; a domain name ("KOMPAS.com",
    "www.kompas.co.id") loses "www." and its suffix; punctuation becomes spaces."""
    text = " ".join(name.split()).casefold()
    if "://" in text:
        try:
            text = urlsplit(text).hostname or ""
        except ValueError:
            pass
    if _DOMAIN.fullmatch(text):
        labels = text.split(".")
        while len(labels) > 2 and labels[0] in _HOST_PREFIXES:
            labels = labels[1:]
        if labels[0] in _HOST_PREFIXES:
            labels = labels[1:]
        labels = labels[:-1]
        if len(labels) > 1 and labels[-1] in _SECOND_LEVEL:
            labels = labels[:-1]
        text = " ".join(labels)
    return " ".join(_NOT_WORD.sub(" ", text).split())


def _date_of(match: re.Match) -> date | None:
    groups = match.groupdict()
    month = _MONTHS.get(groups["month_name"].casefold()) if groups.get("month_name") else \
        int(groups["month"])
    try:
        return date(int(groups["year"]), month, int(groups["day"]))
    except (TypeError, ValueError):
        return None
