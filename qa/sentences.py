"""Sentence spans inside a paragraph, for highlighting the sentence that answers.

A small rule-based splitter is enough for news prose in Indonesian and English and keeps the
query path free of NLP libraries; it knows the abbreviations that would otherwise cut a name
or a title in two ("Dr. Moon", "Jl. Sudirman", "U.S.").
"""
from __future__ import annotations

import re

_ABBREVIATIONS = {
    "dr", "drs", "dra", "prof", "ir", "h", "hj", "jl", "jln", "no", "nos", "dll", "dsb", "dkk",
    "tsb", "mr", "mrs", "ms", "st", "sr", "jr", "vs", "etc", "inc", "ltd", "co", "corp", "gen",
    "col", "capt", "lt", "sgt", "gov", "sen", "rep", "pres", "kol", "brigjen", "mayjen",
    "letjen", "jend", "kh", "sdr", "bpk", "yth", "a.n", "u.s", "u.k", "e.g", "i.e", "approx",
}
_BOUNDARY = re.compile(r"[.!?…]+[\"'”’)\]]*\s+(?=[\"'“‘(\[]?[A-Z0-9À-Ý])")


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) character spans of the sentences in `text`, covering all its words."""
    spans: list[tuple[int, int]] = []
    start = 0
    for match in _BOUNDARY.finditer(text):
        head = text[start:match.start() + 1]
        last_word = re.split(r"\s+", head.strip())[-1].rstrip(".!?…").lower()
        if last_word in _ABBREVIATIONS or (len(last_word) == 1 and last_word.isalpha()):
            continue
        end = match.end()
        piece = text[start:end].rstrip()
        if piece:
            spans.append((start, start + len(piece)))
        start = end
    if text[start:].strip():
        tail_start = start + (len(text[start:]) - len(text[start:].lstrip()))
        spans.append((tail_start, len(text.rstrip())))
    return spans or [(0, len(text))]


def split_sentences(text: str) -> list[str]:
    return [text[a:b] for a, b in sentence_spans(text)]
