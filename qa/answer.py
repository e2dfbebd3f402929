"""From a question to ranked passages, each with the sentence that answers it and a citation,
near-duplicates collapsed, and a calibrated judgement of whether anything answers at all.

The answer sentence is chosen by the same embedding model that ranked the paragraph (so it
works across languages), nudged by shared words so a sentence that names what was asked
wins a near tie.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from qa import alignment, confidence, filtering, rerank, sentence_choice, short_answer
from qa.citations import cite
from index.corpus.junk import heads_others
from qa.duplicates import Group, collapse
from qa.retrieve import DEFAULT_FUSION, Fusion, Query, search
from qa.sentences import sentence_spans
from qa.types import Answer, AnswerPassage, Hit

if TYPE_CHECKING:
    from index.storage.base import ArticleFilter
    from qa.bridge import Crossing
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


def answer(engine: Engine, question: str, k: int = 5, fusion: Fusion = DEFAULT_FUSION,
           where: ArticleFilter | None = None) -> Answer:
    """Up to `k` distinct passages. Twice as many are retrieved so that collapsing repeats of
    one text still leaves `k` different ones, and never fewer than the confidence judgement
    reads, so that `k` does not change it. With `where`, only articles that pass it are
    searched; when none does, qa.filtering.NothingMatches says so."""
    query = search(engine.store, engine.embedder, question, max(2 * k, confidence.DEPTH), fusion,
                   where)
    if where and not query.hits:
        filtering.check(engine.store, where)
    return answer_from_query(engine, question, query, k)


def shown_groups(hits: list[Hit], k: int) -> list[Group]:
    """The first `k` distinct passages, sub-headings and list lead-ins left out: they name or
    introduce a section but answer nothing (index.corpus.junk.heads_others); the paragraphs
    under them are retrieved on their own. Only where nothing else was found are they shown."""
    groups = collapse(hits)
    prose = [g for g in groups if not heads_others(g.hit.text)]
    return (prose or groups)[:k]


def answer_from_query(engine: Engine, question: str, query: Query, k: int = 5,
                      earlier: Sequence[str] = ()) -> Answer:
    """The answer built from a ranking made elsewhere (the question alone, or read in its
    conversation): near-duplicates collapsed, answer sentences chosen with the ranking's own
    vector, citations, and the judgement of whether it answers. A question in another
    language than the articles has its first hits re-ranked by their coverage of its words
    (qa.rerank). `earlier`: the questions of the conversation's topic it was read with."""
    retrieved = rerank.as_needed(engine.store.manifest.model, query.coverage, engine.embedder,
                                 question, query.hits,
                                 query.crossing.asked if query.crossing else None)
    # The first few distinct hits are read whatever `k` is: the short answer's agreement and
    # the order by span evidence (qa.short_answer.by_evidence) must not change with it.
    groups = shown_groups(retrieved, max(k, short_answer.AGREEMENT_DEPTH))
    hits = [g.hit for g in groups]
    spans, sentence_scores = choose_sentences(engine, query.vector, question, hits)
    passages = [
        AnswerPassage(rank=i + 1, hit=h, answer_sentence=h.text[a:b], sentence_start=a,
                      sentence_end=b, citation=cite(h, h.metadata),
                      also_in=tuple(cite(c, c.metadata) for c in g.copies))
        for i, (g, h, (a, b)) in enumerate(zip(groups, hits, spans))
    ]
    result = Answer(question=question, passages=passages[:k])
    if query.crossing is not None:
        result.bridged = dict(query.crossing.mapped)
    if hits:
        # Judged on the ranking as retrieved: whether anything answers is the search's
        # question; the order by span evidence below only picks among its first passages.
        judge(engine, result, retrieved, sentence_scores[0], query.coverage, query.crossing,
              earlier)
        confidence_read = result.confidence if result.calibrated else None
        passages = short_answer.by_evidence(question, passages, confidence_read, query.coverage)
        result.passages = passages[:k]
        if result.confident is not False:
            # A span from a passage judged not to answer would be a confident-looking wrong
            # answer; an uncalibrated model's confidence means nothing to the extractor.
            others = [p.hit for p in passages[1:short_answer.AGREEMENT_DEPTH]]
            result.short_answer = short_answer.short_answer(
                question, passages[0], others, confidence_read, query.coverage)
    return result


def judge(engine: Engine, result: Answer, retrieved: list[Hit], sentence_score: float,
          coverage: float, crossing: Crossing | None = None,
          earlier: Sequence[str] = ()) -> None:
    """Fill in whether `result` answers: confidence, calibration and, when it does not, why.

    `retrieved`: the hits as ranked (re-ranked where qa.rerank applies), best first, at
    least `confidence.DEPTH` deep where the index has so many; `sentence_score`: the top
    passage's answer-sentence cosine; `coverage`: the search's vocabulary coverage of the
    question; `crossing`: its words mapped into the index's (qa.bridge), where they were;
    `earlier`: the questions of the conversation's topic it was read with."""
    calibrated = confidence.is_calibrated(engine.store.manifest.model)
    aligned = retrieved[0].aligned
    if aligned is None and calibrated:
        # Token states cost one encoder pass over the top paragraph (qa.rerank has made it
        # already where it ran); only the calibrated model's judgement reads them.
        aligned = alignment.aligned(engine.embedder, result.question, retrieved[0])
    topic = confidence.topic_terms(
        earlier, lambda term: engine.store.vocabulary_coverage(term) > 0) if earlier else []
    signals = confidence.signals(result.question, retrieved, sentence_score, coverage, aligned,
                                 crossing=crossing, topic=topic)
    result.signals = signals.as_dict()
    result.confidence = confidence.probability(signals)
    result.calibrated = calibrated
    if result.confident is False:
        shown = [p.hit for p in result.passages]
        missing = confidence.missing_words(result.question, shown)
        result.no_answer_reason = confidence.reason(missing, _unknown_words(engine, missing))


def _unknown_words(engine: Engine, words: list[str]) -> set[str]:
    """Which of `words` the index has never seen (one vocabulary look-up each; only asked
    when the answer is judged not confident, and only for the words no passage shown has)."""
    return {w for w in words if engine.store.vocabulary_coverage(w) == 0.0}
