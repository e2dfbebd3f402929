"""An ArticleFilter as SQL over the `articles` table (alias `a`), and the paragraphs it lets
through, kept per filter while the index does not change.

The SQL reads the stored columns `published` (ISO date, NULL when unknown: a comparison with
NULL is never true, so an undated article passes no date bound) and `outlet` (the
normalised key), both indexed (schema migration 6). Finding the passing paragraphs is a join
over every one of them (9 ms for a sixth of IndoSum, 16 ms for a quarter, measured in
benchmarks/filter_indosum.py), as long as the rest of a filtered search; a chat or an
evaluation asks many questions under one filter, so the answer is kept (`PassingCache`) in
the forms the searches take it: ids and view counts for the dense side, a FAISS id selector,
and the ids as one JSON parameter for the word search. The index's generation, which every
commit that adds or removes paragraphs moves, says when it is stale.
"""
from __future__ import annotations

import json
import sqlite3
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from index.storage.base import ArticleFilter

if TYPE_CHECKING:
    import numpy as np

_KEPT = 8  # filters remembered per open index


def where_sql(where: ArticleFilter) -> tuple[str, list[str]]:
    """(condition, parameters); lists go in as one JSON parameter, so any number of outlets
    or article ids makes one statement of fixed text."""
    clauses: list[str] = []
    params: list[str] = []
    if where.since is not None:
        clauses.append("a.published >= ?")
        params.append(where.since.isoformat())
    if where.until is not None:
        clauses.append("a.published <= ?")
        params.append(where.until.isoformat())
    if where.outlets:
        clauses.append("a.outlet IN (SELECT value FROM json_each(?))")
        params.append(json.dumps(list(where.outlets)))
    if where.article_ids:
        clauses.append("a.id IN (SELECT value FROM json_each(?))")
        params.append(json.dumps(list(where.article_ids), ensure_ascii=False))
    return " AND ".join(clauses) or "1", params


@dataclass
class Passing:
    """The paragraphs a filter lets through at one generation of the index: ids in order,
    the number of vectors of each, and the ids as JSON for SQL."""

    generation: int
    pids: np.ndarray
    views: np.ndarray
    ids_json: str
    selector: Any = field(default=None, repr=False)  # a FAISS IDSelector, made when needed

    @property
    def vectors(self) -> int:
        return int(self.views.sum())


def passing(db: sqlite3.Connection, where: ArticleFilter, generation: int) -> Passing:
    import numpy as np

    condition, params = where_sql(where)
    rows = db.execute("SELECT p.id, p.views FROM articles a JOIN paragraphs p ON "
                      f"p.article_id = a.id WHERE {condition} ORDER BY p.id", params).fetchall()
    data = np.asarray(rows, dtype=np.int64).reshape(-1, 2)
    return Passing(generation, data[:, 0], data[:, 1], json.dumps(data[:, 0].tolist()))


class PassingCache:
    """The last few filters' `Passing`, each valid for the generation it was read at."""

    def __init__(self) -> None:
        self._kept: OrderedDict[ArticleFilter, Passing] = OrderedDict()

    def get(self, where: ArticleFilter, generation: int,
            read: Callable[[], Passing]) -> Passing:
        found = self._kept.get(where)
        if found is None or found.generation != generation:
            found = read()
            self._kept[where] = found
            while len(self._kept) > _KEPT:
                self._kept.popitem(last=False)
        self._kept.move_to_end(where)
        return found
