"""Does anything in the index answer the question? A calibrated probability, so the CLI and
the chat can say "no confident answer" instead of dressing the closest noise up as an answer.

A user's real case is a question whose answer is simply not in the index: an everyday
question over a news archive, a question about an article nobody added. A similarity score
alone is a poor judge of that: e5 cosines sit in a narrow band for related and unrelated text
alike, and a cross-language question's cosines are compressed (the right answer to an English
question over Indonesian news scores like noise to an Indonesian one). So the judgement reads
the top score *relative to this question's own scores* (its lead over the other candidates,
also in their standard deviations), the answer sentence's cosine and the words: the share of
the question's content words the top paragraph mentions, a word the index has never seen
counting as absent (an Indonesian question about "Prancis" over articles that never mention it
is evidence of nothing to find). Spelling cannot see that "memanggil" answers "summoned", so
qa.alignment also matches each of the question's words to its closest token of the top
paragraph in context, in either language. The share of the question's words the index knows
at all marks the cross-language regime, where the score signals get their own slope.

The coefficients are fitted by benchmarks/honest_dev.py on benchmarks/calibration_data.py's
rows (dev sets in both languages: answerable questions, the same questions with their answer
removed from the pool, questions asked of another set's pool, everyday questions), cross-
validated by question, with the intercept moved so that qa.types.THRESHOLD is the operating
point chosen there; figures, and where they fall short, in benchmarks/RESULTS.md. They hold for the model
they were fitted with; another model's scores sit elsewhere, so its answers carry no judgement
(`Answer.confident` is None) rather than a borrowed one.
"""
from __future__ import annotations

import math
import re
import statistics
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from difflib import SequenceMatcher

from index.corpus import lexical
from index.models import DEFAULT_MODEL
from qa.types import Hit

# The model the coefficients below were fitted with. Fitting a new default model means
# fitting these again; until then this must keep naming the model they were fitted with.
CALIBRATED_FOR = DEFAULT_MODEL
# Fused scores of this many hits (best first, before near-duplicates are folded) form the
# question's own score distribution; fixed, so `-k` does not change the judgement.
DEPTH = 10
# A spread below this is treated as this: a handful of near-equal scores is not a distribution.
MIN_SPREAD = 0.005

# Fitted by benchmarks/honest_dev.py (see benchmarks/RESULTS.md) on the model's features
# (`features`), standardised: (x - mean) / scale.
MEANS = {'top': 0.87021, 'lead': 0.04434, 'z': 4.8112, 'sentence': 0.83259, 'words': 0.41411,
         'foreign': 0.28871, 'top_x_foreign': 0.23305, 'lead_x_foreign': 0.00548,
         'sentence_x_foreign': 0.22945, 'aligned': 0.64637, 'aligned_x_foreign': 0.16017}
SCALES = {'top': 0.06058, 'lead': 0.037, 'z': 4.33271, 'sentence': 0.04664, 'words': 0.31856,
          'foreign': 0.36579, 'top_x_foreign': 0.29186, 'lead_x_foreign': 0.00834,
          'sentence_x_foreign': 0.28837, 'aligned': 0.11761, 'aligned_x_foreign': 0.19922}
WEIGHTS = {'top': -0.2669, 'lead': 1.16361, 'z': 0.46281, 'sentence': 1.07502, 'words': 0.37405,
           'foreign': -0.49656, 'top_x_foreign': -8.50297, 'lead_x_foreign': 0.35136,
           'sentence_x_foreign': 6.22018, 'aligned': 0.86945, 'aligned_x_foreign': 3.17501}
INTERCEPT = -0.1307


@dataclass(frozen=True)
class Signals:
    top: float       # fused score of the top hit
    lead: float      # top minus the mean of the next DEPTH - 1
    z: float         # that lead in standard deviations of the next DEPTH - 1
    sentence: float  # cosine of the chosen answer sentence
    words: float     # share of the question's content words the top paragraph mentions
    coverage: float  # share of the question's content words the index knows at all
    aligned: float | None = None  # qa.alignment's word coverage by the top paragraph, any language

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


def features(s: Signals) -> dict[str, float]:
    """What the logistic model reads. Where the index knows few of the question's words (a
    question in another language than the articles) the cosines are compressed, so the score
    signals get their own slope there: each is also weighted by that foreign share."""
    foreign = 1.0 - s.coverage
    # No content word to align (or no token states) is no evidence either way: the mean.
    aligned = MEANS["aligned"] if s.aligned is None else s.aligned
    return {"top": s.top, "lead": s.lead, "z": s.z, "sentence": s.sentence, "words": s.words,
            "foreign": foreign, "top_x_foreign": s.top * foreign,
            "lead_x_foreign": s.lead * foreign, "sentence_x_foreign": s.sentence * foreign,
            "aligned": aligned, "aligned_x_foreign": aligned * foreign}


# Names and loanwords cross the two languages with small spelling shifts ("Russian"/"Rusia",
# "military"/"militer", "Moscow"/"Moskow"): a word this close to one of the paragraph's, with
# the same first letter, counts as present. Below 0.8 unrelated pairs start to match
# ("minister"/"menteri" is 0.67, "tentara"/"tentang" 0.71).
NEAR_SPELLING = 0.8
NEAR_MIN_LENGTH = 4


def paragraph_terms(hit: Hit) -> set[str]:
    return set(lexical.index_text(f"{hit.title} {hit.text}").split())


def mentions(term: str, present: set[str]) -> bool:
    """`term` (a stemmed word) is among `present`, or spelled nearly like one of them."""
    if term in present:
        return True
    if len(term) < NEAR_MIN_LENGTH or not term.isalpha():
        return False
    for word in present:
        if word[:1] != term[:1] or len(word) < NEAR_MIN_LENGTH or abs(len(word) - len(term)) > 3:
            continue
        pair = SequenceMatcher(None, term, word, autojunk=False)
        if pair.quick_ratio() >= NEAR_SPELLING and pair.ratio() >= NEAR_SPELLING:
            return True
    return False


def word_share(terms: Sequence[str], hit: Hit) -> float:
    """Share of `terms` the paragraph mentions; no content words at all is no evidence (0.5)."""
    if not terms:
        return 0.5
    present = paragraph_terms(hit)
    return sum(mentions(t, present) for t in terms) / len(terms)


def signals(question: str, hits: Sequence[Hit], sentence_score: float, coverage: float,
            aligned: float | None = None, bridged: bool = False) -> Signals:
    """`hits`: the retrieved list, best first (at least DEPTH of them where the index has so
    many); `sentence_score`: the top hit's answer-sentence cosine; `coverage`: the index's
    vocabulary coverage of the question (the search already has it); `aligned`: the top
    hit's `qa.alignment.aligned`; `bridged`: the word search spoke for the question's mapped
    words (qa.bridge)."""
    # The search's own scores (before any re-ranking bonus), in the order shown. A bridged
    # question's are read without their word bonus: the judgement was fitted on such
    # questions' scores when their word search was all but silent, and reading the bonus
    # kept fewer right answers (xling-en 0.861 against 0.868, benchmarks/RESULTS.md).
    if bridged:
        scores = [h.score if h.dense_score is None else h.dense_score for h in hits[:DEPTH]]
    else:
        scores = [h.score if h.fused_score is None else h.fused_score for h in hits[:DEPTH]]
    top, rest = scores[0], scores[1:]
    lead = top - statistics.fmean(rest) if rest else 0.0
    spread = max(statistics.pstdev(rest), MIN_SPREAD) if len(rest) > 1 else MIN_SPREAD
    return Signals(top=top, lead=lead, z=lead / spread, sentence=sentence_score,
                   words=word_share(lexical.query_terms(question), hits[0]), coverage=coverage,
                   aligned=aligned)


def is_calibrated(model: str) -> bool:
    return model == CALIBRATED_FOR


def probability(s: Signals) -> float:
    z = INTERCEPT + sum(WEIGHTS[k] * (v - MEANS[k]) / SCALES[k] for k, v in features(s).items())
    return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))


def missing_words(question: str, shown: Sequence[Hit]) -> list[str]:
    """The question's content words (as the user wrote them) that no shown passage contains."""
    present = set().union(*(paragraph_terms(h) for h in shown)) if shown else set()
    out: dict[str, str] = {}
    for match in re.finditer(r"\w+", question):
        word = match.group().casefold()
        if word in lexical.QUERY_STOP_WORDS:
            continue
        term = lexical.stem(word)
        if term and term not in out and not mentions(term, present):
            out[term] = match.group()
    return list(out.values())


def reason(missing: list[str], unknown: set[str]) -> str:
    """Why the judgement failed, in a few words: the words no shown passage has (from
    `missing_words`; `unknown`: those the index has never seen), or else a low score."""
    never = [w for w in missing if w in unknown]
    if never:
        return f"nothing in the index mentions {_listing(never)}"
    if missing:
        return f"the closest passages do not mention {_listing(missing)}"
    return "the closest passages score low for this question"


def _listing(words: list[str], most: int = 3) -> str:
    words = words[:most]
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]
