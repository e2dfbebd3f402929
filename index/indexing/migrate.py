"""Copy an index to another backend or place without re-embedding: `qa index migrate`.

A vector depends only on its paragraph's text and the model, and the manifest that names the
model travels with the copy, so the stored vectors are moved as they are; embedding, the slow
part of indexing, is not repeated. The copy is written as a build is (beside any index at the
target, switched in when complete), so an interrupted migration leaves the target as it was.
Article ids, text, locations, metadata and content hashes are kept, so a later `qa index
sync` on the copy skips unchanged articles; paragraph ids are the target's own and
`added_at` becomes the time of the copy.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from index.errors import UserError
from index.corpus.types import Article, Paragraph

if TYPE_CHECKING:
    from index.storage.base import IndexRef, IndexStore, StoredArticle
    from index.indexing import Progress

BATCH_PARAGRAPHS = 2000


@dataclass
class MigrateReport:
    articles: int = 0
    paragraphs: int = 0
    vectors: int = 0
    seconds: float = 0.0

    def line(self) -> str:
        return (f"copied {self.articles} articles, {self.paragraphs} paragraphs, "
                f"{self.vectors} vectors (nothing re-embedded) in {self.seconds:.1f} s")

    def as_dict(self) -> dict[str, Any]:
        return {"articles": self.articles, "paragraphs": self.paragraphs,
                "vectors": self.vectors, "seconds": round(self.seconds, 3)}


def migrate(source: IndexStore, target: IndexRef, *, overwrite: bool = False,
            progress: Progress | None = None) -> MigrateReport:
    """Copy everything `source` holds to a new index at `target`."""
    from index.storage import exists, staged
    from index.storage.base import cli_args

    started = time.perf_counter()
    if exists(target) and not overwrite:
        raise UserError(f"an index already exists at {target}; choose another place or "
                        f"replace it: qa index migrate ... {cli_args(target)} --overwrite")
    report = MigrateReport()
    stored = source.articles()
    with staged(target, source.manifest) as dest, dest.writer():
        pending: list[Article] = []
        rows: list[Any] = []
        views: list[int] = []
        size = 0
        for n, article in enumerate(stored, start=1):
            copy, vectors = _read_article(source, article)
            if copy is None:
                continue  # removed by a writer since the listing
            pending.append(copy)
            rows.extend(vectors)
            views.extend(len(v) for v in vectors)
            size += len(copy.paragraphs)
            if size >= BATCH_PARAGRAPHS:
                _write(dest, pending, rows, views, report)
                pending, rows, views, size = [], [], [], 0
            if progress:
                progress("copy", n, len(stored))
        if pending:
            _write(dest, pending, rows, views, report)
        dest.forget_sources([s.path for s in dest.sources()])  # a Milvus root may hold some
        dest.record_sources(source.sources())
    report.seconds = time.perf_counter() - started
    return report


def _read_article(source: IndexStore, stored: StoredArticle):
    """The article as stored, and each paragraph's (views, dim) vectors in paragraph order;
    (None, []) if a writer removed it since the listing."""
    from index.storage.checks import text_hash as _text_hash

    paragraphs = source.article_paragraphs(stored.id)
    if not paragraphs:
        return None, []
    hashes = [_text_hash(p.text) for p in paragraphs]
    vectors = source.stored_views(hashes)
    missing = [p.number for p, h in zip(paragraphs, hashes) if h not in vectors]
    if missing:
        raise UserError(f"article {stored.id!r}: stored vectors missing for paragraphs "
                        f"{missing[:5]}; check the source with: qa index verify")
    article = Article(id=stored.id, title=stored.title, source=stored.source,
                      paragraphs=[Paragraph(stored.id, p.number, p.text, p.line, p.start, p.end)
                                  for p in paragraphs],
                      metadata=dict(stored.metadata), content_hash=stored.content_hash)
    return article, [vectors[h] for h in hashes]


def _write(dest: IndexStore, articles: list[Article], rows: list[Any], views: list[int],
           report: MigrateReport) -> None:
    import numpy as np

    dest.add_articles(articles, np.concatenate(rows), views)
    report.articles += len(articles)
    report.paragraphs += len(views)
    report.vectors += sum(views)
