"""Questions asked in `qa chat`, remembered per index between sessions.

Kept in the user data dir rather than inside the index folder, because a rebuild replaces
that folder wholesale. One small JSON file per index, named after a hash of its resolved
path; written atomically so a crash never leaves a half-written file.
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from pathlib import Path

MAX_ENTRIES = 500


def _key(index_ref) -> str:
    """A folder by its absolute path; an index elsewhere (a Milvus collection) by its name."""
    if isinstance(index_ref, (str, Path)):
        return str(Path(index_ref).expanduser().resolve())
    return str(index_ref)


def history_file(index_ref: Path, base: Path | None = None) -> Path:
    """Where the history of the index at `index_ref` lives."""
    if base is None:
        from qa import paths

        base = paths.data_dir() / "chat-history"
    key = _key(index_ref)
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]
    return base / f"{digest}.json"


class QuestionHistory:
    """Oldest first. `add` saves at once; a file that cannot be read or written only costs
    the history, never the chat."""

    def __init__(self, path: Path | None, index_ref: Path | None = None) -> None:
        self.path = path
        self.index_ref = index_ref
        self.entries: list[str] = self._load()

    @classmethod
    def for_index(cls, index_ref: Path, base: Path | None = None) -> QuestionHistory:
        return cls(history_file(index_ref, base), index_ref)

    def _load(self) -> list[str]:
        if self.path is None:
            return []
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return []
        questions = data.get("questions") if isinstance(data, dict) else None
        if not isinstance(questions, list):
            return []
        return [q for q in questions if isinstance(q, str) and q.strip()][-MAX_ENTRIES:]

    def add(self, question: str) -> None:
        question = question.strip()
        if not question:
            return
        if self.entries and self.entries[-1] == question:
            return
        self.entries.append(question)
        del self.entries[:-MAX_ENTRIES]
        self.save()

    def save(self) -> None:
        if self.path is None:
            return
        payload = {
            "index": _key(self.index_ref) if self.index_ref else None,
            "questions": self.entries,
        }
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".history-", suffix=".tmp", dir=self.path.parent)
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as f:
                    json.dump(payload, f, ensure_ascii=False, indent=1)
                os.replace(tmp, self.path)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
                raise
        except OSError:
            pass
