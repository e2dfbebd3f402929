"""Sentence spans inside a paragraph, for highlighting the sentence that answers.

Why not a library: none of the kept sentence splitters knows Indonesian. On the real news
excerpts of tests/test_sentences.py (70 abbreviations inside a sentence, 26 real ends beside
abbreviations), pysbd's English rules kept 35 and split 17 right, sentencex ("id" falls back
to generic rules) 37 and 10, blingfire 50 and 14. pysbd can be taught these abbreviations only
by registering a language in its module dict (68 and 21 then), it is unmaintained since 2021
and takes ~1.3 ms a paragraph against ~0.015 ms here. So this module follows the rules those
splitters use (pysbd's "golden rules": abbreviations that introduce a name or a number,
abbreviations that may close a sentence, words that only open sentences) with the
abbreviations of Indonesian and English news.

A period after a word is an end unless the word is
- a title, address or unit word that introduces a name or a number ("PT. CPI", "Jl. MH
  Thamrin", "No. 54", "Rp. 1.025"), an initial ("Yasonna H. Laoly"), or dotted ("U.S.",
  "M.Si.", "a.m."): then only a word that can only open a sentence ("Namun", "Dia", "The")
  makes it an end, as in "at 10 a.m. The minister left";
- a word that closes a list or a name ("dll.", "dsb.", "dkk.", "etc.", "Inc.", "Jr.", "Tbk."):
  then a capital after it starts a new sentence ("zat besi dll. Manfaat buah bit ...") and a
  lowercase word, a number or a bracket does not ("Walt Disney Co. merupakan ...").
A letter right after a number is a unit or a model ("2500 m.", "Windows 10 S."), not an
initial; a list number ("2. Suite for Violin") stays with the sentence it numbers.
"""
from __future__ import annotations

import re

# Introduce a name, a place or a number. Lowercase keys, matched whatever the case, except that
# _CAPITALISED_ONLY are plain words when not capitalised ("sepuluh sen.") unless a number
# follows ("Piano no. 15"), and that a word of three capitals or more is an acronym ("BPK.").
_INTRODUCING = {
    # Indonesian titles and honorifics
    "dr", "drg", "drh", "drs", "dra", "prof", "ir", "h", "hj", "kh", "alm", "almh", "sdr",
    "sdri", "bpk", "ny", "nn", "tn", "yth", "dt", "pdt", "pnt", "ust", "moh", "muh", "mhd", "abd",
    "sp", "th", "mgr",
    # ranks (Indonesian police and military, English)
    "pol", "purn", "kol", "brigjen", "mayjen", "letjen", "letjend", "jend", "kapt", "capt", "gen",
    "lt", "col", "maj", "sgt", "cpl", "adm", "cmdr", "comr", "gov", "sen", "rep", "pres", "rev",
    "hon", "fr", "mr", "mrs", "ms", "messrs", "sr",
    # companies, institutions, places and addresses
    "pt", "cv", "rs", "jl", "jln", "gg", "kp", "kec", "kel", "kab", "prov", "ds", "st",
    "mt", "ft", "ave", "blvd", "rd",
    # numbers, dates and references
    "no", "nos", "nr", "rp", "pk", "tgl", "hlm", "vol", "fig", "pp", "art", "jan", "feb", "mar",
    "apr", "jun", "jul", "aug", "agt", "agu", "sep", "sept", "oct", "okt", "nov", "dec", "des",
    "approx", "ca", "cf", "vs", "v", "a.n", "u.p", "s.d",
}
_CAPITALISED_ONLY = {
    "no", "nos", "nr", "st", "mt", "ft", "gen", "col", "sen", "rep", "rev", "hon", "fr", "mar",
    "jan", "dec", "des", "art", "fig", "pp", "pres", "ave", "rd", "th", "sp", "ds", "kel", "pol",
}
# Close a list or a name: an end when a capital follows.
_CLOSING = {
    "dll", "dsb", "dst", "dkk", "tsb", "etc", "al", "inc", "ltd", "corp", "co", "plc", "llc",
    "jr", "tbk",
}
# Words that open sentences and are never part of a name: pronouns, articles, demonstratives,
# conjunctions and sentence adverbs (Indonesian, then English).
_OPENERS = {
    "ia", "dia", "mereka", "kami", "kita", "saya", "aku", "anda", "beliau", "kamu", "ini", "itu",
    "namun", "tetapi", "tapi", "sementara", "sedangkan", "selain", "bahkan", "lalu", "kemudian",
    "setelah", "sebelum", "sebelumnya", "selanjutnya", "sehingga", "karena", "sebab", "jika",
    "kalau", "bila", "apabila", "meski", "meskipun", "walau", "walaupun", "padahal", "adapun",
    "maka", "oleh", "sejak", "selama", "hingga", "ketika", "saat", "agar", "supaya", "dengan",
    "dalam", "di", "ke", "dari", "pada", "untuk", "bagi", "tentang", "terhadap", "menurut",
    "berdasarkan", "terkait", "seperti", "sebagai", "yang", "tak", "tidak", "belum", "sudah",
    "telah", "masih", "juga", "apa", "bagaimana", "mengapa", "kenapa", "siapa", "kapan", "para",
    "sejumlah", "semua", "seluruh", "setiap", "beberapa", "kini", "sekarang", "usai", "seusai",
    "diketahui", "akibatnya", "apalagi", "sebaliknya", "jadi", "demikian", "begitu",
    "the", "this", "that", "these", "those", "there", "he", "she", "it", "they", "we",
    "you", "his", "her", "its", "their", "our", "my", "but", "and", "or", "so", "yet", "however",
    "meanwhile", "moreover", "also", "then", "when", "while", "if", "although", "though",
    "after", "before", "since", "as", "in", "on", "at", "for", "with", "from", "by", "to",
    "according", "some", "many", "most", "all", "both", "each", "every", "what", "which", "who",
    "why", "how", "where", "nor",
}
# Terminal punctuation, closing quotes/brackets, space, and what may start the next sentence.
_CANDIDATE = re.compile(r"[.!?…]+[\"'”’)\]]*\s+(?=[\"'“‘(\[]?[A-Z0-9À-Ý])")
_LIST_NUMBER = re.compile(r"\(?(?:\d{1,3}|[A-Za-z])[.)]")
_INITIAL = re.compile(r"[^\W\d_]")
_DOTTED = re.compile(r"(?:[^\W\d_]{1,4}\.)+[^\W\d_]{1,4}")
_NEXT_WORD = re.compile(r"[\"'“‘(\[]*(\w+)")


def _after_number(text: str, at: int) -> bool:
    before = text[:at].split()
    return bool(before) and before[-1][-1:].isdigit()


def _is_end(text: str, start: int, match: re.Match) -> bool:
    """Whether the punctuation `match` closes the sentence that began at `start`."""
    marks = match.group().rstrip()
    word = (text[:match.start()].rsplit(None, 1) or [""])[-1].lstrip("\"'“‘([")
    if marks.startswith("!") and _INITIAL.fullmatch(word):
        marks = "." + marks[1:]  # a one-letter brand ("E! News", "M! Countdown"), not a cry
    if not marks.startswith(".") or marks.startswith(".."):
        return True  # "!", "?", "…" and "..." always end
    if _LIST_NUMBER.fullmatch(text[start:match.start() + 1].strip()):
        return False
    key = word.lower()
    after = text[match.end():]
    following = _NEXT_WORD.match(after)
    next_word = following.group(1) if following else ""
    if key in _CLOSING:
        return after[:1].isupper() or (after[:1] in "\"'“‘" and after[1:2].isupper())
    if key in _INTRODUCING and not (word.isupper() and len(word) > 2):  # "BPK." is an acronym
        if key in _CAPITALISED_ONLY and not word[:1].isupper():
            return not next_word[:1].isdigit()  # "sepuluh sen." ends, "Piano no. 15" does not
        return next_word.lower() in _OPENERS and not next_word.isupper()
    if _INITIAL.fullmatch(word) and _after_number(text, match.start() - len(word)):
        return True  # a unit or a model letter: "2500 m. Sering", "Windows 10 S. Terbukti"
    if _INITIAL.fullmatch(word) or _DOTTED.fullmatch(word):
        return next_word.lower() in _OPENERS and not next_word.isupper()
    return True


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) character spans of the sentences in `text`, covering all its words."""
    spans: list[tuple[int, int]] = []
    start = 0
    for match in _CANDIDATE.finditer(text):
        if not _is_end(text, start, match):
            continue
        end = match.end()
        piece = text[start:end].rstrip()
        if piece.strip():
            spans.append((start + len(piece) - len(piece.lstrip()), start + len(piece)))
        start = end
    if text[start:].strip():
        tail_start = start + (len(text[start:]) - len(text[start:].lstrip()))
        spans.append((tail_start, len(text.rstrip())))
    return spans or [(0, len(text))]


def split_sentences(text: str) -> list[str]:
    return [text[a:b] for a, b in sentence_spans(text)]
