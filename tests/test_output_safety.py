"""Odd input reaches no terminal and breaks no backend: hostile file names and article text,
control characters in Milvus filters, malformed evaluation files.

Article files and their names are untrusted (Linux allows ESC in a file name), so every line
`qa` writes, on stdout and stderr, is checked byte for byte through real `qa` processes:
no escape sequence, bell, C1 control, Unicode line separator or bidi override may arrive,
while the text stays recognisable (shown as `\\x1b`, `\\u202e`). A newline in a file name,
title or url is shown as `\\n` too: it would otherwise print a line of the file's choosing,
such as a forged answer.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from index.errors import UserError
from qa.evaluate import load_pool, load_questions

ROOT = Path(__file__).resolve().parent.parent

ESC = "\x1b[2J\x1b]52;c;aGVsbG8=\x07"  # clear the screen, then write the clipboard (OSC 52)
HOSTILE_ID = f"banjir{ESC}\x9b2J\u202ex"  # C1 CSI and a right-to-left override too
TITLE = f"\u202eBanjir \x1b[31mmerah\x1b[0m \x9b6n di Jawa Tengah"
BODY = (f"{TITLE}\n\n"
        f"Banjir bandang merendam tiga desa di Kabupaten Grobogan {ESC} setelah tanggul sungai "
        "jebol pada Selasa malam.\n\n"
        "Warga mengungsi ke balai desa dan menunggu bantuan perahu karet.\n")
# Anything a terminal acts on: C0 controls but tab and newline, DEL, C1, the Unicode line and
# paragraph separators, bidi and zero-width marks. Decoded strictly: output that is not UTF-8
# fails too.
ACTIVE = re.compile(
    r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def assert_inert(data: bytes, what: str) -> str:
    text = data.decode("utf-8")
    found = ACTIVE.search(text)
    assert found is None, f"{what}: {found.group()!r} reaches the terminal in {text!r}"
    return text


def run_qa(args: list[str], env: dict[str, str], cwd: Path | None = None) -> subprocess.CompletedProcess:
    proc = subprocess.run([sys.executable, "-m", "qa", *args], env=env, capture_output=True,
                          timeout=600, cwd=cwd)
    for name, stream in (("stdout", proc.stdout), ("stderr", proc.stderr)):
        assert_inert(stream, f"qa {' '.join(args)}: {name}")
    assert b"Traceback" not in proc.stderr, proc.stderr.decode("utf-8", "replace")
    return proc


@pytest.fixture(scope="module")
def env(default_model_dir, tmp_path_factory) -> dict[str, str]:
    home = tmp_path_factory.mktemp("home")
    out = {k: v for k, v in os.environ.items()
           if not k.startswith("QA_") and k not in ("FORCE_COLOR", "CLICOLOR_FORCE")}
    out.update(QA_MODEL_CACHE=str(default_model_dir.parent), XDG_DATA_HOME=str(home / "data"),
               HOME=str(home), NO_COLOR="1", COLUMNS="200", QA_LOCK_TIMEOUT="5",
               PYTHONPATH=str(ROOT))
    return out


@pytest.fixture(scope="module")
def hostile(tmp_path_factory, env):
    """An index (in a folder whose name is hostile too) built by `qa index add` from a folder
    holding a hostile article and an empty file with a hostile name."""
    base = tmp_path_factory.mktemp("hostile")
    corpus = base / "corpus"
    corpus.mkdir()
    (corpus / f"{HOSTILE_ID}.txt").write_text(BODY, encoding="utf-8")
    (corpus / f"kosong{ESC}\u202e.txt").write_text("", encoding="utf-8")
    index = base / f"idx{ESC}"
    added = run_qa(["index", "add", str(corpus), "--index", str(index)], env)
    return corpus, index, added


def test_error_and_report_lines_show_escapes_instead_of_sending_them(hostile):
    _, _, added = hostile
    assert added.returncode == 1  # the empty file is an error; the good article is indexed
    err = added.stderr.decode("utf-8")
    line = next(line for line in err.splitlines() if "empty file" in line)
    assert line.startswith("qa: ") and "kosong\\x1b[2J\\x1b]52;c;aGVsbG8=\\x07\\u202e.txt" in line
    assert "1 added" in err


def test_index_list_and_status_print_ids_titles_and_paths_inert(hostile, env):
    corpus, index, _ = hostile
    listed = run_qa(["index", "list", "--index", str(index)], env)
    assert listed.returncode == 0
    out = listed.stdout.decode("utf-8")
    row = next(line for line in out.splitlines() if line.startswith("banjir"))
    assert row.startswith("banjir\\x1b[2J\\x1b]52;c;aGVsbG8=\\x07\\x9b2J\\u202ex  ")
    assert "  \\u202eBanjir \\x1b[31mmerah\\x1b[0m \\x9b6n di" in row
    assert row.rstrip().endswith("\\x07\\x9b2J\\u202ex.txt")
    # JSON: the same strings to a parser, escapes to a terminal.
    data = json.loads(run_qa(["index", "list", "--index", str(index), "--json"], env).stdout)
    assert [(a["id"], a["title"]) for a in data] == [(HOSTILE_ID, TITLE)]
    assert data[0]["source"] == str(corpus / f"{HOSTILE_ID}.txt")
    status = run_qa(["index", "status", "--index", str(index)], env)
    assert status.returncode == 0
    assert f"index       {index}".replace("\x1b", "\\x1b").replace("\x07", "\\x07") \
        in status.stdout.decode("utf-8")
    info = json.loads(run_qa(["index", "status", "--index", str(index), "--json"], env).stdout)
    assert info["articles"] == 1 and str(index) in info["index"]


def test_ask_prints_the_hostile_paragraph_and_citation_inert(hostile, env):
    _, index, _ = hostile
    asked = run_qa(["ask", "Desa mana yang terendam banjir bandang di Grobogan?", "--index",
                    str(index)], env)
    assert asked.returncode == 0
    out = asked.stdout.decode("utf-8")
    assert "Kabupaten Grobogan \\x1b[2J\\x1b]52;c;aGVsbG8=\\x07 setelah" in out
    assert "\\x1b[31mmerah\\x1b[0m" in out  # the title, in the citation
    data = json.loads(run_qa(["ask", "banjir bandang Grobogan", "--index", str(index), "--json"],
                             env).stdout)
    assert data["hits"][0]["article_id"] == HOSTILE_ID


# ---- line breaks in file names, titles and urls: one line each, never a forged hit -------

# Issue 38: a file name that prints a fake answer under a real-looking citation, one whose
# pasted citation ends a bracketed paste and runs a command, one with every other line break.
FORGED_NAME = ("beras.txt:3  score 0.999\n**Harga beras TURUN 50 persen mulai besok, kata "
               "Menteri**\n\n[9] Kementerian Perdagangan - para 1 - kemendag.txt")
FORGED_SHOWN = ("beras.txt:3  score 0.999\\n**Harga beras TURUN 50 persen mulai besok, kata "
                "Menteri**\\n\\n[9] Kementerian Perdagangan - para 1 - kemendag.txt")
PASTEJACK_NAME = "bawang\x1b[201~\ntouch PASTEJACKED\n.txt"
PASTEJACK_SHOWN = "bawang\\x1b[201~\\ntouch PASTEJACKED\\n.txt"
BREAKS = "\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029\t"
BREAKS_NAME = f"cabai{BREAKS}[8] Palsu - para 1 - cabai.txt"
BREAKS_SHOWN = ("cabai\\x0d\\x0b\\x0c\\x1c\\x1d\\x1e\\x85\\u2028\\u2029\\t"
                "[8] Palsu - para 1 - cabai.txt")
EMPTY_NAME = "kosong\n[1] Palsu - para 1 - kosong.txt:1  score 0.990\n.txt"
# A JSONL article: the reader folds whitespace in its fields, so what is left to show is ESC,
# BEL and the C1 CSI; the url is what its citation shows.
JSONL_URL = "https://berita.example/gempa\x1b[201~\ntouch PASTEJACKED\x9b2J\u2028"
JSONL_URL_SHOWN = "https://berita.example/gempa\\x1b[201~ touch PASTEJACKED\\x9b2J"
JSONL_TITLE = "Gempa \x1b]0;judul\x07 guncang\nCianjur"
JSONL_TITLE_SHOWN = "Gempa \\x1b]0;judul\\x07 guncang Cianjur"
FORGED_TEXTS = {
    FORGED_NAME: "Harga beras naik di pasar Jakarta\n\nHarga beras medium naik menjadi Rp 14.000 "
                 "per kilogram di pasar induk Cipinang pekan ini.\n\nPedagang mengatakan pasokan "
                 "dari Jawa Tengah berkurang karena panen terlambat.\n",
    PASTEJACK_NAME: "Harga bawang merah turun\n\nHarga bawang merah turun menjadi Rp 30.000 per "
                    "kilogram setelah panen raya di Brebes.\n",
    BREAKS_NAME: "Cabai rawit langka di Surabaya\n\nHarga cabai rawit di Surabaya melonjak menjadi "
                 "Rp 90.000 per kilogram karena hujan deras merusak kebun petani.\n",
    EMPTY_NAME: "",
    "berita.jsonl": json.dumps({"id": "gempa-1", "title": JSONL_TITLE, "url": JSONL_URL,
                                "text": "Gempa bermagnitudo 5,6 mengguncang Kabupaten Cianjur pada "
                                        "Senin siang dan merusak ratusan rumah warga."}) + "\n",
}
# Lines a forged name would print of its own, were its line breaks sent.
FORGED_LINE_STARTS = ("**Harga beras TURUN", "[9]", "touch", ".txt", "[8] Palsu", "[1] Palsu",
                      "Cianjur")


def write_forged_corpus(folder: Path) -> Path:
    folder.mkdir()
    for name, text in FORGED_TEXTS.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def forged(tmp_path_factory, env):
    """An index of the files above, built by `qa index add` (the empty one is an error)."""
    base = tmp_path_factory.mktemp("forged")
    corpus = write_forged_corpus(base / "corpus")
    index = base / "idx"
    added = run_qa(["index", "add", str(corpus), "--index", str(index)], env)
    return corpus, index, added


def assert_no_forged_line(text: str, what: str) -> None:
    starts = [line for line in text.splitlines() if line.lstrip().startswith(FORGED_LINE_STARTS)]
    assert not starts, f"{what}: text from a file starts a line of its own: {starts}"


def test_an_unreadable_file_with_newlines_in_its_name_is_one_error_line(forged):
    _, _, added = forged
    assert added.returncode == 1  # the empty file; the four articles are indexed
    err = added.stderr.decode("utf-8")
    assert_no_forged_line(err, "qa index add")
    [line] = [line for line in err.splitlines() if "kosong" in line]
    assert line.startswith("qa: ") and line.endswith(
        "kosong\\n[1] Palsu - para 1 - kosong.txt:1  score 0.990\\n.txt: empty file")


def test_ask_prints_each_citation_on_one_line_whatever_the_file_name_holds(forged, env):
    _, index, _ = forged
    args = ["ask", "Berapa harga beras medium di pasar induk Cipinang?", "-k", "5",
            "--index", str(index)]
    out = run_qa(args, env).stdout.decode("utf-8")
    hits = json.loads(run_qa([*args, "--json"], env).stdout)["hits"]
    assert len(hits) == 5  # every paragraph of the four articles
    assert_no_forged_line(out, "qa ask")
    # The shape of a real answer: a note and a short answer (one line each) may come first,
    # then one block a passage: its citation, its text, perhaps an "also in" line.
    blocks = [block.split("\n") for block in out.rstrip("\n").split("\n\n")]
    passages = [block for block in blocks if block[0].startswith("[")]
    lead = blocks[:len(blocks) - len(passages)]
    assert blocks[len(lead):] == passages and all(len(block) == 1 for block in lead), out
    assert len(passages) == len(hits)
    for rank, (head, body, *also) in enumerate(passages, 1):
        assert re.fullmatch(rf"\[{rank}\] .+ - para \d+ - .+  score \d\.\d{{3}}", head), head
        assert body.startswith("    ") and len(also) <= 1
        assert all(line.startswith("    also in: ") for line in also)
    heads = "\n".join(block[0] for block in passages)
    assert f"para 2 - {index.parent / 'corpus' / FORGED_SHOWN}:3  score " in heads
    for shown in (PASTEJACK_SHOWN, BREAKS_SHOWN,
                  f"{JSONL_TITLE_SHOWN} - para 1 - {JSONL_URL_SHOWN}  score "):
        assert shown in heads
    # JSON: the raw names to a parser (json.dumps escapes the newlines, qa the rest), and a
    # `citation` that is the one line shown.
    by_title = {hit["title"]: hit for hit in hits}
    assert by_title[JSONL_TITLE.replace("\n", " ")]["citation"].endswith(JSONL_URL_SHOWN)
    sources = {Path(hit["source"]).name for hit in hits}
    assert sources == {FORGED_NAME, PASTEJACK_NAME, BREAKS_NAME, "berita.jsonl"}
    assert all("\n" not in hit["citation"] and not ACTIVE.search(hit["citation"]) for hit in hits)


def test_index_list_is_one_row_an_article_whatever_its_file_name_holds(forged, env):
    _, index, _ = forged
    out = run_qa(["index", "list", "--index", str(index)], env).stdout.decode("utf-8")
    articles = json.loads(run_qa(["index", "list", "--index", str(index), "--json"], env).stdout)
    rows = out.splitlines()
    assert len(articles) == 4 and len(rows) == 1 + len(articles), out
    assert_no_forged_line(out, "qa index list")
    assert all(re.search(r"  +\d+  ", row) for row in rows[1:])  # every row has its columns
    for shown in (FORGED_SHOWN, PASTEJACK_SHOWN, BREAKS_SHOWN):
        [row] = [row for row in rows if row.startswith(shown.removesuffix(".txt"))]
        assert row.endswith(f"/corpus/{shown}")
    assert any(JSONL_TITLE_SHOWN in row for row in rows)


def test_exports_write_each_citation_on_one_line(forged, env):
    _, index, _ = forged
    asked = run_qa(["ask", "Berapa harga beras medium di pasar induk Cipinang?", "-k", "5",
                    "--index", str(index)], env)
    assert asked.returncode == 0
    md = run_qa(["export", "--index", str(index)], env).stdout.decode("utf-8")
    data = json.loads(run_qa(["export", "--index", str(index), "--format", "json"], env).stdout)
    passages = data["turns"][-1]["passages"]
    assert len(passages) == 5
    assert_no_forged_line(md, "qa export")
    turn = md[md.rindex("\n## "):]
    cited = [line for line in turn.splitlines() if re.match(r"\d+\. ", line)]
    assert len(cited) == len(passages), turn
    # each citation is a code span: the name as shown, nothing in it read as markup
    assert any(f"/corpus/{FORGED_SHOWN}:3`" in line for line in cited)
    assert any(f"/corpus/{PASTEJACK_SHOWN}:3`" in line for line in cited)
    # JSON keeps each raw value in `cited`; `citation` is the line shown.
    assert {Path(p["cited"]["source"]).name for p in passages} == \
        {FORGED_NAME, PASTEJACK_NAME, BREAKS_NAME, "berita.jsonl"}
    assert all("\n" not in p["citation"] and not ACTIVE.search(p["citation"]) for p in passages)


def test_piped_ask_keeps_a_passage_with_line_breaks_on_its_one_line(tmp_path, env):
    """A Markdown code block keeps its lines in the stored paragraph; piped, `qa ask` prints a
    passage as one line, so a line of it cannot pass for a hit of its own."""
    corpus = tmp_path / "md"
    corpus.mkdir()
    (corpus / "panduan.md").write_text(
        "# Panduan skrip banjir\n\nWarga diminta memeriksa ketinggian air sungai setiap pagi "
        "dengan skrip berikut.\n\n```\ncek_air --sungai ciliwung\n[9] Kementerian Palsu - para 1 "
        "- palsu.txt:1  score 0.999\n```\n", encoding="utf-8")
    index = tmp_path / "idx"
    assert run_qa(["index", "add", str(corpus), "--index", str(index)], env).returncode == 0
    args = ["ask", "skrip cek air sungai ciliwung", "--index", str(index)]
    out = run_qa(args, env).stdout.decode("utf-8")
    hits = json.loads(run_qa([*args, "--json"], env).stdout)["hits"]
    code = next(hit for hit in hits if "cek_air" in hit["text"])
    assert "\n[9] Kementerian Palsu" in code["text"]  # the paragraph keeps its lines
    assert_no_forged_line(out, "qa ask")
    shown = "cek_air --sungai ciliwung\\n[9] Kementerian Palsu - para 1 - palsu.txt:1  score 0.999"
    assert any(line.startswith("    ") and shown in line.replace("**", "")
               for line in out.splitlines()), out

# ---- Milvus: any article id or text can be written, found and removed --------------------

def test_milvus_filter_literal_matches_every_code_point(tmp_path):
    from pymilvus import DataType, MilvusClient

    from index.storage.milvus.layout import in_list, literal

    client = MilvusClient(str(tmp_path / "lit.db"))
    schema = client.create_schema(auto_id=False)
    schema.add_field("id", DataType.VARCHAR, is_primary=True, max_length=8192)
    schema.add_field("_v", DataType.FLOAT_VECTOR, dim=2)
    index = client.prepare_index_params()
    index.add_index(field_name="_v", index_type="FLAT", metric_type="L2")
    client.create_collection("t", schema=schema, index_params=index, consistency_level="Strong")
    points = [c for c in range(0x110000) if not 0xD800 <= c < 0xE000]  # surrogates: not UTF-8
    values = [f"k{n}:" + "".join(map(chr, points[n:n + 1500])) for n in range(0, len(points), 1500)]
    values += ['"', "\\", "\\\"", "'", "a\\nb", "\n\r\t", "%", "x\x00y", HOSTILE_ID]
    for start in range(0, len(values), 50):
        client.insert("t", [{"id": v, "_v": [1.0, 0.0]} for v in values[start:start + 50]])
    try:
        for start in range(0, len(values), 40):
            group = values[start:start + 40]
            rows = client.query("t", filter=in_list("id", group), output_fields=["id"])
            assert sorted(r["id"] for r in rows) == sorted(group)
        for value in ("a\\nb", HOSTILE_ID, "\\"):
            rows = client.query("t", filter=f"id == {literal(value)}", output_fields=["id"])
            assert [r["id"] for r in rows] == [value]
    finally:
        client.close()


def test_milvus_add_find_migrate_and_remove_a_hostile_article(hostile, env, tmp_path):
    _, faiss_index, _ = hostile
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / f"{HOSTILE_ID}.txt").write_text(BODY, encoding="utf-8")
    milvus = ["--backend", "milvus", "--uri", str(tmp_path / "news.db")]
    added = run_qa(["index", "add", str(corpus), *milvus, "--json"], env)
    assert added.returncode == 0, added.stderr
    assert json.loads(added.stdout)["added"] == 1
    again = run_qa(["index", "add", str(corpus), *milvus, "--json"], env)
    assert json.loads(again.stdout)["unchanged"] == 1  # found by its id, nothing re-embedded
    listed = json.loads(run_qa(["index", "list", *milvus, "--json"], env).stdout)
    assert [(a["id"], a["title"]) for a in listed] == [(HOSTILE_ID, TITLE)]
    data = json.loads(run_qa(["ask", "banjir bandang Grobogan", *milvus, "--json"], env).stdout)
    assert data["hits"][0]["article_id"] == HOSTILE_ID
    plain = run_qa(["index", "list", *milvus], env).stdout.decode("utf-8")
    assert "banjir\\x1b[2J" in plain
    removed = run_qa(["index", "remove", HOSTILE_ID, *milvus, "--json"], env)
    assert json.loads(removed.stdout)["removed"] == 1
    # The FAISS index with the same article copies to Milvus as well.
    target = ["--uri", str(tmp_path / "copy.db"), "--collection", "copy"]
    migrated = run_qa(["index", "migrate", "--to", "milvus", "--index", str(faiss_index),
                       *target, "--json"], env)
    assert migrated.returncode == 0 and json.loads(migrated.stdout)["articles"] == 1
    copied = json.loads(run_qa(["index", "list", "--backend", "milvus", *target, "--json"],
                               env).stdout)
    assert [a["id"] for a in copied] == [HOSTILE_ID]


# ---- `qa eval`: a malformed line is named, never a traceback -----------------------------

def _jsonl(path: Path, lines: list[str]) -> Path:
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


GOOD_PASSAGE = json.dumps({"pid": "p1", "title": "", "text": "Banjir merendam Bekasi."})
GOOD_QUESTION = json.dumps({"id": "q1", "question": "Di mana banjir?", "lang": "id",
                            "context_id": "p1", "answers": ["Bekasi"]})


@pytest.mark.parametrize("line, reason", [
    ('{"pid": "p2", "title": "x"}', "no `text` field"),
    ('{"pid": "p2", "text": ""}', "`text` is empty"),
    ('{"text": "Gempa di Cianjur."}', "no `pid` field"),
    ('{"pid": "p2", "text": ["a"]}', "`text` must be a string, got list"),
    ('{"pid": "p1", "text": "lagi"}', "pid 'p1' repeats line 1"),
    ('{"pid": "p2", "text": "a"', "not JSON"),
    ('["p2", "a"]', "must be a JSON object, got list"),
])
def test_load_pool_names_file_line_and_reason(tmp_path, line, reason):
    path = _jsonl(tmp_path / "pool.jsonl", [GOOD_PASSAGE, "", line])
    with pytest.raises(UserError) as exc:
        load_pool(path)
    assert str(exc.value).startswith(f"{path}:3: ") and reason in str(exc.value)


@pytest.mark.parametrize("line, reason", [
    ('{"id": "q2", "lang": "id"}', "no `question` field"),
    ('{"question": "Apa?"}', "no `id` field"),
    ('{"id": "q2", "question": "   "}', "`question` is blank"),
    ('{"id": "q2", "question": "Apa?", "answers": "Bekasi"}', "`answers` must be a list"),
    ('{"id": "q1", "question": "Apa?"}', "question id 'q1' repeats line 1"),
    ("not json", "not JSON"),
])
def test_load_questions_names_file_line_and_reason(tmp_path, line, reason):
    path = _jsonl(tmp_path / "q.jsonl", [GOOD_QUESTION, line])
    with pytest.raises(UserError) as exc:
        load_questions(path)
    assert str(exc.value).startswith(f"{path}:2: ") and reason in str(exc.value)


def test_integer_ids_are_read_as_strings(tmp_path):
    pool = load_pool(_jsonl(tmp_path / "p.jsonl", ['{"pid": 7, "text": "Banjir di Bekasi."}']))
    questions = load_questions(_jsonl(tmp_path / "q.jsonl",
                                      ['{"id": 1, "question": "Di mana?", "context_id": 7}']))
    assert pool[0].id == "7" and (questions[0].id, questions[0].gold) == ("1", "7")


def test_qa_eval_reports_a_bad_line_in_one_line(tmp_path, env):
    pool = _jsonl(tmp_path / "pool.jsonl", [GOOD_PASSAGE, '{"pid": "p2", "title": "t"}'])
    questions = _jsonl(tmp_path / "q.jsonl", [GOOD_QUESTION])
    bad_questions = _jsonl(tmp_path / f"q{ESC}.jsonl", [GOOD_QUESTION, '{"id": "q2"}'])
    for qfile, where in ((questions, f"{pool}:2: no `text` field"),
                         (bad_questions, "q\\x1b[2J\\x1b]52;c;aGVsbG8=\\x07.jsonl:2: no `question` field")):
        proc = run_qa(["eval", str(qfile), "--passages", str(pool)], env)
        err = proc.stderr.decode("utf-8")
        assert proc.returncode == 1
        lines = [line for line in err.splitlines() if line.startswith("qa: ")]
        assert len(lines) == 1 and where in lines[0], err
