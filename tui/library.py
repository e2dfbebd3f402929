"""The chat's only doors into the library: open the engine, answer, read the store.

No ranking or answering decisions are made in `tui/`; these are thin wrappers so the
screens never touch SQLite, FAISS or torch themselves. All of them run on the engine
worker's thread (see `tui.engine_worker`), never on the UI thread.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from index.build import Progress
    from index.store import StoredArticle, StoredParagraph
    from qa.engine import Engine
    from qa.types import Answer

DEFAULT_K = 5


@dataclass(frozen=True)
class IndexInfo:
    index_dir: Path
    model: str
    paragraphs: int
    articles: list[StoredArticle] = field(default_factory=list)


def open_chat_engine(index_dir: Path, model: str | None, build_default: bool,
                     progress: Progress | None = None,
                     say: Callable[[str], None] | None = None) -> Engine:
    from qa.engine import open_engine

    return open_engine(index_dir, model, build_default=build_default, progress=progress, say=say)


def ask(engine: Engine, question: str, k: int = DEFAULT_K) -> Answer:
    from qa.answer import answer

    return answer(engine, question, k=k)


def index_info(engine: Engine) -> IndexInfo:
    articles = engine.store.articles()
    _, paragraphs = engine.store.counts()
    return IndexInfo(engine.index_dir, engine.embedder.name, paragraphs, articles)


def article_paragraphs(engine: Engine, article_id: str) -> list[StoredParagraph]:
    """Every stored paragraph of one article, in reading order."""
    return engine.store.article_paragraphs(article_id)
