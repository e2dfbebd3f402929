"""Re-ranking the first passages by their coverage of the question's words (qa.rerank), with
the real model's token states."""
from __future__ import annotations

from pathlib import Path

import pytest

from qa import rerank
from qa.types import Hit

SEED = Path(__file__).resolve().parents[1] / "seeds" / "000_b0220605effb7f3f.txt"
CARD_EN = "Who summoned the Russian ambassador?"


def seed_paragraph(words: str) -> str:
    return next(p for p in SEED.read_text(encoding="utf-8").split("\n") if words in p)


def hit(i: int, text: str, score: float) -> Hit:
    return Hit(paragraph_id=i, article_id=f"a{i}", title="", source="s", paragraph=i, line=i,
               text=text, score=score)


@pytest.fixture(scope="module")
def answering():
    return seed_paragraph("memanggil duta besar Rusia")


@pytest.fixture(scope="module")
def unrelated():
    return "Harga cabai rawit di pasar tradisional naik dua kali lipat menjelang akhir tahun."


def test_a_paragraph_that_covers_the_question_overtakes_a_near_tie(embedder, answering, unrelated):
    """An English question over Indonesian text: the dense scores of the answer and of an
    unrelated paragraph are a hair apart, and coverage of "Russian"/"ambassador" decides."""
    hits = [hit(1, unrelated, 0.800), hit(2, answering, 0.797)]
    out = rerank.rerank(embedder, CARD_EN, hits)
    assert [h.paragraph_id for h in out] == [2, 1]
    by_id = {h.paragraph_id: h for h in out}
    assert by_id[2].aligned > by_id[1].aligned
    assert by_id[1].fused_score == 0.800 and by_id[2].fused_score == 0.797
    for h in out:  # the score shown is the search's plus the bounded bonus
        assert h.score == pytest.approx(h.fused_score + rerank.WEIGHT * h.aligned)


def test_a_clear_lead_in_the_search_is_not_overturned(embedder, answering, unrelated):
    """The bonus is at most WEIGHT: coverage re-orders near ties, not the whole ranking."""
    hits = [hit(1, unrelated, 0.80 + rerank.WEIGHT), hit(2, answering, 0.80)]
    assert [h.paragraph_id for h in rerank.rerank(embedder, CARD_EN, hits)] == [1, 2]


def test_only_the_first_depth_hits_are_read(embedder, answering, unrelated):
    texts = [unrelated] * (rerank.DEPTH + 2)
    hits = [hit(i, t, 0.9 - 0.01 * i) for i, t in enumerate(texts)]
    out = rerank.rerank(embedder, CARD_EN, hits)
    assert all(h.aligned is not None for h in out[:rerank.DEPTH])
    assert out[rerank.DEPTH:] == hits[rerank.DEPTH:]  # untouched: same scores, no coverage
    scores = [h.score for h in out]
    assert scores == sorted(scores, reverse=True)


def test_a_question_without_content_words_keeps_the_search_order(embedder, answering, unrelated):
    hits = [hit(1, unrelated, 0.80), hit(2, answering, 0.79)]
    assert rerank.rerank(embedder, "Where is he?", hits) == hits
    assert rerank.rerank(embedder, CARD_EN, []) == []


def test_only_questions_the_index_has_few_words_of_are_reranked_and_only_for_the_measured_model():
    from index.models import DEFAULT_MODEL

    assert rerank.applies(DEFAULT_MODEL, 0.0)
    assert rerank.applies(DEFAULT_MODEL, rerank.COVERAGE_BELOW - 0.01)
    assert not rerank.applies(DEFAULT_MODEL, 1.0)  # BM25 speaks for it already
    assert not rerank.applies("sentence-transformers/all-MiniLM-L6-v2", 0.0)


@pytest.fixture(scope="module")
def seed_engine(embedder, tmp_path_factory):
    from index.indexing.build import build_index
    from index.storage.faiss.store import Store
    from qa import paths
    from qa.engine import Engine

    folder = tmp_path_factory.mktemp("seed") / "idx"
    build_index([paths.seeds_dir()], folder, embedder)
    engine = Engine(store=Store.open(folder), embedder=embedder, index_ref=folder)
    yield engine
    engine.close()


def test_the_answer_path_reranks_an_english_question_and_not_an_indonesian_one(seed_engine):
    """Over the Indonesian seed the English card question's first passages are re-ranked
    (and the judgement reads the top one's coverage from there); the Indonesian one, whose
    words the index knows, keeps the search's order. Scores shown stay best first."""
    from qa.answer import answer

    english = answer(seed_engine, CARD_EN)
    indonesian = answer(seed_engine, "Siapa yang memanggil duta besar Rusia?")
    top = english.passages[0].hit
    assert top.fused_score is not None and top.aligned is not None
    assert english.signals["aligned"] == top.aligned
    assert all(p.hit.fused_score is None for p in indonesian.passages)
    assert indonesian.signals["aligned"] is not None  # judged with its own alignment pass
    for result in (english, indonesian):
        scores = [p.hit.score for p in result.passages]
        assert scores == sorted(scores, reverse=True)
        assert "memanggil duta besar Rusia" in result.passages[0].answer_sentence
