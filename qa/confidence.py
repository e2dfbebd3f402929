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
is evidence of nothing to find). Spelling cannot see that "duta besar" answers "ambassador", so
qa.alignment also matches each of the question's words to its closest token of the top
paragraph in context, in either language; for a question whose words the bridge mapped into
the index's (qa.bridge) the word share is counted through the mapped words. The share of the
question's words the index knows at all marks the cross-language regime, where the score
signals get their own slope.

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
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from difflib import SequenceMatcher
from typing import TYPE_CHECKING

from index.corpus import lexical
from index.models import DEFAULT_MODEL
from qa.types import Hit

if TYPE_CHECKING:
    from qa.bridge import Crossing

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
MEANS = {'top': 0.86763, 'lead': 0.04267, 'z': 4.49471, 'sentence': 0.83184, 'bridged_words': 0.49093,
         'foreign': 0.29216, 'top_x_foreign': 0.23461, 'lead_x_foreign': 0.00463,
         'sentence_x_foreign': 0.23176, 'aligned': 0.65444, 'aligned_x_foreign': 0.16862}
SCALES = {'top': 0.06251, 'lead': 0.03801, 'z': 4.48927, 'sentence': 0.0474, 'bridged_words': 0.269,
          'foreign': 0.3668, 'top_x_foreign': 0.29143, 'lead_x_foreign': 0.00818,
          'sentence_x_foreign': 0.28848, 'aligned': 0.10933, 'aligned_x_foreign': 0.20833}
WEIGHTS = {'top': -0.46525, 'lead': 1.2465, 'z': 0.41439, 'sentence': 1.19581, 'bridged_words': 0.72238,
           'foreign': -2.96918, 'top_x_foreign': -4.47661, 'lead_x_foreign': 0.27195,
           'sentence_x_foreign': 5.20851, 'aligned': 0.45472, 'aligned_x_foreign': 2.71363}
INTERCEPT = -0.11989


@dataclass(frozen=True)
class Signals:
    top: float       # fused score of the top hit
    lead: float      # top minus the mean of the next DEPTH - 1
    z: float         # that lead in standard deviations of the next DEPTH - 1
    sentence: float  # cosine of the chosen answer sentence
    words: float     # share of the question's content words the top paragraph mentions
    coverage: float  # share of the question's content words the index knows at all
    aligned: float | None = None  # qa.alignment's word coverage by the top paragraph, any language
    # `words` with each word the index lacks counted through its mapped words (qa.bridge);
    # None for a question the bridge did not map (then it is `words`)
    bridged_words: float | None = None

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


def features(s: Signals) -> dict[str, float]:
    """What the logistic model reads. Where the index knows few of the question's words (a
    question in another language than the articles) the cosines are compressed, so the score
    signals get their own slope there: each is also weighted by that foreign share. The word
    evidence it reads is `bridged_words`, which is `words` for every question the bridge did
    not map; plain `words` stays here for benchmarks/honest_dev.py to compare."""
    foreign = 1.0 - s.coverage
    # No content word to align (or no token states) is no evidence either way: the mean.
    aligned = MEANS["aligned"] if s.aligned is None else s.aligned
    bridged_words = s.words if s.bridged_words is None else s.bridged_words
    return {"top": s.top, "lead": s.lead, "z": s.z, "sentence": s.sentence, "words": s.words,
            "bridged_words": bridged_words, "foreign": foreign, "top_x_foreign": s.top * foreign,
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
    return bridged_word_share(terms, (), hit)


def bridged_word_share(known: Sequence[str], mapped: Sequence[tuple[str, Sequence[str]]],
                       hit: Hit) -> float:
    """Share of the question's words the paragraph mentions, a word the index lacks counting
    as present when one of the corpus words it was mapped to is (`known`, `mapped`: a
    qa.bridge crossing's): an English question's own words are never in an Indonesian
    paragraph, so `word_share` says nothing for it, while "ambassador" searched as "duta"
    can be found or missed like any Indonesian word. No words at all is no evidence (0.5)."""
    units = [(t,) for t in known] + [tuple(found) for _, found in mapped]
    if not units:
        return 0.5
    present = paragraph_terms(hit)
    return sum(any(mentions(t, present) for t in unit) for unit in units) / len(units)


def signals(question: str, hits: Sequence[Hit], sentence_score: float, coverage: float,
            aligned: float | None = None, bridged: bool = False,
            crossing: Crossing | None = None, topic: Sequence[str] = ()) -> Signals:
    """`hits`: the retrieved list, best first (at least DEPTH of them where the index has so
    many); `sentence_score`: the top hit's answer-sentence cosine; `coverage`: the index's
    vocabulary coverage of the question (the search already has it); `aligned`: the top
    hit's `qa.alignment.aligned`; `bridged`: the word search spoke for the question's mapped
    words (qa.bridge), as it did wherever `crossing` (that mapping) is given; `topic`: for a
    follow-up read in its conversation (qa.followup), the terms of the topic's earlier
    questions that the index knows (`topic_terms`).

    A follow-up read in its conversation is judged as it was read. Its words are looked for
    together with its topic's: "Sekarang umurnya berapa?" asks about whom the earlier
    question named, and alone it names nothing the answer could mention. Its `lead` is read
    in the order shown, the discussed article's bonus included (a bridged question's from its
    dense cosines, as always), but its `top` is the search's own score: the coefficients
    were fitted on search scores, and a score with the bonus sat beyond any of them, where
    the top score's negative weight flagged right answers (the dev conversations,
    benchmarks/RESULTS.md)."""
    bridged = bridged or crossing is not None
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
    if not bridged or hits[0].dense_score is None:  # a dense cosine never has the bonus
        top -= hits[0].context_bonus
    return Signals(top=top, lead=lead, z=lead / spread, sentence=sentence_score,
                   words=word_share(_with_topic(lexical.query_terms(question), topic), hits[0]),
                   coverage=coverage, aligned=aligned,
                   bridged_words=None if crossing is None else bridged_word_share(
                       _with_topic(crossing.known, topic), crossing.mapped, hits[0]))


def topic_terms(earlier: Sequence[str], known: Callable[[str], bool]) -> list[str]:
    """The terms of a conversation's earlier questions that the index knows (`known`), each
    once. An earlier question's word the index lacks (an English word over Indonesian
    articles) could never be found in an answer, so it is no evidence either way here."""
    return [t for t in dict.fromkeys(t for q in earlier for t in lexical.query_terms(q)) if known(t)]


def _with_topic(terms: Sequence[str], topic: Sequence[str]) -> Sequence[str]:
    """`terms` and then the topic's terms not among them; `terms` as they are without a topic."""
    return list(dict.fromkeys([*terms, *topic])) if topic else terms


def is_calibrated(model: str) -> bool:
    return model == CALIBRATED_FOR


def probability(s: Signals) -> float:
    values = features(s)
    z = INTERCEPT + sum(w * (values[k] - MEANS[k]) / SCALES[k] for k, w in WEIGHTS.items())
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
