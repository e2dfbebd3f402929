"""Conversations kept in SQLite: every turn with its question, how it was read, and the
passages and citations shown, so `qa ask -c`, the chat and `qa export` share one history.

One database per user (under the user data dir, see `qa.paths.conversations_db`) holds the
conversations of every index; each conversation names the index it was held with, and
"the last conversation" is the last one *for that index*. The schema evolves by code: the
database's `user_version` counts the migrations applied, and opening it applies the rest in
order, each in its own transaction, so an old file (or an empty one) is brought up to date.
Several processes may write (a chat and a `qa ask -c`): writes take SQLite's write lock
first, and turn numbers are assigned inside it.
"""
from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from dataclasses import asdict
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from index.errors import UserError
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
        raise UserError(f"the conversations database is from a newer qa (schema {version}, "
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


class ConversationStore:
    """The conversations database. `path` ":memory:" keeps it in memory (evaluation)."""

    def __init__(self, path: Path | str) -> None:
        self.path = path
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        try:
            self.db = sqlite3.connect(str(path), timeout=30, isolation_level=None)
            self.db.execute("PRAGMA foreign_keys = ON")
            if path != ":memory:":
                self.db.execute("PRAGMA journal_mode = WAL")
            migrate(self.db)
        except sqlite3.DatabaseError as exc:
            raise UserError(f"{path}: cannot open the conversations database ({exc})") from None

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> ConversationStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- conversations ---------------------------------------------------------------

    def start(self, index: str) -> Conversation:
        started = _now()
        cur = self.db.execute(
            "INSERT INTO conversations (index_key, started_at, activity) VALUES "
            "(?, ?, (SELECT coalesce(max(activity), 0) + 1 FROM conversations))", (index, started))
        return Conversation(id=int(cur.lastrowid), index_key=index, started_at=started)

    def last_id(self, index: str) -> int | None:
        """The conversation of this index that was started or continued last."""
        row = self.db.execute("SELECT id FROM conversations WHERE index_key = ? "
                              "ORDER BY activity DESC LIMIT 1", (index,)).fetchone()
        return None if row is None else int(row[0])

    def get(self, cid: int) -> Conversation:
        row = self.db.execute("SELECT id, index_key, started_at FROM conversations WHERE id = ?",
                              (cid,)).fetchone()
        if row is None:
            raise UserError(f"no conversation {cid} (see `qa export` for the last one)")
        conv = Conversation(id=row[0], index_key=row[1], started_at=row[2])
        conv.turns = self.turns(cid)
        return conv

    def conversations(self, index: str | None = None) -> list[Conversation]:
        """Every conversation (of one index, if given), without their turns, oldest first."""
        sql = "SELECT id, index_key, started_at FROM conversations"
        rows = (self.db.execute(sql + " WHERE index_key = ? ORDER BY id", (index,)) if index
                else self.db.execute(sql + " ORDER BY id"))
        return [Conversation(id=r[0], index_key=r[1], started_at=r[2]) for r in rows]

    # ---- turns -----------------------------------------------------------------------

    def add_turn(self, cid: int, question: str, reading: Reading, answer: Answer) -> Turn:
        asked = _now()
        self.db.execute("BEGIN IMMEDIATE")
        try:
            if self.db.execute("SELECT 1 FROM conversations WHERE id = ?", (cid,)).fetchone() is None:
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
        except sqlite3.OperationalError as exc:  # locked too long, disk full, read-only
            self.db.execute("ROLLBACK")
            raise UserError(f"{self.path}: cannot record the turn ({exc})") from None
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        return Turn(conversation_id=cid, number=number, question=question, reading=reading,
                    answer=answer, asked_at=asked)

    def turns(self, cid: int) -> list[Turn]:
        rows = self.db.execute(
            "SELECT id, number, question, mode, about, article_id, searched, confidence, "
            "calibrated, no_answer_reason, asked_at, short_answer FROM turns "
            "WHERE conversation_id = ? ORDER BY number", (cid,)).fetchall()
        out = []
        for (tid, number, question, mode, about, article_id, searched, conf, calibrated, why,
             asked, short) in rows:
            answer = Answer(question=question, passages=self._passages(tid), confidence=conf,
                            calibrated=bool(calibrated), no_answer_reason=why,
                            short_answer=ShortAnswer(**json.loads(short)) if short else None)
            out.append(Turn(conversation_id=cid, number=number, question=question,
                            reading=Reading(mode=mode, about=about, article_id=article_id,
                                            searched=searched),
                            answer=answer, asked_at=asked))
        return out

    def _passages(self, turn_id: int) -> list[AnswerPassage]:
        rows = self.db.execute(
            "SELECT rank, paragraph_id, article_id, title, source, paragraph, line, text, score, "
            "answer_sentence, sentence_start, sentence_end, citation, also_in FROM passages "
            "WHERE turn_id = ? ORDER BY rank", (turn_id,)).fetchall()
        out = []
        for (rank, pid, aid, title, source, paragraph, line, text, score, sentence, a, b,
             citation, also_in) in rows:
            hit = Hit(paragraph_id=pid, article_id=aid, title=title, source=source,
                      paragraph=paragraph, line=line, text=text, score=score)
            out.append(AnswerPassage(
                rank=rank, hit=hit, answer_sentence=sentence, sentence_start=a, sentence_end=b,
                citation=Citation(**json.loads(citation)),
                also_in=tuple(Citation(**c) for c in json.loads(also_in))))
        return out


def open_default() -> ConversationStore:
    from qa import paths

    return ConversationStore(paths.conversations_db())


def ask_in_conversation(engine: Engine, store: ConversationStore, conversation_id: int,
                        question: str, k: int = 5,
                        config: FollowupConfig | None = None,
                        where: ArticleFilter | None = None) -> Turn:
    """Answer `question` as the next turn of a conversation, read in the turns before it,
    and record it: the one entry point for `qa ask -c` and the chat. `where` limits the
    articles searched (qa.filtering); a filter no article passes raises before anything
    is recorded."""
    from qa.followup import DEFAULT_FOLLOWUP, answer_in_context, context_of

    context = context_of(store.turns(conversation_id))
    reading, answer = answer_in_context(engine, question, context, k=k,
                                        config=config or DEFAULT_FOLLOWUP, where=where)
    return store.add_turn(conversation_id, question, reading, answer)
