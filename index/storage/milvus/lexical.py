"""The lexical side on Milvus: the words BM25 sees, and FTS5's bm25 reproduced exactly.

The FAISS store ranks with SQLite FTS5's bm25() over two columns, paragraph text and article
title (weight 0.5). FTS5 does not add two per-column BM25 scores: it sums a word's weighted
hits over the columns, uses the row's total length across both, and its IDF is
log((N - n + 0.5) / (n + 0.5)) floored at 1e-6, where n counts rows with the word in either
column. Milvus's BM25 differs in all three (one field per search, Lucene's IDF), and that was
enough to reorder 7 in 10 fused top-10 lists on the dev sets. So Milvus only proposes
candidates here (its BM25 over each field, searched deep), and the score is computed with
FTS5's formula from the candidates' words, document frequencies kept in a terms collection,
and the corpus's total length kept beside the manifest. The same frequencies answer
`vocabulary_coverage` exactly as fts5vocab does.

`lexical_form` and `words` are the one place where text is shaped before BM25 sees it, on
both sides (stored paragraphs and queries). They mirror FTS5's `unicode61 remove_diacritics
2` tokenizer, quirks included (accents are stripped from Latin letters only, ß stays, a final
sigma becomes σ, `_` separates words), so both backends match the same words. Before that,
text and questions go through the shared Indonesian-aware normaliser (`index.corpus.lexical`:
stemming on both sides, question words dropped from queries), exactly as the SQLite store's
FTS table and queries do.
"""
from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from index.corpus import lexical

TITLE_WEIGHT = 0.5  # as FTS5's bm25(paragraphs_fts, 1.0, 0.5)
K1, B = 1.2, 0.75  # FTS5's constants
_MAX_QUERY_TERMS = 64  # as the SQLite store
MAX_TERM = 512  # bytes; longer "words" are not indexed (they are not words)
_WORD = re.compile(r"[^\W_]+")  # letters and digits: unicode61's token characters


def _fold(ch: str) -> str:
    if ch == "\u03c2":  # final sigma, as unicode61 folds it
        return "\u03c3"
    code = ord(ch)
    if code < 0x300 or 0x1E00 <= code <= 0x1EFF:  # Latin: drop the accents
        return "".join(c for c in unicodedata.normalize("NFD", ch) if not unicodedata.combining(c))
    return ch


def lexical_form(text: str) -> str:
    """Text as BM25 indexes it: lower case, accents removed from Latin letters (é -> e)."""
    low = text.lower()
    return low if low.isascii() else "".join(_fold(ch) for ch in low)


def words(lex_text: str) -> list[str]:
    """The words of a text already in lexical form, in order, repeats kept."""
    return [w for w in _WORD.findall(lex_text) if len(w.encode("utf-8")) <= MAX_TERM]


def index_text(text: str) -> str:
    """What a paragraph's analysed field stores: its words in lexical form, space-separated,
    so Milvus's own analyzer (used to propose candidates) splits exactly where FTS5 does."""
    return " ".join(words(lexical_form(lexical.index_text(text))))


def question_tokens(query: str) -> list[str]:
    """The question's words as the FTS5 query names them (distinct, at most 64, case-folded
    but not yet accent-folded): what vocabulary coverage looks up, as the FAISS store does."""
    return lexical.query_terms(query, _MAX_QUERY_TERMS)


def query_terms(query: str) -> list[str]:
    """The question's words in lexical form, one per FTS5 query phrase (so two spellings that
    fold to one word count twice, as they do in FTS5)."""
    return [w for t in question_tokens(query) for w in words(lexical_form(t))]


@dataclass(frozen=True)
class RowWords:
    """One paragraph as FTS5 sees it: word counts in the text and in its article's title."""

    text: Counter
    title: Counter

    @classmethod
    def of(cls, lex_text: str, lex_title: str) -> RowWords:
        return cls(Counter(words(lex_text)), Counter(words(lex_title)))

    @property
    def length(self) -> int:
        return sum(self.text.values()) + sum(self.title.values())

    def vocabulary(self) -> set[str]:
        return set(self.text) | set(self.title)


def frequency_deltas(rows: Iterable[RowWords], sign: int) -> tuple[Counter, int]:
    """Per word, how many rows gain (sign 1) or lose (-1) it; and the change in total length."""
    df: Counter = Counter()
    tokens = 0
    for row in rows:
        df.update(row.vocabulary())
        tokens += row.length
    return Counter({w: sign * n for w, n in df.items()}), sign * tokens


def bm25(terms: list[str], rows: dict[int, RowWords], df: dict[str, int], n_rows: int,
         total_tokens: int) -> dict[int, float]:
    """FTS5's bm25(paragraphs_fts, 1.0, 0.5), negated so higher is better, for each row that
    contains at least one term (the others do not match an OR query)."""
    if n_rows <= 0 or not rows:
        return {}
    avgdl = total_tokens / n_rows if total_tokens > 0 else 1.0
    idf = {}
    for t in dict.fromkeys(terms):
        n = df.get(t, 0)
        value = math.log((n_rows - n + 0.5) / (n + 0.5))
        idf[t] = value if value > 0 else 1e-6
    out: dict[int, float] = {}
    for pid, row in rows.items():
        norm = K1 * (1 - B + B * row.length / avgdl)
        score = 0.0
        hit = False
        for t in terms:
            freq = row.text.get(t, 0) + TITLE_WEIGHT * row.title.get(t, 0)
            if freq:
                hit = True
                score += idf[t] * (freq * (K1 + 1)) / (freq + norm)
        if hit:
            out[pid] = score
    return out
