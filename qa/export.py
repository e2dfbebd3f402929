"""A conversation as a transcript: Markdown to read or share, JSON to process.

Both carry every turn's question, how it was read, the answer sentence shown first and the
full citation of every passage shown, so a reader can check each answer at its source.
Article text is untrusted: control characters are made visible (a transcript is often
`cat` to a terminal), and in Markdown an article cannot inject links, images, HTML or headings
into the document. The Markdown is read as source too, so text stays as written: only the
characters that could start markup there are escaped (not the brackets of "Senin (21/10)" nor
the underscore inside a word), and each citation is a code span, where nothing is markup and
the file name shows exactly. A citation is one line (Citation.label shows a newline in a file
name as `\\n`), so a file name cannot write a line of the transcript either.
"""
from __future__ import annotations

import json
import re
from dataclasses import asdict

from index.safe_text import one_line, one_paragraph
from qa.types import Conversation

# What can start inline markup (CommonMark and the GFM strikethrough): a backslash escape,
# code, emphasis, raw HTML or an autolink, an entity, an underscore unless it sits inside a
# word ("000_b02" makes no emphasis), and a "[" that a "](" (link, image) or a "]:" (a
# reference definition, without which "[4][5]" is plain text) follows.
_INLINE_MARKUP = re.compile(r"[\\`*<~]|\[(?=.*\][(:])|&(?=#?\w+;)|(?<![^\W_])_|_(?![^\W_])")
# What starts a block when it heads a line (a list item, an ATX heading, a quote, a setext
# underline or thematic break): the text follows "> " or a list item's indent in the transcript.
_BLOCK_START = re.compile(r"(?:[-+]|#{1,6}|\d{1,9}[.)])(?=\s|$)|>|[=-]+\s*$")


def _md(text: str) -> str:
    """Inline Markdown, one line, that renders as exactly the text it was given and no markup;
    the source escapes only what would otherwise be markup, so it reads as written."""
    out = _INLINE_MARKUP.sub(lambda m: "\\" + m.group(), one_paragraph(text))
    head = _BLOCK_START.match(out)
    if head and head.group()[0].isdigit():  # "2. Suite" -> "2\. Suite"
        out = f"{head.group()[:-1]}\\{out[head.end() - 1:]}"
    elif head:
        out = "\\" + out
    # A run of "#" after a space at the end would be taken as a heading's closing sequence.
    return re.sub(r"(?<=\s)#+$", lambda m: "\\#" * len(m.group()), out)


def _code(text: str) -> str:
    """A code span holding `text` exactly (one line, inert): its fence is one backtick longer
    than any run inside, padded with a space where a backtick or space at an edge would
    otherwise join the fence or be stripped (CommonMark 6.1)."""
    text = one_line(text)
    fence = "`" * (max((len(r) for r in re.findall(r"`+", text)), default=0) + 1)
    pad = " " if text[:1] == "`" or text[-1:] == "`" or (
        text[:1] == " " and text[-1:] == " " and text.strip()) else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def to_dict(conv: Conversation) -> dict:
    return {
        "conversation_id": conv.id,
        "index": conv.index_key,
        "started_at": conv.started_at,
        "turns": [
            {
                "turn": t.number,
                "question": t.question,
                "asked_at": t.asked_at,
                "read_as": t.reading.about or None,
                "context": t.reading.mode,
                "context_article_id": t.reading.article_id,
                "confidence": t.answer.confidence,
                "short_answer": t.answer.short_answer.as_dict() if t.answer.short_answer else None,
                "answer_sentence": t.answer.passages[0].answer_sentence if t.answer.passages else None,
                "passages": [
                    {
                        "rank": p.rank,
                        "answer_sentence": p.answer_sentence,
                        "text": p.hit.text,
                        "article_id": p.hit.article_id,
                        "citation": p.citation.label(),
                        "cited": asdict(p.citation),
                        "also_in": [c.label() for c in p.also_in],
                    }
                    for p in t.answer.passages
                ],
            }
            for t in conv.turns
        ],
    }


def to_json(conv: Conversation) -> str:
    return json.dumps(to_dict(conv), ensure_ascii=False, indent=2)


def to_markdown(conv: Conversation) -> str:
    lines = [f"# Conversation {conv.id}", "",
             f"Index: {_code(conv.index_key)}, started {conv.started_at}.", ""]
    if not conv.turns:
        lines += ["(no questions yet)", ""]
    for t in conv.turns:
        lines += [f"## {t.number}. {_md(t.question)}", ""]
        if t.reading.about:
            lines += [f"*Read as {_md(t.reading.about)}*", ""]
        if not t.answer.passages:
            lines += ["No passages found.", ""]
            continue
        top = t.answer.passages[0]
        if t.answer.short_answer:
            s = t.answer.short_answer
            lines += [f"**{_md(s.text)}** — [{s.passage_rank}]", ""]
        lines += [f"> {_md(top.answer_sentence)}", ""]
        for p in t.answer.passages:
            lines.append(f"{p.rank}. {_code(p.citation.label())}  ")
            lines.append(f"   {_md(p.answer_sentence)}")
            for c in p.also_in:
                lines.append(f"   - also in: {_code(c.label())}")
        lines.append("")
    return "\n".join(lines)
