"""Citations a reader can check: a path that opens from where they stand, and the line."""
from __future__ import annotations

import os
from pathlib import Path

from qa import paths
from qa.types import Citation, Hit


def display_source(source: str) -> str:
    """Bundled seeds show as `seeds/NAME` (as in the repository); other files relative to
    the working directory when inside it, else absolute; URLs unchanged."""
    if "://" in source:
        return source
    path = Path(source)
    try:
        seeds = paths.seeds_dir().resolve()
        return str(Path("seeds") / path.resolve().relative_to(seeds))
    except (ValueError, FileNotFoundError):
        pass
    try:
        rel = os.path.relpath(path.resolve(), Path.cwd())
    except ValueError:
        return source
    return rel if not rel.startswith("..") else str(path.resolve())


def cite(hit: Hit, metadata: dict[str, str] | None = None) -> Citation:
    meta = metadata or {}
    return Citation(
        title=hit.title,
        source=display_source(hit.source),
        paragraph=hit.paragraph,
        line=hit.line,
        outlet=meta.get("outlet") or meta.get("site"),
        date=meta.get("date"),
        url=meta.get("url"),
    )
