"""Asking with the conversations store as a record that may fail.

The answer is what the user came for; the store only keeps it. So a store that cannot be read
or written (read-only, a full disk, held locked by another process, damaged) costs the record,
never the answer: the question is answered (read on its own when the conversation it was to
continue cannot be read) and one line says what was not kept and why.

A damaged file (SQLite finds it malformed, or it is not a database) does not mend by waiting,
and left in place it would stop every later question from being kept. It is moved aside under
a name that says so (`conversations.sqlite.corrupt-<UTC time>`, with its `-wal`), never written
over or deleted, since whatever can still be recovered from it stays there; the message names
where it went, and a new store is started at the usual path.
"""
from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from index.errors import UserError
from qa.conversation_faults import StoreFault
from qa.conversations import ConversationStore, unreadable_line

if TYPE_CHECKING:
    from index.storage.base import ArticleFilter
    from qa.engine import Engine
    from qa.followup import FollowupConfig
    from qa.types import Turn

T = TypeVar("T")
_COMPANIONS = ("-wal", "-shm")  # SQLite's log and shared memory beside the database


def set_aside(path: Path, inode: int | None) -> Path | None:
    """Move the damaged database at `path` (and its log) to `<name>.corrupt-<UTC time>`;
    the new path, or None when the file there is no longer the damaged one (`inode`):
    another process has set it aside already. Never moves over an existing file."""
    try:
        if inode is not None and os.stat(path).st_ino != inode:
            return None
    except FileNotFoundError:
        return None
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    for n in range(1, 1000):
        target = path.with_name(f"{path.name}.corrupt-{stamp}" + (f"-{n}" if n > 1 else ""))
        if not any(os.path.lexists(f"{target}{s}") for s in ("", *_COMPANIONS)):
            break
    else:
        raise FileExistsError(f"{path}.corrupt-{stamp}: too many files of that name")
    # The log first: a log left at the old name would be replayed into the new store.
    for suffix in (*_COMPANIONS, ""):
        try:
            os.rename(f"{path}{suffix}", f"{target}{suffix}")
        except FileNotFoundError:
            if not suffix:
                raise
    return target


class ConversationKeeper:
    """The conversations store of one command or one chat, opened on first use.

    `run` is the one way to use it: a failure of the store comes out as a StoreFault, and a
    damaged store is set aside before it does (the fault then says where it went, and the
    next `run` starts a new store). Nothing is given up for good: a store that was read-only
    or locked is tried again by the next `run`."""

    def __init__(self, path: Path | None = None, timeout: float | None = None) -> None:
        from qa import paths

        self.path = Path(path) if path is not None else paths.conversations_db()
        self.timeout = timeout
        self._store: ConversationStore | None = None

    def run(self, op: Callable[[ConversationStore], T]) -> T:
        try:
            if self._store is None:
                from qa.conversations import lock_wait

                timeout = lock_wait() if self.timeout is None else self.timeout
                self._store = ConversationStore(self.path, timeout=timeout)
            return op(self._store)
        except StoreFault as fault:
            if fault.damaged:
                raise self._set_aside(fault) from None
            raise

    def _set_aside(self, fault: StoreFault) -> StoreFault:
        self.close()
        try:
            moved = set_aside(self.path, fault.inode)
        except OSError as exc:
            return StoreFault(self.path, f"{fault.reason} and could not be moved aside "
                              f"({exc.strerror or exc})")
        if moved is None:
            where = "another qa process has moved it aside"
        else:
            where = f"moved aside to {moved}"
        return StoreFault(self.path, f"{fault.reason}: {where}; a new one is used from now on",
                          replaced=True)

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None

    def __enter__(self) -> ConversationKeeper:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@dataclass(frozen=True)
class Continuation:
    """The conversation a question continues: `id` None for a new one. `lost` is why the
    conversation asked for could not be looked up, when the store failed: the question is
    then read on its own."""

    index: str
    id: int | None = None
    lost: StoreFault | None = None


def continuation(keeper: ConversationKeeper, index: str, cid: int | None = None,
                 last: bool = False) -> Continuation:
    """What `--cid ID` (or `-c`: `last`) continues. An id that names no conversation, or one
    held with another index, is the user's mistake and a UserError before anything is asked;
    a store that cannot be read is not: its fault goes with the continuation."""
    if cid is None and not last:
        return Continuation(index)
    try:
        if cid is None:
            return Continuation(index, keeper.run(lambda store: store.last_id(index)))
        held_with = keeper.run(lambda store: store.find(cid)).index_key
    except StoreFault as fault:
        return Continuation(index, None, fault)
    if held_with != index:
        raise UserError(f"conversation {cid} was held with another index ({held_with})")
    return Continuation(index, cid)


@dataclass(frozen=True)
class KeptTurn:
    """A question answered, and what became of its record. `turn` holds its conversation
    and number only when `saved`. `read_alone`: a conversation was to be continued but could
    not be read. `continues`: the conversation the next question continues. `notice`: the
    one line to show when anything went wrong with the store."""

    turn: Turn
    saved: bool
    read_alone: bool
    continues: int | None
    notice: str | None


def ask_and_keep(engine: Engine, keeper: ConversationKeeper, where_to: Continuation,
                 question: str, k: int = 5, config: FollowupConfig | None = None,
                 where: ArticleFilter | None = None) -> KeptTurn:
    """Answer `question` in the conversation `where_to` names (read in the turns before it)
    and record it as its next turn, or as the first of a new conversation: the entry point
    for `qa ask` and the chat. The store failing at any step costs the record or the context,
    never the answer. `where` limits the articles searched (qa.filtering)."""
    from qa.followup import DEFAULT_FOLLOWUP, answer_in_context, context_of
    from qa.types import Turn

    notes: list[str] = []
    cid, lost = where_to.id, where_to.lost
    turns: list[Turn] = []
    if cid is not None:
        try:
            conversation, unreadable = keeper.run(lambda store: store.read(cid))
        except StoreFault as fault:
            cid, lost = None, fault
        except UserError:  # gone since it was looked up (another qa set the store aside)
            lost = StoreFault(keeper.path, f"no longer holds conversation {cid}")
            cid = None
        else:
            turns = conversation.turns
            if unreadable:
                notes.append(unreadable_line(cid, unreadable) + "; left out of the context")
    if lost is not None:
        notes.append((str(lost) if lost.replaced else f"the conversation could not be read: {lost}")
                     + "; the question was read on its own")
    reading, answer = answer_in_context(engine, question, context_of(turns), k=k,
                                        config=config or DEFAULT_FOLLOWUP, where=where)

    def record(cid: int | None):
        return lambda store: store.add_turn(cid, question, reading, answer, index=where_to.index)

    turn, continues = None, cid
    try:
        turn = keeper.run(record(cid))
    except StoreFault as fault:
        if fault.replaced and not (lost is not None and lost.replaced):
            # The write found the store damaged: the conversation went aside with it.
            notes.append(str(fault))
            continues = None
            try:
                turn = keeper.run(record(None))
                notes[-1] += "; this question starts a new conversation"
            except StoreFault as again:
                fault = again
        if turn is None:
            said = f"the conversation could not be read: {lost}; the question was read on its own"
            if said in notes and str(lost) == str(fault):  # one fault, said once
                notes[notes.index(said)] = (f"the conversation could not be read or saved: "
                                            f"{lost}; the question was read on its own")
            else:
                notes.append(f"the conversation was not saved: {fault}")
    saved = turn is not None
    if turn is None:
        turn = Turn(conversation_id=0, number=0, question=question, reading=reading,
                    answer=answer)
    else:
        continues = turn.conversation_id
    return KeptTurn(turn=turn, saved=saved, read_alone=lost is not None, continues=continues,
                    notice="; ".join(notes) or None)
