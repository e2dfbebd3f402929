"""Paragraphs that hold no sentence of the story: dropped at reading time by every format.

News pages and exports carry lines a reader skims past and that answer no question: links to
other stories ("Baca juga: ..."), the editor's initials at the end ("(end)", "(rah/rah)"),
photo credits ("Foto: ANTARA/..."), lone by-lines, share/follow prompts, a dateline split
from its paragraph ("Merdeka.com -"), separators ("* * *"). As passages they only crowd out
answers, so `read_text.build_article` drops them (after short "Label: value" by-lines
have been kept as metadata) and, like navigation lines always were, does not count them in
the paragraph numbers. The rules were designed on IndoSum and the conversation pool
(../shared/data); each is anchored to the whole paragraph, so a sentence that merely starts
with "Foto" or "Lihat" is kept, and each is linear in the paragraph's length.

Kinds, in the order they are tried:
- navigation: "Baca juga:", "[Baca: ...]", "SIMAK JUGA:", "Lihat juga:", "Video: ...",
  "Klik di sini ...", a bare "Baca_Juga", "ADVERTISEMENT", embed markers ("[video]...").
- photo: "Foto: ...", "(Foto: ANTARA/...)", "Ilustrasi ..." captions of a few words, and a
  short caption ending in "(Foto: ...)".
- byline: "Reporter: ...", "Penulis: ..." (label, colon, a few words), the bare label, or a
  short source line ("Via Digital Trends.", "Sumber berita Gizmochina.").
- share: "Follow us on ...", "Ikuti kami di ...", "Share this", "Dapatkan update berita ...
  Telegram": an invitation verb first and a platform or channel named.
- initials: the whole paragraph a short bracketed note without a sentence ("(rah/rah)",
  "[sau]", "(T.H - ZG/S023)").
- dateline: a few words ending in a dash, the outlet's dateline cut off from its text.
- symbols: no word of two letters at all ("* * *", "–", "Q3").

Sub-headings ("Babak Kedua", "2. Harga Cabai Naik") and a list's lead-in ("Berikut
jadwalnya:") are judged apart (`heads_others`) and are kept when reading: a heading answers
nothing itself, but it names what the paragraph below it is about ("7. Playa Paraiso,
Meksiko" above a paragraph that never names the beach), its line is part of the article a
citation counts, and rewriting the next paragraph to carry it would change the text a
citation points at. So it stays indexed and is never shown as a passage (`qa.answer`).
"""
from __future__ import annotations

import re

# A paragraph longer than this is never junk: every kind below is a short line, and the
# bound keeps a long paragraph from being scanned by the rules at all.
MAX_JUNK_CHARS = 400

_NAVIGATION = re.compile(
    r"^[(\[]?\s*(?:baca[\s_]+juga|baca|lihat\s+juga|simak\s+juga|simak|tonton\s+juga|"
    r"saksikan\s+juga|klik|read\s+also|also\s+read|read\s+more|see\s+also|related|watch|"
    r"video|artikel\s+terkait|berita\s+terkait)\s*:",
    re.IGNORECASE,
)
_NAVIGATION_WHOLE = re.compile(
    r"^[(\[]?\s*(?:(?:baca|lihat|simak|tonton)[\s_]+juga|advertisement|iklan|scroll\s+to\s+"
    r"continue(?:\s+with\s+content)?|read\s+more|selengkapnya)\s*[:.)\]]?$",
    re.IGNORECASE,
)
_CLICK = re.compile(r"^(?:klik\s+di\s*sini|click\s+here)\b", re.IGNORECASE)
_EMBED = re.compile(r"^\[(?:video|gambas|embed|youtube|instagram|twitter)\b", re.IGNORECASE)

_PHOTO_LABEL = re.compile(
    r"^[(\[]?\s*(?:foto|photo|ilustrasi|image|gambar|kredit\s+foto|sumber\s+foto|"
    r"photo\s+credit|credit|kredit)\s*:", re.IGNORECASE)
_ILLUSTRATION = re.compile(r"^ilustrasi\b", re.IGNORECASE)
_CAPTION_CREDIT = re.compile(r"\((?:foto|photo|ilustrasi)\s*:[^()]*\)$", re.IGNORECASE)
_CAPTION_WORDS = 12

_BYLINE_LABEL = (r"(?:reporter|penulis|editor|wartawan|pewarta|kontributor|redaktur|"
                 r"author|writer|by|oleh|sumber|source)")
_BYLINE = re.compile(rf"^{_BYLINE_LABEL}\s*:\s*", re.IGNORECASE)
_BYLINE_BARE = re.compile(rf"^{_BYLINE_LABEL}\s*:?$", re.IGNORECASE)
_BYLINE_WORDS = 8
# "Via Digital Trends.", "Sumber berita Gizmochina.": where the story came from, no more.
_SOURCE_LINE = re.compile(r"^(?:via|sumber\s+berita|sumber\s+foto|kredit)\s+\S", re.IGNORECASE)
_SOURCE_WORDS = 6

_SHARE_START = re.compile(
    r"^(?:follow|ikuti|share|bagikan|dapatkan|gabung|bergabung|join|download|unduh|"
    r"subscribe|berlangganan|langganan|kunjungi|visit)\b",
    re.IGNORECASE)
_SHARE_WHERE = re.compile(
    r"\b(?:facebook|twitter|instagram|telegram|whatsapp|youtube|tiktok|linkedin|line|"
    r"google\s+news|channel|saluran|newsletter|aplikasi|app)\b", re.IGNORECASE)
_FOLLOW_US = re.compile(r"^(?:follow\s+us|ikuti\s+kami)\b", re.IGNORECASE)
_SHARE_WHOLE = re.compile(
    r"^(?:share|bagikan)(?:\s+(?:this|ini|artikel|berita|article|story|on))*\s*[:!.]?$",
    re.IGNORECASE)
_SHARE_WORDS = 40

_BRACKETED = re.compile(r"^[(\[][^()\[\]]{0,60}[)\]]$")
_BRACKETED_TOKENS = 3
_LOWER_WORD = re.compile(r"^[a-z]{2,}[.,;:!?]*$")
_ALNUM = re.compile(r"\w")
_DATELINE = re.compile(r"^\S(?:[^-–—]{0,40})\s[-–—]$")
_DATELINE_WORDS = 4
_LETTERS = re.compile(r"[^\W\d_]{2}")


def junk_kind(text: str) -> str | None:
    """Which kind of junk `text` (one paragraph, spacing tidied) is, or None for a paragraph
    that may hold a sentence of the story."""
    body = text.strip()
    if len(body) > MAX_JUNK_CHARS:
        return None
    if (_NAVIGATION.match(body) or _NAVIGATION_WHOLE.match(body) or _CLICK.match(body)
            or _EMBED.match(body)):
        return "navigation"
    words = body.split()
    if (_PHOTO_LABEL.match(body)
            or (_ILLUSTRATION.match(body) and len(words) <= _CAPTION_WORDS)
            or (_CAPTION_CREDIT.search(body) and len(words) <= _CAPTION_WORDS)):
        return "photo"
    label = _BYLINE.match(body)
    if (_BYLINE_BARE.match(body) or (label and len(body[label.end():].split()) <= _BYLINE_WORDS)
            or (_SOURCE_LINE.match(body) and len(words) <= _SOURCE_WORDS)):
        return "byline"
    if _SHARE_WHOLE.match(body) or (len(words) <= _SHARE_WORDS and (
            _FOLLOW_US.match(body) or (_SHARE_START.match(body) and _SHARE_WHERE.search(body)))):
        return "share"
    if _BRACKETED.match(body):
        # Initials and agency codes: a few tokens, at most one of them a lowercase word
        # ("(ard)", "(rachmi/sir)", "(Uu. H - RF/I015)"); "(tidak ada komentar)" is kept.
        tokens = [t for t in body[1:-1].split() if _ALNUM.search(t)]
        if (len(tokens) <= _BRACKETED_TOKENS
                and sum(1 for t in tokens if _LOWER_WORD.match(t)) < 2):
            return "initials"
    if len(words) <= _DATELINE_WORDS and _DATELINE.match(body):
        return "dateline"
    if not _LETTERS.search(body):
        return "symbols"
    return None


# A sub-heading: a few words, most of them capitalised, with no sentence punctuation and no
# figure (those are a result line or a lead-in to a list: "Hasil Liga Inggris, Selasa
# (4/4/2017):"), after an optional list number ("2. ").
_LIST_NUMBER = re.compile(r"^\d{1,2}[.)]\s+")
_NOT_IN_HEADING = re.compile(r"[.!?…:;\d]")
_HEADING_WORDS = 8
_HEADING_CHARS = 80


# A kicker: an all-capitals label and its colon before a heading ("PIALA AFF: Persiapan Lawan
# Timnas"); a "Label: value" line with an ordinary label ("Pelatih: Sukardi") is a fact, kept.
_KICKER = re.compile(r"^[A-Z][A-Z0-9 &-]{1,24}:\s+(?=\S)")


def is_heading(text: str) -> bool:
    """Whether `text` (one paragraph) reads as a sub-heading rather than a sentence."""
    body = _LIST_NUMBER.sub("", text.strip(), count=1)
    body = _KICKER.sub("", body, count=1)
    if not body or len(body) > _HEADING_CHARS or _NOT_IN_HEADING.search(body):
        return False
    words = [w.lstrip("\"'“‘(") for w in body.split()]
    words = [w for w in words if _LETTERS.search(w)]
    if not words or len(words) > _HEADING_WORDS or not words[0][:1].isupper():
        return False
    return 2 * sum(w[:1].isupper() for w in words) >= len(words)


# A list's lead-in: a short line that ends in a colon and holds no sentence end before it
# ("Berikut jadwal semifinal:", "Hasil Liga Inggris, Selasa (4/4/2017):"); the list below
# holds the facts. A "Label: value" line does not end in its colon and is kept.
_LEAD_IN_WORDS = 12
_SENTENCE_END = re.compile(r"[.!?…]\s")


def is_lead_in(text: str) -> bool:
    body = text.strip()
    return (body.endswith(":") and len(body.split()) <= _LEAD_IN_WORDS
            and not _SENTENCE_END.search(body))


def heads_others(text: str) -> bool:
    """A sub-heading or a list's lead-in: a line that names or introduces the paragraphs
    after it and answers nothing itself."""
    return is_heading(text) or is_lead_in(text)


def is_junk(text: str) -> bool:
    return junk_kind(text) is not None
