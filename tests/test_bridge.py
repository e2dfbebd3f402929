"""The word bridge (issue 20): word senses read while paragraphs are embedded
(index.models.word_senses), kept by the index and updated as articles come and go, and an
English question's unknown words mapped to corpus words for the word search (qa.bridge).

Real model and export (the `fast` encoder writes the indexes: only the export reads word
senses), real FAISS + SQLite, real Milvus Lite for the backend that keeps none.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from index.models.token_states import TokenStates
from index.models.word_senses import CONTEXTS, WordSenses, words_of
from test_onnx import fast  # noqa: F401 - a fixture
from test_passage_export import bulk, seed_texts  # noqa: F401 - `bulk` is a fixture

CARD_EN = "Who summoned the Russian ambassador?"
SOLDIERS_EN = "How many North Korean soldiers arrived in Russia?"
CARD_ID = "Siapa yang memanggil duta besar Rusia?"


def states(pieces: list[str], seed: int = 0) -> TokenStates:
    rows = np.random.default_rng(seed).normal(size=(len(pieces), 8)).astype(np.float32)
    return TokenStates(pieces=tuple(pieces), vectors=rows / np.linalg.norm(rows, axis=1, keepdims=True))


def test_words_are_joined_from_pieces_stemmed_and_kept_only_when_alphabetic():
    got = words_of(states(["▁Korea", "▁telah", "▁memanggil", "▁duta", "▁bes", "ar", "▁1.500",
                           "▁di", "▁Rusia", "."]))
    assert [w for w, _ in got] == ["korea", "telah", "panggil", "duta", "besar", "rusia"]
    assert dict(got)["besar"] == [4, 5]  # both pieces of "besar"
    # A reduplication is its one word; a compound the word search splits is no one term.
    got = words_of(states(["▁negara", "-", "negara", "▁Rusia", "-", "Ukraina", "▁tiba"]))
    assert got == [("negara", [0, 2]), ("tiba", [6])]


def test_a_word_sense_is_the_sum_of_its_unit_states_up_to_the_cap():
    senses = WordSenses()
    one = states(["▁duta", "▁bes", "ar"], seed=1)
    for _ in range(CONTEXTS + 5):
        senses.add(one)
    assert senses.counts["duta"] == CONTEXTS
    assert np.allclose(senses.sums["duta"], CONTEXTS * one.vectors[0], atol=1e-4)
    both = one.vectors[1:].mean(axis=0)
    assert np.allclose(senses.sums["besar"] / CONTEXTS, both / np.linalg.norm(both), atol=1e-4)


@pytest.mark.parametrize("texts", [slice(0, 40)])
def test_senses_read_from_batches_equal_those_of_one_text_at_a_time(bulk, texts):
    """Batched and padded (onnxruntime, or the bfloat16 runner where this CPU has one), the
    states of each text are its own: the senses match those read text by text."""
    sample = seed_texts()[texts]
    batched = WordSenses()
    bulk.embed_passages(sample, senses=batched, read=[True] * len(sample))
    alone = WordSenses()
    for text in sample:
        alone.add(bulk.token_states(text, "passage"))
    assert batched.counts == alone.counts
    for word, total in alone.sums.items():
        a, b = total / np.linalg.norm(total), batched.sums[word] / np.linalg.norm(batched.sums[word])
        assert float(a @ b) >= 0.99, word


def test_only_flagged_texts_are_read(fast):
    senses = WordSenses()
    fast.embed_passages(["Harga cabai rawit naik.", "Pasukan tiba di perbatasan."], senses=senses,
                        read=[False, True])
    assert "cabai" not in senses.counts and "tiba" in senses.counts


@pytest.fixture(scope="module")
def seed_index(fast, tmp_path_factory) -> Path:
    from index.indexing.build import build_index
    from qa.paths import seeds_dir

    folder = tmp_path_factory.mktemp("bridge") / "idx"
    build_index([seeds_dir()], folder, fast)
    return folder


@pytest.fixture
def engine(seed_index, fast):
    from index.storage.faiss.store import Store
    from qa.engine import Engine

    store = Store.open(seed_index)
    yield Engine(store=store, embedder=fast, index_ref=seed_index)
    store.close()


def test_an_index_written_by_the_export_keeps_unit_senses_of_its_words(engine):
    table = engine.store.word_senses()
    assert table is not None
    assert {"panggil", "duta", "besar", "rusia", "tentara"} <= set(table.terms)
    assert np.allclose(np.linalg.norm(table.vectors, axis=1), 1.0, atol=1e-4)
    assert table.vectors.shape == (len(table.terms), engine.embedder.dim)
    from index.indexing.lifecycle import status

    assert status(engine.store)["word_senses"] == len(table.terms)  # `qa index status`


def test_english_words_are_mapped_to_the_corpus_words_that_mean_them(engine):
    from qa import bridge

    crossing = bridge.cross(engine.store, engine.embedder, SOLDIERS_EN,
                            engine.store.vocabulary_coverage(SOLDIERS_EN))
    assert crossing is not None
    mapped = dict(crossing.mapped)
    assert "tentara" in mapped["soldiers"]
    assert "rusia" in mapped["Russia"]
    assert all(len(found) <= bridge.PER_WORD for found in mapped.values())
    assert set(crossing.terms) >= {"tentara", "rusia"}


def test_only_corpus_words_that_stand_out_from_a_words_neighbours_are_searched():
    """A word about equally near many corpus words has no counterpart among them: searching
    any of them would only add noise. Words without enough neighbours to compare keep all."""
    from qa.bridge import DISTINCT, NEIGHBOURS, PER_WORD, standing_out

    rows = np.arange(NEIGHBOURS)
    flat = np.linspace(0.59, 0.55, NEIGHBOURS)  # "summoned" on the seed
    assert standing_out(flat, rows) == []
    clear = np.r_[0.89, 0.65, np.full(NEIGHBOURS - 2, 0.58)]  # "Russian": rusia, putin, ...
    assert standing_out(clear, rows) == [0, 1][:PER_WORD]
    one = np.r_[0.62, 0.58, np.full(NEIGHBOURS - 2, 0.555)]  # only the first clears the floor
    assert 0.62 - 0.555 >= DISTINCT > 0.58 - 0.555
    assert standing_out(one, rows) == [0]
    assert standing_out(np.array([0.5, 0.4]), np.array([3, 7])) == [3, 7][:PER_WORD]
    assert standing_out(np.array([0.9, 0.6, 0.5]), np.array([1, -1, -1])) == [1]


def test_a_question_in_the_articles_language_is_not_bridged(engine):
    from qa import bridge

    assert bridge.cross(engine.store, engine.embedder, CARD_ID,
                        engine.store.vocabulary_coverage(CARD_ID)) is None


def test_the_bridged_word_search_speaks_for_an_english_question(engine):
    """Without the bridge an English question's word search was silenced; with it the
    paragraphs holding the mapped words get a lexical score, and the card's answer leads."""
    from qa.answer import answer_from_query
    from qa.retrieve import search

    query = search(engine.store, engine.embedder, SOLDIERS_EN, 10)
    assert query.crossing is not None
    assert any(h.lexical_score for h in query.hits)
    result = answer_from_query(engine, SOLDIERS_EN, query)
    assert "1.500 tentara" in result.passages[0].hit.text
    card = answer_from_query(engine, CARD_EN, search(engine.store, engine.embedder, CARD_EN, 10))
    assert "memanggil duta besar Rusia" in card.passages[0].answer_sentence


def test_json_says_what_each_unknown_word_was_searched_as(engine):
    import json

    from qa.answer import answer
    from qa.present import to_json

    english = json.loads(to_json(answer(engine, SOLDIERS_EN)))
    assert "tentara" in english["bridged"]["soldiers"]
    assert json.loads(to_json(answer(engine, CARD_ID)))["bridged"] is None


def test_senses_follow_the_articles_added_edited_and_removed(seed_index, fast, tmp_path):
    """Adding an article adds its words' senses in the same commit; editing one paragraph
    drops the words only it held and keeps those of the paragraphs left as they were (their
    vectors are reused, their words not read again); removing the article drops the words
    no other paragraph holds."""
    import shutil

    from index.indexing.lifecycle import add_paths, remove
    from index.storage.faiss.store import Store

    folder = tmp_path / "idx"
    shutil.copytree(seed_index, folder)
    article = tmp_path / "pasar.txt"
    first = "Harga cabai rawit di pasar tradisional melonjak dua kali lipat menjelang akhir tahun."
    second = "Pedagang bawang merah mengeluhkan sepinya pembeli sejak pekan lalu."
    article.write_text(f"Kabar pasar pagi ini\n\n{first}\n\n{second}\n", encoding="utf-8")
    with Store.open(folder, writable=True) as store:
        before = set(store.word_senses().terms)
        add_paths(store, fast, [article])
        added = set(store.word_senses().terms)
        assert {"cabai", "bawang"} <= added - before
        article.write_text(f"Kabar pasar pagi ini\n\nHarga tomat di pasar tradisional turun "
                           f"tajam pekan ini.\n\n{second}\n", encoding="utf-8")
        report = add_paths(store, fast, [article])
        assert report.updated == 1 and report.paragraphs_embedded == 1
        edited = set(store.word_senses().terms)
        assert "tomat" in edited and "bawang" in edited and "cabai" not in edited
        remove(store, [str(article)], confirmed=True)
        gone = set(store.word_senses().terms)
        assert not {"tomat", "bawang"} & gone
        assert gone == before


def test_merged_senses_are_count_weighted_means(tmp_path, fast):
    from index.indexing.build import manifest_for
    from index.storage.faiss.store import Store

    with Store.create(tmp_path / "idx", manifest_for(fast)) as store:
        dim = fast.dim
        first, second = WordSenses(), WordSenses()
        a, b = np.eye(dim, dtype=np.float32)[0], np.eye(dim, dtype=np.float32)[1]
        first.sums["tiba"], first.counts["tiba"] = 3 * a, 3
        second.sums["tiba"], second.counts["tiba"] = b, 1
        store.add_word_senses(first)
        store.add_word_senses(second)
        row = store._conn().execute("SELECT count, vec FROM word_senses WHERE term = 'tiba'").fetchone()
        assert row[0] == 4
        assert np.allclose(np.frombuffer(row[1], dtype=np.float16)[:2], [0.75, 0.25], atol=1e-3)
        table = store.word_senses()
        assert table.terms == ("tiba",)
        assert np.allclose(table.vectors[0, :2], np.array([3, 1]) / np.sqrt(10), atol=1e-3)


def test_a_milvus_index_keeps_no_senses_and_english_questions_still_answer(fast, tmp_path):
    from index.indexing.build import build_index
    from index.storage import MilvusRef, open_store
    from qa.answer import answer
    from qa.engine import Engine
    from qa.paths import seeds_dir

    ref = MilvusRef.parse(str(tmp_path / "milvus.db"), "qa_bridge")
    build_index([seeds_dir()], ref, fast)
    store = open_store(ref)
    try:
        assert store.word_senses() is None
        result = answer(Engine(store=store, embedder=fast, index_ref=ref), CARD_EN)
        assert "memanggil duta besar Rusia" in result.passages[0].answer_sentence
    finally:
        store.close()


def test_the_judgement_reads_a_bridged_questions_scores_without_the_word_bonus():
    """Fitted when an English question's word search was all but silent, the judgement
    reads its dense scores when the bridge made the word search speak."""
    from qa import confidence
    from qa.types import Hit

    hits = [Hit(paragraph_id=i, article_id=f"a{i}", title="", source="s", paragraph=i, line=i,
                text="Korea Selatan telah memanggil duta besar Rusia.", score=0.9 - 0.01 * i,
                dense_score=0.8 - 0.02 * i, lexical_score=1.0) for i in range(6)]
    plain = confidence.signals(CARD_EN, hits, 0.8, 0.2, 0.6)
    bridged = confidence.signals(CARD_EN, hits, 0.8, 0.2, 0.6, bridged=True)
    assert plain.top == pytest.approx(0.9) and bridged.top == pytest.approx(0.8)
    assert bridged.lead == pytest.approx(0.8 - np.mean([0.8 - 0.02 * i for i in range(1, 6)]))


def test_the_judgement_reads_a_bridged_questions_words_through_its_mapping(engine):
    """The word evidence of an English question counts its mapped words (qa.confidence's
    `bridged_words`); a question the bridge does not map has none."""
    from qa.answer import answer_from_query
    from qa.retrieve import search

    card = answer_from_query(engine, CARD_EN, search(engine.store, engine.embedder, CARD_EN, 10))
    assert card.signals["bridged_words"] is not None
    assert card.signals["bridged_words"] > card.signals["words"]
    alone = answer_from_query(engine, CARD_ID, search(engine.store, engine.embedder, CARD_ID, 10))
    assert alone.signals["bridged_words"] is None
