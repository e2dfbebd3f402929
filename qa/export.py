"""A conversation as a transcript: Markdown to read or share, JSON to process.

Both carry every turn's question, how it was read, the answer sentence shown first and the
full citation of every passage shown, so a reader can check each answer at its source.
Article text is untrusted: control characters are made visible (a transcript is often
`cat` to a terminal), and in Markdown the text of questions and sentences is escaped so an
article cannot inject links, images or headings into the document.
"""
from __future__ import annotations

import json
import re
from dataclasses import asdict

from index.safe_text import inert
from qa.types import Conversation

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>()#+!|~])")


def _md(text: str) -> str:
    """Inline Markdown text that shows as written (no markup, one line)."""
    return _MD_SPECIAL.sub(r"\\\1", inert(" ".join(text.split())))


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
             f"Index: `{inert(conv.index_key).replace('`', '')}`, started {conv.started_at}.", ""]
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
            lines.append(f"{p.rank}. {_md(p.citation.label())}  ")
            lines.append(f"   {_md(p.answer_sentence)}")
            for c in p.also_in:
                lines.append(f"   - also in: {_md(c.label())}")
        lines.append("")
    return "\n".join(lines)
