"""Conversations kept in SQLite: every turn with its question, how it was read, and the
passages and citations shown, so `qa ask -c`, the chat and `qa export` share one history.

One database per user (under the user data dir, see `qa.paths.conversations_db`) holds the
conversations of every index; each conversation names the index it was held with, and
"the last conversation" is the last one *for that index*. The schema evolves by code: the
database's `user_version` counts the migrations applied, and opening it applies the rest in
order, each in its own transaction, so an old file (or an empty one) is brought up to date.
Several processes may write (a chat and a `qa ask -c`): writes take SQLite's write lock
first, and turn numbers are assigned inside it.

Every failure of the file (damaged, read-only, full disk, held locked too long) leaves here as
a `StoreFault` (qa.conversation_faults), never as a bare sqlite3 error, so the callers
(qa.conversation_keeper) can keep answering without the record. A turn whose row cannot be read back (JSON that is not,
a field of the wrong kind) is left out of what is read and reported as an `UnreadableTurn`,
rather than costing the whole conversation.
"""
from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from index.errors import UserError
from qa.conversation_faults import NewerStoreError, faults, inode_of, store_fault
from qa.types import Answer, AnswerPassage, Citation, Conversation, Hit, Reading, ShortAnswer, Turn

if TYPE_CHECKING:
    from index.storage.base import ArticleFilter
    from qa.engine import Engine
    from qa.followup import FollowupConfig


def _m1_initial(db: sqlite3.Connection) -> None:
    db.execute("""CREATE TABLE conversations (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        index_key TEXT NOT NULL,
        started_at TEXT NOT NULL,
        activity INTEGER NOT NULL)""")  # grows with every start and turn: "the last one"
    db.execute("CREATE INDEX conversations_by_index ON conversations(index_key, activity)")
    db.execute("""CREATE TABLE turns (
        id INTEGER PRIMARY KEY,
        conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
        number INTEGER NOT NULL,
        question TEXT NOT NULL,
        mode TEXT NOT NULL,
        about TEXT NOT NULL,
        article_id TEXT,
        searched TEXT NOT NULL,
        confidence REAL,
        calibrated INTEGER NOT NULL,
        no_answer_reason TEXT,
        asked_at TEXT NOT NULL,
        UNIQUE (conversation_id, number))""")
    db.execute("""CREATE TABLE passages (
        turn_id INTEGER NOT NULL REFERENCES turns(id) ON DELETE CASCADE,
        rank INTEGER NOT NULL,
        paragraph_id INTEGER NOT NULL,
        article_id TEXT NOT NULL,
        title TEXT NOT NULL,
        source TEXT NOT NULL,
        paragraph INTEGER NOT NULL,
        line INTEGER NOT NULL,
        text TEXT NOT NULL,
        score REAL NOT NULL,
        answer_sentence TEXT NOT NULL,
        sentence_start INTEGER NOT NULL,
        sentence_end INTEGER NOT NULL,
        citation TEXT NOT NULL,
        also_in TEXT NOT NULL,
        PRIMARY KEY (turn_id, rank))""")


def _m2_short_answer(db: sqlite3.Connection) -> None:
    """The turn's short answer (qa.short_answer) as JSON, or NULL: turns recorded before it
    existed have none."""
    db.execute("ALTER TABLE turns ADD COLUMN short_answer TEXT")


# Append only: never edit or reorder a migration once released; the list's length is the
# schema version a database is at when fully migrated.
MIGRATIONS: list[Callable[[sqlite3.Connection], None]] = [_m1_initial, _m2_short_answer]


def migrate(db: sqlite3.Connection) -> int:
    """Apply the migrations this database has not had; returns its version afterwards."""
    version = db.execute("PRAGMA user_version").fetchone()[0]
    if version > len(MIGRATIONS):
        raise NewerStoreError(f"the conversations database is from a newer qa (schema {version}, "
                              f"this qa knows {len(MIGRATIONS)}); upgrade qa")
    for number, step in enumerate(MIGRATIONS[version:], start=version + 1):
        db.execute("BEGIN IMMEDIATE")
        try:
            # Another process may have migrated while this one waited for the lock.
            if db.execute("PRAGMA user_version").fetchone()[0] >= number:
                db.execute("ROLLBACK")
                continue
            step(db)
            db.execute(f"PRAGMA user_version = {number}")
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:  # SQLite may have rolled back itself (a full disk)
                db.execute("ROLLBACK")
            raise
    return len(MIGRATIONS)


def index_key(index_ref) -> str:
    """How a conversation names its index: a FAISS folder by its absolute path, a Milvus
    collection by URI and collection (their printed form)."""
    if isinstance(index_ref, Path):
        return str(index_ref.expanduser().resolve())
    return str(index_ref)


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


DEFAULT_TIMEOUT = 30.0  # seconds to wait for another process's write (QA_LOCK_TIMEOUT)
MAX_ID = 2**63 - 1  # SQLite integers: an id past this cannot name a conversation


def check_id(cid: int) -> None:
    """Conversation ids are SQLite integers: one outside them names no conversation (and
    would not even bind to a query)."""
    if not 1 <= cid <= MAX_ID:
        raise UserError(f"no conversation {cid} (see `qa export` for the last one)")


@dataclass(frozen=True)
class UnreadableTurn:
    """A stored turn that could not be read back, and why."""

    number: object  # as stored: a damaged row may not even hold a number
    reason: str


def unreadable_line(cid: int, unreadable: list[UnreadableTurn]) -> str:
    """One line for the turns of a conversation that could not be read."""
    if len(unreadable) == 1:
        u = unreadable[0]
        return f"turn {u.number} of conversation {cid} could not be read ({u.reason})"
    numbers = ", ".join(str(u.number) for u in unreadable)
    return f"turns {numbers} of conversation {cid} could not be read ({unreadable[0].reason}, ...)"


class _Malformed(ValueError):
    pass


def _load(text, what: str, make: Callable):
    """`make` applied to the JSON in `text`; _Malformed naming `what` when that is not what
    qa writes there."""
    try:
        data = json.loads(text)
    except (TypeError, ValueError):
        raise _Malformed(f"{what} is not valid JSON") from None
    try:
        return make(data)
    except (TypeError, ValueError, KeyError):
        raise _Malformed(f"{what} does not hold the fields qa writes") from None


def _citation(data: dict) -> Citation:
    citation = Citation(**data)
    citation.label()  # fields of the wrong kind fail here, not in a transcript being written
    return citation


def _lenient_text(data: bytes) -> str:
    return data.decode("utf-8", "replace")


class ConversationStore:
    """The conversations database. `path` ":memory:" keeps it in memory (evaluation).
    `timeout`: seconds to wait for another process's write before giving up."""

    def __init__(self, path: Path | str, timeout: float = DEFAULT_TIMEOUT) -> None:
        self.path = path
        self.timeout = timeout
        self.inode = None if path == ":memory:" else inode_of(path)
        try:
            if path != ":memory:":
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            self.db = sqlite3.connect(str(path), timeout=timeout, isolation_level=None)
        except (sqlite3.DatabaseError, OSError) as exc:
            raise store_fault(path, exc, timeout, self.inode) or exc from None
        try:
            self.inode = self.inode or (None if path == ":memory:" else inode_of(path))
            self.db.execute("PRAGMA foreign_keys = ON")
            if path != ":memory:":
                self.db.execute("PRAGMA journal_mode = WAL")
            migrate(self.db)
        except (sqlite3.DatabaseError, OSError, NewerStoreError) as exc:
            self.close()
            raise store_fault(path, exc, timeout, self.inode) or exc from None

    def close(self) -> None:
        try:
            self.db.close()
        except sqlite3.Error:
            pass  # closing checkpoints the log; a full disk leaves it for the next open

    def __enter__(self) -> ConversationStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- conversations ---------------------------------------------------------------

    @faults
    def start(self, index: str) -> Conversation:
        started = _now()
        cur = self.db.execute(
            "INSERT INTO conversations (index_key, started_at, activity) VALUES "
            "(?, ?, (SELECT coalesce(max(activity), 0) + 1 FROM conversations))", (index, started))
        return Conversation(id=int(cur.lastrowid), index_key=index, started_at=started)

    @faults
    def last_id(self, index: str) -> int | None:
        """The conversation of this index that was started or continued last."""
        row = self.db.execute("SELECT id FROM conversations WHERE index_key = ? "
                              "ORDER BY activity DESC LIMIT 1", (index,)).fetchone()
        return None if row is None else int(row[0])

    @faults
    def find(self, cid: int) -> Conversation:
        """Conversation `cid` without its turns; a one-line UserError when there is none."""
        check_id(cid)
        row = self.db.execute("SELECT id, index_key, started_at FROM conversations WHERE id = ?",
                              (cid,)).fetchone()
        if row is None:
            raise UserError(f"no conversation {cid} (see `qa export` for the last one)")
        return Conversation(id=row[0], index_key=row[1], started_at=row[2])

    def get(self, cid: int) -> Conversation:
        return self.read(cid)[0]

    @faults
    def read(self, cid: int) -> tuple[Conversation, list[UnreadableTurn]]:
        """Conversation `cid` with the turns that can be read, and those that cannot."""
        conv = self.find(cid)
        conv.turns, unreadable = self.read_turns(cid)
        return conv, unreadable

    @faults
    def conversations(self, index: str | None = None) -> list[Conversation]:
        """Every conversation (of one index, if given), without their turns, oldest first."""
        sql = "SELECT id, index_key, started_at FROM conversations"
        rows = (self.db.execute(sql + " WHERE index_key = ? ORDER BY id", (index,)) if index
                else self.db.execute(sql + " ORDER BY id"))
        return [Conversation(id=r[0], index_key=r[1], started_at=r[2]) for r in rows]

    # ---- turns -----------------------------------------------------------------------

    @faults
    def add_turn(self, cid: int | None, question: str, reading: Reading, answer: Answer, *,
                 index: str | None = None) -> Turn:
        """Record the next turn of conversation `cid`, or (`cid` None) the first of a new
        conversation with `index`, started in the same transaction: a turn that cannot be
        written leaves no empty conversation behind."""
        if cid is not None:
            check_id(cid)
        elif index is None:
            raise ValueError("a new conversation needs its index")
        asked = _now()
        self.db.execute("BEGIN IMMEDIATE")
        try:
            if cid is None:
                cid = int(self.db.execute(
                    "INSERT INTO conversations (index_key, started_at, activity) VALUES "
                    "(?, ?, (SELECT coalesce(max(activity), 0) + 1 FROM conversations))",
                    (index, asked)).lastrowid)
            elif self.db.execute("SELECT 1 FROM conversations WHERE id = ?", (cid,)).fetchone() is None:
                raise UserError(f"no conversation {cid}")
            number = self.db.execute("SELECT coalesce(max(number), 0) + 1 FROM turns "
                                     "WHERE conversation_id = ?", (cid,)).fetchone()[0]
            cur = self.db.execute(
                "INSERT INTO turns (conversation_id, number, question, mode, about, article_id, "
                "searched, confidence, calibrated, no_answer_reason, asked_at, short_answer) "
                "VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                (cid, number, question, reading.mode, reading.about, reading.article_id,
                 reading.searched, answer.confidence, int(answer.calibrated),
                 answer.no_answer_reason, asked,
                 json.dumps(asdict(answer.short_answer), ensure_ascii=False)
                 if answer.short_answer else None))
            turn_id = cur.lastrowid
            self.db.execute("UPDATE conversations SET activity = (SELECT max(activity) + 1 FROM "
                            "conversations) WHERE id = ?", (cid,))
            self.db.executemany(
                "INSERT INTO passages VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                [(turn_id, p.rank, p.hit.paragraph_id, p.hit.article_id, p.hit.title,
                  p.hit.source, p.hit.paragraph, p.hit.line, p.hit.text, float(p.hit.score),
                  p.answer_sentence, p.sentence_start, p.sentence_end,
                  json.dumps(asdict(p.citation), ensure_ascii=False),
                  json.dumps([asdict(c) for c in p.also_in], ensure_ascii=False))
                 for p in answer.passages])
            self.db.execute("COMMIT")
        except BaseException:
            # SQLite rolls back by itself on some failures (a full disk): then there is
            # nothing left to roll back, and trying would hide the real error.
            if self.db.in_transaction:
                try:
                    self.db.execute("ROLLBACK")
                except sqlite3.Error:
                    pass
            raise
        return Turn(conversation_id=cid, number=number, question=question, reading=reading,
                    answer=answer, asked_at=asked)

    def turns(self, cid: int) -> list[Turn]:
        """The turns of conversation `cid` that can be read, in order."""
        return self.read_turns(cid)[0]

    @faults
    def read_turns(self, cid: int) -> tuple[list[Turn], list[UnreadableTurn]]:
        """The turns of conversation `cid` that can be read, and those that cannot."""
        check_id(cid)
        rows = self._rows(
            "SELECT id, number, question, mode, about, article_id, searched, confidence, "
            "calibrated, no_answer_reason, asked_at, short_answer FROM turns "
            "WHERE conversation_id = ? ORDER BY number", (cid,))
        out, unreadable = [], []
        for row in rows:
            try:
                out.append(self._turn(cid, row))
            except (ValueError, TypeError, KeyError) as exc:  # _Malformed is a ValueError
                reason = (str(exc) if isinstance(exc, _Malformed)
                          else "a column holds a value of the wrong kind")
                unreadable.append(UnreadableTurn(row[1], reason))
        return out, unreadable

    def _rows(self, sql: str, args: tuple) -> list[tuple]:
        """The rows of a query; TEXT that is not UTF-8 (a damaged or hand-edited row) is read
        with U+FFFD in its place rather than failing the whole conversation (only then: the
        lenient decoding is slower)."""
        try:
            return self.db.execute(sql, args).fetchall()
        except sqlite3.OperationalError as exc:
            if "decode" not in str(exc):
                raise
        self.db.text_factory = _lenient_text
        try:
            return self.db.execute(sql, args).fetchall()
        finally:
            self.db.text_factory = str

    def _turn(self, cid: int, row: tuple) -> Turn:
        (tid, number, question, mode, about, article_id, searched, conf, calibrated, why,
         asked, short) = row
        answer = Answer(question=str(question), passages=self._passages(tid),
                        confidence=None if conf is None else float(conf),
                        calibrated=bool(calibrated), no_answer_reason=why,
                        short_answer=(_load(short, "its short answer", lambda d: ShortAnswer(**d))
                                      if short else None))
        return Turn(conversation_id=cid, number=int(number), question=str(question),
                    reading=Reading(mode=str(mode), about=str(about), article_id=article_id,
                                    searched=str(searched)),
                    answer=answer, asked_at=str(asked))

    def _passages(self, turn_id: int) -> list[AnswerPassage]:
        rows = self._rows(
            "SELECT rank, paragraph_id, article_id, title, source, paragraph, line, text, score, "
            "answer_sentence, sentence_start, sentence_end, citation, also_in FROM passages "
            "WHERE turn_id = ? ORDER BY rank", (turn_id,))
        out = []
        for (rank, pid, aid, title, source, paragraph, line, text, score, sentence, a, b,
             citation, also_in) in rows:
            hit = Hit(paragraph_id=int(pid), article_id=str(aid), title=str(title),
                      source=str(source), paragraph=int(paragraph), line=int(line),
                      text=str(text), score=float(score))
            out.append(AnswerPassage(
                rank=int(rank), hit=hit, answer_sentence=str(sentence), sentence_start=int(a),
                sentence_end=int(b),
                citation=_load(citation, f"the citation of passage {rank}", _citation),
                also_in=_load(also_in, f"the copies of passage {rank}",
                              lambda d: tuple(_citation(c) for c in d))))
        return out


def lock_wait() -> float:
    """How long to wait for another process writing the store: QA_LOCK_TIMEOUT, the wait for
    another qa process everywhere else, or 30 s."""
    from qa.engine import lock_timeout

    seconds = lock_timeout()
    return DEFAULT_TIMEOUT if seconds is None else seconds


def open_default() -> ConversationStore:
    from qa import paths

    return ConversationStore(paths.conversations_db(), timeout=lock_wait())


def ask_in_conversation(engine: Engine, store: ConversationStore, conversation_id: int,
                        question: str, k: int = 5,
                        config: FollowupConfig | None = None,
                        where: ArticleFilter | None = None) -> Turn:
    """Answer `question` as the next turn of a conversation, read in the turns before it,
    and record it, with any failure of the store raised: for evaluation, whose store is in
    memory. `qa ask` and the chat, whose answer must survive the store, go through
    qa.conversation_keeper.ask_and_keep. `where` limits the articles searched
    (qa.filtering); a filter no article passes raises before anything is recorded."""
    from qa.followup import DEFAULT_FOLLOWUP, answer_in_context, context_of

    context = context_of(store.turns(conversation_id))
    reading, answer = answer_in_context(engine, question, context, k=k,
                                        config=config or DEFAULT_FOLLOWUP, where=where)
    return store.add_turn(conversation_id, question, reading, answer)
