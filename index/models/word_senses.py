"""What each corpus word means, read from the encoder's token states while its paragraphs are
embedded: the bridge that lets an English question's words find the Indonesian words the
index holds (qa.bridge).

A word embedded alone is a poor dictionary entry (e5-small put "settlers" next to "seluler");
the same word's token states in the sentences it was written in carry its meaning, and
their mean over the word's occurrences lands near its translation ("arriving" -> datang,
tiba; "problems" -> masalah; benchmarks/RESULTS.md, issue 20). The states come out of the
pass that embeds the paragraph anyway (the export's second output), so the bridge costs the
index no extra encoder work, only the grouping done here.

Keys are the lexical side's stems (index.corpus.lexical.stem), so a mapped word is a term
the word search can look up. Only the first `CONTEXTS` occurrences of a word are read: a
word's meaning is settled well before, and capping keeps common words from costing time.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from index.corpus import lexical
from index.models.token_states import WORD_START, spelled, words

if TYPE_CHECKING:
    import numpy as np

    from index.models.token_states import TokenStates

CONTEXTS = 32  # occurrences read per word, at most
MIN_LETTERS = 3  # shorter words are mostly function words and abbreviations


def words_of(states: TokenStates) -> list[tuple[str, list[int]]]:
    """(stemmed word, rows of its pieces) for each word the word search indexes as one
    alphabetic term of at least MIN_LETTERS letters; pieces join at word starts, as
    qa.alignment joins them. Punctuation glued to a word ("Rusia" "." at a sentence's end)
    is left out of its rows; a reduplication ("negara-negara") is its one word; a compound
    the search splits in two ("Rusia-Ukraina") is left out, since no term is both."""
    out = []
    for rows in words(states):
        whole = "".join(states.pieces[r] for r in rows).replace(WORD_START, " ")
        terms = set(lexical.words(whole))
        if len(terms) != 1:
            continue
        word = terms.pop()
        if len(word) >= MIN_LETTERS and word.isalpha():
            out.append((lexical.stem(word), spelled(states, rows)[1]))
    return out


@dataclass
class WordSenses:
    """Sums of unit-length word states and their counts, per stemmed word, for one batch of
    texts; merged into the index's by its store."""

    sums: dict[str, np.ndarray] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)

    def add(self, states: TokenStates) -> None:
        import numpy as np

        for word, rows in words_of(states):
            seen = self.counts.get(word, 0)
            if seen >= CONTEXTS:
                continue
            vector = states.vectors[rows].mean(axis=0)
            vector = vector / max(float(np.linalg.norm(vector)), 1e-12)
            if seen:
                self.sums[word] += vector
            else:
                self.sums[word] = vector.astype(np.float32)
            self.counts[word] = seen + 1
