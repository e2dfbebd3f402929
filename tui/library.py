"""The chat's only doors into the library: open the engine, answer, keep conversations,
read the store.

No ranking or answering decisions are made in `tui/`; these are thin wrappers so the
screens never touch SQLite, FAISS or torch themselves. Those that take the engine run on the
engine worker's thread (see `tui.engine_worker`), never on the UI thread.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from index.storage.base import ArticleFilter, StoredArticle, StoredParagraph
    from qa.conversation_keeper import KeptTurn
    from qa.conversations import ConversationStore
    from qa.engine import Engine, Progress
    from qa.index_changes import IndexChange, IndexState
    from qa.types import Conversation

DEFAULT_K = 5


@dataclass(frozen=True)
class IndexInfo:
    index_ref: Path
    model: str
    paragraphs: int
    articles: list[StoredArticle] = field(default_factory=list)
    generation: int = -1  # the store's, when these were read: what a later poll compares


def open_chat_engine(index_ref: Path, model: str | None, build_default: bool,
                     progress: Progress | None = None,
                     say: Callable[[str], None] | None = None) -> Engine:
    from qa.engine import open_engine

    return open_engine(index_ref, model, build_default=build_default, progress=progress, say=say)


class ChatConversations:
    """The chat's conversations with one index: the store and the current conversation.

    SQLite connections belong to the thread that opened them, so the store is opened lazily
    by the first job that needs it, on the engine thread, and every method here is called
    from engine jobs only (which also keeps "new chat" ordered after questions asked before
    it). `current` is None until the first question of a new chat starts one. `where` is
    the filter questions are asked under (None: every article), changed by `set_filter`.
    A store that fails (qa.conversation_keeper) costs the record, never the answer: `ask`
    says so in the KeptTurn's notice, and the next question tries the store again.
    """

    def __init__(self, index_ref, where: ArticleFilter | None = None) -> None:
        from qa.conversation_keeper import ConversationKeeper
        from qa.conversations import index_key

        self.key = index_key(index_ref)
        self.current: int | None = None
        self.where = where
        self.keeper = ConversationKeeper()  # opens nothing until its first job

    def _run(self, op):
        """The keeper's `run`; a store set aside takes the current conversation with it."""
        from qa.conversation_faults import StoreFault

        try:
            return self.keeper.run(op)
        except StoreFault as fault:
            if fault.replaced:
                self.current = None
            raise

    def ask(self, engine: Engine, question: str, k: int = DEFAULT_K) -> KeptTurn:
        """The next turn of the current conversation (started here for a first question),
        recorded before it is shown, so quitting never loses an answered turn."""
        from qa.conversation_keeper import Continuation, ask_and_keep

        kept = ask_and_keep(engine, self.keeper, Continuation(self.key, self.current), question,
                            k, where=self.where)
        self.current = kept.continues
        return kept

    def set_filter(self, engine: Engine, command: str) -> ArticleFilter | None:
        """Apply a `/filter ...` command (qa.filtering.parse_command) and return the filter
        now in force; a command that cannot be read, or a filter no article passes, raises a
        one-line UserError and leaves the filter as it was."""
        from qa.filtering import check, parse_command

        where = parse_command(command)
        check(engine.store, where)
        self.where = where
        return where

    def new(self) -> None:
        """Start afresh: the next question is read on its own, in a new conversation."""
        self.current = None

    def open(self, cid: int) -> Conversation:
        """Make conversation `cid` (of this index) the current one; returns it with its turns."""
        from qa.engine import UserError

        conv = self._run(lambda store: store.get(cid))
        if conv.index_key != self.key:
            raise UserError(f"conversation {cid} was held with another index ({conv.index_key})")
        self.current = conv.id
        return conv

    def open_last(self) -> Conversation | None:
        """Reopen the conversation of this index started or continued last, if any."""
        cid = self._run(lambda store: store.last_id(self.key))
        return None if cid is None else self.open(cid)

    def summaries(self) -> list[ConversationSummary]:
        """The conversations of this index that have turns, newest first."""
        def read(store: ConversationStore) -> list[ConversationSummary]:
            out = []
            for conv in reversed(store.conversations(self.key)):
                turns = store.turns(conv.id)
                if turns:
                    out.append(ConversationSummary(conv.id, conv.started_at, len(turns),
                                                   turns[0].question))
            return out

        return self._run(read)

    def export_markdown(self, folder: Path) -> Path | None:
        """Write the current conversation as Markdown to `folder`, never over an existing
        file; None when there is nothing to export yet."""
        from qa.export import to_markdown

        if self.current is None:
            return None
        current = self.current
        conv = self._run(lambda store: store.get(current))
        if not conv.turns:
            return None
        text = to_markdown(conv)
        stem = f"qa-conversation-{conv.id}"
        for n in range(1, 10_000):
            path = folder / (f"{stem}.md" if n == 1 else f"{stem}-{n}.md")
            try:
                with open(path, "x", encoding="utf-8") as f:  # "x": never overwrite
                    f.write(text)
                return path
            except FileExistsError:
                continue
        raise FileExistsError(f"{folder}: too many {stem}-N.md files")

    def close(self) -> None:
        self.keeper.close()


@dataclass(frozen=True)
class ConversationSummary:
    id: int
    started_at: str
    turns: int
    first_question: str


def index_info(engine: Engine) -> IndexInfo:
    from qa.index_changes import read_state

    return _info(engine, read_state(engine.store))


def index_info_if_changed(engine: Engine, generation: int) -> IndexInfo | None:
    """New figures when another writer (or the chat's own re-sync) committed since
    `generation`; None after one small read otherwise."""
    from qa.index_changes import state_if_moved

    state = state_if_moved(engine.store, generation)
    return None if state is None else _info(engine, state)


def _info(engine: Engine, state: IndexState) -> IndexInfo:
    return IndexInfo(engine.index_ref, engine.embedder.name, state.paragraphs, state.articles,
                     state.generation)


def index_change(before: list[StoredArticle], after: list[StoredArticle]) -> IndexChange:
    """How two article lists differ (see qa.index_changes)."""
    from qa.index_changes import compare

    return compare(before, after)


def error_text(error: BaseException) -> str:
    """One line for a failed job: a user error as the CLI words it, anything else named."""
    from qa.engine import UserError, error_line

    if isinstance(error, UserError):
        return error_line(error)
    return f"{type(error).__name__}: {error}"


def resync_beside_answers(engine: Engine) -> bool:
    """Whether questions can be answered while a re-sync runs (see qa.resync)."""
    from qa.resync import runs_beside_answers

    return runs_beside_answers(engine)


def article_paragraphs(engine: Engine, article_id: str) -> list[StoredParagraph]:
    """Every stored paragraph of one article, in reading order."""
    return engine.store.article_paragraphs(article_id)
