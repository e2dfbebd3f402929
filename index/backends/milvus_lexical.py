"""The lexical side on Milvus: the text form BM25 sees, and BM25 over text and title combined.

The FAISS store ranks with SQLite FTS5's bm25 over two columns, paragraph text and article
title, the title weighted 0.5. Milvus scores one BM25 field per search, so each paragraph
carries two analysed fields and the two scores are summed here. Summing two top-L lists is
exact, not approximate: a candidate missing from one list gets that score fetched by a
search filtered to it, and a paragraph absent from both lists cannot score more than the
L-th scores' weighted sum, so the lists are deepened until the k-th result beats that bound.

`lexical_form` is the one place where text is shaped before BM25 sees it, on both sides
(stored paragraphs and queries). It mirrors FTS5's `unicode61 remove_diacritics 2` (case- and
accent-folding) so both backends match the same words. A shared lexical normaliser (stemming,
stop words) plugs in here: call it from `lexical_form` and rebuild or migrate the index.
"""
from __future__ import annotations

import unicodedata
from collections.abc import Callable

from index.store import _fts_tokens

TITLE_WEIGHT = 0.5  # as FTS5's bm25(paragraphs_fts, 1.0, 0.5)

# search(field, text, limit, only_ids) -> {paragraph id: bm25 score}
Searcher = Callable[[str, str, int, "list[int] | None"], dict[int, float]]


def lexical_form(text: str) -> str:
    """Text as BM25 indexes it: case-folded, accents removed (é -> e), as FTS5 unicode61 does."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def query_terms(query: str) -> list[str]:
    """The question's distinct words (at most 64, like the FTS5 query), in lexical form."""
    return list(dict.fromkeys(lexical_form(t) for t in _fts_tokens(query)))


def combined_bm25(search: Searcher, terms: list[str], k: int, total: int
                  ) -> list[tuple[int, float]]:
    """Top k of text score + TITLE_WEIGHT * title score, exactly (see the module docstring).

    `total` is the number of paragraphs, the deepest a list can usefully go.
    """
    if not terms or k <= 0 or total <= 0:
        return []
    text = " ".join(terms)
    depth = min(total, max(k, 10))
    while True:
        body = search("text_sparse", text, depth, None)
        title = search("title_sparse", text, depth, None)
        missing_body = [pid for pid in title if pid not in body]
        missing_title = [pid for pid in body if pid not in title]
        if missing_body:
            body_extra = search("text_sparse", text, len(missing_body), missing_body)
        else:
            body_extra = {}
        if missing_title:
            title_extra = search("title_sparse", text, len(missing_title), missing_title)
        else:
            title_extra = {}
        scores = {
            pid: body.get(pid, body_extra.get(pid, 0.0))
            + TITLE_WEIGHT * title.get(pid, title_extra.get(pid, 0.0))
            for pid in body.keys() | title.keys()
        }
        ranked = sorted(scores.items(), key=lambda r: (-r[1], r[0]))[:k]
        full_body, full_title = len(body) >= depth, len(title) >= depth
        bound = ((min(body.values()) if full_body else 0.0)
                 + TITLE_WEIGHT * (min(title.values()) if full_title else 0.0))
        done = (not full_body and not full_title) or depth >= total
        if done or (len(ranked) >= k and ranked[-1][1] >= bound):
            return ranked
        depth = min(total, depth * 4)


def coverage(found: Callable[[str, list[str]], set[str]], terms: list[str]) -> float:
    """Share of `terms` that occur in any paragraph text or title: the same figure the FAISS
    store reads from fts5vocab. `found(field, terms)` names the terms with a match there."""
    if not terms:
        return 0.0
    seen = found("text_sparse", terms)
    rest = [t for t in terms if t not in seen]
    if rest:
        seen |= found("title_sparse", rest)
    return len(seen) / len(terms)
