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
from dataclasses import dataclass

from index.corpus import lexical
from qa.answer_spans import AUX_WORDS, BY_WORDS, CONNECTORS, COPULAS, ORGANISATION_WORDS, \
    PLACE_PREPOSITIONS, ROLE_WORDS, UNITS, Span, Token, norm, spans, used_by_question
from qa.question_kind import QuestionShape, read_question
from qa.types import AnswerPassage, Hit, ShortAnswer


AGREEMENT_DEPTH = 5  # passages read for agreement
THRESHOLD = 0.5
MARGIN = 0.1
# Below this share of the question's words known to the index (an English question over
# Indonesian articles), the sentence cannot restate the question, so where a span stands
# says nothing: right about half the time on xling-en (benchmarks/RESULTS.md). None then.
MIN_COVERAGE = 0.7
# Fitted by `python benchmarks/short_answer_dev.py --sets facqa,tydi,xling --fit` on FacQA, TyDi and
# xling questions; a name absent here weighs nothing.
INTERCEPT = -2.8904
WEIGHTS: dict[str, float] = {
    'after_copula': -0.1348,
    'after_frame': 1.3017,
    'agent': -2.6041,
    'agreement': 0.2927,
    'apposition': 0.2751,
    'asks_name': 0.2556,
    'attributes_here': 0.1957,
    'before_frame': -0.3739,
    'capital': 1.0108,
    'close': 0.3422,
    'confidence': 0.6562,
    'counts_else': -0.1479,
    'date:after_frame': 0.4025,
    'date:apposition': 1.1780,
    'date:asked': 1.6809,
    'date:at': -0.5559,
    'date:attributes_here': 1.0209,
    'date:before_frame': -0.5659,
    'date:capital': 4.9143,
    'date:names_here': 0.4970,
    'date:near': 0.3578,
    'date:one_word': 0.6694,
    'date:touching': 0.2868,
    'date:type_noun': 0.0350,
    'far': -0.3160,
    'form:name': -0.4485,
    'form:phrase': -0.1376,
    'has_question_word': 0.7972,
    'lead': 0.5738,
    'left_words': 0.3340,
    'name:after_copula': 0.7910,
    'name:after_frame': -0.3141,
    'name:apposition': -0.5153,
    'name:asked': -0.3722,
    'name:at': -0.9887,
    'name:attributes_here': 0.1064,
    'name:before_frame': -1.0671,
    'name:capital': 0.5040,
    'name:form_name': -0.0045,
    'name:form_phrase': -0.5480,
    'name:names_here': 0.2702,
    'name:near': 0.8303,
    'name:one_word': -0.2817,
    'name:organisation': -1.0992,
    'name:role': -0.0212,
    'name:subject_of_verb': -0.2239,
    'name:titled': 0.0630,
    'name:touching': 0.5970,
    'name:type_noun': 2.2279,
    'names_here': 0.0548,
    'near': 1.1522,
    'near6': 0.3620,
    'no_names': 0.2880,
    'number': -0.5220,
    'number:after_copula': -0.0192,
    'number:after_frame': -2.4879,
    'number:apposition': 1.1438,
    'number:asked': 1.3014,
    'number:at': 0.1100,
    'number:attributes_here': 0.8929,
    'number:before_frame': 2.0069,
    'number:capital': -5.2929,
    'number:names_here': -0.0307,
    'number:near': 0.4895,
    'number:one_word': -0.3204,
    'number:organisation': 0.4668,
    'number:role': -0.3526,
    'number:touching': 0.7997,
    'number:type_noun': -0.6921,
    'one_word': -1.1413,
    'organisation': -0.0083,
    'phrase:after_copula': -0.3693,
    'phrase:after_frame': -0.8917,
    'phrase:agent': -2.6041,
    'phrase:apposition': 0.5582,
    'phrase:before_frame': 0.2857,
    'phrase:one_word': -0.4793,
    'phrase:subject_of_verb': 0.5023,
    'phrase:touching': 0.2278,
    'phrase:type_noun': 1.6020,
    'place:after_frame': 0.0772,
    'place:asked': -0.2514,
    'place:at': 1.3683,
    'place:attributes_here': 0.0664,
    'place:before_frame': 2.2710,
    'place:capital': 1.3051,
    'place:form_name': -0.7674,
    'place:form_phrase': 0.0310,
    'place:names_here': -0.0986,
    'place:near': 0.0110,
    'place:one_word': 0.8004,
    'place:organisation': -0.8970,
    'place:role': -0.7085,
    'place:touching': -0.6610,
    'place:type_noun': -2.2822,
    'right_words': 0.0856,
    'rivals': -1.7940,
    'role': -0.1655,
    'shared': -0.6574,
    'subject_of_verb': 0.2181,
    'thing:after_frame': -0.2310,
    'thing:asked': -0.0987,
    'thing:at': -0.2512,
    'thing:attributes_here': -0.3163,
    'thing:before_frame': 1.8539,
    'thing:capital': 0.5093,
    'thing:form_name': -0.4177,
    'thing:form_phrase': 0.1364,
    'thing:names_here': -0.1481,
    'thing:near': 1.1173,
    'thing:one_word': 0.5365,
    'thing:organisation': 0.8376,
    'thing:role': -0.1490,
    'thing:touching': 0.3208,
    'thing:type_noun': -2.3587,
    'titled': 0.0630,
    'touching': -0.3209,
    'type_noun': 0.7647,
    'unit_asked': -0.0141,
    'word_after': -0.3108,
    'word_before': 0.2670,
    'words': 0.1360,
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
