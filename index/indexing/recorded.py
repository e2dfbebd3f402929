"""The folders and files an index follows: what `qa index sync` with no argument, the chat's
re-sync and `qa index watch` read again.

Every write that names paths (add, sync, build) records them in the index itself, so any
process that opens it knows them; `remove` of a folder forgets it. Only paths that exist are
recorded: a mistyped path must not become a source that is "gone" forever after.
"""
from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from index.indexing.sources import absolute
from index.storage.base import Source, timestamp

if TYPE_CHECKING:
    from index.storage.base import IndexStore


def record_sources(store: IndexStore, paths: Iterable[Path | str]) -> None:
    """Remember the folders and files among `paths` that exist, so a later `sync` with no
    argument (the chat's re-sync, `qa index watch`) knows what this index follows."""
    now = timestamp()
    found = []
    for path in paths:
        full = absolute(os.path.expanduser(str(path)))
        if os.path.isdir(full):
            found.append(Source(full, "folder", now))
        elif os.path.isfile(full):
            found.append(Source(full, "file", now))
    if found:
        store.record_sources(found)


def followed(store: IndexStore) -> list[Source]:
    """The recorded sources a sync reads: those not inside another recorded folder (syncing
    the folder covers them), oldest first."""
    recorded = store.sources()
    folders = [Path(s.path) for s in recorded if s.kind == "folder"]
    return [s for s in recorded
            if not any(f != Path(s.path) and Path(s.path).is_relative_to(f) for f in folders)]


def source_exists(source: Source) -> bool:
    return os.path.isdir(source.path) if source.kind == "folder" else os.path.isfile(source.path)


