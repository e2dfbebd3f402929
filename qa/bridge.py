"""Let the word search speak for a question in another language than the articles, by mapping
each of its words the index does not know to the corpus words that mean the same.

An English question over Indonesian news shares only names and stray words with it, so the
word search was silenced for it (qa.retrieve) and the dense cosine alone ranked it. The index
keeps, for every word it holds, the mean of that word's token states in the paragraphs it
was written in (index.models.word_senses); the question's own token states put "arriving"
near datang and tiba, "problems" near masalah. Of each unknown word's nearest corpus words,
the first `PER_WORD` that stand out from the rest (`DISTINCT`) are searched with the question's
known words, and the word search's bonus is given at `WEIGHT`, measured for bridged questions
rather than scaled down by how few of the question's words the index knows
(benchmarks/bridge_dev.py, benchmarks/RESULTS.md).

It runs exactly where qa.rerank re-ranks (the default model, vocabulary coverage below its
threshold), and hands the question's token states on to the re-ranking, so the encoder
pass it adds is one the re-ranking made anyway.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from index.corpus import lexical
from index.models.token_states import spelled
from qa import alignment, rerank

if TYPE_CHECKING:
    from index.models.token_states import TokenStates
    from index.storage.base import IndexStore

PER_WORD = 2
WEIGHT = 0.015
# A mapped word must stand out: its cosine at least `DISTINCT` above the mean of the word's
# next nearest corpus words (up to `NEIGHBOURS` in all). Where none does, the corpus holds no
# counterpart: e5-small put "summoned" about equally near tuduh, sampai, kenal and kecam
# (0.56-0.59) on the seed, and searching "tuduh" lifted a paragraph about accusations to
# second for the card question. Chosen on xling-en (benchmarks/RESULTS.md, issue 20).
DISTINCT = 0.06
NEIGHBOURS = 10


@dataclass(frozen=True)
class Crossing:
    """A question's words as the word search looks them up."""

    asked: TokenStates  # the question's token states (query side), for the re-ranking
    terms: tuple[str, ...]  # its known terms, then the mapped ones, each once
    # (question word, the corpus terms it is searched as), for each word the index lacks
    mapped: tuple[tuple[str, tuple[str, ...]], ...]
    known: tuple[str, ...] = ()  # the terms of its words the index holds, in order


def cross(store: IndexStore, encoder: alignment.TokenEncoder, question: str,
          coverage: float) -> Crossing | None:
    """The question's words mapped into the index's vocabulary; None where no bridge applies
    (see the module's docstring) or the index keeps no word senses."""
    if not rerank.applies(store.manifest.model, coverage):
        return None
    table = store.word_senses()
    if table is None:
        return None
    import numpy as np

    asked = encoder.token_states(question, "query")
    known: list[str] = []
    unknown: list[tuple[str, list[int]]] = []
    for rows in alignment.content_words(asked):
        # Pieces without a letter or digit ("?" glued to the last word) mean nothing here.
        word, rows = spelled(asked, rows)
        terms = lexical.query_terms(word)
        if not terms:
            continue
        if store.vocabulary_coverage(terms[0]) > 0:
            known.append(terms[0])
        else:
            unknown.append((word, rows))
    mapped: list[tuple[str, tuple[str, ...]]] = []
    if unknown:
        import faiss

        words = np.stack([asked.vectors[rows].mean(axis=0) for _, rows in unknown])
        words /= np.maximum(np.linalg.norm(words, axis=1, keepdims=True), 1e-12)
        # FAISS's own scan, not a numpy product: numpy's BLAS threads spin after a product
        # and slowed the encoder passes that follow by half (measured on the seed).
        cosines, nearest = faiss.knn(words, table.vectors, min(NEIGHBOURS, len(table.terms)),
                                     metric=faiss.METRIC_INNER_PRODUCT)
        for (word, _), near, best in zip(unknown, cosines, nearest):
            mapped.append((word, tuple(table.terms[j] for j in standing_out(near, best))))
    terms = tuple(dict.fromkeys(known + [t for _, found in mapped for t in found]))
    return Crossing(asked=asked, terms=terms, mapped=tuple(mapped), known=tuple(known))


def standing_out(cosines, rows) -> list[int]:
    """Of a word's nearest corpus words (`rows`, by `cosines`, best first), the first
    `PER_WORD` that stand `DISTINCT` above the rest; all of them where there is no rest to
    compare with (a corpus of a handful of words)."""
    found = [(float(c), int(j)) for c, j in zip(cosines, rows) if j >= 0]
    rest = [c for c, _ in found[PER_WORD:]]
    if not rest:
        return [j for _, j in found]
    floor = sum(rest) / len(rest) + DISTINCT
    return [j for c, j in found[:PER_WORD] if c >= floor]
