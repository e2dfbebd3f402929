"""The short answer: a name, date, number or short phrase taken verbatim from the top
passage's answer sentence, shown above the passages only when qa is sure of it.

No reader model installs offline here, so each candidate span (qa.answer_spans) is scored
by a logistic model over evidence a reader of the sentence would use:
- the span's form against what the question asks for (a "kapan/when" question wants a
  date; "siapa/who" a name, and a role word like "Direktur" is no name);
- where it stands: next to the words that frame the question word (the subject right
  before the asked verb, "Korea Selatan telah memanggil ..." for "Siapa yang memanggil
  ...?"; the agent after "oleh/by"; the type noun before it, "topan Katrina" for "topan
  apa"), in apposition, after a copula;
- how much of the question the sentence and its neighbourhood restate, and whether the
  names the question gives are there at all;
- agreement: the same span in the other top passages;
- how sure the answer is that its top passage answers.
The weights are fitted on the dev sets by benchmarks/short_answer_dev.py (cross-validated
figures in benchmarks/RESULTS.md). The best candidate is shown only when its probability
clears THRESHOLD and leads the next distinct span by MARGIN: a wrong short answer costs
more than none.

Pure and cheap: regular expressions, the lexical stemmer the index already uses and a dot
product; no model call.
"""
from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace

from index.corpus import lexical
from qa.answer_spans import BY_WORDS, CONNECTORS, COPULAS, ORGANISATION_WORDS, \
    PLACE_PREPOSITIONS, ROLE_WORDS, UNITS, Span, Token, norm, spans, used_by_question
from qa.question_kind import AUX_WORDS, QuestionShape, read_question
from qa.types import AnswerPassage, Hit, ShortAnswer


AGREEMENT_DEPTH = 5  # passages read for agreement, and re-ordered by their evidence
# Each of the first AGREEMENT_DEPTH passages whose best span clears THRESHOLD gains up to this
# much, in proportion to how far it clears it (`by_evidence`); measured on the dev sets by
# benchmarks/evidence_dev.py.
EVIDENCE_WEIGHT = 0.02
THRESHOLD = 0.5
MARGIN = 0.1
# Below this share of the question's words known to the index (an English question over
# Indonesian articles), the sentence cannot restate the question, so where a span stands
# says nothing: right about half the time on xling-en (benchmarks/RESULTS.md). None then.
MIN_COVERAGE = 0.7
# Fitted by `python benchmarks/short_answer_dev.py --sets facqa,tydi,xling --fit` on FacQA, TyDi and
# xling questions; a name absent here weighs nothing.
INTERCEPT = -2.8712
WEIGHTS: dict[str, float] = {
    'after_copula': -0.1365,
    'after_frame': 1.2719,
    'agent': -2.6053,
    'agreement': 0.2893,
    'apposition': 0.2703,
    'asks_name': 0.2545,
    'attributes_here': 0.1832,
    'before_frame': -0.3685,
    'capital': 1.0074,
    'close': 0.3476,
    'confidence': 0.6428,
    'counts_else': -0.0333,
    'date:after_frame': 0.4035,
    'date:apposition': 1.1797,
    'date:asked': 1.6725,
    'date:at': -0.5553,
    'date:attributes_here': 1.0237,
    'date:before_frame': -0.5649,
    'date:capital': 4.9105,
    'date:names_here': 0.4938,
    'date:near': 0.3389,
    'date:one_word': 0.6652,
    'date:touching': 0.2811,
    'date:type_noun': 0.0296,
    'far': -0.3206,
    'form:name': -0.4501,
    'form:phrase': -0.1436,
    'has_question_word': 0.7794,
    'lead': 0.5759,
    'left_words': 0.3341,
    'name:after_copula': 0.7890,
    'name:after_frame': -0.3158,
    'name:apposition': -0.5157,
    'name:asked': -0.3770,
    'name:at': -0.9910,
    'name:attributes_here': 0.1114,
    'name:before_frame': -1.0744,
    'name:capital': 0.5025,
    'name:form_name': -0.0078,
    'name:form_phrase': -0.5528,
    'name:names_here': 0.2693,
    'name:near': 0.8290,
    'name:one_word': -0.2871,
    'name:organisation': -1.1100,
    'name:role': -0.0194,
    'name:subject_of_verb': -0.2226,
    'name:titled': 0.0628,
    'name:touching': 0.5943,
    'name:type_noun': 2.2281,
    'names_here': 0.0507,
    'near': 1.1402,
    'near6': 0.3594,
    'no_names': 0.2835,
    'number': -0.5228,
    'number:after_copula': -0.0839,
    'number:after_frame': -2.6631,
    'number:apposition': 1.0545,
    'number:asked': 1.3388,
    'number:at': -0.0248,
    'number:attributes_here': 0.8018,
    'number:before_frame': 2.1750,
    'number:capital': -5.3421,
    'number:names_here': -0.0334,
    'number:near': 0.5115,
    'number:one_word': -0.3038,
    'number:organisation': 5.0199,
    'number:role': -1.0976,
    'number:touching': 0.9227,
    'number:type_noun': -0.7854,
    'one_word': -1.1361,
    'organisation': 0.0060,
    'phrase:after_copula': -0.3689,
    'phrase:after_frame': -0.8835,
    'phrase:agent': -2.6053,
    'phrase:apposition': 0.5616,
    'phrase:before_frame': 0.2795,
    'phrase:one_word': -0.4807,
    'phrase:subject_of_verb': 0.5012,
    'phrase:touching': 0.2213,
    'phrase:type_noun': 1.6065,
    'place:after_frame': 0.0785,
    'place:asked': -0.2532,
    'place:at': 1.3671,
    'place:attributes_here': 0.0708,
    'place:before_frame': 2.2783,
    'place:capital': 1.3058,
    'place:form_name': -0.7690,
    'place:form_phrase': 0.0292,
    'place:names_here': -0.1002,
    'place:near': -0.0037,
    'place:one_word': 0.7986,
    'place:organisation': -0.9120,
    'place:role': -0.7076,
    'place:touching': -0.6650,
    'place:type_noun': -2.2872,
    'right_words': 0.0877,
    'rivals': -1.7983,
    'role': -0.1667,
    'shared': -0.6327,
    'subject_of_verb': 0.2179,
    'thing:after_frame': -0.2253,
    'thing:asked': -0.1012,
    'thing:at': -0.2514,
    'thing:attributes_here': -0.3126,
    'thing:before_frame': 1.8612,
    'thing:capital': 0.5067,
    'thing:form_name': -0.4175,
    'thing:form_phrase': 0.1334,
    'thing:names_here': -0.1476,
    'thing:near': 1.1036,
    'thing:one_word': 0.5351,
    'thing:organisation': 0.8260,
    'thing:role': -0.1465,
    'thing:touching': 0.3156,
    'thing:type_noun': -2.3631,
    'titled': 0.0628,
    'touching': -0.3190,
    'type_noun': 0.7658,
    'unit_asked': 0.3088,
    'word_after': -0.2813,
    'word_before': 0.2703,
    'words': 0.1358,
}


def _distance(c: Span, used: list[bool]) -> int:
    """Tokens between the span and the nearest word the question uses."""
    best = 99
    for i, u in enumerate(used):
        if u and i < c.first:
            best = min(best, c.first - i - 1)
        elif u and i > c.last:
            best = min(best, i - c.last - 1)
    return best


def _skip_back(tokens: list[Token], k: int) -> int:
    while k >= 0 and (tokens[k].low in AUX_WORDS or tokens[k].low in COPULAS
                      or tokens[k].text in ",(\"“"):
        k -= 1
    return k


def _skip_on(tokens: list[Token], k: int) -> int:
    while k < len(tokens) and (tokens[k].low in AUX_WORDS or tokens[k].text in ",)\"”"):
        k += 1
    return k


def _counts_something_else(tokens: list[Token], c: Span, q: QuestionShape) -> bool:
    """"dua kapal" for "berapa anak buah ...": the number counts a noun the question does
    not name (a unit or a question word would have been taken into the span)."""
    last = tokens[c.last]
    if last.low in UNITS or lexical.stem(last.low) in q.stems:
        return False
    nxt = tokens[c.last + 1] if c.last + 1 < len(tokens) else None
    return bool(nxt and nxt.is_word and nxt.text.isalpha() and nxt.text.islower()
                and nxt.low not in lexical.QUERY_STOP_WORDS and len(nxt.text) > 3)


def features(q: QuestionShape, top: AnswerPassage, others: Sequence[Hit],
             confidence: float | None) -> list[tuple[Span, list[Token], dict[str, float]]]:
    """Each candidate span of the top passage's answer sentence with its evidence, named as
    WEIGHTS names it (kind-specific evidence "<kind>:<evidence>", form-specific
    "<form>:<evidence>"). Only the answer sentence is read: reading the passage's other
    sentences found more right spans but picked fewer (benchmarks/RESULTS.md). `others`: the
    next distinct hits as ranked, however many passages are shown, so `-k` changes nothing."""
    text = top.hit.text
    tokens, cands = spans(q, text, top.sentence_start, top.sentence_end)
    stems = [lexical.stem(t.low) if t.is_word else None for t in tokens]
    present = {s for s in stems if s}
    words = {t.low for t in tokens if t.is_word}
    lead = top.hit.score - others[0].score if others else 0.1
    names_here = len(q.names & words) / len(q.names) if q.names else 1.0
    attributes_here = len(q.attributes & present) / len(q.attributes) if q.attributes else 1.0
    sentence = {
        "lead": min(max(lead, 0.0), 0.1) * 10,
        "confidence": confidence if confidence is not None else 0.5,
        "shared": len(q.stems & present) / len(q.stems) if q.stems else 0.0,
        "names_here": names_here, "attributes_here": attributes_here,
        "no_names": float(not q.names), "asks_name": float(q.asks_name),
        f"{q.kind}:asked": 1.0, f"{q.kind}:names_here": names_here,
        f"{q.kind}:attributes_here": attributes_here,
    }
    context = _Context(tokens, stems, used_by_question(tokens, q),
                       [f" {norm(h.text)} " for h in others[:AGREEMENT_DEPTH - 1]],
                       Counter(c.form for c in cands))
    return [(c, tokens, sentence | _span_evidence(q, c, context)) for c in cands]


@dataclass(frozen=True)
class _Context:
    """The answer sentence as the span evidence reads it."""

    tokens: list[Token]
    stems: list[str | None]
    used: list[bool]  # content words the question also uses
    others: list[str]  # the other passages' words, space-padded
    forms: Counter  # candidates per form


def _span_evidence(q: QuestionShape, c: Span, x: _Context) -> dict[str, float]:
    tokens, stems, used, kind = x.tokens, x.stems, x.used, q.kind
    inside = [tokens[i] for i in range(c.first, c.last + 1) if tokens[i].is_word]
    low = [t.low for t in inside]
    k = _skip_back(tokens, c.first - 1)
    k2 = _skip_on(tokens, c.last + 1)
    before_frame = k >= 0 and q.before is not None and stems[k] == q.before
    after_frame = k2 < len(tokens) and q.after is not None and stems[k2] == q.after
    near_left = {stems[i] for i in range(max(0, c.first - 4), c.first) if used[i]}
    near_right = {stems[i] for i in range(c.last + 1, min(len(tokens), c.last + 5)) if used[i]}
    near = len(near_left | near_right) / max(len(q.stems), 1)
    type_noun = q.before is not None and q.before in stems[max(0, c.first - 3):c.first]
    d = _distance(c, used)
    capital = all(t.capitalised for t in inside if t.low not in CONNECTORS)
    role = any(w in ROLE_WORDS for w in low)
    organisation = any(w in ORGANISATION_WORDS for w in low)
    verb = bool(q.verbs) and k2 < len(tokens) and stems[k2] in q.verbs
    by = q.passive and c.first > 0 and tokens[c.first - 1].low in BY_WORDS
    at = c.first > 0 and tokens[c.first - 1].low in PLACE_PREPOSITIONS
    f = {
        "form:name": float(c.form == "name"), "form:phrase": float(c.form == "phrase"),
        "capital": float(capital), "number": float(any(t.is_number for t in inside)),
        "touching": float(d == 0), "close": float(0 < d <= 2), "near6": float(2 < d <= 6),
        "far": float(d > 6),
        "before_frame": float(before_frame), "after_frame": float(after_frame),
        "word_before": float(k >= 0 and used[k]),
        "word_after": float(k2 < len(tokens) and used[k2]),
        "near": near, "left_words": min(len(near_left), 3),
        "right_words": min(len(near_right), 3), "type_noun": float(type_noun),
        "has_question_word": float(any(used[i] for i in range(c.first, c.last + 1))),
        "subject_of_verb": float(verb), "agent": float(by), "titled": min(c.titled, 3),
        "apposition": float(c.first > 0 and tokens[c.first - 1].text in ",("
                            and c.last + 1 < len(tokens) and tokens[c.last + 1].text in ",)"),
        "after_copula": float(c.first > 0 and tokens[c.first - 1].low in COPULAS),
        "agreement": min(sum(1 for o in x.others if f" {norm(' '.join(low))} " in o), 2),
        "rivals": min(x.forms[c.form] - 1, 5) / 5, "words": min(len(inside), 6),
        "one_word": float(len(inside) == 1),
        "role": float(role), "organisation": float(organisation),
        "unit_asked": float(kind == "number" and any(w in q.words or f"{w}kah" in q.words
                                                     for w in low)),
        "counts_else": float(kind == "number" and _counts_something_else(tokens, c, q)),
        f"{kind}:form_name": float(c.form == "name"),
        f"{kind}:form_phrase": float(c.form == "phrase"),
        f"{kind}:capital": float(capital), f"{kind}:before_frame": float(before_frame),
        f"{kind}:after_frame": float(after_frame), f"{kind}:role": float(role),
        f"{kind}:organisation": float(organisation), f"{kind}:at": float(at),
        f"{kind}:near": near, f"{kind}:type_noun": float(type_noun),
        f"{kind}:touching": float(d == 0), f"{kind}:one_word": float(len(inside) == 1),
    }
    for name in ("subject_of_verb", "agent", "before_frame", "after_frame", "apposition",
                 "after_copula", "type_noun", "touching", "one_word", "titled"):
        f[f"{c.form}:{name}"] = f[name]
    return f


def probability(f: dict[str, float], weights: dict[str, float] | None = None,
                intercept: float | None = None) -> float:
    w = WEIGHTS if weights is None else weights
    z = (INTERCEPT if intercept is None else intercept) + sum(w.get(k, 0.0) * v for k, v in f.items())
    return 1 / (1 + math.exp(-max(min(z, 50.0), -50.0)))


def candidates(question: str, top: AnswerPassage | None, others: Sequence[Hit] = (),
               confidence: float | None = None) -> list[ShortAnswer]:
    """Every candidate span of the top passage's answer sentence with its probability, best
    first (one per distinct text); empty when the question asks for no span."""
    q = read_question(question) if top is not None else None
    if q is None:
        return []
    best: dict[str, ShortAnswer] = {}
    for span, tokens, f in features(q, top, others, confidence):
        a, b = tokens[span.first].start, tokens[span.last].end
        p = probability(f)
        key = norm(top.hit.text[a:b])
        if key not in best or best[key].probability < p:
            best[key] = ShortAnswer(text=top.hit.text[a:b], passage_rank=top.rank, start=a,
                                    end=b, probability=round(p, 4), kind=q.kind)
    return sorted(best.values(), key=lambda s: -s.probability)


def evidence_bonus(p: float) -> float:
    """What a passage whose best span has probability `p` gains in `by_evidence`."""
    return EVIDENCE_WEIGHT * max(p - THRESHOLD, 0.0) / (1.0 - THRESHOLD)


def span_evidence(q: QuestionShape, passages: Sequence[AnswerPassage],
                  confidence: float | None = None, weights: dict[str, float] | None = None,
                  intercept: float | None = None) -> list[float]:
    """The probability of the best span in each passage's answer sentence, each read as if
    it were the top passage and the others its rivals (`weights`: the benchmark's
    cross-validated ones; default the shipped)."""
    out = []
    for i, p in enumerate(passages):
        others = [o.hit for j, o in enumerate(passages) if j != i]
        out.append(max((probability(f, weights, intercept)
                        for _, _, f in features(q, p, others, confidence)), default=0.0))
    return out


def by_evidence(question: str, passages: Sequence[AnswerPassage],
                confidence: float | None = None, coverage: float = 1.0) -> list[AnswerPassage]:
    """`passages` (best first) with the first AGREEMENT_DEPTH re-ordered by the ranking's
    score plus `evidence_bonus` of the best span in each one's answer sentence, read as if it
    were the top passage; ranks renumbered, the bonus in the score.

    Why: a paragraph that merely shares the question's topic and words scores about as well
    as the one that answers it, and the span evidence tells them apart: "Siapa duta besar
    Rusia?" finds "duta besar Georgiy Zinoviev" in one paragraph and no name beside "duta
    besar" in the other. Only a span the extractor would show lifts its passage: a bonus
    for every span's probability also lifted well-shaped wrong spans over answers that are
    no clean span, and cost the translated questions more than it gained
    (benchmarks/RESULTS.md). Where the extractor gives no short answer (a question asking
    for no span, or too few of its words known) the order stands."""
    q = read_question(question) if passages and coverage >= MIN_COVERAGE else None
    if q is None:
        return list(passages)
    head = list(passages[:AGREEMENT_DEPTH])
    read = [replace(p, hit=replace(p.hit, score=p.hit.score + evidence_bonus(best)))
            for p, best in zip(head, span_evidence(q, head, confidence))]
    read.sort(key=lambda p: -p.hit.score)  # stable: equal scores keep the ranking's order
    # The bonus is never negative, so the passages below the first few stay below.
    return [replace(p, rank=i + 1) for i, p in enumerate(read + list(passages[AGREEMENT_DEPTH:]))]


def short_answer(question: str, top: AnswerPassage | None, others: Sequence[Hit] = (),
                 confidence: float | None = None, coverage: float = 1.0) -> ShortAnswer | None:
    """The short answer to `question`, or None when the question asks for no span, the
    index knows too few of its words (`coverage`, the search's vocabulary coverage), or no
    candidate is probable enough."""
    if coverage < MIN_COVERAGE:
        return None
    ranked = candidates(question, top, others, confidence)
    if not ranked or ranked[0].probability < THRESHOLD:
        return None
    best = ranked[0]
    rival = next((r for r in ranked[1:] if r.end <= best.start or r.start >= best.end), None)
    if rival is not None and best.probability - rival.probability < MARGIN:
        # Two separate spans with about the same evidence: no way to tell which answers. A
        # span inside the best one ("Surabaya" in "Surabaya, Jawa Timur") is no rival.
        return None
    return best
