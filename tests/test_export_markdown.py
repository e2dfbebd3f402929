"""`qa export` Markdown reads as written: a file name with underscores and an answer sentence
with brackets stay as they are in the source (citations in code spans, sentences escaped only
where they would make markup), and a Markdown parser renders back exactly the text that the
JSON transcript holds. Real model, real index, real `qa` processes."""
from __future__ import annotations

import json

import pytest
from markdown_it import MarkdownIt

from qa.export import _code, _md
from tests.test_cli import cli_env, run_qa  # noqa: F401 - cli_env is a fixture

NAME = "000_b02_korsel_rusia.txt"
SENTENCE = ("Korea Selatan telah memanggil duta besar Rusia di Seoul pada Senin(21/10/2024) "
            "untuk memprotes pengiriman pasukan Korea Utara [1].")
REPLY = ("Duta besar Rusia Georgy Zinoviev menjawab (Selasa, 22/10/2024) bahwa kerja sama kedua "
         "negara tidak ditujukan kepada pihak ketiga.")
# One sentence a paragraph: each is its passage's answer sentence, whichever ranks first.
ARTICLE = f"Korsel panggil duta besar Rusia\n\n{SENTENCE}\n\n{REPLY}\n"
# How rich (and so the chat's Markdown view) parses Markdown.
PARSER = MarkdownIt().enable("strikethrough").enable("table")


def _inline_lines(markdown: str) -> list[tuple[list[str], list]]:
    """(the enclosing block tokens, the inline children) of every inline run in the document."""
    runs, open_blocks = [], []
    for token in PARSER.parse(markdown):
        if token.nesting == 1:
            open_blocks.append(token.type)
        elif token.nesting == -1:
            open_blocks.pop()
        elif token.type == "inline":
            runs.append((list(open_blocks), token.children))
    return runs


def _text(children) -> str:
    return "".join(c.content for c in children if c.type in ("text", "code_inline"))


@pytest.fixture(scope="module")
def exported(cli_env, tmp_path_factory):  # noqa: F811 - cli_env is the fixture
    base = tmp_path_factory.mktemp("export-md")
    (base / "corpus").mkdir()
    (base / "corpus" / NAME).write_text(ARTICLE, encoding="utf-8")
    index = str(base / "idx")
    run_qa(["index", "add", str(base / "corpus"), "--index", index], cli_env)
    run_qa(["ask", "Siapa yang memanggil duta besar Rusia?", "--index", index], cli_env)
    md = run_qa(["export", "--index", index], cli_env).stdout
    data = json.loads(run_qa(["export", "--index", index, "--format", "json"], cli_env).stdout)
    return md, data["turns"][-1]


def test_export_markdown_keeps_file_names_and_quoted_text_as_written(exported):
    md, turn = exported
    assert {p["answer_sentence"] for p in turn["passages"]} == {SENTENCE, REPLY}
    assert all(NAME in p["citation"] for p in turn["passages"])
    # The source: the sentences as written, each citation a code span holding it exactly.
    lines = md.splitlines()
    assert f"> {turn['answer_sentence']}" in lines
    assert f"   {SENTENCE}" in lines and f"   {REPLY}" in lines
    for p in turn["passages"]:
        assert f"{p['rank']}. `{p['citation']}`  " in lines
    assert "\\_" not in md and "\\(" not in md
    # Rendered: the quote and every passage's sentence read exactly as the JSON holds them,
    # every citation is one code span equal to the JSON citation, and nothing is markup.
    runs = _inline_lines(md)
    quotes = [_text(ch) for blocks, ch in runs if "blockquote_open" in blocks]
    assert quotes == [turn["answer_sentence"]]
    items = [ch for blocks, ch in runs if blocks.count("list_item_open") == 1]
    assert len(items) == len(turn["passages"])
    for p, children in zip(turn["passages"], items):
        code = [c.content for c in children if c.type == "code_inline"]
        assert code == [p["citation"]]
        assert _text(children) == p["citation"] + p["answer_sentence"]
    kinds = {c.type for _, ch in runs for c in ch}
    assert kinds <= {"text", "code_inline", "hardbreak", "softbreak", "strong_open",
                     "strong_close", "em_open", "em_close"}, kinds


@pytest.mark.parametrize("text", [
    "Senin(21/10/2024) kata [1] dan 000_b02_x.txt", "[tautan](http://contoh.id) ![gambar](x.png)",
    "[1]: http://contoh.id", "<script>alert(1)</script> <http://contoh.id>", "**tebal** _miring_",
    "__init__ ~~coret~~ `kode` \\ &amp; &#x27;", "# judul", "- butir", "2. Suite for Violin",
    "> kutipan", "---", "==", "C# dan F #"])
def test_hostile_text_renders_as_itself_and_makes_no_markup(text):
    """Whatever an article holds, where the transcript puts it (a quote, a list item's line, a
    heading, a bold short answer), it renders as exactly that text and makes no link, image,
    HTML, code, heading or list of its own."""
    placed = {f"> {_md(text)}": ["blockquote_open", "paragraph_open"],
              f"1. {_code('x.txt')}  \n   {_md(text)}":
                  ["ordered_list_open", "list_item_open", "paragraph_open"],
              f"## 1. {_md(text)}": ["heading_open"],
              f"**{_md(text)}** — [1]": ["paragraph_open"]}
    for source, blocks in placed.items():
        tokens = PARSER.parse(source)
        assert [t.type for t in tokens if t.nesting == 1] == blocks, source
        [children] = [t.children for t in tokens if t.type == "inline"]
        kinds = {c.type for c in children}
        assert kinds <= {"text", "code_inline", "hardbreak", "strong_open", "strong_close"}, source
        rendered = "".join(c.content for c in children if c.type in ("text", "code_inline"))
        rest = rendered.replace(text, "", 1)
        assert text in rendered and rest in ("", "1. ", "x.txt", " — [1]"), (source, rendered)


@pytest.mark.parametrize("name", ["a_b.txt", "tanda`petik.txt", "`awal.txt", "akhir.txt`",
                                  "dua``petik.txt", " spasi .txt "])
def test_a_backtick_in_a_file_name_cannot_leave_its_code_span(name):
    [children] = [t.children for t in PARSER.parse(f"1. {_code(name)}  ") if t.type == "inline"]
    assert [(c.type, c.content) for c in children] == [("code_inline", name)]
