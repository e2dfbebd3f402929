"""Conversations: the SQLite store, `qa ask -c/--cid`, `qa export`, `qa eval` on a
conversation file. Real SQLite, real model, real processes."""
from __future__ import annotations

import json
import sqlite3

import pytest

from qa.conversations import MIGRATIONS, ConversationStore, migrate
from qa.types import Answer, AnswerPassage, Citation, Hit, Reading
from tests.test_cli import cli_env, run_qa  # noqa: F401 - cli_env is a fixture


def _answer(question: str, texts: list[str]) -> Answer:
    passages = []
    for i, text in enumerate(texts, start=1):
        hit = Hit(paragraph_id=10 + i, article_id=f"a{i}", title=f"Title {i}", source=f"/x/{i}.txt",
                  paragraph=i, line=3 * i, text=text, score=1.0 / i)
        cit = Citation(title=f"Title {i}", source=f"x/{i}.txt", paragraph=i, line=3 * i,
                       outlet="Tribun", date="2024-10-21", url=None)
        passages.append(AnswerPassage(rank=i, hit=hit, answer_sentence=text[:5], sentence_start=0,
                                      sentence_end=5, citation=cit,
                                      also_in=(Citation("Copy", "y.txt", 2, 7),)))
    return Answer(question=question, passages=passages, confidence=0.8, calibrated=True)


def test_migration_from_an_empty_database(tmp_path):
    path = tmp_path / "c.sqlite"
    sqlite3.connect(path).close()  # an empty file: user_version 0
    with ConversationStore(path) as store:
        assert store.db.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
        assert store.conversations() == []
    with sqlite3.connect(path) as db:  # opening again applies nothing twice
        assert migrate(db) == len(MIGRATIONS)
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"conversations", "turns", "passages"} <= tables


def test_a_version_1_database_gains_short_answers_and_keeps_its_turns(tmp_path):
    """A database written before short answers (schema 1) is migrated in place: its turns
    read back with no short answer, and new turns keep theirs."""
    from qa.types import ShortAnswer

    path = tmp_path / "c.sqlite"
    with sqlite3.connect(path) as db:
        MIGRATIONS[0](db)
        db.execute("PRAGMA user_version = 1")
        db.execute("INSERT INTO conversations VALUES (1, '/idx', '2024-01-01T00:00:00', 1)")
        db.execute("INSERT INTO turns (id, conversation_id, number, question, mode, about, "
                   "searched, calibrated, asked_at) VALUES (1, 1, 1, 'Old?', 'new', '', 'Old?', "
                   "1, '2024-01-01T00:00:00')")
    with ConversationStore(path) as store:
        assert store.db.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
        old = store.get(1).turns[0]
        assert old.question == "Old?" and old.answer.short_answer is None
        answer = _answer("Siapa?", ["Korea Selatan telah memanggil duta besar."])
        answer.short_answer = ShortAnswer("Korea Selatan", 1, 0, 13, 0.6, "name")
        store.add_turn(1, "Siapa?", Reading(), answer)
    with ConversationStore(path) as store:
        conv = store.get(1)
        assert conv.turns[1].answer.short_answer == answer.short_answer
    from qa.export import to_dict, to_markdown

    assert to_dict(conv)["turns"][1]["short_answer"] == {"text": "Korea Selatan", "passage_rank": 1,
                                                         "start": 0, "end": 13}
    assert to_dict(conv)["turns"][0]["short_answer"] is None
    assert "**Korea Selatan** — [1]" in to_markdown(conv)


def test_a_database_from_a_newer_qa_is_refused(tmp_path):
    from index.errors import UserError

    path = tmp_path / "c.sqlite"
    with sqlite3.connect(path) as db:
        db.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 1}")
    with pytest.raises(UserError, match="newer"):
        ConversationStore(path)


def test_store_keeps_turns_with_passages_and_citations(tmp_path):
    path = tmp_path / "c.sqlite"
    with ConversationStore(path) as store:
        first = store.start("/idx/a")
        other = store.start("/idx/b")
        store.add_turn(first.id, "Q1?", Reading(), _answer("Q1?", ["alpha text", "beta text"]))
        store.add_turn(other.id, "Other?", Reading(), _answer("Other?", ["gamma"]))
        reading = Reading(mode="follow-up", about="about: Title 1 (after: Q1?)", article_id="a1",
                          searched="Q1? Q2?")
        turn = store.add_turn(first.id, "Q2?", reading, _answer("Q2?", ["delta text"]))
        assert (turn.conversation_id, turn.number) == (first.id, 2)
    with ConversationStore(path) as store:  # a new process sees it all
        assert store.last_id("/idx/a") == first.id
        assert store.last_id("/idx/b") == other.id
        assert store.last_id("/idx/none") is None
        conv = store.get(first.id)
        assert [t.question for t in conv.turns] == ["Q1?", "Q2?"]
        assert conv.turns[1].reading == reading
        p = conv.turns[0].answer.passages[1]
        assert (p.rank, p.hit.text, p.hit.article_id, p.answer_sentence) == (2, "beta text", "a2", "beta ")
        assert p.citation.label() == "Title 2 - Tribun - 2024-10-21 - para 2 - x/2.txt:6"
        assert p.also_in[0].source == "y.txt"
        assert conv.turns[0].answer.confidence == pytest.approx(0.8)
        # continuing the older conversation makes it the last one of its index
        store.add_turn(other.id, "More?", Reading(), _answer("More?", ["eps"]))
        newer = store.start("/idx/b")
        assert store.last_id("/idx/b") == newer.id
        store.add_turn(other.id, "Again?", Reading(), _answer("Again?", ["eps"]))
        assert store.last_id("/idx/b") == other.id


def test_a_flagged_answer_keeps_its_reason(tmp_path):
    """A resumed or exported "No confident answer" says why, as it did when it was shown."""
    with ConversationStore(tmp_path / "c.sqlite") as store:
        conv = store.start("idx")
        flagged = _answer("Apa ibu kota Prancis?", ["Paris adalah kota."])
        flagged.confidence, flagged.no_answer_reason = 0.01, "nothing in the index mentions Prancis"
        store.add_turn(conv.id, flagged.question, Reading(), flagged)
        store.add_turn(conv.id, "Siapa?", Reading(), _answer("Siapa?", ["Korea Selatan."]))
        first, second = store.turns(conv.id)
    assert first.answer.no_answer_reason == "nothing in the index mentions Prancis"
    assert first.answer.confident is False
    assert second.answer.no_answer_reason is None


def test_unknown_conversation_is_a_user_error(tmp_path):
    from index.errors import UserError

    with ConversationStore(tmp_path / "c.sqlite") as store, pytest.raises(UserError, match="no conversation 7"):
        store.get(7)


# ---- through the CLI -------------------------------------------------------------------

def _json(proc) -> dict:
    return json.loads(proc.stdout)


@pytest.fixture(scope="module")
def talk(cli_env):
    """A conversation held through `qa ask`: one question, then two follow-ups with -c."""
    first = _json(run_qa(["ask", "Who summoned the Russian ambassador?", "--json"], cli_env))
    second = _json(run_qa(["ask", "-c", "What did the ambassador reply?", "--json"], cli_env))
    third = run_qa(["ask", "--continue", "Siapa namanya?"], cli_env)
    return first, second, third


def test_ask_starts_then_continues_a_conversation(talk):
    first, second, third = talk
    assert first["turn"] == 1 and first["read_as"] is None and first["context"] == "first"
    assert second["conversation_id"] == first["conversation_id"] and second["turn"] == 2
    assert second["context"] == "follow-up" and second["read_as"].startswith("about: ")
    assert second["hits"][0]["article_id"] == first["hits"][0]["article_id"]
    # plain mode: the conversation id and the "about:" line on stderr, the answer on stdout
    assert f"conversation {first['conversation_id']}, turn 3" in third.stderr
    assert "about: " in third.stderr
    assert "about: " not in third.stdout and "[1]" in third.stdout


def test_ask_without_c_starts_a_new_conversation_and_cid_continues_an_old_one(talk, cli_env):
    first, *_ = talk
    new = _json(run_qa(["ask", "Siapa Sekjen NATO?", "--json"], cli_env))
    assert new["conversation_id"] != first["conversation_id"] and new["turn"] == 1
    old = _json(run_qa(["ask", "--cid", str(first["conversation_id"]), "Where is he?", "--json"],
                       cli_env))
    assert (old["conversation_id"], old["turn"]) == (first["conversation_id"], 4)
    missing = run_qa(["ask", "--cid", "999", "Where?"], cli_env, check=False)
    assert missing.returncode == 1 and "no conversation 999" in missing.stderr
    assert "Traceback" not in missing.stderr


def test_export_markdown_and_json(talk, cli_env):
    first, *_ = talk
    cid = str(first["conversation_id"])
    as_json = _json(run_qa(["export", cid, "--format", "json"], cli_env))
    assert as_json["conversation_id"] == first["conversation_id"]
    questions = [t["question"] for t in as_json["turns"]]
    assert questions[:3] == ["Who summoned the Russian ambassador?", "What did the ambassador reply?",
                             "Siapa namanya?"]
    top = as_json["turns"][0]["passages"][0]
    assert top["citation"] == first["hits"][0]["citation"]
    assert top["answer_sentence"] == first["hits"][0]["answer_sentence"]
    assert as_json["turns"][1]["read_as"].startswith("about: ")
    md = run_qa(["export", cid], cli_env).stdout
    assert md.startswith(f"# Conversation {cid}")
    assert "## 1. Who summoned the Russian ambassador?" in md
    assert "Read as about: " in md
    assert first["hits"][0]["title"].split()[0] in md
    bad = run_qa(["export", cid, "--format", "pdf"], cli_env, check=False)
    assert bad.returncode == 1 and "--format" in bad.stderr and "Traceback" not in bad.stderr


def test_export_defaults_to_the_last_conversation(talk, cli_env):
    latest = _json(run_qa(["ask", "Siapa Menteri Luar Negeri Inggris?", "--json"], cli_env))
    exported = _json(run_qa(["export", "--format", "json"], cli_env))
    assert exported["conversation_id"] == latest["conversation_id"]


def test_eval_conversations_json_shape(cli_env, tmp_path):
    """`qa eval` on a conversation file: per-turn rows for three modes and the metrics."""
    from qa.paths import seeds_dir

    seed = (seeds_dir() / "000_b0220605effb7f3f.txt").read_text(encoding="utf-8").splitlines()
    pool = tmp_path / "pool.jsonl"
    pool.write_text(json.dumps({"id": "seed", "title": seed[0], "paragraphs": seed[3:]}) + "\n"
                    + json.dumps({"id": "other", "title": "Cuaca", "paragraphs": [
                        "Hujan deras mengguyur Jakarta pada Senin sore.",
                        "BMKG memperkirakan hujan berlanjut hingga akhir pekan."]}) + "\n",
                    encoding="utf-8")
    convs = tmp_path / "convs.jsonl"
    convs.write_text(json.dumps({"id": "c1", "lang": "en", "article": "seed", "turns": [
        {"question": "Who summoned the Russian ambassador?", "standalone": "Who summoned the Russian ambassador?",
         "answers": ["Korea Selatan"], "paragraph": 0},
        {"question": "Where is he?", "standalone": "Where is the Russian ambassador South Korea summoned?",
         "answers": ["Moskow"], "paragraph": 0}]}) + "\n", encoding="utf-8")
    env = cli_env  # the pool index is cached beside the model, like `qa eval` on question sets
    out = _json(run_qa(["eval", str(convs), "--articles", str(pool), "--json", "-k", "3"], env))
    assert set(out) == {"metrics", "turns"}
    rows = out["turns"]
    assert len(rows) == 2 * 3
    assert {(r["turn"], r["mode"]) for r in rows} == {(t, m) for t in (1, 2)
                                                      for m in ("context", "alone", "standalone")}
    for r in rows:
        assert set(r) == {"id", "turn", "lang", "mode", "rank", "confident", "confidence",
                          "short_answer", "answers"}
        assert r["rank"] is None or 1 <= r["rank"] <= 3
        assert isinstance(r["confident"], bool) and 0.0 <= r["confidence"] <= 1.0  # judged, every turn
    by = {(r["turn"], r["mode"]): r["rank"] for r in rows}
    assert by[(1, "context")] == by[(1, "alone")]
    m = out["metrics"]
    assert set(m) == {"context", "alone", "standalone"}
    assert m["context"]["en"]["1"]["n"] == 1 and m["context"]["all"]["all"]["n"] == 2
    assert m["context"]["en"]["1"]["hit@1"] == (1.0 if by[(1, "context")] == 1 else 0.0)
    first = [r["confident"] for r in rows if r["mode"] == "context" and r["rank"] == 1]
    assert m["context"]["all"]["all"]["confident_when_first"] == (sum(first) / len(first) if first else None)
    # Short answers scored per turn against the turn's answers.
    given = [r for r in rows if r["mode"] == "context" and r["short_answer"]]
    sa = m["context"]["all"]["all"]["short_answer"]
    assert sa["n"] == 2 and sa["shown"] == len(given)
    missing = run_qa(["eval", str(convs), "--json"], env, check=False)
    assert missing.returncode == 1 and "--articles" in missing.stderr
