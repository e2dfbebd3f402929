"""The storage interface every backend implements, and what it shares with its callers: how
an index is named, the records it returns and the errors it raises.

Retrieval, answering, the CLI and the TUI hold an `IndexStore` and nothing more specific, so
the same ranking code runs over the local FAISS + SQLite folder and over Milvus; the two
backends import this module (and index.storage.checks, what they check alike) and never
each other. Importing this module pulls in nothing heavy.

The errors carry the facts a caller needs (`ref`, `path`, `text_intact`, the two
manifests); the qa layer words the advice (`qa.engine.error_line`). The few messages that
still name a qa command (a missing index, a model mismatch, damage found while writing) are
worded here and nowhere else in storage, because they are read as raised.
"""
from __future__ import annotations

import re
import shlex
from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from index.errors import UserError

if TYPE_CHECKING:
    import numpy as np

    from index.corpus.types import Article
    from index.models.word_senses import WordSenses

# ---- records -------------------------------------------------------------------------------


@dataclass(frozen=True)
class WordSenseTable:
    """The index's word senses: stemmed terms the corpus still holds, and one unit row each."""

    terms: tuple[str, ...]
    vectors: np.ndarray  # (len(terms), dim) float32

# The version of what an index holds, as the SQLite migrations of the FAISS backend count it
# (index.storage.faiss.schema checks that they agree). A Milvus collection records the version
# it was written at, so words stored by an older qa's tokeniser are recognised and refused.
# 6: articles carry their publication date and outlet key, which filters read (a FAISS index
# is upgraded in place; a Milvus family made before has no such fields and refuses filters).
# 7: a FAISS index keeps its words' senses (index.models.word_senses); a Milvus one keeps none.
SCHEMA_VERSION = 7
VIEW_SLOTS = 64  # vectors per paragraph at most: view 0 (whole) + up to 63 windows
DEFAULT_LOCK_TIMEOUT = 30.0
# The manifest fields that say what a vector means; any difference makes vectors incomparable.
MODEL_KEYS = ("model", "fingerprint", "dim", "query_prompt", "passage_prompt")


def timestamp() -> str:
    """Now, as every backend records when an article was added or an index changed."""
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


@dataclass(frozen=True)
class Manifest:
    """What an index's vectors mean: a query embedded any other way is not comparable."""

    model: str
    fingerprint: str
    dim: int
    query_prompt: str
    passage_prompt: str
    schema_version: int = SCHEMA_VERSION


@dataclass(frozen=True)
class StoredParagraph:
    id: int
    article_id: str
    title: str
    source: str
    number: int
    line: int
    start: int
    end: int
    text: str
    metadata: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class StoredArticle:
    """An article as recorded; `content_hash` lets a sync skip articles that did not change."""

    id: str
    title: str
    source: str
    metadata: dict[str, str]
    content_hash: str
    added_at: str
    paragraphs: int


@dataclass(frozen=True)
class Source:
    """A folder or file the user added: what `qa index sync` with no argument re-reads.
    Kept by the index itself, so every process (the CLI, a watcher, the chat) agrees."""

    path: str  # absolute
    kind: str  # "folder" or "file"
    added_at: str

    def to_json(self) -> str:
        import json

        return json.dumps({"path": self.path, "kind": self.kind, "added_at": self.added_at},
                          ensure_ascii=False)

    @classmethod
    def from_json(cls, value: str) -> Source | None:
        """None for a row this qa cannot read (skipped, never fatal: it is a convenience)."""
        import json

        try:
            row = json.loads(value)
            return cls(str(row["path"]), str(row["kind"]), str(row.get("added_at", "")))
        except (ValueError, KeyError, TypeError):
            return None


def source_key(path: str) -> str:
    """The row key a backend files `path` under: key/value rows cap key length (Milvus 256
    bytes), paths do not."""
    import hashlib

    return "source:" + hashlib.sha1(path.encode("utf-8", "surrogateescape")).hexdigest()


@dataclass(frozen=True)
class ArticleFilter:
    """Which articles a search may return: published within [since, until] (both inclusive;
    an article without a known date never passes a date bound), from one of `outlets`
    (normalised keys, index.corpus.published.outlet_key), one of `article_ids`. Empty parts
    constrain nothing, so an empty filter passes everything and is false.

    Stores apply it where they search (SQL, a FAISS id selector, a Milvus scalar filter), so
    a filtered search returns the best matches that pass, not the top k filtered down."""

    since: date | None = None
    until: date | None = None
    outlets: tuple[str, ...] = ()
    article_ids: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.since or self.until or self.outlets or self.article_ids)

    @property
    def dated(self) -> bool:
        return self.since is not None or self.until is not None

    def describe(self) -> str:
        """A few words for messages and the chat's status line: "since 2017-03-01, source
        kompas or tempo"."""
        parts = []
        if self.since:
            parts.append(f"since {self.since.isoformat()}")
        if self.until:
            parts.append(f"until {self.until.isoformat()}")
        if self.outlets:
            parts.append("source " + " or ".join(self.outlets))
        if self.article_ids:
            parts.append(("article " if len(self.article_ids) == 1 else "articles ")
                         + ", ".join(self.article_ids))
        return ", ".join(parts) or "everything"

    def as_dict(self) -> dict[str, Any]:
        return {"since": self.since.isoformat() if self.since else None,
                "until": self.until.isoformat() if self.until else None,
                "sources": list(self.outlets), "articles": list(self.article_ids)}


# ---- naming an index ---------------------------------------------------------------------

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


def cli_args(ref: IndexRef) -> str:
    """The options that name `ref` on a qa command line, for messages that suggest one."""
    return ref.cli_args() if isinstance(ref, MilvusRef) else f"--index {shlex.quote(str(ref))}"


# ---- errors ------------------------------------------------------------------------------


def _build_command(ref: IndexRef) -> str:
    return f"qa index build {cli_args(ref)} PATH..."


class IndexStoreError(UserError):
    """Anything wrong with an index that the user may need to act on; a UserError so the CLI
    prints the message alone, without a traceback."""


class IndexMissingError(IndexStoreError):
    """No index at `ref`, or only what an interrupted first build left (`incomplete`)."""

    def __init__(self, ref: IndexRef, *, incomplete: bool = False) -> None:
        self.ref = ref
        self.incomplete = incomplete
        if incomplete:
            super().__init__(f"the index at {ref} is incomplete (an earlier build was "
                             f"interrupted); rebuild it with: {_build_command(ref)}")
        else:
            super().__init__(f"no index at {ref}; build one with: {_build_command(ref)}")


class ModelMismatchError(IndexStoreError):
    """The index at `ref` holds vectors of the model `have`, not of `want`; `diffs` says how
    the two manifests differ."""

    def __init__(self, ref: IndexRef, have: Manifest, want: Manifest, diffs: list[str]) -> None:
        self.ref, self.have, self.want = ref, have, want
        # The two backends have always worded the second half differently; kept as it was.
        if isinstance(ref, MilvusRef):
            what, ask = repr(want.model), f"qa ask {cli_args(ref)} "
        else:
            what = (f"model {have.model!r} with different settings" if have.model == want.model
                    else f"model {want.model!r}")
            ask = "qa ask "
        super().__init__(
            f"the index at {ref} was built with model {have.model!r}, but {what} was asked "
            f"for ({'; '.join(diffs)}). Its vectors cannot be compared with this model's "
            f"queries.\nRebuild it for the new model:  qa index build {cli_args(ref)} "
            f"--model {shlex.quote(want.model)} PATH...\n"
            f"or ask with the model it was built with:  {ask}--model "
            f"{shlex.quote(have.model)} QUESTION")


class IndexLockedError(IndexStoreError):
    pass


class IndexReplacedError(IndexStoreError):
    """A build or rebuild swapped a new index in while this writer had the old one open:
    what it would write now would go to the old one, which is gone, so it writes nothing."""

    def __init__(self, ref: IndexRef) -> None:
        self.ref = ref
        super().__init__(f"the index at {ref} was rebuilt or replaced while this command ran; "
                         "nothing more was written, run it again")


class IndexOutdatedError(IndexStoreError):
    """An index from an older qa that cannot be upgraded in place: its text must be written
    again (a Milvus collection whose stored words an older tokeniser made)."""

    def __init__(self, ref: IndexRef, reason: str) -> None:
        self.ref = ref
        super().__init__(f"the index at {ref} was written by an older qa whose {reason}; "
                         f"build it again with: {_build_command(ref)} (or copy a FAISS index "
                         "there with qa index migrate)")


class IndexDamagedError(IndexStoreError):
    """The index is there but its files cannot be trusted: a corrupt or truncated database, a
    damaged manifest, a missing or unreadable vectors file. Never reported as "no index",
    which would invite a build over what may still be recovered. `text_intact` says whether
    the stored text is still readable, i.e. whether re-embedding it can repair the index or
    only a backup or the original sources can; the qa layer words the advice from it."""

    def __init__(self, path: Path | str, reason: str, *, text_intact: bool = False) -> None:
        self.path = Path(path)
        self.reason = reason
        self.text_intact = text_intact
        super().__init__(f"the index at {path} is damaged ({reason})")


class IndexUnrepairedError(IndexStoreError):
    """A write found the index damaged (`reason`) and changed nothing."""

    def __init__(self, ref: IndexRef, reason: str) -> None:
        self.ref = ref
        self.reason = reason
        super().__init__(f"{reason} in {ref}; the index is damaged, rebuild it with: "
                         f"{_build_command(ref)}")


class IndexReadOnlyError(IndexStoreError):
    """A write to an index on a read-only mount or in a folder this user cannot write to.
    Readers are not refused: they open the database read-only instead."""

    def __init__(self, path: Path | str, reason: str = "its folder cannot be written to") -> None:
        self.path = Path(path)
        super().__init__(f"the index at {path} is read-only ({reason})")


class DiskFullError(IndexStoreError):
    """A write ran out of space; it was rolled back and its files removed, so the index is
    as it was before and still answers."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        super().__init__(f"disk full: no space left on the device holding {path}; "
                         "the index was not changed")


# ---- the interface -------------------------------------------------------------------------


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

    # searching; `where` keeps only paragraphs of articles that pass it (see ArticleFilter)
    def search_dense(self, qvec: Any, k: int,
                     where: ArticleFilter | None = None) -> list[tuple[int, float]]: ...

    def view_scores(self, qvec: Any, ids: Sequence[int]) -> dict[int, tuple[float, float]]: ...

    def search_lexical(self, query: str, k: int,
                       where: ArticleFilter | None = None) -> list[tuple[int, float]]: ...

    def count_matching(self, where: ArticleFilter | None) -> tuple[int, int]:
        """(articles, paragraphs) that pass `where`, for saying why a search found nothing."""

    def published_span(self) -> tuple[date, date] | None:
        """The earliest and latest publication date of the articles, None when none has one."""

    def vocabulary_coverage(self, query: str) -> float: ...

    # reading
    def paragraphs(self, ids: Sequence[int]) -> list[StoredParagraph]: ...

    def article_paragraphs(self, article_id: str) -> list[StoredParagraph]: ...

    def articles(self) -> list[StoredArticle]: ...

    def counts(self) -> tuple[int, int]: ...

    def summary(self) -> dict[str, Any]: ...

    def stored_views(self, text_hashes: Iterable[str]) -> dict[str, np.ndarray]: ...

    def verify(self) -> list[str]: ...

    # the folders and files the index follows
    def sources(self) -> list[Source]: ...

    def record_sources(self, sources: Iterable[Source]) -> None: ...

    def forget_sources(self, paths: Iterable[str]) -> int: ...

    # what the corpus's words mean in context (index.models.word_senses; empty: none kept)
    keeps_word_senses: bool

    def add_word_senses(self, senses: WordSenses) -> None: ...

    def word_senses(self) -> WordSenseTable | None: ...
