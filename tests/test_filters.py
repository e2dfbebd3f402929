"""Filters on what a question searches (issue 18): dates and outlets read from articles, the
filter applied inside both stores (the best matches that pass, not the top k filtered down),
the upgrade of an older index, and the CLI and chat around them.

Real parts throughout: the JSONL reader, the real model, FAISS + SQLite and Milvus Lite,
`qa` processes, and the chat through Textual's pilot.
"""
from __future__ import annotations

import json
import sqlite3
from datetime import date
from pathlib import Path

import pytest

from index.corpus.published import (date_in_url, dateline_date, outlet_key, parse_date,
                                    provenance)
from index.errors import UserError
from index.indexing.lifecycle import add_paths, open_writable
from index.storage import MilvusRef
from index.storage.base import ArticleFilter
from qa.filtering import date_bound, make_filter, nothing_matches, parse_command
from tests.test_lifecycle import run_qa

# ---- reading dates and outlets ---------------------------------------------------------


@pytest.mark.parametrize("text, expected", [
    ("2017-04-03", date(2017, 4, 3)),
    ("2017-04-03T10:00:00+07:00", date(2017, 4, 3)),
    ("3 April 2017", date(2017, 4, 3)),
    ("Senin, 03/04/2017 10:00 WIB", date(2017, 4, 3)),  # day first, as Indonesian news writes
    ("Selasa, 15 Mei 2018 12:30", date(2018, 5, 15)),
    ("Jum'at, 1 Des. 2017", date(2017, 12, 1)),
    ("17 Agustus 1945", date(1945, 8, 17)),
    ("28 Oktober 2016", date(2016, 10, 28)),
    ("April 3, 2017", date(2017, 4, 3)),
    ("Tuesday, December 24th, 2019", date(2019, 12, 24)),
    ("Senin", None),             # a weekday alone is not a date
    ("kemarin", None),           # nor is "yesterday"
    ("Senin (27/3)", None),      # no year: never guessed
    ("31/02/2017", None),        # no such day
    ("03/04/17", None),          # a two-digit year is a guess too
])
def test_dates_in_metadata(text, expected):
    assert parse_date(text) == expected


@pytest.mark.parametrize("url, expected", [
    ("https://www.cnnindonesia.com/hiburan/20171128201548-227-258748/promotor-sebut",
     date(2017, 11, 28)),
    ("https://www.suara.com/news/2018/02/08/071337/kpk-minta", date(2018, 2, 8)),
    ("http://rimanews.com/nasional/politik/read/20170331/321793/Djarot", date(2017, 3, 31)),
    ("https://kompas.com/read/2017/04/03/10000011/slug", date(2017, 4, 3)),
    ("https://example.com/berita/2019-11-30-banjir", date(2019, 11, 30)),
    ("http://www.antaranews.com/berita/661357/kesenian-sunda", None),  # an id, not a date
    ("http://juara.bolasport.com/read/raket/1820861-edi-dan-rosyita", None),
    ("https://example.com/a?date=2017-04-03", None),                    # the query is not read
    ("https://20170403.example.com/berita", None),                      # nor the host
])
def test_dates_in_urls(url, expected):
    assert date_in_url(url) == expected


@pytest.mark.parametrize("paragraph, expected", [
    ("JAKARTA, Senin (3/4/2017) - Presiden meresmikan jalan tol.", date(2017, 4, 3)),
    ("Jakarta, 3 April 2017 — Hujan deras mengguyur ibu kota.", date(2017, 4, 3)),
    ("BANDUNG, KOMPAS.com, Selasa, 4 Juli 2017 - Banjir melanda.", date(2017, 7, 4)),
    ("SURABAYA, 12/9/2016", date(2016, 9, 12)),  # a dateline standing as its own paragraph
    ("Jakarta, CNN Indonesia - - Memperingati kerusuhan 27 Juli 1996, PDI...", None),
    ("Suara.com - Hari ini, Rabu (24/1/2018) sidang perdana digelar.", None),  # not a dateline
    ("JAKARTA, Senin (27/3) - Tanpa tahun.", None),
    ("Pada 3 April 2017 warga berkumpul di alun-alun.", None),  # a date, but no dateline
])
def test_datelines(paragraph, expected):
    assert dateline_date([paragraph]) == expected


def test_date_sources_in_order_and_never_from_ids_or_names():
    url = "https://www.kompas.com/read/2017/04/03/banjir"
    dateline = ["JAKARTA, Senin (5/6/2017) - Banjir.", "Paragraf kedua."]
    assert provenance({"date": "1 Mei 2017", "url": url}, dateline).published == date(2017, 5, 1)
    assert provenance({"url": url}, dateline).published == date(2017, 4, 3)
    assert provenance({"date": "tidak diketahui", "url": "https://x.id/a"}, dateline).published \
        == date(2017, 6, 5)
    assert provenance({}, ["Judul", "BOGOR, 2 Januari 2018 - Isi."]).published == date(2018, 1, 2)
    assert provenance({"tanggal": "Kamis, 2 Februari 2017"}, []).published == date(2017, 2, 2)
    # an article id or a file name that looks like a date is not read
    assert provenance({}, ["Banjir melanda 20170403 rumah."]).published is None


@pytest.mark.parametrize("name", ["Kompas", "kompas.com", "KOMPAS.com", "www.kompas.com",
                                  "https://www.kompas.co.id/read/2017/04/03/x", " kompas "])
def test_outlet_spellings_meet(name):
    assert outlet_key(name) == "kompas"


def test_outlet_keys():
    assert outlet_key("CNN Indonesia") == "cnn indonesia"
    assert outlet_key("dailysocial.id") == "dailysocial"
    assert outlet_key("m.antaranews.com") == "antaranews"
    assert outlet_key("Detik-News!") == "detik news"
    assert provenance({"url": "https://www.tempo.co/read/1/x"}, []).outlet == "tempo"
    assert provenance({"outlet": "KOMPAS.com", "url": "https://www.tempo.co/x"}, []).outlet \
        == "kompas"
    assert provenance({"url": "file:///tmp/a.html"}, []).outlet == ""


# ---- reading what the user typed -------------------------------------------------------


def test_date_bounds_take_whole_months_and_years():
    assert date_bound("2017", end=False, name="--since") == date(2017, 1, 1)
    assert date_bound("2017", end=True, name="--until") == date(2017, 12, 31)
    assert date_bound("2016-02", end=True, name="--until") == date(2016, 2, 29)
    assert date_bound("2017-3", end=False, name="--since") == date(2017, 3, 1)
    assert date_bound("2017-03-15", end=True, name="--until") == date(2017, 3, 15)
    for text, reason in (("2017-13-01", "no such date"), ("2017-02-30", "no such date"),
                         ("yesterday", "not a date"), ("03/04/2017", "not a date")):
        with pytest.raises(UserError) as err:
            date_bound(text, end=False, name="--since")
        assert str(err.value).startswith(f"--since {text!r}: {reason}")
        assert "\n" not in str(err.value)
    with pytest.raises(UserError, match="--since 2018 is after --until 2017"):
        make_filter("2018", "2017")


def test_filter_from_options_and_chat_commands():
    assert make_filter() is None
    where = make_filter("2017-03", None, ["KOMPAS.com", "kompas", "CNN Indonesia"], ["a1"])
    assert where == ArticleFilter(date(2017, 3, 1), None, ("kompas", "cnn indonesia"), ("a1",))
    assert where.describe() == "since 2017-03-01, source kompas or cnn indonesia, article a1"
    assert where.as_dict() == {"since": "2017-03-01", "until": None,
                               "sources": ["kompas", "cnn indonesia"], "articles": ["a1"]}
    assert parse_command("/filter since 2017-03-01 source kumparan") == ArticleFilter(
        since=date(2017, 3, 1), outlets=("kumparan",))
    assert parse_command("/filter source cnn indonesia until 2017 source Kompas") == ArticleFilter(
        until=date(2017, 12, 31), outlets=("cnn indonesia", "kompas"))
    assert parse_command("/filter off") is None
    for bad, words in (("/filter", "needs since"), ("/filter from 2017", "got 'from'"),
                       ("/filter since", "needs a value"), ("/filter until 2017 03", "one date"),
                       ("/filter since 2017-02-30", "no such date")):
        with pytest.raises(UserError, match=words):
            parse_command(bad)


def test_an_empty_filter_is_refused_alike_for_every_option():
    """`--since ""` (an unset shell variable, often) must not widen the search to every
    article while `--source ""` is refused: each of the four says it is empty."""
    cases = {"--since": dict(since=""), "--until": dict(until="  "),
             "--source": dict(sources=["kompas", ""]), "--article": dict(articles=[" "])}
    for name, kwargs in cases.items():
        with pytest.raises(UserError) as err:
            make_filter(**kwargs)
        assert str(err.value).startswith(f"{name} is empty: give ")
        assert str(err.value).endswith(f"or leave {name} out")


# ---- in the stores, with the real model ------------------------------------------------

# Six articles about floods and earthquakes, each dated and attributed its own way.
ARTICLES = [
    {"id": "banjir-kompas", "source": "KOMPAS.com",
     "url": "https://www.kompas.com/read/2017/03/05/banjir-jakarta",
     "paragraphs": ["Banjir setinggi satu meter merendam ratusan rumah di Jakarta Timur.",
                    "Warga mengungsi ke masjid dan sekolah terdekat sambil menunggu air surut.",
                    "Petugas mengirim perahu karet untuk mengevakuasi warga lanjut usia."]},
    {"id": "banjir-kumparan", "source": "kumparan", "date": "Senin, 10/07/2017 10:00 WIB",
     "paragraphs": ["Banjir melanda Bandung selatan setelah Sungai Citarum meluap.",
                    "Ribuan warga mengungsi ke gedung olahraga milik pemerintah kabupaten.",
                    "Air mulai surut pada malam hari, kata kepala desa setempat."]},
    {"id": "gempa-cnn", "source": "CNN Indonesia",
     "url": "https://www.cnnindonesia.com/nasional/20170903205418-20-239178/gempa-cianjur",
     "paragraphs": ["Gempa bermagnitudo 5,6 mengguncang Cianjur dan merusak ribuan rumah.",
                    "Warga yang rumahnya rusak mengungsi ke tenda darurat di lapangan desa.",
                    "Pemerintah menetapkan status tanggap darurat selama tiga puluh hari."]},
    {"id": "gempa-tempo", "url": "https://www.tempo.co/read/2018/01/15/gempa-lebak",
     "paragraphs": ["Gempa mengguncang Lebak, Banten, dan terasa hingga Jakarta.",
                    "Karyawan gedung perkantoran di Jakarta berhamburan keluar gedung.",
                    "Badan Meteorologi menyatakan gempa tidak berpotensi tsunami."]},
    {"id": "banjir-tanpa-tanggal", "source": "kumparan",
     "url": "https://kumparan.com/berita/banjir-semarang",
     "paragraphs": ["Banjir rob kembali merendam kawasan pelabuhan Semarang.",
                    "Warga pesisir mengungsi ke rumah kerabat di daerah yang lebih tinggi.",
                    "Pemerintah kota menyiapkan pompa air tambahan di kawasan Tanjung Emas."]},
    {"id": "dateline",
     "paragraphs": ["JAKARTA, Senin (3/4/2017) - Banjir merendam permukiman di Kampung Melayu.",
                    "Sebagian warga mengungsi ke posko di halaman kantor kelurahan.",
                    "Banjir surut keesokan harinya setelah hujan reda."]},
]
PUBLISHED = {"banjir-kompas": date(2017, 3, 5), "banjir-kumparan": date(2017, 7, 10),
             "gempa-cnn": date(2017, 9, 3), "gempa-tempo": date(2018, 1, 15),
             "banjir-tanpa-tanggal": None, "dateline": date(2017, 4, 3)}
OUTLETS = {"banjir-kompas": "kompas", "banjir-kumparan": "kumparan", "gempa-cnn": "cnn indonesia",
           "gempa-tempo": "tempo", "banjir-tanpa-tanggal": "kumparan", "dateline": ""}
FILTERS = [
    ArticleFilter(outlets=("kumparan",)),
    ArticleFilter(since=date(2017, 4, 1)),
    ArticleFilter(until=date(2017, 6, 30)),
    ArticleFilter(since=date(2017, 3, 1), until=date(2017, 9, 30), outlets=("kompas", "kumparan")),
    ArticleFilter(article_ids=("gempa-tempo", "dateline")),
    ArticleFilter(since=date(2017, 1, 1), article_ids=("banjir-tanpa-tanggal", "gempa-cnn")),
]
QUESTIONS = ["Ke mana warga mengungsi saat banjir?", "Where did people shelter after the quake?",
             "banjir Jakarta"]


def passes(where: ArticleFilter, aid: str) -> bool:
    """The filter decided by the test's own table, not by any store."""
    day = PUBLISHED[aid]
    if where.dated and day is None:
        return False
    return ((where.since is None or day >= where.since)
            and (where.until is None or day <= where.until)
            and (not where.outlets or OUTLETS[aid] in where.outlets)
            and (not where.article_ids or aid in where.article_ids))


def write_corpus(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "berita.jsonl"
    path.write_text("".join(json.dumps(a, ensure_ascii=False) + "\n" for a in ARTICLES),
                    encoding="utf-8")
    return path


@pytest.fixture(params=["faiss", "milvus"])
def filled(request, tmp_path, embedder):
    ref = (tmp_path / "idx" if request.param == "faiss"
           else MilvusRef.parse(str(tmp_path / "milvus.db"), "qa_filters"))
    with open_writable(ref, embedder) as store:
        report = add_paths(store, embedder, [write_corpus(tmp_path / "corpus")])
        assert report.added == len(ARTICLES) and not report.errors
    return ref


def owners(store) -> dict[int, str]:
    return {p.id: p.article_id for a in store.articles() for p in store.article_paragraphs(a.id)}


def test_filtered_search_is_the_unfiltered_ranking_restricted(filled, embedder, monkeypatch):
    """On both backends, dense and lexical: the filtered top k is exactly the unfiltered
    ranking with the paragraphs that do not pass taken out (same ids, same order)."""
    from index.storage import open_store
    from index.storage.faiss import store as faiss_store

    with open_store(filled) as store:
        owner = owners(store)
        everything = len(owner)
        strategies = [None] if store.backend == "milvus" else [1 << 30, 0]  # exact, selector
        for question, qvec in zip(QUESTIONS, embedder.embed_queries(QUESTIONS)):
            dense = [pid for pid, _ in store.search_dense(qvec, everything)]
            words = [pid for pid, _ in store.search_lexical(question, everything)]
            assert sorted(dense) == sorted(owner)
            for where in FILTERS:
                keep = {pid for pid, aid in owner.items() if passes(where, aid)}
                assert store.count_matching(where) == (
                    len({owner[p] for p in keep}), len(keep)), where
                for strategy in strategies:
                    if strategy is not None:
                        monkeypatch.setattr(faiss_store, "_FILTER_EXACT_VIEWS", strategy)
                    for k in (1, 3, everything):
                        got = [pid for pid, _ in store.search_dense(qvec, k, where)]
                        assert got == [p for p in dense if p in keep][:k], (question, where, k)
                    got = [pid for pid, _ in store.search_lexical(question, everything, where)]
                    assert got == [p for p in words if p in keep], (question, where)
        assert store.published_span() == (date(2017, 3, 5), date(2018, 1, 15))


def test_filters_on_an_index_of_codes(tmp_path, monkeypatch):
    """Past the exact-search threshold (lowered here, as tests/test_vectors.py does): a
    filter passing few vectors gives the exact best that pass; searched through the id
    selector, it still gives as many as were asked for when that many pass (the lists
    probed may not hold them: the search then probes every list); a broad filter gives k
    that all pass, nearly all of the exact best."""
    from index.corpus.types import Article, Paragraph
    from index.storage.faiss import store as faiss_store
    from index.storage.faiss import vectors as ann
    from index.storage.faiss.store import Store
    from index.storage.base import VIEW_SLOTS
    from tests.test_vectors import MANIFEST, VIEWS, clustered, exact_top

    monkeypatch.setenv(ann.ENV_FLAT_MAX, "1200")
    batch = [Article(id=f"a{i}", title=f"T {i}", source=f"/c/a{i}.txt", content_hash=str(i),
                     metadata={"outlet": "Langka" if i % 40 == 0 else ["Kompas", "Tempo"][i % 2]},
                     paragraphs=[Paragraph(f"a{i}", number=n + 1, text=f"a{i} p{n}", line=n + 1,
                                           start=0, end=1) for n in range(4)])
             for i in range(120)]
    vecs = clustered(120 * 4 * VIEWS, seed=5)
    with Store.create(tmp_path / "idx", MANIFEST) as store:
        pids = store.add_articles(batch, vecs, views=[VIEWS] * 480)
        assert ann.layout_of(store._current_faiss()).kind == ann.IVF_PQ
        stored = {pid: vecs[i * VIEWS:(i + 1) * VIEWS] for i, pid in enumerate(pids)}
        outlet = {pid: batch[i // 4].metadata["outlet"].casefold() for i, pid in enumerate(pids)}
        found = 0
        for q in clustered(20, seed=77, spread=0.9):
            # 12 paragraphs pass; the truth is their stored (float16) vectors' ranking
            keys, held = store._views(sorted(p for p in stored if outlet[p] == "langka"))
            keep = {int(p): held[keys // VIEW_SLOTS == p] for p in set(keys // VIEW_SLOTS)}
            for strategy, k in ((1 << 30, 10), (0, 12)):  # scored exactly; id selector
                monkeypatch.setattr(faiss_store, "_FILTER_EXACT_VIEWS", strategy)
                rare = [p for p, _ in store.search_dense(q, k, ArticleFilter(outlets=("langka",)))]
                assert rare == exact_top(keep, q, k)
            broad = [p for p, _ in store.search_dense(q, 10, ArticleFilter(outlets=("kompas",)))]
            assert len(broad) == 10 and all(outlet[p] == "kompas" for p in broad)
            found += len(set(broad) & set(exact_top(
                {p: v for p, v in stored.items() if outlet[p] == "kompas"}, q, 10)))
        assert found / 200 >= 0.9


def test_filtered_answers_only_cite_passing_articles(filled, embedder):
    from qa.answer import answer
    from qa.engine import open_engine
    from qa.filtering import NothingMatches
    from qa.retrieve import search

    engine = open_engine(filled, None, build_default=False)
    try:
        where = ArticleFilter(since=date(2017, 7, 1), outlets=("kumparan", "kompas"))
        hits = search(engine.store, engine.embedder, "Ke mana warga mengungsi?", 3, where=where).hits
        assert [h.article_id for h in hits] == ["banjir-kumparan"] * 3  # k, all that pass
        result = answer(engine, "Ke mana warga mengungsi saat banjir?", k=5,
                        where=ArticleFilter(outlets=("kumparan",)))
        assert {p.hit.article_id for p in result.passages} <= {"banjir-kumparan",
                                                                "banjir-tanpa-tanggal"}
        assert len(result.passages) == 5
        with pytest.raises(NothingMatches) as err:
            answer(engine, "banjir", where=ArticleFilter(since=date(2019, 1, 1),
                                                         outlets=("kompas",)))
        assert str(err.value) == (
            "no article matches since 2019-01-01, source kompas; the index's dated articles "
            "run 2017-03-05..2018-01-15 (articles without a date pass no since/until)")
        assert nothing_matches(engine.store, ArticleFilter(outlets=("detik",))) == (
            "no article matches source detik; no article is from detik")
    finally:
        engine.close()


def test_a_follow_up_leaves_an_article_the_filter_no_longer_admits(tmp_path, embedder):
    from qa.conversations import ConversationStore, ask_in_conversation
    from qa.engine import open_engine

    ref = tmp_path / "idx"
    with open_writable(ref, embedder) as store:
        add_paths(store, embedder, [write_corpus(tmp_path / "corpus")])
    engine = open_engine(ref, None, build_default=False)
    try:
        with ConversationStore(":memory:") as conversations:
            cid = conversations.start("test").id
            first = ask_in_conversation(engine, conversations, cid,
                                        "Berapa kekuatan gempa di Cianjur?", k=3)
            assert first.answer.passages[0].hit.article_id == "gempa-cnn"
            where = ArticleFilter(outlets=("tempo",))
            turn = ask_in_conversation(engine, conversations, cid, "Warga mengungsi ke mana?",
                                       k=3, where=where)
            assert turn.reading.mode == "first"  # the Cianjur article is outside the filter
            assert {p.hit.article_id for p in turn.answer.passages} == {"gempa-tempo"}
    finally:
        engine.close()


def test_an_older_faiss_index_gains_dates_and_outlets_on_upgrade(tmp_path, embedder):
    """Migration 6 computes the columns from what the index stored (metadata and first
    paragraphs), the same as a new write; nothing is re-embedded."""
    from index.storage.faiss import schema
    from index.storage.faiss.store import Store

    ref = tmp_path / "idx"
    with open_writable(ref, embedder) as store:
        add_paths(store, embedder, [write_corpus(tmp_path / "corpus")])
    db = sqlite3.connect(ref / "index.sqlite", isolation_level=None)
    written = dict(db.execute("SELECT id, published FROM articles"))
    db.execute("DROP INDEX articles_published")
    db.execute("DROP INDEX articles_outlet")
    db.execute("ALTER TABLE articles DROP COLUMN published")
    db.execute("ALTER TABLE articles DROP COLUMN outlet")
    db.execute("DROP TABLE word_senses")  # migration 7's
    db.execute("PRAGMA user_version = 5")
    db.close()
    vector_files = sorted(p.name for p in ref.glob("vectors-*.faiss"))
    heard: list[str] = []
    with Store.open(ref, on_upgrade=heard.append) as store:
        assert store.manifest.schema_version == schema.CURRENT >= 6  # migration 6 adds them
        assert heard and "upgrading" in heard[0]
        assert store.count_matching(ArticleFilter(outlets=("kumparan",))) == (2, 6)
        assert store.count_matching(ArticleFilter(since=date(2017, 4, 1),
                                                  until=date(2017, 4, 30))) == (1, 3)
        assert store.verify() == []
    db = sqlite3.connect(ref / "index.sqlite")
    upgraded = dict(db.execute("SELECT id, published FROM articles"))
    outlets = dict(db.execute("SELECT id, outlet FROM articles"))
    db.close()
    assert upgraded == written == {a: d.isoformat() if d else None for a, d in PUBLISHED.items()}
    assert outlets == OUTLETS
    assert sorted(p.name for p in ref.glob("vectors-*.faiss")) == vector_files


def test_a_milvus_collection_from_before_filters_says_to_rebuild(tmp_path, embedder, monkeypatch):
    """A family made before schema 6 has no fields to filter on; rewriting every vector row
    in place is not safe, so a filter is refused with the command that fixes it, and
    unfiltered questions still work."""
    from index.indexing.lifecycle import rebuild
    from index.storage import open_store
    from index.storage.base import IndexStoreError
    from index.storage.milvus import layout

    ref = MilvusRef.parse(str(tmp_path / "milvus.db"), "qa_old")
    with monkeypatch.context() as old_qa:  # create the collections as qa did before schema 6
        old_qa.setattr(layout, "_provenance_fields", lambda *fields, **article_id: None)
        with open_writable(ref, embedder) as store:
            add_paths(store, embedder, [write_corpus(tmp_path / "corpus")])
    qvec = embedder.embed_queries(["banjir"])[0]
    with open_store(ref) as store:
        assert len(store.search_dense(qvec, 3)) == 3
        with pytest.raises(IndexStoreError) as err:
            store.search_dense(qvec, 3, ArticleFilter(outlets=("kompas",)))
        assert "cannot be filtered" in str(err.value)
        assert f"qa index rebuild {ref.cli_args()}" in str(err.value)
    rebuild(ref, embedder)
    with open_store(ref) as store:
        hits = store.search_dense(qvec, 3, ArticleFilter(outlets=("kompas",)))
        assert {store.paragraphs([p])[0].article_id for p, _ in hits} == {"banjir-kompas"}


# ---- the CLI ---------------------------------------------------------------------------


def test_cli_filters_echo_refuse_and_explain(default_model_dir, tmp_path):
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith("QA_")}
    env.update(QA_MODEL_CACHE=str(default_model_dir.parent), XDG_DATA_HOME=str(tmp_path / "data"),
               HOME=str(tmp_path / "home"), QA_INDEX=str(tmp_path / "cli-idx"), NO_COLOR="1",
               COLUMNS="200")
    run_qa(["index", "add", str(write_corpus(tmp_path / "corpus"))], env)
    question = "Ke mana warga mengungsi saat banjir?"
    out = run_qa(["ask", question, "--json", "--source", "Kumparan.com", "--until", "2017-07"], env)
    data = json.loads(out.stdout)
    assert data["filter"] == {"since": None, "until": "2017-07-31", "sources": ["kumparan"],
                              "articles": []}
    assert data["hits"] and {h["article_id"] for h in data["hits"]} == {"banjir-kumparan"}

    plain = json.loads(run_qa(["ask", question, "--json"], env).stdout)
    assert plain["filter"] is None
    assert {h["article_id"] for h in plain["hits"]} - {"banjir-kumparan"}

    empty = run_qa(["ask", question, "--since", "2019-01-01", "--source", "kompas"], env,
                   check=False)
    assert empty.returncode == 1 and empty.stdout == ""
    assert empty.stderr.strip() == (
        "qa: no article matches since 2019-01-01, source kompas; the index's dated articles "
        "run 2017-03-05..2018-01-15 (articles without a date pass no since/until)")

    as_json = run_qa(["ask", question, "--json", "--article", "nope"], env, check=False)
    assert as_json.returncode == 1
    assert json.loads(as_json.stdout) == {
        "error": "no article matches article nope; no article has the id nope",
        "filter": {"since": None, "until": None, "sources": [], "articles": ["nope"]}}

    bad = run_qa(["ask", question, "--since", "2017-02-30"], env, check=False)
    assert bad.returncode == 1 and bad.stdout == ""
    assert bad.stderr.strip() == "qa: --since '2017-02-30': no such date"


def test_cli_empty_filters_are_one_line_errors_on_ask_chat_and_eval(tmp_path):
    """The four options, empty, on the three commands that take them: one line naming the
    option, exit 1, nothing searched (and no chat started)."""
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith("QA_")}
    env.update(XDG_DATA_HOME=str(tmp_path / "data"), HOME=str(tmp_path / "home"), NO_COLOR="1",
               COLUMNS="200")
    questions = tmp_path / "questions.jsonl"
    questions.write_text('{"id": "q1", "question": "Siapa?", "answers": []}\n', encoding="utf-8")
    commands = {"ask": ["ask", "Ke mana warga mengungsi?", "--index", str(tmp_path / "idx")],
                "chat": ["chat", "--index", str(tmp_path / "idx")],
                "eval": ["eval", str(questions)]}
    for command, args in commands.items():
        for option in ("--since", "--until", "--source", "--article"):
            proc = run_qa([*args, option, ""], env, check=False, timeout=60)
            assert proc.returncode == 1 and proc.stdout == "", (command, option, proc.stdout)
            assert proc.stderr.splitlines() == [f"qa: {option} is empty: give " + {
                "--since": "a date (YYYY-MM-DD, YYYY-MM or YYYY)",
                "--until": "a date (YYYY-MM-DD, YYYY-MM or YYYY)",
                "--source": "an outlet name",
                "--article": "an article id (see qa index list)"}[option]
                + f", or leave {option} out"], (command, option)


# ---- the chat --------------------------------------------------------------------------


@pytest.mark.anyio
async def test_chat_starts_filtered_and_filter_command_changes_it(tmp_path, embedder,
                                                                  default_model_dir, monkeypatch):
    from tests.test_tui import ask, wait_ready, wait_until
    from tui.app import QaApp
    from tui.widgets import QuestionInput

    ref = tmp_path / "idx"
    with open_writable(ref, embedder) as store:
        add_paths(store, embedder, [write_corpus(tmp_path / "corpus")])
    monkeypatch.setenv("QA_MODEL_CACHE", str(default_model_dir.parent))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.delenv("QA_MODEL", raising=False)
    monkeypatch.chdir(tmp_path)
    app = QaApp(ref, where=ArticleFilter(outlets=("kompas",)))
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_ready(pilot)
        status = app.chat.status
        assert "filter: source kompas" in status.info_text
        card = await ask(pilot, "Ke mana warga mengungsi?")
        assert {v.passage.hit.article_id for v in card.passages} == {"banjir-kompas"}

        async def command(text: str, expect: str) -> None:
            before = len(app._notifications)
            app.chat.query_one(QuestionInput).value = text
            await pilot.press("enter")
            await wait_until(pilot, lambda: len(app._notifications) > before,
                             what=f"the reply to {text}")
            assert expect in str(list(app._notifications)[-1].message)

        await command("/filter since 2017-07-01 source tempo.co source kumparan",
                      "Searching only: since 2017-07-01, source tempo or kumparan")
        assert "filter: since 2017-07-01, source tempo or kumparan" in status.info_text
        card = await ask(pilot, "Ke mana warga mengungsi?")
        assert {v.passage.hit.article_id for v in card.passages} <= {"gempa-tempo",
                                                                     "banjir-kumparan"}

        await command("/filter since 2030", "no article matches since 2030-01-01")
        assert "filter: since 2017-07-01, source tempo or kumparan" in status.info_text
        await command("/filter sejak 2017", "expected since, until, source, article or off")

        await command("/filter off", "Filter off")
        assert "filter:" not in status.info_text
        card = await ask(pilot, "Ke mana warga mengungsi?")
        assert len({v.passage.hit.article_id for v in card.passages}) > 2


@pytest.fixture
def anyio_backend():
    return "asyncio"
