"""Which sentence of a passage answers the question.

The embedding model's cosine between question and sentence carries most of the choice (it
works across languages), but at sentence level it favours the sentence that restates the
question over the one that answers it: the sentence that names the subject ("Kabupaten
Brebes adalah ...") beats the one that gives the asked-for fact ("Luas wilayahnya 1.902 km²").
Cheap signals correct that:
- the question's attribute words (content words outside names: "luas", "dibuka"), stemmed
  (index.corpus.lexical) so "diresmikan" meets "meresmikan": the subject's name is in every sentence
  about it, the attribute mostly only in the answering one;
- the expected answer type: a "kapan/when" question wants a sentence with a date or year,
  "berapa/how many" one with a number, "siapa/who" and "di mana/where" one that names someone
  or somewhere the question does not already name.
- a slight preference for the first sentence, which in encyclopaedic and news prose carries
  the core facts.
Plain overlap of all question words (names included) is kept as an option but weighted 0: it
rewarded restating sentences. The weights are chosen on the dev sets by
benchmarks/sentence_dev.py (see RESULTS.md).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from index.corpus import lexical


@dataclass(frozen=True)
class Weights:
    overlap: float = 0.05
    answer_type: float = 0.0
    first: float = 0.0
    attribute: float = 0.0


DEFAULT_WEIGHTS = Weights(overlap=0.0, answer_type=0.15, first=0.02, attribute=0.3)

_MONTHS = (r"januari|februari|maret|april|mei|juni|juli|agustus|september|oktober|november|"
           r"desember|january|february|march|may|june|july|august|october|december")
_DATE = re.compile(rf"\b(1[0-9]{{3}}|20[0-9]{{2}})\b|\b({_MONTHS})\b|abad", re.IGNORECASE)
_NUMBER = re.compile(r"\d|\b(satu|dua|tiga|empat|lima|enam|tujuh|delapan|sembilan|sepuluh|"
                     r"sebelas|puluh|ratus|ribu|juta|miliar|triliun|one|two|three|four|five|six|"
                     r"seven|eight|nine|ten|hundred|thousand|million|billion)\b", re.IGNORECASE)
_CAPITAL = re.compile(r"(?<!^)(?<![.!?]\s)\b[A-Z][\w-]+")

_TYPES = (
    ("date", re.compile(r"\b(kapan|kapankah|when|tahun berapa|tanggal berapa|what year|"
                        r"which year|pada tahun|sejak kapan)\b", re.IGNORECASE)),
    ("number", re.compile(r"\b(berapa|berapakah|how many|how much|how long|how old|how far|"
                          r"jumlah)\b", re.IGNORECASE)),
    ("name", re.compile(r"\b(siapa|siapakah|who|whom|whose|di ?mana|dimanakah|where|"
                        r"mana)\b", re.IGNORECASE)),
)


def answer_type(question: str) -> str | None:
    for name, pattern in _TYPES:
        if pattern.search(question):
            return name
    return None


def _type_match(kind: str | None, sentence: str, question_words: set[str]) -> float:
    if kind == "date":
        return 1.0 if _DATE.search(sentence) else 0.0
    if kind == "number":
        return 1.0 if _NUMBER.search(sentence) else 0.0
    if kind == "name":
        names = {m.group(0).casefold() for m in _CAPITAL.finditer(sentence)}
        return 1.0 if names - question_words else 0.0
    return 0.0


def attribute_terms(question: str) -> set[str]:
    """Stemmed content words of the question that are not part of a name: what is asked
    about the subject ("luas", "dibuka", "pendidikan"). The subject's name is in every
    sentence about it, the attribute mostly only in the one that answers."""
    names = {w.casefold() for m in _CAPITAL.finditer(question) for w in lexical.words(m.group(0))}
    first = lexical.words(question)[:1]
    return {lexical.stem(w) for w in lexical.words(question)
            if w not in names and w not in first and w not in lexical.QUERY_STOP_WORDS}


def scores(question: str, sentences: list[str], cosines: list[float],
           weights: Weights = DEFAULT_WEIGHTS) -> list[float]:
    terms = set(lexical.query_terms(question))
    attributes = attribute_terms(question) if weights.attribute else set()
    kind = answer_type(question)
    qwords = set(lexical.words(question))
    out = []
    for i, (sentence, cos) in enumerate(zip(sentences, cosines)):
        score = cos
        present = set(lexical.index_text(sentence).split())
        if terms and weights.overlap:
            score += weights.overlap * len(terms & present) / len(terms)
        if attributes:
            score += weights.attribute * len(attributes & present) / len(attributes)
        if weights.answer_type:
            score += weights.answer_type * _type_match(kind, sentence, qwords)
        if i == 0:
            score += weights.first
        out.append(score)
    return out


def best(question: str, sentences: list[str], cosines: list[float],
         weights: Weights = DEFAULT_WEIGHTS) -> int:
    s = scores(question, sentences, cosines, weights)
    return max(range(len(s)), key=s.__getitem__)
