"""Re-rank the first few passages of a question in another language than the articles by how
well they cover each of its words.

An English question over Indonesian news has no lexical side (its words are not in the
index, so `qa.retrieve` silences word matches), and the dense cosine alone ranks it;
cross-language cosines are compressed, so the right paragraph and its neighbours score within
a few thousandths. Token states can say more: each content word of the question is matched
to its closest token of the paragraph (`qa.alignment`), so a paragraph with a counterpart for
"Russian" and "ambassador" beats one that only shares the topic. The coverage, times
`WEIGHT`, is added to the first `DEPTH` hits' scores; the rest keep theirs, and stay below
(the bonus is never negative).

It runs where the index knows less than `COVERAGE_BELOW` of the question's words: there it
stands in for the word matches that cannot be counted. Where the question shares the
articles' words, BM25 already does this job, re-ranking moved the dev sets by a few
thousandths either way, and its cost (an encoder pass per paragraph) is not paid. Depth,
weight and that threshold were measured on the dev sets for the default model
(benchmarks/rerank_dev.py, benchmarks/RESULTS.md), so it runs for that model only: another
model's middle layer means something else. The answer's judgement reads the top passage's
coverage from here rather than computing it again.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from index.models import DEFAULT_MODEL
from qa import alignment

if TYPE_CHECKING:
    from index.models.token_states import TokenStates
    from qa.types import Hit

MEASURED_FOR = DEFAULT_MODEL
DEPTH = 5
WEIGHT = 0.2
COVERAGE_BELOW = 0.7


def applies(model: str, coverage: float) -> bool:
    """Whether to re-rank a question over this model's index whose words the index knows in
    `coverage` share (`IndexStore.vocabulary_coverage`)."""
    return model == MEASURED_FOR and coverage < COVERAGE_BELOW


def rerank(encoder: alignment.TokenEncoder, question: str, hits: Sequence[Hit],
           asked: TokenStates | None = None) -> list[Hit]:
    """`hits` (best first) with the first `DEPTH` re-scored and re-ordered; each of those
    carries its coverage (`aligned`) and the score it had (`fused_score`). `asked`: the
    question's token states, when the search made them already (qa.bridge)."""
    head = list(hits[:DEPTH])
    if head and asked is None:
        asked = encoder.token_states(question, "query")
    if asked is None or not alignment.content_words(asked):
        return list(hits)  # nothing to match ("Where is he?"): the search's order stands
    read = []
    for hit in head:  # one at a time: a padded batch of paragraphs ran slower on CPU
        covered = alignment.coverage(asked, encoder.token_states(hit.text, "passage"))
        bonus = WEIGHT * max(covered or 0.0, 0.0)
        read.append(replace(hit, score=hit.score + bonus, fused_score=hit.score, aligned=covered))
    read.sort(key=lambda h: -h.score)  # stable: equal scores keep the search's order
    return read + list(hits[DEPTH:])


def as_needed(model: str, coverage: float, encoder: alignment.TokenEncoder, question: str,
              hits: Sequence[Hit], asked: TokenStates | None = None) -> list[Hit]:
    """`hits` re-ranked where `applies` says so, else as they are: the one call the answer
    path (and the calibration benchmark, which must see what it sees) makes."""
    if hits and applies(model, coverage):
        return rerank(encoder, question, hits, asked)
    return list(hits)
