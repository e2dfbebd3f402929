"""Measure follow-up handling: conversations asked turn by turn, as a user would.

A conversation file is JSONL, one conversation a line: `{"id","lang","article","turns":
[{"question","standalone","answers","paragraph"}]}`, over an article pool read by the
product's own JSONL reader (so multi-paragraph articles are indexed exactly as `qa index
add` would). Each conversation is asked in three modes, because a follow-up rate means
little alone: `context` (the product: every turn read in the conversation so far),
`alone` (each question as if it were the first: the floor) and `standalone` (the
question rewritten by a person to stand alone: the ceiling).

A turn counts as a hit when the top passage is from the conversation's article and holds
one of the turn's answers: the passage the user sees first must answer.
"""
from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from index.errors import UserError
from qa import answer_scoring
from qa.evaluate import confident_share, pool_key

if TYPE_CHECKING:
    from index.storage.base import ArticleFilter
    from qa.engine import Engine

MODES = ("context", "alone", "standalone")


@dataclass(frozen=True)
class EvalTurn:
    question: str
    standalone: str
    answers: tuple[str, ...]


@dataclass(frozen=True)
class EvalConversation:
    id: str
    lang: str
    article: str
    turns: tuple[EvalTurn, ...]


def is_conversation_file(path: Path) -> bool:
    """Whether a JSONL file holds conversations (its first record has `turns`), so `qa eval`
    can take either kind of file without a flag."""
    try:
        with path.open(encoding="utf-8") as fh:
            for line in fh:
                if line.strip():
                    row = json.loads(line)
                    return isinstance(row, dict) and isinstance(row.get("turns"), list)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return False
    return False


def load_conversations(path: Path) -> list[EvalConversation]:
    out = []
    with path.open(encoding="utf-8") as fh:
        for number, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                turns = tuple(EvalTurn(t["question"], t.get("standalone") or t["question"],
                                       tuple(t.get("answers") or ())) for t in row["turns"])
                out.append(EvalConversation(str(row["id"]), row.get("lang", "?"),
                                            str(row["article"]), turns))
            except (json.JSONDecodeError, KeyError, TypeError) as exc:
                raise UserError(f"{path}:{number}: not a conversation ({exc.__class__.__name__}: "
                                f"{exc})") from None
    return out


def article_pool_index(pool: Path, embedder, progress=None):
    """An index of an article pool (JSONL, one article a line), built once per pool content,
    model and passage recipe under the cache dir, like `qa.evaluate.pool_index`."""
    from index.indexing.build import build_from_articles, manifest_for
    from index.indexing.sources import read_articles
    from index.storage.faiss.store import Store
    from qa import paths

    key = pool_key(pool, manifest_for(embedder).fingerprint)
    folder = paths.cache_dir() / "eval-indexes" / f"articles-{key}"
    if not (folder / "index.sqlite").exists():
        sources = read_articles([pool], progress=progress)
        if sources.errors:
            raise UserError(str(sources.errors[0]))
        build_from_articles(sources.articles, folder, embedder, progress)
    return Store.open(folder, expect=manifest_for(embedder)), folder


def answer_rank(article_ids: list[str], texts: list[str], article: str,
                answers: tuple[str, ...]) -> int | None:
    """1-based rank of the first passage from `article` holding one of `answers`."""
    for i, (aid, text) in enumerate(zip(article_ids, texts), start=1):
        if aid == article and any(a in text for a in answers):
            return i
    return None


def _rate(rows: list[dict]) -> dict:
    n = len(rows)
    return {"n": n, "hit@1": sum(r["rank"] == 1 for r in rows) / n if n else None,
            "hit@5": sum(r["rank"] is not None and r["rank"] <= 5 for r in rows) / n if n else None,
            # How far "No confident answer" holds for follow-ups, whose scores carry the
            # conversation's bonus.
            "confident_when_first": confident_share([r["confident"] for r in rows if r["rank"] == 1]),
            "confident_otherwise": confident_share([r["confident"] for r in rows if r["rank"] != 1]),
            "short_answer": answer_scoring.summary(
                [r["short_answer"]["text"] if r["short_answer"] else None for r in rows],
                [list(r["answers"]) for r in rows])}


def summarise(rows: list[dict]) -> dict:
    """Hit rates per mode, language and turn (and all turns), from the per-turn rows."""
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for r in rows:
        for lang in (r["lang"], "all"):
            for turn in (str(r["turn"]), "all"):
                groups[(r["mode"], lang, turn)].append(r)
    out: dict = {}
    for (mode, lang, turn), rs in sorted(groups.items()):
        out.setdefault(mode, {}).setdefault(lang, {})[turn] = _rate(rs)
    return out


def evaluate_conversations(conversations: list[EvalConversation], engine: Engine, k: int = 10,
                           modes: tuple[str, ...] = MODES, progress=None,
                           where: ArticleFilter | None = None) -> dict:
    """Ask every conversation turn by turn in each mode with the product's own paths: in
    context through a conversation store in memory (as `qa ask -c` and the chat do), alone
    and standalone through `qa.answer.answer`; `where` limits the articles searched."""
    from qa.answer import answer
    from qa.conversations import ConversationStore, ask_in_conversation

    rows = []
    total = len(conversations) * len(modes)
    done = 0
    with ConversationStore(":memory:") as store:
        for conv in conversations:
            for mode in modes:
                cid = store.start("eval").id if mode == "context" else None
                for number, turn in enumerate(conv.turns, start=1):
                    if mode == "context":
                        result = ask_in_conversation(engine, store, cid, turn.question, k=k,
                                                     where=where).answer
                    else:
                        text = turn.question if mode == "alone" else turn.standalone
                        result = answer(engine, text, k=k, where=where)
                    rows.append({
                        "id": conv.id, "turn": number, "lang": conv.lang, "mode": mode,
                        "rank": answer_rank([p.hit.article_id for p in result.passages],
                                            [p.hit.text for p in result.passages],
                                            conv.article, turn.answers),
                        "confident": result.confident, "confidence": result.confidence,
                        "short_answer": (result.short_answer.as_dict()
                                         if result.short_answer else None),
                        "answers": list(turn.answers),
                    })
                done += 1
                if progress:
                    progress("evaluate", done, total)
    return {"metrics": summarise(rows), "turns": rows}
