"""What a question asks for, read from its words in either language: the kind of span that
answers it (a date, a number, a name, ...) and the words around its question word, which
an answer sentence tends to keep around the answer ("Siapa yang memanggil ..." is answered
by "Korea Selatan telah memanggil ...").

Rules over words, no model: a question's form is read once per answer and must cost
nothing next to the search.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from index.corpus import lexical
from qa import sentence_choice

_Q = re.IGNORECASE
# Answered by an explanation or a definition, not by a span.
_NONE = re.compile(r"\b(mengapa|kenapa|bagaimana|bagaimanakah|why|apakah benar|jelaskan|"
                   r"apa(kah)? itu|apa(kah)? yang dimaksud|apa(kah)? arti|apa(kah)? maksud|"
                   r"definisi|pengertian|what is the definition|what is the meaning|"
                   r"what is meant|what does \w+ mean|"
                   r"how (?!many|much|long|old|far|big|large|tall|high|deep))\b", _Q)
_TIME_Q = re.compile(r"\b(pukul berapa|jam berapa|what time)\b", _Q)
_DATE_Q = re.compile(r"\b(kapan|kapankah|when|tahun berapa\w*|tanggal berapa\w*|(pada )?tahun apa|"
                     r"what year|which year|what date|in what year|hari apa|what day|"
                     r"bulan apa|what month|abad)\b", _Q)
_NUMBER_Q = re.compile(r"\b(berapa\w*|how (many|much|long|old|far|big|large|tall|high|deep)|"
                       r"what (number|percentage|amount))\b", _Q)
_PERSON_Q = re.compile(r"\b(siapa\w*|who|whom|whose)\b", _Q)
_PLACE_Q = re.compile(r"\b(di ?mana\w*|ke ?mana\w*|dari ?mana\w*|where|(kota|negara|provinsi|"
                      r"kabupaten|pulau|daerah|wilayah|benua|tempat)\s+(apa|mana)\w*|"
                      r"(what|which) (city|country|state|province|island|region|continent|town|place))\b", _Q)
_ASKS_NAME = re.compile(r"\b(nama|name|named|judul|title|called|disebut|julukan|singkatan)\b", _Q)
_NAME_Q = re.compile(r"\b(apa\w*|mana\w*|what|which)\b", _Q)

KINDS = ("time", "date", "number", "place", "name", "thing")
_QUESTION_WORDS = {"apa", "apakah", "siapa", "siapakah", "mana", "manakah", "dimana",
                   "dimanakah", "kapan", "kapankah", "berapa", "berapakah", "what", "who",
                   "whom", "whose", "which", "where", "when", "how"}
# Words between the question word and the words that frame the answer.
_FILLER = {"yang", "nama", "namanya", "adalah", "ialah", "the", "is", "are", "was", "were",
           "of", "did", "does", "do", "name", "di", "ke", "dari", "pada", "in", "at", "on"}
# Words between a subject and its verb ("Korea Selatan telah memanggil").
AUX_WORDS = {"telah", "akan", "yang", "sudah", "sedang", "baru", "pernah", "masih", "tidak",
             "resmi", "berhasil", "kembali", "juga", "lalu", "kemudian", "has", "have", "had",
             "was", "were", "is", "will", "would", "also", "then", "first", "later",
             "successfully", "did", "who", "which", "that"}
# Capitalised inside the question: names and titles. Unlike sentence_choice's names, one
# capital letter counts ("Adiwarman A Karim"); the weights were fitted with it.
_CAPITALISED = re.compile(r"(?<!^)(?<![.?!] )\b[A-Z][\w-]*")


def expected_type(question: str) -> str | None:
    """One of KINDS: "time", "date", "number", "place", "name" (a person or organisation) or
    "thing" (an apa/what question: a name or a short phrase), or None when no span can answer
    it (why, how, what-is definitions)."""
    if _NONE.search(question):
        return None
    # The question word that comes first asks: "Who opened the scoring when ..." wants a name.
    # At the same place the more specific pattern wins ("what year" is a date, not a thing).
    found = []
    for priority, (kind, pattern) in enumerate((
            ("time", _TIME_Q), ("date", _DATE_Q), ("number", _NUMBER_Q), ("place", _PLACE_Q),
            ("name", _PERSON_Q), ("thing", _NAME_Q))):
        match = pattern.search(question)
        if match:
            found.append((match.start(), priority, kind))
    return min(found)[2] if found else None


@dataclass(frozen=True)
class QuestionShape:
    """`words` are case-folded; `stems` the stemmed content words; `attributes` the stems of
    content words outside names (what is asked about the subject); `names` the case-folded
    words the question capitalises inside it; `before`/`after` the stems of the content words
    right before and after the question word ("Partai apakah yang mencalonkan ..." has
    "partai" before and "calon" after); `verbs` the asked action and `passive` whether the
    question puts it in the passive ("dipimpin", "was elected")."""

    text: str
    kind: str
    asks_name: bool
    words: frozenset[str]
    stems: frozenset[str]
    attributes: frozenset[str]
    names: frozenset[str]
    before: str | None
    after: str | None
    verbs: frozenset[str]
    passive: bool
    counted: frozenset[str]  # what "berapa/how many" counts or measures: "tentara", "ton"


def _frame(words: list[str]) -> tuple[str | None, str | None]:
    at = next((i for i, w in enumerate(words) if w in _QUESTION_WORDS), None)
    if at is None:
        return None, None
    k = at - 1
    while k >= 0 and words[k] in _FILLER:
        k -= 1
    before = lexical.stem(words[k]) if k >= 0 else None
    k = at + 1
    while k < len(words) and (words[k] in _FILLER or words[k] in lexical.QUERY_STOP_WORDS):
        k += 1
    after = lexical.stem(words[k]) if k < len(words) else None
    return before, after


def _action(words: list[str], names: set[str]) -> tuple[set[str], bool]:
    """The asked action: "Siapa yang memanggil ...", "Who summoned ...". Its subject (or, in
    the passive, its agent after "oleh/by") is the answer. A word the question capitalises
    is a title or a name, not the action ("Siapakah Menteri ...")."""
    for i, w in enumerate(words):
        if w in ("siapa", "siapakah", "apa", "apakah"):
            k = i + 1
            after_yang = k < len(words) and words[k] == "yang"
            while k < len(words) and words[k] in AUX_WORDS:
                k += 1
            # A verb follows "yang", or carries a verb prefix ("pendiri", a noun, is not
            # the action even where the stemmer says "diri").
            if k < len(words) and words[k] not in names and (
                    after_yang or re.match(r"(me|ber|di|ter)\w{3}", words[k])):
                return {lexical.stem(words[k])}, words[k].startswith("di")
            return set(), False
        if w in ("who", "what", "which"):
            k = i + 1
            if k + 1 < len(words) and words[k] in ("is", "are", "was", "were"):
                if re.search(r"(ed|en)$", words[k + 1]):  # "who was elected"
                    return {lexical.stem(words[k + 1])}, True
                return set(), False
            while k < len(words) and words[k] in ("did", "does", "do", "has", "have", "had", "will"):
                k += 1
            if k < len(words) and words[k] not in lexical.QUERY_STOP_WORDS and words[k] not in names:
                return {words[k]}, False
            return set(), False
    return set(), False


def _counted(words: list[str]) -> set[str]:
    """The two words after "berapa(kah)"/"how many|much", "-kah" dropped ("tonkah")."""
    out: set[str] = set()
    for i, w in enumerate(words):
        if w.startswith("berapa") or (w in ("many", "much") and i and words[i - 1] == "how"):
            for nxt in words[i + 1:i + 3]:
                nxt = nxt[:-3] if nxt.endswith("kah") and len(nxt) > 5 else nxt
                out |= {nxt, lexical.stem(nxt)}
    return out - lexical.QUERY_STOP_WORDS


def read_question(question: str) -> QuestionShape | None:
    """The question's shape, or None when no span answers it."""
    kind = expected_type(question)
    if kind is None:
        return None
    words = lexical.words(question)
    stems = {lexical.stem(w) for w in words
             if w not in lexical.QUERY_STOP_WORDS and w not in _QUESTION_WORDS}
    names = {w for m in _CAPITALISED.finditer(question) for w in lexical.words(m.group(0))}
    before, after = _frame(words)
    verbs, passive = _action(words, names)
    return QuestionShape(
        text=question, kind=kind, asks_name=bool(_ASKS_NAME.search(question)),
        words=frozenset(words), stems=frozenset(stems),
        attributes=frozenset(sentence_choice.attribute_terms(question)),
        names=frozenset(names - lexical.QUERY_STOP_WORDS), before=before, after=after,
        verbs=frozenset(verbs), passive=passive, counted=frozenset(_counted(words)))
