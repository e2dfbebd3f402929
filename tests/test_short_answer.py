"""The short answer (qa.short_answer) on hand-made sentences in both languages, and once on
the bundled seed through the real answer path."""
from __future__ import annotations

import pytest

from qa.sentences import sentence_spans
from qa.question_kind import expected_type
from qa.short_answer import AGREEMENT_DEPTH, EVIDENCE_WEIGHT, by_evidence, candidates, \
    short_answer
from qa.types import ShortAnswer
from qa.types import AnswerPassage, Citation, Hit


def passage(text: str, rank: int = 1, sentence: int = 0, score: float = 1.0) -> AnswerPassage:
    a, b = sentence_spans(text)[sentence]
    hit = Hit(paragraph_id=rank, article_id=f"a{rank}", title="t", source="s.txt", paragraph=1,
              line=1, text=text, score=score)
    return AnswerPassage(rank=rank, hit=hit, answer_sentence=text[a:b], sentence_start=a,
                         sentence_end=b, citation=Citation("t", "s.txt", 1, 1))


def ask(question: str, *texts: str, sentence: int = 0) -> ShortAnswer | None:
    passages = [passage(t, i + 1, sentence if i == 0 else 0) for i, t in enumerate(texts)]
    got = short_answer(question, passages[0], [p.hit for p in passages[1:]])
    if got is not None:  # offsets index the passage text exactly
        assert passages[got.passage_rank - 1].hit.text[got.start:got.end] == got.text
    return got


@pytest.mark.parametrize("question, text, expected", [
    # Indonesian: the subject right before "telah" + the verb the question used
    ("Siapa yang mengakuisisi pabrik gula itu?",
     "SURABAYA - PT Sinar Tebu telah mengakuisisi pabrik gula itu dari pemerintah daerah.",
     "PT Sinar Tebu"),
    # the question's own words are trimmed from the name's edges
    ("Siapa wali kota Bogor?",
     "Wali Kota Bogor Budi Santoso membuka festival itu pada hari Minggu.", "Budi Santoso"),
    ("Kapan jembatan baru itu diresmikan?",
     "Jembatan baru di Cikarang diresmikan pada 12 Maret 2023 oleh bupati.", "12 Maret 2023"),
    ("Berapa ton beras yang diimpor Bulog?",
     "Bulog mengimpor 250 ribu ton beras dari Vietnam tahun lalu.", "250 ribu ton"),
    # a place and its region read as one place
    ("Di mana kantor pusat perusahaan itu?",
     "Perusahaan itu berkantor pusat di Surabaya, Jawa Timur, sejak tahun lalu.",
     "Surabaya, Jawa Timur"),
    ("Who founded the bakery?", "The bakery was founded by Maria Lopez, a former teacher.",
     "Maria Lopez"),
    ("When did the bridge open?", "The bridge opened in June 1998 after four years of work.",
     "June 1998"),
    ("How many people attended the concert?",
     "About 12,000 people attended the concert in the park.", "12,000 people"),
])
def test_span_of_the_expected_type(question, text, expected):
    got = ask(question, text)
    assert got is not None and got.text == expected and got.passage_rank == 1


def test_offsets_point_into_the_passage_not_the_sentence():
    text = ("Cuaca cerah sepanjang hari. Pertandingan final digelar di Bandung. "
            "Persatuan Sepakbola Cimahi merebut gelar juara setelah adu penalti.")
    got = ask("Siapa yang merebut gelar juara?", text, sentence=2)
    assert got is not None and got.text == "Persatuan Sepakbola Cimahi"
    assert got.start > text.index("Bandung")


@pytest.mark.parametrize("question, text", [
    # a "siapa" question whose sentence names nobody
    ("Siapa yang membuka festival itu?", "Festival itu dibuka dengan meriah dan ramai dikunjungi warga."),
    # a "kapan" question whose sentence has no date
    ("Kapan gedung itu dibangun?", "Gedung itu dibangun oleh Belanda sebagai gudang garam."),
    # a "berapa" question whose sentence has no number
    ("How many goals did Silva score?", "Silva scored in the final minute of the match."),
    # why and how questions are not answered by a span
    ("Mengapa harga cabai naik?", "Harga cabai naik karena hujan deras merusak panen di Garut."),
    ("How did the fire start?", "The fire started in the kitchen of Hotel Mawar."),
])
def test_none_unless_sure(question, text):
    assert ask(question, text) is None


def test_two_separate_spans_close_in_probability_give_none(monkeypatch):
    """Two dates the sentence gives for the asked event: the first stands closer to the
    question's words, but only a clear lead (MARGIN) makes it the answer."""
    import qa.short_answer as sa

    question = "Kapan festival itu diadakan?"
    text = "Festival itu diadakan dua kali, yaitu 3 Mei 2019 dan 14 Juni 2021."
    first, second = sa.candidates(question, passage(text))[:2]
    assert {first.text, second.text} == {"3 Mei 2019", "14 Juni 2021"}
    assert second.probability >= sa.THRESHOLD  # both would do on their own
    monkeypatch.setattr(sa, "MARGIN", first.probability - second.probability + 0.01)
    assert ask(question, text) is None
    monkeypatch.setattr(sa, "MARGIN", first.probability - second.probability - 0.01)
    assert ask(question, text).text == first.text


def test_a_span_inside_the_best_is_no_rival():
    got = ask("Di mana kantor pusat perusahaan itu?",
              "Perusahaan itu berkantor pusat di Surabaya, Jawa Timur, sejak tahun lalu.")
    assert got is not None and got.text == "Surabaya, Jawa Timur"


def test_the_answer_is_not_a_name_the_question_already_gives():
    assert ask("Siapa Joko Susilo?", "Joko Susilo lahir di desa kecil dan kini tinggal di sana.") is None


def test_agreement_across_passages_raises_the_probability():
    first = "Kepala dinas itu menyebut Rina Wati dan Andi Saputra, namun Rina Wati yang menjadi ketua panitia."
    question = "Siapa ketua panitia lomba itu?"

    def best(*others: str):
        ranked = candidates(question, passage(first), [passage(t, i + 2).hit for i, t in enumerate(others)])
        return ranked[0]

    alone = best("Pendaftaran lomba dibuka hingga Jumat di kantor kecamatan.",
                 "Hadiah lomba tahun ini lebih besar dari tahun lalu.")
    backed = best("Ketua panitia lomba, Rina Wati, mengatakan pendaftaran dibuka hingga Jumat.",
                  "Rina Wati memimpin panitia lomba tahun ini.")
    assert alone.text == backed.text == "Rina Wati"
    assert backed.probability > alone.probability


@pytest.mark.parametrize("question, kind", [
    ("Siapakah pendiri perusahaan itu?", "name"), ("Di manakah letak candi itu?", "place"),
    ("Tahun berapa sekolah itu didirikan?", "date"), ("Berapa jumlah korban?", "number"),
    ("What time did the train leave?", "time"), ("How many players are on a team?", "number"),
    ("Bagaimana cara membuatnya?", None), ("Why did it fail?", None),
])
def test_expected_type(question, kind):
    assert expected_type(question) == kind


def test_no_passages_no_answer():
    assert short_answer("Siapa presiden pertama?", None) is None


@pytest.fixture(scope="module")
def seed_engine(embedder, tmp_path_factory):
    from index.indexing.build import build_index
    from qa.engine import open_engine
    from qa.paths import seeds_dir

    folder = tmp_path_factory.mktemp("short") / "idx"
    build_index([seeds_dir()], folder, embedder)
    engine = open_engine(folder, None, build_default=False)
    yield engine
    engine.close()


def test_seed_who_summoned_the_ambassador(seed_engine):
    from qa.answer import answer

    result = answer(seed_engine, "Siapa yang memanggil duta besar Rusia?")
    got = result.short_answer
    assert got is not None and got.text == "Korea Selatan"
    text = result.passages[got.passage_rank - 1].hit.text
    assert text[got.start:got.end] == "Korea Selatan"


def test_none_where_the_index_knows_few_of_the_question_words():
    """An English question over Indonesian text: the sentence cannot restate it, so where a
    span stands says nothing."""
    question = "Siapa yang mengakuisisi pabrik gula itu?"
    top = passage("SURABAYA - PT Sinar Tebu telah mengakuisisi pabrik gula itu dari pemerintah daerah.")
    assert short_answer(question, top, coverage=1.0) is not None
    assert short_answer(question, top, coverage=0.2) is None


def test_seed_english_question_gets_no_short_answer(seed_engine):
    from qa.answer import answer

    result = answer(seed_engine, "Who summoned the Russian ambassador?")
    assert result.passages and result.short_answer is None


def test_the_number_of_passages_shown_does_not_change_it(seed_engine):
    from qa.answer import answer

    few = answer(seed_engine, "Siapa yang memanggil duta besar Rusia?", k=1)
    many = answer(seed_engine, "Siapa yang memanggil duta besar Rusia?", k=8)
    assert few.short_answer is not None and few.short_answer == many.short_answer
    # the order by span evidence reads the same first passages whatever is shown
    assert few.passages[0].hit.paragraph_id == many.passages[0].hit.paragraph_id
    assert [p.rank for p in many.passages] == list(range(1, len(many.passages) + 1))


AMBASSADOR = "Siapa duta besar Rusia?"
SHARES_WORDS = "Korea Selatan telah memanggil duta besar Rusia di Moskow pada hari Senin."
NAMES_HIM = "Dalam pertemuan dengan duta besar Rusia Georgiy Zinoviev, wakil menteri itu mengecam tindakan tersebut."


def test_evidence_lifts_the_passage_holding_the_asked_span():
    """Within a near tie, the paragraph naming someone beside the asked role goes first;
    ranks are renumbered and the bonus is in the score, so the list stays in score order."""
    ranked = [passage(SHARES_WORDS, 1, score=0.900), passage(NAMES_HIM, 2, score=0.899)]
    got = by_evidence(AMBASSADOR, ranked)
    assert [p.hit.text for p in got] == [NAMES_HIM, SHARES_WORDS]
    assert [p.rank for p in got] == [1, 2]
    assert got[0].hit.score >= got[1].hit.score
    assert 0.899 < got[0].hit.score <= 0.899 + EVIDENCE_WEIGHT


def test_evidence_does_not_overturn_a_clear_ranking():
    ranked = [passage(SHARES_WORDS, 1, score=0.95), passage(NAMES_HIM, 2, score=0.90)]
    assert [p.hit.text for p in by_evidence(AMBASSADOR, ranked)] == [SHARES_WORDS, NAMES_HIM]


@pytest.mark.parametrize("question, coverage", [
    (AMBASSADOR, 0.2),  # the index knows too few of its words: where a span stands says nothing
    ("Mengapa Korea Selatan memanggil duta besar Rusia?", 1.0),  # asks for no span
])
def test_evidence_leaves_the_order_where_no_span_is_read(question, coverage):
    ranked = [passage(SHARES_WORDS, 1, score=0.900), passage(NAMES_HIM, 2, score=0.899)]
    assert by_evidence(question, ranked, coverage=coverage) == ranked


def test_evidence_reorders_only_the_first_few():
    filler = "Cuaca di Seoul cerah pada hari itu."
    ranked = [passage(SHARES_WORDS if i < AGREEMENT_DEPTH else NAMES_HIM, i + 1,
                      score=0.9 - 0.0001 * i) for i in range(AGREEMENT_DEPTH + 1)]
    ranked[1] = passage(filler, 2, score=0.8999)
    got = by_evidence(AMBASSADOR, ranked)
    assert got[-1].hit.text == NAMES_HIM and got[-1].rank == AGREEMENT_DEPTH + 1
    assert got[-1].hit.score == ranked[-1].hit.score
    assert sorted(p.rank for p in got) == list(range(1, AGREEMENT_DEPTH + 2))
