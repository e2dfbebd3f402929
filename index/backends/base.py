"""The storage interface every backend implements, and the records it returns.

Retrieval, answering, the CLI and the TUI hold an `IndexStore` and nothing more specific, so
the same ranking code runs over the local FAISS + SQLite folder and over Milvus. The records
(`Manifest`, `StoredParagraph`, `StoredArticle`) and the user-facing errors are defined in
`index.store`, where they were born; they are re-exported here so new code names the
interface module only. Importing this module pulls in nothing heavy.
"""
from __future__ import annotations

import re
import shlex
from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from index.errors import UserError
from index.store import (VIEW_SLOTS, IndexLockedError, IndexMissingError, IndexStoreError,
                         Manifest, ModelMismatchError, StoredArticle, StoredParagraph)

if TYPE_CHECKING:
    import numpy as np

    from index.types import Article

__all__ = ["IndexStore", "IndexRef", "MilvusRef", "Manifest", "StoredArticle", "StoredParagraph",
           "IndexStoreError", "IndexMissingError", "ModelMismatchError", "IndexLockedError",
           "VIEW_SLOTS"]

_COLLECTION_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,99}$")
_SERVER_SCHEMES = ("http://", "https://", "tcp://")


@dataclass(frozen=True)
class MilvusRef:
    """Where a Milvus-backed index lives: a Milvus Lite file (`uri` ends in .db) or a server
    (`http://host:19530`), and the collection name that identifies the index there."""

    uri: str
    collection: str

    @classmethod
    def parse(cls, uri: str, collection: str) -> MilvusRef:
        uri = uri.strip()
        if not uri:
            raise UserError("--uri is empty; give a Milvus Lite file (./news.db) or a server "
                            "URL (http://host:19530)")
        if not _COLLECTION_RE.match(collection):
            raise UserError(f"collection name {collection!r} is not usable in Milvus: letters, "
                            "digits and underscores, starting with a letter or underscore, at "
                            "most 100 characters")
        if uri.lower().startswith(_SERVER_SCHEMES):
            return cls(uri.rstrip("/"), collection)
        if "://" in uri:
            raise UserError(f"--uri {uri}: not a Milvus address; use http://host:19530 for a "
                            "server or a path ending in .db for Milvus Lite")
        if not uri.endswith(".db"):
            raise UserError(f"--uri {uri}: a Milvus Lite path must end in .db "
                            f"(e.g. --uri {shlex.quote(uri.rstrip('/') + '.db')})")
        return cls(str(Path(uri).expanduser().absolute()), collection)

    @property
    def local(self) -> bool:
        """Milvus Lite: embedded, one process at a time; otherwise a server or cluster."""
        return not self.uri.lower().startswith(_SERVER_SCHEMES)

    def cli_args(self) -> str:
        return (f"--backend milvus --uri {shlex.quote(self.uri)} "
                f"--collection {shlex.quote(self.collection)}")

    def __str__(self) -> str:
        return f"{self.uri} (Milvus collection {self.collection})"


# A FAISS + SQLite index is named by its folder, a Milvus one by a MilvusRef.
IndexRef = Path | MilvusRef


@runtime_checkable
class IndexStore(Protocol):
    """One open index. Paragraph ids are never reused, so an id a reader got from a search
    either still names the same paragraph or names nothing (then it is skipped)."""

    manifest: Manifest
    writable: bool
    backend: str  # "faiss" or "milvus", for status output only

    @property
    def location(self) -> str:
        """Where it lives, for messages: a folder, or a URI and collection."""

    @property
    def generation(self) -> int:
        """Grows with every commit; a check that saw it change knows a writer was at work."""

    def identity(self) -> str:
        """Changes when the index is rebuilt or replaced under an open writer."""

    def size_bytes(self) -> int | None:
        """Bytes on disk, or None where the backend cannot tell (a remote server)."""

    def close(self) -> None: ...

    def __enter__(self) -> IndexStore: ...

    def __exit__(self, *exc: object) -> None: ...

    # writing
    def writer(self) -> AbstractContextManager[IndexStore]: ...

    def locked(self, on_wait: Callable[[str], None] | None = None
               ) -> AbstractContextManager[IndexStore]: ...

    def add_articles(self, articles: Sequence[Article], vectors: Any,
                     views: Sequence[int] | None = None) -> list[int]: ...

    def remove_articles(self, ids: Iterable[str]) -> int: ...

    # searching
    def search_dense(self, qvec: Any, k: int) -> list[tuple[int, float]]: ...

    def view_scores(self, qvec: Any, ids: Sequence[int]) -> dict[int, tuple[float, float]]: ...

    def search_lexical(self, query: str, k: int) -> list[tuple[int, float]]: ...

    def vocabulary_coverage(self, query: str) -> float: ...

    # reading
    def paragraphs(self, ids: Sequence[int]) -> list[StoredParagraph]: ...

    def article_paragraphs(self, article_id: str) -> list[StoredParagraph]: ...

    def articles(self) -> list[StoredArticle]: ...

    def counts(self) -> tuple[int, int]: ...

    def summary(self) -> dict[str, Any]: ...

    def stored_views(self, text_hashes: Iterable[str]) -> dict[str, np.ndarray]: ...

    def verify(self) -> list[str]: ...
