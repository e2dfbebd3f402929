"""Candidate short answers in an answer sentence: the spans that could answer a question of
a given kind, with the token positions the short answer's evidence is read from.

- names: runs of capitalised words ("University of Oxford"; "Surabaya, Jawa Timur" for a
  place) and quoted titles, for who/where/what questions;
- numbers with their currency, scale and unit ("Rp 5 miliar", "181.549 ribu ton");
- dates and times;
- phrases: runs of words the question does not use, between its words ("Biodiesel
  berpotensi menggantikan *solar* ..."), for what-questions whose answer is no name.

The question's own words are trimmed from a name's edges ("Wali Kota Padang Fauzi Bahar"
answers "Siapa wali kota Padang?" with "Fauzi Bahar"); a span made only of them is none.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from index.corpus import lexical
from qa.question_kind import AUX_WORDS, QuestionShape

_Q = re.IGNORECASE
_TOKEN = re.compile(r"\w+(?:[.,/:'’&-]\w+)*%?|[\"“”‘’()\[\],.;:!?]", re.UNICODE)
CONNECTORS = {"of", "de", "van", "der", "von", "bin", "binti", "al", "el", "du", "da", "del",
              "la", "le", "y", "den", "ter"}
_MONTHS = ("januari februari maret april mei juni juli agustus september oktober november "
           "desember january february march may june july august october december jan feb "
           "mar apr jun jul aug agu sep sept okt oct nov des dec").split()
_MONTH = "|".join(sorted(set(_MONTHS), key=len, reverse=True))
_WEEKDAY = ("senin|selasa|rabu|kamis|jumat|jum'at|sabtu|minggu|ahad|monday|tuesday|wednesday|"
            "thursday|friday|saturday|sunday")
_DATE = re.compile(
    rf"\b(?:\d{{1,2}}/\d{{1,2}}(?:/\d{{2,4}})?|\d{{1,2}}-\d{{1,2}}-\d{{2,4}}"
    rf"|\d{{1,2}}\s+(?:{_MONTH})\.?(?:,?\s+\d{{4}})?"
    rf"|(?:{_MONTH})\.?\s+\d{{1,2}},?\s+\d{{4}}"
    rf"|(?:{_MONTH})\.?\s+\d{{4}}"
    rf"|(?:abad|century)\s+(?:ke-?)?\s*\w+"
    rf"|(?:tahun\s+)?\d{{4}}(?:-an|an|s)?)\b", _Q)
_CALENDAR = set(_MONTHS) | set(_WEEKDAY.split("|"))
_YEAR = re.compile(r"^(1[0-9]{3}|20[0-9]{2})(-an|s)?$")
_TIME = re.compile(r"\b(?:pukul|jam)\s+\d{1,2}(?:[.:]\d{2})?(?:\s*(?:WIB|WITA|WIT|GMT|UTC))?"
                   r"|\b\d{1,2}[.:]\d{2}\s*(?:WIB|WITA|WIT|GMT|UTC|a\.?m\.?|p\.?m\.?)"
                   r"|\b\d{1,2}\s*(?:a\.m\.|p\.m\.|am|pm)\b", _Q)
_NUMBER_WORDS = {"satu", "dua", "tiga", "empat", "lima", "enam", "tujuh", "delapan", "sembilan",
                 "sepuluh", "sebelas", "seratus", "seribu", "sejuta", "one", "two", "three",
                 "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve",
                 "twenty", "thirty", "forty", "fifty", "hundred", "dozen"}
_SCALES = {"puluh", "belas", "ratus", "ribu", "juta", "miliar", "milyar", "triliun", "persen",
           "thousand", "million", "billion", "trillion", "percent", "per", "cent", "hundred"}
_CURRENCY = re.compile(r"^(rp|us\$|\$|usd|idr|€|£|dolar|dollar|euro|rupiah)$", _Q)
UNITS = {"tahun", "bulan", "minggu", "hari", "jam", "menit", "detik", "years", "year",
         "months", "month", "weeks", "days", "day", "hours", "hour", "minutes", "seconds",
         "km", "m", "cm", "mm", "kg", "g", "ton", "ha", "hektare", "hektar", "meter",
         "kilometer", "liter", "mil", "miles", "mph", "persen", "percent", "%", "orang",
         "people", "rupiah", "dolar", "dollars", "euro", "feet", "ft", "kaki", "inci",
         "inches", "acres", "square", "persegi", "derajat", "degrees", "watt", "mw", "kw",
         "unit", "units", "buah", "ekor", "kali", "times"}
COPULAS = {"adalah", "ialah", "yaitu", "yakni", "merupakan", "sebagai", "is", "was", "are",
           "were"}
BY_WORDS = {"oleh", "by"}
PLACE_PREPOSITIONS = {"di", "ke", "dari", "in", "at", "to", "from", "near", "dekat"}
# Words that make a capitalised run a role or an institution rather than a person or place.
ROLE_WORDS = set(
    "presiden wakil menteri direktur kepala ketua komandan guru besar sekretaris pemimpin "
    "pimpinan juru bicara gubernur bupati wali walikota camat dr prof ir drs hj kapolri kapolda "
    "kapolres panglima jenderal kolonel mayor letnan kapten brigjen irjen kombes komisaris "
    "inspektur duta dubes anggota staf manajer manager chairman ceo president minister "
    "director head chief secretary governor senator rektor dekan pelatih coach tbk utama "
    "umum".split())
ORGANISATION_WORDS = set(
    "universitas partai pt badan dinas kementerian departemen komite lembaga komisi dewan "
    "majelis perusahaan bank yayasan institut sekolah rumah sakit rsu rsud pengadilan "
    "kejaksaan kepolisian polda polres museum stadion bandara bandar festival kejuaraan "
    "university party company committee council ministry department agency institute "
    "commission".split())
# Words a phrase answer does not run across: function words, auxiliaries, days and months,
# reporting verbs.
_PHRASE_BREAK = set(lexical.QUERY_STOP_WORDS) | AUX_WORDS | COPULAS | _CALENDAR | {
    "kata", "ujar", "ucap", "jelas", "mengatakan", "menurut", "said", "says", "bahwa", "namun",
    "tetapi", "but", "sehingga", "karena", "because", "saat", "ketika", "while", "sejak",
    "since", "hingga", "sampai", "until", "seperti", "like", "bahkan", "kini", "umumnya",
    "kemarin", "lalu", "ini", "itu", "tersebut", "mereka", "kami", "kita", "ia", "dia"}
_QUOTE_OPEN = "\"“‘"
_QUOTE_CLOSE = "\"”’"
_OPENERS = set(".!?;:()\"“‘")
MAX_PHRASE_WORDS = 6


@dataclass(frozen=True)
class Token:
    text: str
    start: int
    end: int

    @property
    def low(self) -> str:
        return self.text.casefold()

    @property
    def is_word(self) -> bool:
        return self.text[0].isalnum()

    @property
    def capitalised(self) -> bool:
        return self.text[0].isupper() or (self.text[0].isdigit() and any(c.isupper() for c in self.text))

    @property
    def is_number(self) -> bool:
        return any(c.isdigit() for c in self.text) or self.low in _NUMBER_WORDS


@dataclass(frozen=True)
class Span:
    """Tokens `first`..`last` (inclusive) of the sentence. `form` is how it was found:
    "name", "number", "date", "time" or "phrase"; `titled` counts the question's words right
    before it ("Presiden Venezuela *Hugo Chavez*")."""

    first: int
    last: int
    form: str
    titled: int = 0


def tokens_of(text: str, start: int, end: int) -> list[Token]:
    return [Token(m.group(0), start + m.start(), start + m.end())
            for m in _TOKEN.finditer(text[start:end])]


def norm(text: str) -> str:
    return " ".join(lexical.words(text))


def _name_runs(tokens: list[Token], text: str, known_caps: set[str]) -> list[Span]:
    """Maximal runs of capitalised words (with name connectors inside), not crossing
    punctuation. A lone capitalised word where a sentence, dateline or quote opens counts
    only when the text writes it capitalised after a lowercase word and never in lowercase:
    otherwise it is capitalised only for standing first. After a comma is no opening
    ("kantor berita milik pemerintah, Xinhua")."""
    out: list[Span] = []
    i = 0
    while i < len(tokens):
        t = tokens[i]
        if not (t.is_word and t.capitalised):
            i += 1
            continue
        j = i
        while j + 1 < len(tokens):
            nxt = tokens[j + 1]
            if text[tokens[j].end:nxt.start].strip():
                break
            if nxt.is_word and nxt.capitalised:
                j += 1
                continue
            if (nxt.low in CONNECTORS and j + 2 < len(tokens) and tokens[j + 2].capitalised
                    and not text[nxt.end:tokens[j + 2].start].strip()):
                j += 2
                continue
            break
        first = i
        before = tokens[i - 1] if i else None
        opens = (before is None or before.text in _OPENERS or before.text.isupper()
                 or "-" in text[before.end:t.start])
        if opens and j == i and t.low not in known_caps:
            first = i + 1
        if first <= j:
            out.append(Span(first, j, "name"))
        i = j + 1
    return out


def _join_places(runs: list[Span], tokens: list[Token]) -> list[Span]:
    """"Surabaya, Jawa Timur": a place and the region it lies in, read as one place."""
    out: list[Span] = []
    for c in runs:
        if (out and c.first == out[-1].last + 2 and tokens[out[-1].last + 1].text == ","
                and c.last - c.first < 3 and out[-1].last - out[-1].first < 4):
            out[-1] = Span(out[-1].first, c.last, "name")
        else:
            out.append(c)
    return out


def _covering(tokens: list[Token], a: int, b: int) -> tuple[int, int] | None:
    inside = [i for i, t in enumerate(tokens) if t.start >= a and t.end <= b]
    return (inside[0], inside[-1]) if inside else None


def _numbers(tokens: list[Token], unit_words: frozenset[str]) -> list[Span]:
    """A number with its currency, scale words and unit; the unit is kept when it is a unit
    or what the question counts ("1.500 tentara" for "Berapa tentara ...")."""
    out = []
    i = 0
    while i < len(tokens):
        if not (tokens[i].is_word and tokens[i].is_number) or _YEAR.match(tokens[i].text):
            i += 1
            continue
        first = i - 1 if i > 0 and _CURRENCY.match(tokens[i - 1].text) else i
        j = i
        while j + 1 < len(tokens) and (tokens[j + 1].low in _SCALES or
                                       (tokens[j + 1].is_number and tokens[j + 1].is_word)):
            j += 1
        if j + 1 < len(tokens) and tokens[j + 1].is_word and (
                tokens[j + 1].low in UNITS or lexical.stem(tokens[j + 1].low) in unit_words):
            j += 1
        out.append(Span(first, j, "number"))
        i = j + 1
    return out


def _pattern(pattern: re.Pattern, form: str, tokens: list[Token], text: str,
             start: int, end: int) -> list[Span]:
    out = []
    for m in pattern.finditer(text, start, end):
        span = _covering(tokens, m.start(), m.end())
        if span:
            out.append(Span(span[0], span[1], form))
    return out


def _quoted(tokens: list[Token]) -> list[Span]:
    out = []
    for i, t in enumerate(tokens):
        if t.text in _QUOTE_OPEN:
            for j in range(i + 1, min(i + 12, len(tokens))):
                if tokens[j].text in _QUOTE_CLOSE:
                    if j - i > 1 and tokens[i + 1].capitalised:
                        out.append(Span(i + 1, j - 1, "name"))
                    break
    return out


def _phrases(tokens: list[Token], used: list[bool], text: str) -> list[Span]:
    """Runs of words the question does not use, up to MAX_PHRASE_WORDS, not across
    punctuation (a dateline's dash included)."""
    out = []
    i, n = 0, len(tokens)

    def opens(k: int) -> bool:
        t = tokens[k]
        return t.is_word and not used[k] and t.low not in _PHRASE_BREAK

    while i < n:
        if not opens(i):
            i += 1
            continue
        j = i
        while j + 1 < n and opens(j + 1) and not text[tokens[j].end:tokens[j + 1].start].strip():
            j += 1
        if j - i < MAX_PHRASE_WORDS and any(c.isalpha() for k in range(i, j + 1)
                                             for c in tokens[k].text):
            out.append(Span(i, j, "phrase"))  # "18/8" or "2017" alone is no phrase answer
        i = j + 1
    return out


def _trim(c: Span, tokens: list[Token], q: QuestionShape) -> Span | None:
    """Drop the question's own words from a name's edges; None if nothing is left."""
    first, last = c.first, c.last
    while first <= last and (tokens[first].low in q.words or tokens[first].low in CONNECTORS
                             or tokens[first].low in lexical.QUERY_STOP_WORDS
                             or not tokens[first].is_word):
        first += 1
    right = last
    while last >= first and (tokens[last].low in q.words or tokens[last].low in CONNECTORS
                             or not tokens[last].is_word):
        last -= 1
    if first > last:
        return None
    if any(tokens[k].is_word and tokens[k].low in q.words for k in range(last + 1, right + 1)):
        return None  # the middle of a longer name that holds the question's words
    if (q.kind in ("thing", "place") and first == last and first > c.first
            and all(tokens[k].capitalised for k in range(c.first, first) if tokens[k].is_word)):
        # One word left of "New South Wales University": the question named part of the
        # name it asks for; the whole name answers.
        return Span(c.first, c.last, c.form, 0)
    titled, k = 0, first - 1
    while k >= 0 and (not tokens[k].is_word and tokens[k].text not in ".!?;" or tokens[k].low in q.words):
        titled += tokens[k].is_word and tokens[k].low not in lexical.QUERY_STOP_WORDS
        k -= 1
    return Span(first, last, c.form, titled)


def used_by_question(tokens: list[Token], q: QuestionShape) -> list[bool]:
    """Which tokens are content words the question also uses (by stem)."""
    return [t.is_word and t.low not in lexical.QUERY_STOP_WORDS and lexical.stem(t.low) in q.stems
            for t in tokens]


def spans(q: QuestionShape, text: str, start: int, end: int) -> tuple[list[Token], list[Span]]:
    """The sentence text[start:end] as tokens, and its candidate spans for `q`'s kind."""
    tokens = tokens_of(text, start, end)
    lower = set(re.findall(r"\b[a-z]\w*", text))
    known_caps = {m.group(0).casefold() for m in re.finditer(r"(?<=[a-z] )[A-Z]\w+", text)} - lower
    if q.kind == "date":
        raw = _pattern(_DATE, "date", tokens, text, start, end)
    elif q.kind == "time":
        raw = _pattern(_TIME, "time", tokens, text, start, end)
    elif q.kind == "number":
        raw = _numbers(tokens, q.counted)
    else:
        raw = _name_runs(tokens, text, known_caps)
        if q.kind == "place":
            raw = _join_places(raw, tokens)
        raw += _quoted(tokens)
        raw += _phrases(tokens, used_by_question(tokens, q), text)
    out, seen = [], set()
    for c in raw:
        if c.form == "date" and tokens[c.first].low == "tahun":
            c = Span(c.first + 1, c.last, c.form)
        t = _trim(c, tokens, q) if c.form == "name" else c
        if t is None or (t.first, t.last) in seen:
            continue
        words = set(lexical.words(text[tokens[t.first].start:tokens[t.last].end]))
        if words <= q.words:
            continue  # "Asia-Pasifik", "Britain's": the question's own words again
        if t.form == "name" and (t.last - t.first > 6 or words <= _CALENDAR
                                 or len(text[tokens[t.first].start:tokens[t.last].end]) < 2):
            continue
        if t.form == "number" and "/" in tokens[t.first].text:
            continue  # a reference ("No. 522/1010") or a score, not an amount
        seen.add((t.first, t.last))
        out.append(t)
    return tokens, out
