"""What changed in an index between two looks at it, for a reader that stays open (the chat).

Another process (`qa index add`, `qa index watch`) may commit to an index the chat is
answering from. Its store follows every commit by itself (see index.storage.faiss.store:
readers reload the generation SQLite names), so answers are never stale; what the reader has
to refresh is what it *shows*: the counts and the list of articles. Comparing generations is
one cheap read, so a reader polls that and lists the articles only when it moved.

An article counts as updated when its content hash, source or title differs, the same
fields a sync compares (index.indexing.lifecycle), so a line saying "1 updated" means a
sync would have re-read it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from index.storage.base import IndexStore, StoredArticle


@dataclass(frozen=True)
class IndexState:
    """The index as a reader shows it at one generation."""

    generation: int
    articles: list[StoredArticle] = field(default_factory=list)
    paragraphs: int = 0


@dataclass(frozen=True)
class IndexChange:
    """Article ids added, updated and removed between two states, in index order."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.added or self.updated or self.removed)

    def line(self) -> str:
        """`3 articles added, 1 updated`; empty when nothing an article list shows changed
        (a commit that only compacted or re-embedded vectors)."""
        parts = [(len(ids), verb) for ids, verb in ((self.added, "added"),
                                                      (self.updated, "updated"),
                                                      (self.removed, "removed")) if ids]
        if not parts:
            return ""
        (n, verb), rest = parts[0], parts[1:]
        first = f"{n} article{'' if n == 1 else 's'} {verb}"
        return ", ".join([first, *(f"{n} {verb}" for n, verb in rest)])


def read_state(store: IndexStore) -> IndexState:
    """The articles and paragraph count now, under the generation read first: a commit that
    lands in between only makes the next poll see a newer generation again."""
    generation = store.generation
    _, paragraphs = store.counts()
    return IndexState(generation, store.articles(), paragraphs)


def state_if_moved(store: IndexStore, generation: int) -> IndexState | None:
    """The state when the store's generation is no longer `generation`, else None (one
    small read: what a reader does every couple of seconds)."""
    if store.generation == generation:
        return None
    return read_state(store)


def compare(before: list[StoredArticle], after: list[StoredArticle]) -> IndexChange:
    old = {a.id: a for a in before}
    new_ids = {a.id for a in after}
    added, updated = [], []
    for article in after:
        was = old.get(article.id)
        if was is None:
            added.append(article.id)
        elif (was.content_hash, was.source, was.title) != (article.content_hash, article.source,
                                                            article.title):
            updated.append(article.id)
    removed = [a.id for a in before if a.id not in new_ids]
    return IndexChange(added, updated, removed)
