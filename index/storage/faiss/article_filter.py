"""An ArticleFilter as SQL over the `articles` table (alias `a`), for every FAISS-side search
and count: the stored columns `published` (ISO date, NULL when unknown: a comparison with
NULL is never true, so an undated article passes no date bound) and `outlet` (the
normalised key), both indexed (schema migration 6)."""
from __future__ import annotations

import json

from index.storage.base import ArticleFilter


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


def passing_paragraphs_sql(where: ArticleFilter) -> tuple[str, list[str]]:
    """SELECT of (paragraph id, views) of every paragraph whose article passes."""
    condition, params = where_sql(where)
    return ("SELECT p.id, p.views FROM articles a JOIN paragraphs p ON p.article_id = a.id "
            f"WHERE {condition}", params)
