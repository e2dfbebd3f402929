"""Reading what a write stores: the articles under the paths given, with their lasting ids.

Every write reads through `read_articles`: `add` and `sync` against the index they write to,
a build as a sync into an empty index. So a file gets the same id whichever command stored
it, and a later sync of what a build stored finds its own.

Identity. A reader names an article (file stem, or a JSONL `id`); the name stays the id unless
another file already owns it, in which case the id gets a `-<sha1 of source>` suffix, so two
`a.txt` in different folders never replace each other, and re-adding either finds its own. An
owner whose file is gone loses the id to the new file (the article moved), and so does one
whose source is another path to the very same file (a link the article was once read through).
Sources are stored as absolute paths so `sync DIR` can tell what lies under DIR whatever the
working directory.

One file, one source. A folder may reach a file by several paths: a symlinked folder or file
inside it, a link back up (`sub/up -> ..`). Each file is one article, named by the path a walk
finds it at without following any link when there is one (`FolderSources`); a file reached only
through a link to outside the folder keeps the path the walk took. A sync and the watcher both
name sources so, which is what lets the watcher apply an event seen through a link to the
article a sync stored, and drop nothing still reachable when a link goes.
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


def inside(path: str, folder: str) -> bool:
    """Whether the absolute `path` is `folder` or lies beneath it, as written (no link
    resolved, no system call): the one test of "is this source under that folder" that the
    sync (through `under`), the watcher and the chat's re-sync share."""
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def under(source: str, folder: Path | str) -> bool:
    """Whether a stored `source` lies under `folder`, as written or once links are
    resolved (a folder named through a link holds what its target holds); never a URL."""
    if "://" in source:
        return False
    if inside(absolute(source), absolute(str(folder))):
        return True
    try:
        return inside(os.path.realpath(source), os.path.realpath(folder))
    except (OSError, ValueError):
        return False


def _hidden(relative: str) -> bool:
    return any(part.startswith(".") for part in Path(relative).parts)


class FolderSources:
    """The source a sync of one folder gives each file it reaches (see the module docstring).

    `walked` names a file the walk yielded (what `read_sources` stores); `source` and `named`
    name any path under the folder, also one seen through a link or no longer there (what the
    watcher is told about). A path only a link to outside the folder reaches needs the walk's
    own choice among the links: the folder is walked for it once, when first needed.
    """

    def __init__(self, folder: Path | str) -> None:
        self.root = absolute(os.path.expanduser(str(folder)))
        self.real = os.path.realpath(self.root)
        self._files: dict[str, str] | None = None  # real path -> source, for the walk's files
        self._folders: dict[str, str] | None = None  # real path -> name, for folders above them

    def _direct(self, real: str, file: bool) -> str | None:
        """The path under the folder that reaches `real` without a link, if a walk finds it."""
        if real == self.real and not file:
            return self.root
        if real == self.real or not inside(real, self.real):
            return None
        relative = os.path.relpath(real, self.real)
        if _hidden(relative) or not os.path.exists(real):
            return None
        if file:
            from index.corpus.read import supported

            if not supported(Path(real)):
                return None
        return os.path.join(self.root, relative)

    def walked(self, item: Path | str) -> str:
        """The source of a file the walk of this folder yielded at `item`."""
        item = absolute(str(item))
        return self._direct(os.path.realpath(item), file=True) or item

    def source(self, path: str) -> str | None:
        """The source of the file at `path`, or None when a sync of the folder would not read
        it (of a type no reader takes, or reached only through a hidden folder)."""
        real = os.path.realpath(path)
        return self._direct(real, file=True) or self.files().get(real)

    def folder(self, path: str) -> str | None:
        """The name the walk reaches the folder at `path` by (a link's target's own path, when
        the walk finds it without the link); None when it holds nothing a sync reads."""
        real = os.path.realpath(path)
        return self._direct(real, file=False) or self._walked_folders().get(real)

    def named(self, path: str) -> str:
        """`path`, there or not, as a sync names what lies there: the nearest folder above it
        that is still there, named as the walk reaches it, then the rest of the path. So a
        link is named as itself, not as its target. The path itself when that folder is not
        one a sync reaches."""
        path = absolute(path)
        at, rest = os.path.split(path)
        names = [rest]
        while at != self.root and inside(at, self.root) and not os.path.isdir(at):
            at, name = os.path.split(at)
            names.append(name)
        if not inside(at, self.root):
            return path
        folder = self.folder(at)
        return os.path.join(folder, *reversed(names)) if folder is not None else path

    def files(self) -> dict[str, str]:
        """Every file a sync of the folder reads, by real path, with its source."""
        if self._files is None:
            from index.corpus.read import expand_paths

            self._files = {}
            for item in expand_paths([Path(self.root)]):
                if not isinstance(item, ReadError):
                    self._files.setdefault(os.path.realpath(item), self.walked(item))
        return self._files

    def linked(self) -> list[str]:
        """Sources reached only through a link to outside the folder: what another link to
        the same place takes over when this one goes."""
        return sorted(s for real, s in self.files().items() if not inside(real, self.real))

    def _walked_folders(self) -> dict[str, str]:
        """The folders holding the walk's files, and those above them, by real path."""
        if self._folders is None:
            self._folders = {}
            named: set[str] = set()
            for source in self.files().values():
                folder = os.path.dirname(source)
                while folder != self.root and inside(folder, self.root) and folder not in named:
                    named.add(folder)
                    self._folders.setdefault(os.path.realpath(folder), folder)
                    folder = os.path.dirname(folder)
        return self._folders


def read_sources(paths: Iterable[Path], progress: Progress | None = None
                 ) -> tuple[list[Article], list[ReadError]]:
    """Every article under `paths` with an absolute source, and one error per bad input.

    A file named twice (directly and through its folder) is read once, so a command line
    like `qa index add news news/a.txt` cannot store an article twice.
    """
    # Imported here: the readers (HTML, Markdown) are not needed by `qa ask`, which imports
    # the indexing package for `build.manifest_for` only.
    from index.corpus.read import expand_paths

    articles: list[Article] = []
    errors: list[ReadError] = []
    seen: set[str] = set()
    for path in (Path(p) for p in paths):
        tree = FolderSources(path) if path.is_dir() else None
        for item in expand_paths([path]):
            if isinstance(item, ReadError):
                errors.append(item)
                continue
            key = os.path.realpath(item)
            if key in seen:
                continue
            seen.add(key)
            # A named file is stored as named; a folder's files as a sync of it names them.
            source = Path(tree.walked(item)) if tree is not None else item
            _read_one(source, articles, errors, progress)
    return articles, errors


def _read_one(path: Path, articles: list[Article], errors: list[ReadError],
              progress: Progress | None) -> None:
    from index.corpus.read import read_file

    for result in read_file(path):
        if isinstance(result, ReadError):
            errors.append(result)
        else:
            result.source = absolute(result.source)
            articles.append(result)
            if progress:
                progress("read", len(articles), 0)


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


def _vacant(owner: StoredArticle, source: str) -> bool:
    """Whether `owner` may give its id up to an article read from `source`: its file is gone,
    or is that very file under another path (see the module docstring)."""
    if not _exists(owner.source):
        return True
    try:
        return os.path.samefile(owner.source, source)
    except (OSError, ValueError):
        return False


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
            free = owner is None or _vacant(owner, source)
            if base not in claimed and free:
                chosen = base
            elif alt not in claimed and (alt not in stored or _vacant(stored[alt], source)):
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
