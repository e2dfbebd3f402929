"""Reading what a write stores: the articles under the paths given, with their lasting ids.

Every write reads through `read_articles`: `add` and `sync` against the index they write to,
a build as a sync into an empty index. So a file gets the same id whichever command stored
it, and a later sync of what a build stored finds its own.

Identity. A reader names an article (file stem, or a JSONL `id`); the name stays the id unless
another file already owns it, in which case the id gets a `-<sha1 of source>` suffix, so two
`a.txt` in different folders never replace each other, and re-adding either finds its own. An
owner whose file is gone loses the id to the new file (the article moved). Sources are stored
as absolute paths so `sync DIR` can tell what lies under DIR whatever the working directory.
"""
from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from index.corpus.types import Article, Paragraph
from index.errors import ReadError

if TYPE_CHECKING:
    from index.indexing import Progress
    from index.storage.base import IndexStore, StoredArticle

_LINE_SUFFIX = re.compile(r"^(.*):(\d+)$")


def absolute(source: str) -> str:
    return os.path.abspath(source)


def read_sources(paths: Iterable[Path], progress: Progress | None = None
                 ) -> tuple[list[Article], list[ReadError]]:
    """Every article under `paths` with an absolute source, and one error per bad input.

    A file named twice (directly and through its folder) is read once, so a command line
    like `qa index add news news/a.txt` cannot store an article twice.
    """
    # Imported here: the readers (HTML, Markdown) are not needed by `qa ask`, which imports
    # the indexing package for `build.manifest_for` only.
    from index.corpus.read import expand_paths, read_file

    articles: list[Article] = []
    errors: list[ReadError] = []
    seen: set[str] = set()
    for item in expand_paths([Path(p) for p in paths]):
        if isinstance(item, ReadError):
            errors.append(item)
            continue
        key = os.path.realpath(item)
        if key in seen:
            continue
        seen.add(key)
        for result in read_file(item):
            if isinstance(result, ReadError):
                errors.append(result)
            else:
                result.source = absolute(result.source)
                articles.append(result)
                if progress:
                    progress("read", len(articles), 0)
    return articles, errors


@dataclass
class Sources:
    """What one write read, and the index as it stood just after (ids are given against it)."""

    articles: list[Article]  # with their lasting ids; an id repeated a third time is skipped
    errors: list[ReadError]  # read errors first, then the skipped repeats
    found: int  # articles the files yielded, before any was skipped
    failed: set[str]  # absolute paths of files that failed (wholly or one JSONL line)
    stored: dict[str, StoredArticle] = field(default_factory=dict)
    identity: str | None = None  # the store's identity, taken before `stored`


def read_articles(paths: Iterable[Path], store: IndexStore | None = None,
                  progress: Progress | None = None) -> Sources:
    """Read `paths` (outside any lock: reading takes a while) and give each article its id
    against what `store` holds then; None stands for an empty index (a build)."""
    articles, errors = read_sources(paths, progress)
    failed = _error_sources(errors)
    identity = store.identity() if store is not None else None
    stored = {a.id: a for a in store.articles()} if store is not None else {}
    kept = assign_ids(articles, stored, errors)
    return Sources(kept, errors, len(articles), failed, stored, identity)


def _error_sources(errors: list[ReadError]) -> set[str]:
    """Absolute paths of files that failed (wholly or one JSONL line), whose stored articles
    a sync must keep."""
    out: set[str] = set()
    for error in errors:
        out.add(absolute(error.path))
        match = _LINE_SUFFIX.match(error.path)
        if match:
            out.add(absolute(match.group(1)))
    return out


def _alt_id(article_id: str, source: str) -> str:
    # surrogateescape: a path holding undecodable bytes hashes as those bytes, never raises.
    return f"{article_id}-{hashlib.sha1(source.encode('utf-8', 'surrogateescape')).hexdigest()[:8]}"


def _exists(source: str) -> bool:
    return "://" not in source and os.path.exists(source)


def assign_ids(articles: list[Article], stored: dict[str, StoredArticle],
               errors: list[ReadError]) -> list[Article]:
    """Give each article its lasting id (see the module docstring); an id that repeats
    inside one file a third time is reported and skipped rather than replacing an article."""
    claimed: set[str] = set()
    kept: list[Article] = []
    for article in articles:
        base, source = article.id, article.source
        alt = _alt_id(base, source)
        chosen = next((c for c in (base, alt) if c not in claimed and c in stored
                       and absolute(stored[c].source) == source), None)
        if chosen is None:
            owner = stored.get(base)
            free = owner is None or not _exists(owner.source)
            if base not in claimed and free:
                chosen = base
            elif alt not in claimed and (alt not in stored or not _exists(stored[alt].source)):
                chosen = alt
        if chosen is None:
            line = article.paragraphs[0].line if article.paragraphs else 0
            errors.append(ReadError(f"{source}:{line}" if line else source,
                                    f"article id {base!r} repeats an earlier article; skipped"))
            continue
        claimed.add(chosen)
        if chosen != article.id:
            article.id = chosen
            article.paragraphs = [Paragraph(chosen, p.number, p.text, p.line, p.start, p.end)
                                  for p in article.paragraphs]
        kept.append(article)
    return kept
