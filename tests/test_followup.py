"""Follow-up questions read in context (qa.followup): real model, real small index.

The index holds the bundled seed (South Korea summons the Russian ambassador) and a short
made-up Indonesian football report written for these tests, so a follow-up that is read
alone has somewhere else to go, and a new self-contained question has another article to
change topic to.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from qa.conversations import ConversationStore, ask_in_conversation

MATCH_REPORT = """Persib Bandung Menang 3-1 atas Persija Jakarta

Persib Bandung mengalahkan Persija Jakarta dengan skor 3-1 dalam lanjutan Liga 1 pada Sabtu malam.

Penyerang Persib, David da Silva, mencetak hat-trick dalam pertandingan tersebut. Gol pertamanya lahir pada menit ke-12 lewat sundulan.

Pertandingan digelar di Stadion Si Jalak Harupat, Kabupaten Bandung, dan disaksikan sekitar 25 ribu penonton.

Satu-satunya gol Persija dicetak Marko Simic melalui titik penalti pada menit ke-70.

Pelatih Persib Bojan Hodak mengatakan timnya bermain disiplin sejak awal laga.

Pada pekan berikutnya, Persib akan bertandang ke markas Bali United di Stadion Kapten I Wayan Dipta.
"""


@pytest.fixture(scope="module")
def engine(embedder, tmp_path_factory):
    from index.indexing.build import build_index
    from qa.engine import open_engine
    from qa.paths import seeds_dir

    corpus = tmp_path_factory.mktemp("corpus")
    (corpus / "persib.txt").write_text(MATCH_REPORT, encoding="utf-8")
    folder = tmp_path_factory.mktemp("index") / "idx"
    build_index([seeds_dir(), corpus], folder, embedder)
    engine = open_engine(folder, None, build_default=False)
    yield engine
    engine.close()


@pytest.fixture()
def store():
    with ConversationStore(":memory:") as s:
        yield s


def _seed(engine) -> str:
    return next(a.id for a in engine.store.articles() if "Korut" in a.title)


def _match(engine) -> str:
    return next(a.id for a in engine.store.articles() if "Persib" in a.title)


def test_first_turn_is_the_stand_alone_answer(engine, store):
    from qa.answer import answer

    cid = store.start("t").id
    turn = ask_in_conversation(engine, store, cid, "Who summoned the Russian ambassador?")
    alone = answer(engine, "Who summoned the Russian ambassador?")
    assert turn.reading.mode == "first" and turn.reading.about == ""
    assert [p.hit.paragraph_id for p in turn.answer.passages] == \
        [p.hit.paragraph_id for p in alone.passages]


@pytest.mark.parametrize("follow_up, expected", [
    ("Siapa nama duta besar itu?", "Zinoviev"),
    ("What did the ambassador reply?", "kerangka hukum internasional"),
])
def test_follow_up_is_read_in_the_article_being_discussed(engine, store, follow_up, expected):
    """Asked alone these could be about anything; in context the answer comes from the
    article being discussed, the answering paragraph among the five shown."""
    cid = store.start("t").id
    first = ask_in_conversation(engine, store, cid, "Who summoned the Russian ambassador?")
    assert first.answer.passages[0].hit.article_id == _seed(engine)
    turn = ask_in_conversation(engine, store, cid, follow_up)
    assert turn.reading.mode == "follow-up"
    assert turn.reading.article_id == _seed(engine)
    assert turn.reading.about.startswith("about: ")
    shown = turn.answer.passages
    assert shown[0].hit.article_id == _seed(engine)
    assert any(expected in p.hit.text for p in shown[:5]), [p.hit.text[:80] for p in shown]


def test_indonesian_conversation_with_nya_and_ellipsis(engine, store):
    """The issue's own example: hat-trick, then `-nya` and ellipsis about the same match."""
    cid = store.start("t").id
    first = ask_in_conversation(engine, store, cid, "Siapa yang mencetak hat-trick?")
    assert "David da Silva" in first.answer.passages[0].hit.text
    second = ask_in_conversation(engine, store, cid, "Mainnya di stadion mana?")
    assert second.reading.mode == "follow-up"
    assert all(p.hit.article_id == _match(engine) for p in second.answer.passages[:3])
    assert any("Si Jalak Harupat" in p.hit.text for p in second.answer.passages[:3])
    third = ask_in_conversation(engine, store, cid, "Lawan berikutnya siapa?")
    assert third.answer.passages[0].hit.article_id == _match(engine)
    assert "Bali United" in third.answer.passages[0].hit.text


def test_a_self_contained_new_question_retrieves_as_it_would_alone(engine, store):
    from qa.answer import answer

    cid = store.start("t").id
    ask_in_conversation(engine, store, cid, "Siapa yang mencetak hat-trick?")
    ask_in_conversation(engine, store, cid, "Mainnya di stadion mana?")
    new = "Which South Korean deputy foreign minister met ambassador Georgiy Zinoviev?"
    turn = ask_in_conversation(engine, store, cid, new)
    alone = answer(engine, new)
    assert turn.reading.mode == "new topic"
    assert [p.hit.paragraph_id for p in turn.answer.passages] == \
        [p.hit.paragraph_id for p in alone.passages]
    # ...and the next follow-up leans on the new topic, not the old one.
    after = ask_in_conversation(engine, store, cid, "What did he warn?")
    assert after.reading.article_id == _seed(engine)


def test_a_follow_up_is_judged_as_it_was_read(engine, store):
    """The reading in context adds the discussed article's bonus to its paragraphs (less the
    penalty of the one shown first last turn), says so on each hit, and the judgement is
    made with the topic's earlier questions (qa.confidence.signals)."""
    from index.corpus import lexical
    from qa import confidence
    from qa.followup import DEFAULT_FOLLOWUP, context_of, read_in_context

    cid = store.start("t").id
    first = ask_in_conversation(engine, store, cid, "Siapa yang mencetak hat-trick?")
    context = context_of(store.turns(cid))
    question = "Mainnya di stadion mana?"
    reading, query = read_in_context(engine.store, engine.embedder, question, context, k=20)
    assert reading.mode == "follow-up"
    shown = first.answer.passages[0].hit.paragraph_id
    for h in query.hits:
        expected = 0.0 if h.article_id != _match(engine) else DEFAULT_FOLLOWUP.article_boost - (
            DEFAULT_FOLLOWUP.shown_penalty if h.paragraph_id == shown else 0.0)
        assert h.context_bonus == pytest.approx(expected)
    turn = ask_in_conversation(engine, store, cid, question)
    top = query.hits[0]
    assert turn.answer.signals["top"] == pytest.approx(
        (top.score if top.fused_score is None else top.fused_score) - top.context_bonus)
    topic = [t for t in lexical.query_terms(context.question)
             if engine.store.vocabulary_coverage(t) > 0]
    with_topic = confidence.word_share(
        list(dict.fromkeys(lexical.query_terms(question) + topic)), top)
    assert turn.answer.signals["words"] == pytest.approx(with_topic)


DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data"


@pytest.mark.skipif(not (DATA / "conv_dev.jsonl").exists(), reason="no ../shared/data")
def test_seed_dev_conversations_follow_ups_land_in_the_seed(engine, store):
    """The dev set's conversations about the seed: every follow-up's top passage is from it."""
    convs = [json.loads(line) for line in (DATA / "conv_dev.jsonl").open(encoding="utf-8")]
    seed_convs = [c for c in convs if c["article"].startswith("seed")]
    assert seed_convs
    for conv in seed_convs:
        cid = store.start("t").id
        for turn in conv["turns"]:
            shown = ask_in_conversation(engine, store, cid, turn["question"])
            assert shown.answer.passages[0].hit.article_id == _seed(engine), turn["question"]
