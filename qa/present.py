"""How an Answer looks in a terminal and in JSON; no retrieval decisions are made here."""
from __future__ import annotations

import json
from typing import TYPE_CHECKING

from index.safe_text import inert, one_line
from qa.types import Answer

if TYPE_CHECKING:
    from rich.console import Console


def to_json(answer: Answer) -> str:
    return json.dumps(
        {
            "question": answer.question,
            "confident": answer.confident,
            "confidence": None if answer.confidence is None else round(answer.confidence, 4),
            "no_answer_reason": answer.no_answer_reason,
            "short_answer": answer.short_answer.as_dict() if answer.short_answer else None,
            "bridged": {w: list(t) for w, t in answer.bridged.items()} or None,
            "hits": [
                {
                    "rank": p.rank,
                    "score": round(p.hit.score, 4),
                    "text": p.hit.text,
                    "answer_sentence": p.answer_sentence,
                    "article_id": p.hit.article_id,
                    "title": p.hit.title,
                    "source": p.citation.source,
                    "paragraph": p.hit.paragraph,
                    "line": p.hit.line,
                    "citation": p.citation.label(),
                    "also_in": [c.label() for c in p.also_in],
                }
                for p in answer.passages
            ],
        },
        ensure_ascii=False,
        indent=2,
    )


def no_answer_why(answer: Answer) -> str:
    """What follows "No confident answer": the confidence and the reason, e.g.
    "(confidence 0.02): nothing in the index mentions Prancis". The reason names the
    question's own words, so it is made one inert line like any text from outside."""
    why = one_line(answer.no_answer_reason or "nothing in the index seems to answer this")
    return f"(confidence {answer.confidence:.2f}): {why}" if answer.confidence is not None else f": {why}"


def short_answer_line(answer: Answer) -> str | None:
    """"Korea Selatan — [1]": the short answer and the passage it was taken from. Article
    text: make it inert before showing it."""
    s = answer.short_answer
    return None if s is None else f"{' '.join(s.text.split())} — [{s.passage_rank}]"


def print_answer(answer: Answer, console: Console) -> None:
    """Numbered citation, score, then the paragraph with its answer sentence highlighted.

    Without colour (a pipe, NO_COLOR) the sentence is wrapped in `**` so it still stands out,
    and each passage is two lines: its citation, then its text with any line break in it
    (a Markdown code block keeps them) shown as `\\n`, so no text from a file can start a
    line that reads as a hit of its own. On a terminal the paragraph keeps its lines, each
    indented under its citation.
    """
    from rich.padding import Padding
    from rich.text import Text

    if not answer.passages:
        console.print(Text("No passages found. Is the index empty? Try: qa index status"))
        return
    plain = console.no_color or not console.is_terminal
    if answer.confident is False:
        note = Text()
        note.append("No confident answer", style="bold yellow")
        note.append(f" {no_answer_why(answer)}. The closest passages:")
        console.print(note, soft_wrap=plain)
        console.print()
    line = short_answer_line(answer)
    if line is not None:
        console.print(Text(inert(line), style="bold green"), soft_wrap=plain)
        console.print()
    for p in answer.passages:
        head = Text()
        head.append(f"[{p.rank}] ", style="bold cyan")
        head.append(p.citation.label(), style="bold")  # one inert line (Citation.label)
        head.append(f"  score {p.hit.score:.3f}", style="dim")
        body = Text()
        text = p.hit.text
        a, b = p.sentence_start, p.sentence_end
        shown = one_line if plain else inert
        body.append(shown(text[:a]))
        if plain:
            body.append("**" + shown(text[a:b]) + "**")
        else:
            body.append(shown(text[a:b]), style="bold yellow")
        body.append(shown(text[b:]))
        if plain:  # a pipe or a file: one line per passage, no wrapping or padding
            console.print(head, soft_wrap=True)
            console.print(Text("    ") + body, soft_wrap=True)
        else:
            console.print(head)
            console.print(Padding(body, (0, 0, 0, 4), expand=False))
        if p.also_in:
            also = Text("    also in: ", style="dim")
            also.append("; ".join(c.label() for c in p.also_in), style="dim")
            console.print(also, soft_wrap=plain)
        console.print()
