"""Rank paragraphs for a question: dense similarity, with lexical evidence where it helps.

Dense search crosses languages but blurs exact names and numbers; lexical search is sharp on
names but blind across languages. The fusion below adds a bounded lexical bonus to the
cosine score rather than fusing ranks, because rank fusion lets a lexical-only match of a
common word outrank a paragraph the dense model is sure about (measured on the dev sets:
see benchmarks/RESULTS.md).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from qa.types import Hit

if TYPE_CHECKING:
    from index.store import Store


@dataclass(frozen=True)
class Fusion:
    """Weights chosen on the dev sets; `lexical_weight` 0 means dense only."""

    lexical_weight: float = 0.1
    candidates: int = 100


DEFAULT_FUSION = Fusion()


def fuse(dense: list[tuple[int, float]], lexical: list[tuple[int, float]],
         fusion: Fusion = DEFAULT_FUSION) -> list[tuple[int, float, float | None, float | None]]:
    """(paragraph id, fused, dense, lexical), best first.

    Lexical scores are scaled by the best lexical score for this question, so the bonus is
    relative to how well anything matched the words; a paragraph only lexical search found
    gets the weakest dense score seen as its dense part.
    """
    dense_map = dict(dense)
    lex_map = dict(lexical)
    top_lex = max(lex_map.values(), default=0.0)
    floor = min(dense_map.values(), default=0.0)
    rows = []
    for pid in dense_map.keys() | lex_map.keys():
        d = dense_map.get(pid)
        lx = lex_map.get(pid)
        score = (d if d is not None else floor)
        if lx is not None and top_lex > 0:
            score += fusion.lexical_weight * (lx / top_lex)
        rows.append((pid, score, d, lx))
    rows.sort(key=lambda r: (-r[1], r[0]))
    return rows


def rank(store: Store, qvec, question: str, k: int,
         fusion: Fusion = DEFAULT_FUSION) -> list[tuple[int, float, float | None, float | None]]:
    n = max(k, fusion.candidates)
    dense = store.search_dense(qvec, n)
    lexical = store.search_lexical(question, n) if fusion.lexical_weight else []
    return fuse(dense, lexical, fusion)[:k]


def retrieve(store: Store, qvec, question: str, k: int = 5,
             fusion: Fusion = DEFAULT_FUSION) -> list[Hit]:
    """`qvec` is the question's embedding, computed once by the caller and reused for
    choosing answer sentences."""
    ranked = rank(store, qvec, question, k, fusion)
    stored = store.paragraphs([r[0] for r in ranked])
    return [
        Hit(paragraph_id=p.id, article_id=p.article_id, title=p.title, source=p.source,
            paragraph=p.number, line=p.line, text=p.text, score=score, dense_score=d,
            lexical_score=lx, metadata=dict(p.metadata))
        for p, (_, score, d, lx) in zip(stored, ranked)
    ]
