"""How well the top paragraph covers each of the question's words, read from the encoder's
token states, so it works across languages.

The word evidence in qa.confidence matches spellings: it sees that a paragraph about
"Rusia" answers a question about "Russian", but not that "memanggil" is "summoned" or "duta
besar" "ambassador". An English question over Indonesian news therefore looked like a
question about something the articles never mention, and its scores alone could not tell it
from an everyday question over the same article. Token states of a middle encoder layer put
a word and its translation close together in context, so each content word of the question
is matched to its closest token in the paragraph; the mean of those best matches is high
when every word has a counterpart, and drops when one has none ("capital" and "France" over
a paragraph about an ambassador).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from index.corpus import lexical
from index.models.token_states import words as pieces_by_word

if TYPE_CHECKING:
    from index.models.token_states import TokenStates
    from qa.types import Hit


class TokenEncoder(Protocol):
    def token_states(self, text: str, side: str = "query") -> TokenStates: ...


def content_words(states: TokenStates) -> list[list[int]]:
    """Row numbers of each word of the text (pieces joined at word starts), leaving out stop
    words and words without a letter or digit: a question's "who" or "?" has no counterpart
    to look for."""
    out = []
    for rows in pieces_by_word(states):
        word = "".join(c for r in rows for c in states.pieces[r].casefold() if c.isalnum())
        if word and word not in lexical.QUERY_STOP_WORDS:
            out.append(rows)
    return out


def coverage(question: TokenStates, paragraph: TokenStates) -> float | None:
    """Mean over the question's content words of the best cosine any paragraph token reaches
    with any of the word's pieces; None without content words or paragraph tokens."""
    words = content_words(question)
    if not words or not len(paragraph.pieces):
        return None
    best = (question.vectors @ paragraph.vectors.T).max(axis=1)
    return float(sum(max(best[r] for r in rows) for rows in words) / len(words))


def aligned(encoder: TokenEncoder, question: str, hit: Hit) -> float | None:
    """`coverage` of the question by the hit's paragraph text (the passage side's prompt)."""
    return coverage(encoder.token_states(question, "query"), encoder.token_states(hit.text, "passage"))
