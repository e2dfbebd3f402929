"""Read a question in the conversation so far, without a language model.

A follow-up ("When did that happen?", "Mainnya di stadion mana?") names almost nothing of
what it is about; the conversation does: the article the last answer came from. What is
done, each part kept because it measured better on the dev conversations
(benchmarks/conversation_dev.py, figures in benchmarks/RESULTS.md):

- the article being discussed gets a score bonus, and every one of its paragraphs is
  scored, not only those the search happened to return: follow-ups ask about another
  paragraph of the same article, which the question alone often ranks somewhere inside it;
- the passage the user was just shown first loses a little, since a follow-up asks for
  something that passage did not already say (it stays among the passages shown);
- a topic-change test: when the question alone finds a paragraph elsewhere that scores
  clearly better than anything in the discussed article, the question stands on its own
  and is answered exactly as if asked alone, so a new self-contained question is never
  pulled back to the old topic.

Mixing the earlier questions and the answer shown into the question's embedding, or into
its word search, was measured and made follow-ups worse (it drags the ranking back to the
paragraph already shown); both stay as options for the benchmark. The first question of a
conversation goes through exactly the stand-alone path.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from qa import confidence, filtering
from qa.answer import answer, answer_from_query
from qa.retrieve import DEFAULT_FUSION, Fusion, Query, crossed_side, dense_score, rank, search
from qa.types import Answer, Hit, Reading, Turn

if TYPE_CHECKING:
    from index.storage.base import ArticleFilter
    from qa.engine import Engine


@dataclass(frozen=True)
class FollowupConfig:
    """Weights chosen on the dev conversations. `article_boost` 0 gives the discussed
    article no bonus; `shift_margin` is how much better (in fused score) the question alone
    must score elsewhere than anywhere in the discussed article to be read as a new topic;
    `context_weight` above 0 mixes the context's embedding into the question's."""

    context_weight: float = 0.0
    article_boost: float = 0.1
    shift_margin: float = 0.065
    history: int = 1                # how many earlier questions of the topic join the context
    answer_in_context: bool = True  # the previous answer sentence joins them
    lexical_context: bool = False   # word search on those questions + this one
    shown_penalty: float = 0.03     # taken off the passage already shown first last turn


DEFAULT_FOLLOWUP = FollowupConfig()


@dataclass(frozen=True)
class Context:
    """What the conversation so far offers the next question: the questions of the current
    topic (oldest first) and the passage shown first for the last one (its article, title
    and answer sentence)."""

    questions: tuple[str, ...]
    article_id: str
    title: str
    answer_sentence: str
    paragraph_id: int | None = None  # the passage shown first for the last question

    @property
    def question(self) -> str:
        return self.questions[-1]


def context_of(turns: list[Turn]) -> Context | None:
    """The context the turns so far leave for the next one: None when the last turn showed
    nothing. Questions before the last change of topic are left out."""
    if not turns or not turns[-1].answer.passages:
        return None
    start = max((i for i, t in enumerate(turns) if t.reading.mode != "follow-up"), default=0)
    top = turns[-1].answer.passages[0]
    return Context(questions=tuple(t.question for t in turns[start:]),
                   article_id=top.hit.article_id, title=top.hit.title,
                   answer_sentence=top.answer_sentence, paragraph_id=top.hit.paragraph_id)


def _unit(v) -> np.ndarray:
    v = np.asarray(v, dtype=np.float32)
    n = float(np.linalg.norm(v))
    return v / n if n else v


def _hits(store, ranked: list[tuple[int, float, float | None, float | None]],
          bonus: dict[int, float] | None = None) -> list[Hit]:
    """Hits for `ranked` (id, score, dense, lexical); `bonus`: what the reading in context
    added to each id's score."""
    stored = store.paragraphs([r[0] for r in ranked])
    by_id = {r[0]: r for r in ranked}
    bonus = bonus or {}
    return [Hit(paragraph_id=p.id, article_id=p.article_id, title=p.title, source=p.source,
                paragraph=p.number, line=p.line, text=p.text, score=by_id[p.id][1],
                dense_score=by_id[p.id][2], lexical_score=by_id[p.id][3],
                metadata=dict(p.metadata), context_bonus=bonus.get(p.id, 0.0)) for p in stored]


def _short(text: str, words: int = 10) -> str:
    parts = text.split()
    return " ".join(parts[:words]) + (" …" if len(parts) > words else "")


def about_line(context: Context) -> str:
    """A few words saying which context was used, for the CLI and the chat."""
    return f"about: {_short(context.title)} (after: {_short(context.question, 12)})"


def read_in_context(store, embedder, question: str, context: Context | None, k: int = 5,
                    fusion: Fusion = DEFAULT_FUSION,
                    config: FollowupConfig = DEFAULT_FOLLOWUP,
                    where: ArticleFilter | None = None) -> tuple[Reading, Query]:
    """Rank paragraphs for `question` read in `context`; the Query's vector is the one the
    ranking used (the answer sentence is chosen with it too). With `where`, only articles
    passing it are searched, and a context whose article no longer passes (the filter
    changed) is not read in: the question stands alone."""
    if context is not None and not filtering.admits(store, where, context.article_id):
        context = None
    if context is None:
        return Reading(mode="first"), search(store, embedder, question, k, fusion, where)
    earlier = " ".join(context.questions[-config.history:]) if config.history else ""
    context_text = earlier
    if config.answer_in_context and context.answer_sentence:
        context_text = f"{earlier} {context.answer_sentence}".strip()
    if config.context_weight:
        qvec, cvec = embedder.embed_queries([question, context_text])
    else:
        qvec, cvec = embedder.embed_queries([question])[0], None
    depth = max(k, fusion.candidates)
    coverage = store.vocabulary_coverage(question)

    # The question alone: the topic-change test, and the answer when it is a new topic. A
    # question in another language than the articles has its words bridged (qa.bridge).
    crossed = crossed_side(store, embedder, question, coverage, depth, fusion, where)
    crossing = crossed[0] if crossed else None
    if crossed is None:
        alone = rank(store, qvec, question, depth, fusion, coverage, where=where)
    else:
        alone = rank(store, qvec, question, depth, crossed[1], 1.0, crossed[2], where)
    article = [p.id for p in store.article_paragraphs(context.article_id)]
    alone_scores = {r[0]: r[1] for r in alone}
    inside = [alone_scores.get(pid) for pid in article]
    missing = [pid for pid, s in zip(article, inside) if s is None]
    if missing:
        # A paragraph neither search returned gets no lexical bonus, as in `fuse`.
        for pid, (w, b) in store.view_scores(qvec, missing).items():
            alone_scores[pid] = dense_score(w, b, fusion)
    best_inside = max((alone_scores[p] for p in article if p in alone_scores), default=None)
    top = alone[0] if alone else None
    if (top is not None and best_inside is not None and top[0] not in set(article)
            and top[1] - best_inside >= config.shift_margin):
        return (Reading(mode="new topic", about="new topic: read on its own"),
                Query(qvec, coverage, _hits(store, alone[:k]), crossing))

    # Read in context: every paragraph of the article scored, and given the bonus; the
    # vector mixed with the context's and the word search widened only where configured.
    words = f"{earlier} {question}".strip() if config.lexical_context else question
    if cvec is None and words == question:
        vector = qvec
        by_id = {r[0]: r for r in alone}
        for pid in article:
            if pid not in by_id and pid in alone_scores:
                by_id[pid] = (pid, alone_scores[pid], alone_scores[pid], None)
    else:
        vector = qvec if cvec is None else _unit(_unit(qvec) + config.context_weight * _unit(cvec))
        by_id = {r[0]: r for r in rank(store, vector, words, depth, fusion, where=where)}
        missing = [pid for pid in article if pid not in by_id]
        for pid, (w, b) in store.view_scores(vector, missing).items():
            d = dense_score(w, b, fusion)
            by_id[pid] = (pid, d, d, None)
    members = set(article)
    bonus = {pid: (config.article_boost if pid in members else 0.0)
             - (config.shown_penalty if pid == context.paragraph_id else 0.0) for pid in by_id}
    boosted = [(pid, s + bonus[pid], d, lx) for pid, s, d, lx in by_id.values()]
    boosted.sort(key=lambda r: (-r[1], r[0]))
    reading = Reading(mode="follow-up", about=about_line(context), article_id=context.article_id,
                      searched=words)
    return reading, Query(vector, coverage, _hits(store, boosted[:k], bonus), crossing)


def answer_in_context(engine: Engine, question: str, context: Context | None, k: int = 5,
                      fusion: Fusion = DEFAULT_FUSION,
                      config: FollowupConfig = DEFAULT_FOLLOWUP,
                      where: ArticleFilter | None = None) -> tuple[Reading, Answer]:
    """The answer to `question` read in `context`: without context (or on a new topic) the
    stand-alone answer itself; with it, the in-context ranking assembled as any answer is.
    `where` filters both (see `read_in_context`)."""
    if context is not None and not filtering.admits(engine.store, where, context.article_id):
        context = None
    if context is None:
        return Reading(mode="first"), answer(engine, question, k=k, fusion=fusion, where=where)
    depth = max(2 * k, confidence.DEPTH)
    reading, query = read_in_context(engine.store, engine.embedder, question, context, depth,
                                     fusion, config, where)
    if reading.mode == "new topic":
        # Read alone: exactly the stand-alone answer (the search is repeated: a few ms).
        return reading, answer(engine, question, k=k, fusion=fusion, where=where)
    # Read in its topic, the question is judged with that topic's earlier questions' words.
    return reading, answer_from_query(engine, question, query, k, earlier=context.questions)


__all__ = ["Context", "FollowupConfig", "DEFAULT_FOLLOWUP", "about_line", "answer_in_context",
           "context_of", "read_in_context"]
