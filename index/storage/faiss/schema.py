"""SQLite schema of an index, as numbered migrations (the pattern of simonw's `llm`).

An index folder outlives the code that wrote it, so the schema only ever moves forward:
each change is a new function appended to `MIGRATIONS`, never an edit of an old one.
`PRAGMA user_version` records how many have been applied; it lives in the database header
and is transactional, so a migration and its version bump commit together or not at all.
"""
from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from pathlib import Path

from index.corpus.published import DATELINE_PARAGRAPHS, provenance
from index.storage.base import SCHEMA_VERSION

Migration = Callable[[sqlite3.Connection], None]

MIGRATIONS: list[Migration] = []


def migration(fn: Migration) -> Migration:
    """Register `fn` as the next migration; order of definition is order of application."""
    MIGRATIONS.append(fn)
    return fn


@migration
def m001_initial(db: sqlite3.Connection) -> None:
    # AUTOINCREMENT so a paragraph id (which is also its FAISS id) is never reused: a reader
    # holding an older FAISS generation can then at worst miss a row, never get the wrong one.
    statements = [
        """
        CREATE TABLE manifest (
            key TEXT PRIMARY KEY,
            value TEXT NOT NULL
        )
        """,
        """
        CREATE TABLE articles (
            id TEXT PRIMARY KEY,
            title TEXT NOT NULL,
            source TEXT NOT NULL,
            metadata TEXT NOT NULL DEFAULT '{}',
            content_hash TEXT NOT NULL DEFAULT '',
            added_at TEXT NOT NULL
        )
        """,
        """
        CREATE TABLE paragraphs (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            article_id TEXT NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
            number INTEGER NOT NULL,
            text TEXT NOT NULL,
            line INTEGER NOT NULL,
            start INTEGER NOT NULL,
            "end" INTEGER NOT NULL,
            text_hash TEXT NOT NULL,
            views INTEGER NOT NULL DEFAULT 1
        )
        """,
        "CREATE INDEX paragraphs_article ON paragraphs(article_id, number)",
        "CREATE INDEX paragraphs_text_hash ON paragraphs(text_hash)",
        # A regular (content-storing) FTS5 table kept in sync by triggers. External content
        # would save space, but its 'delete' command needs the old title, which is awkward
        # to get right when articles cascade; a stored copy makes deletes by rowid safe.
        # No stemmer: the corpus is multilingual (mostly Indonesian), Porter is English-only.
        """
        CREATE VIRTUAL TABLE paragraphs_fts USING fts5(
            text, title, tokenize = 'unicode61 remove_diacritics 2'
        )
        """,
        """
        CREATE TRIGGER paragraphs_fts_insert AFTER INSERT ON paragraphs BEGIN
            INSERT INTO paragraphs_fts(rowid, text, title)
            VALUES (new.id, new.text, (SELECT title FROM articles WHERE id = new.article_id));
        END
        """,
        """
        CREATE TRIGGER paragraphs_fts_delete AFTER DELETE ON paragraphs BEGIN
            DELETE FROM paragraphs_fts WHERE rowid = old.id;
        END
        """,
        """
        CREATE TRIGGER paragraphs_fts_update AFTER UPDATE OF text, article_id ON paragraphs BEGIN
            UPDATE paragraphs_fts
            SET text = new.text,
                title = (SELECT title FROM articles WHERE id = new.article_id)
            WHERE rowid = new.id;
        END
        """,
        """
        CREATE TRIGGER articles_fts_title AFTER UPDATE OF title ON articles BEGIN
            UPDATE paragraphs_fts SET title = new.title
            WHERE rowid IN (SELECT id FROM paragraphs WHERE article_id = new.id);
        END
        """,
    ]
    for statement in statements:
        db.execute(statement)


@migration
def m002_vocabulary(db: sqlite3.Connection) -> None:
    # Which words the corpus contains, read by retrieval to judge how far the lexical signal
    # can be trusted for a question (an English question over Indonesian text shares few
    # words with it). fts5vocab is a view over the FTS index: no storage, always in sync.
    db.execute("CREATE VIRTUAL TABLE paragraphs_vocab USING fts5vocab(paragraphs_fts, 'row')")


@migration
def m003_stemmed_lexical(db: sqlite3.Connection) -> None:
    # The FTS table now holds each paragraph and title as index.corpus.lexical.index_text() renders
    # it (case-folded, Indonesian affixes stripped), so "memanggil" in a question meets
    # "dipanggil" in an article. The function is registered on every connection as
    # qa_lexical; re-tokenising from the stored text needs no re-embedding. Measured on the
    # dev sets in benchmarks/lexical_dev.py.
    statements = [
        "DROP TABLE IF EXISTS paragraphs_vocab",
        "DROP TRIGGER IF EXISTS paragraphs_fts_insert",
        "DROP TRIGGER IF EXISTS paragraphs_fts_delete",
        "DROP TRIGGER IF EXISTS paragraphs_fts_update",
        "DROP TRIGGER IF EXISTS articles_fts_title",
        "DROP TABLE IF EXISTS paragraphs_fts",
        """
        CREATE VIRTUAL TABLE paragraphs_fts USING fts5(
            text, title, tokenize = 'unicode61 remove_diacritics 2'
        )
        """,
        """
        INSERT INTO paragraphs_fts(rowid, text, title)
        SELECT p.id, qa_lexical(p.text), qa_lexical(a.title)
        FROM paragraphs p JOIN articles a ON a.id = p.article_id
        """,
        """
        CREATE TRIGGER paragraphs_fts_insert AFTER INSERT ON paragraphs BEGIN
            INSERT INTO paragraphs_fts(rowid, text, title)
            VALUES (new.id, qa_lexical(new.text),
                    qa_lexical((SELECT title FROM articles WHERE id = new.article_id)));
        END
        """,
        """
        CREATE TRIGGER paragraphs_fts_delete AFTER DELETE ON paragraphs BEGIN
            DELETE FROM paragraphs_fts WHERE rowid = old.id;
        END
        """,
        """
        CREATE TRIGGER paragraphs_fts_update AFTER UPDATE OF text, article_id ON paragraphs BEGIN
            UPDATE paragraphs_fts
            SET text = qa_lexical(new.text),
                title = qa_lexical((SELECT title FROM articles WHERE id = new.article_id))
            WHERE rowid = new.id;
        END
        """,
        """
        CREATE TRIGGER articles_fts_title AFTER UPDATE OF title ON articles BEGIN
            UPDATE paragraphs_fts SET title = qa_lexical(new.title)
            WHERE rowid IN (SELECT id FROM paragraphs WHERE article_id = new.id);
        END
        """,
        "CREATE VIRTUAL TABLE paragraphs_vocab USING fts5vocab(paragraphs_fts, 'row')",
    ]
    for statement in statements:
        db.execute(statement)


@migration
def m004_names_with_accents_unstemmed(db: sqlite3.Connection) -> None:
    # index.corpus.lexical.stem no longer passes words with non-ASCII letters to Sastrawi, which
    # split them ("józef" into "j zef"); rows holding such words are re-tokenised. The
    # triggers already call qa_lexical, which is the new function on this connection.
    db.execute("DELETE FROM paragraphs_fts")
    db.execute(
        "INSERT INTO paragraphs_fts(rowid, text, title) "
        "SELECT p.id, qa_lexical(p.text), qa_lexical(a.title) "
        "FROM paragraphs p JOIN articles a ON a.id = p.article_id"
    )


@migration
def m005_vectors_table(db: sqlite3.Connection) -> None:
    # The float16 record of every vector (index.storage.faiss.vector_table), filled from the committed
    # FAISS generation: exact for an exact-search index, decoded from 8-bit codes (cosine to
    # the original >= 0.995) for an IVF one, which has nothing better to give.
    db.execute("CREATE TABLE vectors (id INTEGER PRIMARY KEY, vec BLOB NOT NULL)")
    generation = db.execute("SELECT value FROM manifest WHERE key = 'generation'").fetchone()
    folder = next((row[2] for row in db.execute("PRAGMA database_list") if row[1] == "main"), "")
    if generation is None or not folder:
        return  # a new index: nothing stored yet
    import numpy as np

    from index.storage.faiss import vector_table
    from index.storage.faiss import vectors as ann

    path = Path(folder).parent / f"vectors-{int(generation[0])}.faiss"
    try:
        index = ann.read(path, mmap=True)
    except (OSError, RuntimeError):
        return  # the store reports the missing or unreadable file when it needs it
    ids = ann.ids(index)
    for start in range(0, len(ids), 65_536):
        chunk = ids[start:start + 65_536]
        vecs = index.reconstruct_batch(chunk)
        vector_table.insert(db, chunk, vecs / np.linalg.norm(vecs, axis=1, keepdims=True))


@migration
def m006_article_provenance(db: sqlite3.Connection) -> None:
    # Each article's publication date (ISO, NULL when unknown) and outlet key, which searches
    # filter on (index.storage.base.ArticleFilter), computed by index.corpus.published from
    # what the index stored: the metadata and the first paragraphs, as a new write would.
    # Columns already there (a test lowering user_version) are kept and refilled.
    columns = {row[1] for row in db.execute("PRAGMA table_info(articles)")}
    if "published" not in columns:
        db.execute("ALTER TABLE articles ADD COLUMN published TEXT")
    if "outlet" not in columns:
        db.execute("ALTER TABLE articles ADD COLUMN outlet TEXT NOT NULL DEFAULT ''")
    db.execute("CREATE INDEX IF NOT EXISTS articles_published ON articles(published)")
    db.execute("CREATE INDEX IF NOT EXISTS articles_outlet ON articles(outlet)")
    rows = db.execute("SELECT id, metadata FROM articles").fetchall()
    for aid, metadata in rows:
        texts = [t for (t,) in db.execute(
            "SELECT text FROM paragraphs WHERE article_id = ? ORDER BY number, id LIMIT ?",
            (aid, DATELINE_PARAGRAPHS))]
        try:
            meta = json.loads(metadata)
        except ValueError:
            meta = {}
        found = provenance(meta if isinstance(meta, dict) else {}, texts)
        db.execute("UPDATE articles SET published = ?, outlet = ? WHERE id = ?",
                   (found.published.isoformat() if found.published else None, found.outlet, aid))


@migration
def m007_word_senses(db: sqlite3.Connection) -> None:
    # What each stemmed corpus word means in context (index.models.word_senses): the mean of
    # its first occurrences' unit token states as float16, and how many were read. Filled as
    # paragraphs are embedded; an index written before stays empty until `qa index rebuild`.
    db.execute("CREATE TABLE word_senses (term TEXT PRIMARY KEY, count INTEGER NOT NULL, "
               "vec BLOB NOT NULL)")


CURRENT = len(MIGRATIONS)
# Every backend records this version (index.storage.base); a new migration raises both.
assert CURRENT == SCHEMA_VERSION, f"schema has {CURRENT} migrations, records say {SCHEMA_VERSION}"


def version(db: sqlite3.Connection) -> int:
    return int(db.execute("PRAGMA user_version").fetchone()[0])


def migrate(db: sqlite3.Connection) -> int:
    """Apply pending migrations, each in its own transaction; return the resulting version.

    `db` must be in autocommit mode (isolation_level=None) so the explicit BEGIN/COMMIT
    here are the only transaction boundaries. The caller holds the index's write lock.
    """
    current = version(db)
    if current > CURRENT:
        raise RuntimeError(
            f"index schema version {current} is newer than this qa understands ({CURRENT}); "
            "upgrade qa"
        )
    for number in range(current, CURRENT):
        db.execute("BEGIN IMMEDIATE")
        try:
            MIGRATIONS[number](db)
            db.execute(f"PRAGMA user_version = {number + 1}")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")
    return version(db)
