"""From a question to ranked passages, each with the sentence that answers it and a citation.

The answer sentence is chosen by the same embedding model that ranked the paragraph (so it
works across languages), nudged by shared words so a sentence that names what was asked
wins a near tie.
"""
from __future__ import annotations

import re
from typing import TYPE_CHECKING

from qa.citations import cite
from qa.retrieve import DEFAULT_FUSION, Fusion, retrieve
from qa.sentences import sentence_spans
from qa.types import Answer, AnswerPassage, Hit

if TYPE_CHECKING:
    from qa.engine import Engine

_WORD = re.compile(r"\w+", re.UNICODE)
OVERLAP_WEIGHT = 0.05


def _words(text: str) -> set[str]:
    return {w.lower() for w in _WORD.findall(text) if len(w) > 2}


def choose_sentences(engine: Engine, qvec, question: str, hits: list[Hit]) -> list[tuple[int, int]]:
    """The (start, end) span of the best sentence in each hit."""
    spans = [sentence_spans(h.text) for h in hits]
    flat = [(i, span) for i, hs in enumerate(spans) for span in hs if len(hs) > 1]
    best: list[tuple[int, int]] = [hs[0] for hs in spans]
    if not flat:
        return best
    texts = [hits[i].text[a:b] for i, (a, b) in flat]
    vectors = engine.embedder.embed_passages(texts)
    qwords = _words(question)
    top: dict[int, float] = {}
    for (i, span), text, vec in zip(flat, texts, vectors):
        overlap = len(qwords & _words(text)) / max(len(qwords), 1)
        score = float(vec @ qvec) + OVERLAP_WEIGHT * overlap
        if score > top.get(i, float("-inf")):
            top[i] = score
            best[i] = span
    return best


def answer(engine: Engine, question: str, k: int = 5, fusion: Fusion = DEFAULT_FUSION) -> Answer:
    qvec = engine.embedder.embed_queries([question])[0]
    hits = retrieve(engine.store, qvec, question, k, fusion)
    spans = choose_sentences(engine, qvec, question, hits)
    passages = [
        AnswerPassage(rank=i + 1, hit=h, answer_sentence=h.text[a:b], sentence_start=a,
                      sentence_end=b, citation=cite(h, h.metadata))
        for i, (h, (a, b)) in enumerate(zip(hits, spans))
    ]
    return Answer(question=question, passages=passages)
