"""From a question to ranked passages, each with the sentence that answers it and a citation,
near-duplicates collapsed, and a calibrated judgement of whether anything answers at all.

The answer sentence is chosen by the same embedding model that ranked the paragraph (so it
works across languages), nudged by shared words so a sentence that names what was asked
wins a near tie.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from qa import confidence, sentence_choice
from qa.citations import cite
from qa.duplicates import collapse
from qa.retrieve import DEFAULT_FUSION, Fusion, search
from qa.sentences import sentence_spans
from qa.types import Answer, AnswerPassage, Hit

if TYPE_CHECKING:
    from qa.engine import Engine


def choose_sentences(engine: Engine, qvec, question: str,
                     hits: list[Hit]) -> tuple[list[tuple[int, int]], list[float]]:
    """The (start, end) span of the best sentence in each hit, and that sentence's cosine with
    the question (a one-sentence paragraph: its own dense score), which the confidence model
    reads. All hits' sentences are embedded in one batch."""
    spans = [sentence_spans(h.text) for h in hits]
    best: list[tuple[int, int]] = [hs[0] for hs in spans]
    scores = [h.dense_score if h.dense_score is not None else h.score for h in hits]
    several = [i for i, hs in enumerate(spans) if len(hs) > 1]
    if not several:
        return best, scores
    texts = [[hits[i].text[a:b] for a, b in spans[i]] for i in several]
    # Each sentence is embedded after its article's title, so a sentence that refers to the
    # subject by pronoun ("Letaknya di kaki Gunung Meja.") still matches a question naming
    # it (benchmarks/sentence_dev.py --title-context).
    vectors = engine.embedder.embed_passages(
        [f"{hits[i].title}: {t}" for i, ts in zip(several, texts) for t in ts])
    offset = 0
    for i, sentences in zip(several, texts):
        cosines = [float(v @ qvec) for v in vectors[offset:offset + len(sentences)]]
        offset += len(sentences)
        ranked = sentence_choice.scores(question, sentences, cosines)
        top = max(range(len(ranked)), key=ranked.__getitem__)
        best[i], scores[i] = spans[i][top], cosines[top]
    return best, scores


def answer(engine: Engine, question: str, k: int = 5, fusion: Fusion = DEFAULT_FUSION) -> Answer:
    """Up to `k` distinct passages. Twice as many are retrieved so that collapsing repeats of
    one text still leaves `k` different ones."""
    query = search(engine.store, engine.embedder, question, 2 * k, fusion)
    qvec, coverage = query.vector, query.coverage
    groups = collapse(query.hits)[:k]
    hits = [g.hit for g in groups]
    spans, sentence_scores = choose_sentences(engine, qvec, question, hits)
    passages = [
        AnswerPassage(rank=i + 1, hit=h, answer_sentence=h.text[a:b], sentence_start=a,
                      sentence_end=b, citation=cite(h, h.metadata),
                      also_in=tuple(cite(c, c.metadata) for c in g.copies))
        for i, (g, h, (a, b)) in enumerate(zip(groups, hits, spans))
    ]
    result = Answer(question=question, passages=passages)
    if hits:
        signals = confidence.signals(question, hits, sentence_scores[0], coverage)
        result.signals = signals.as_dict()
        result.confidence = confidence.probability(signals)
        result.calibrated = confidence.is_calibrated(engine.store.manifest.model, coverage)
    return result
