"""Choose and check how follow-up questions are read in context (qa.followup).

Asks the dev conversations (../shared/data/conv_dev.jsonl over conv_pool_articles.jsonl)
turn by turn under several reading configurations and prints, per language and turn, the
share of turns whose top passage is from the conversation's article and holds an answer;
beside them the floor (each question alone) and the ceiling (the person-written standalone
rewrite). Then a topic-change check the dev set lacks: after each conversation, the first
question of another conversation (a self-contained question on another article) is asked
in context; it must retrieve exactly as it does alone.

Retrieval only (the answer sentence is chosen for the top passage alone, since the next
turn's context needs it): the same ranking `qa eval` measures, without its cost. Query
embeddings are cached across configurations.

    python benchmarks/conversation_dev.py            # the default configuration
    python benchmarks/conversation_dev.py --sweep    # the grid the default was chosen on
"""
from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DATA = ROOT.parent / "shared" / "data"


class CachedEmbedder:
    """The query model with a per-text cache, so a sweep embeds every text once."""

    def __init__(self, inner) -> None:
        self.inner, self.name = inner, inner.name
        self.q: dict[str, object] = {}
        self.p: dict[str, object] = {}

    def _cached(self, cache, fn, texts):
        todo = [t for t in dict.fromkeys(texts) if t not in cache]
        if todo:
            for t, v in zip(todo, fn(todo)):
                cache[t] = v
        import numpy as np

        return np.stack([cache[t] for t in texts])

    def embed_queries(self, texts):
        return self._cached(self.q, self.inner.embed_queries, list(texts))

    def embed_passages(self, texts, **_):
        return self._cached(self.p, self.inner.embed_passages, list(texts))


def ask(engine, question: str, turns: list, config, k: int):
    """One turn in context, as qa.followup reads it; returns (reading, hits, new turn)."""
    from qa.answer import choose_sentences
    from qa.followup import context_of, read_in_context
    from qa.citations import cite
    from qa.types import Answer, AnswerPassage, Turn

    reading, query = read_in_context(engine.store, engine.embedder, question,
                                     context_of(turns), k, config=config)
    passages = []
    if query.hits:
        top = query.hits[0]
        spans, _ = choose_sentences(engine, query.vector, question, [top])
        a, b = spans[0]
        passages = [AnswerPassage(rank=1, hit=top, answer_sentence=top.text[a:b], sentence_start=a,
                                  sentence_end=b, citation=cite(top))]
    turn = Turn(conversation_id=0, number=len(turns) + 1, question=question, reading=reading,
                answer=Answer(question=question, passages=passages))
    return reading, query.hits, turn


def run_context(engine, convs, config, k):
    from qa.conversation_eval import answer_rank

    rows, histories = [], {}
    for conv in convs:
        turns = []
        for n, t in enumerate(conv.turns, start=1):
            reading, hits, turn = ask(engine, t.question, turns, config, k)
            turns.append(turn)
            rows.append({"id": conv.id, "turn": n, "lang": conv.lang, "mode": "context",
                         "read": reading.mode,
                         "rank": answer_rank([h.article_id for h in hits], [h.text for h in hits],
                                             conv.article, t.answers)})
        histories[conv.id] = turns
    return rows, histories


def run_plain(engine, convs, k):
    from qa.conversation_eval import answer_rank
    from qa.retrieve import search

    rows = []
    for conv in convs:
        for n, t in enumerate(conv.turns, start=1):
            for mode, text in (("alone", t.question), ("standalone", t.standalone)):
                hits = search(engine.store, engine.embedder, text, k).hits
                rows.append({"id": conv.id, "turn": n, "lang": conv.lang, "mode": mode,
                             "rank": answer_rank([h.article_id for h in hits],
                                                 [h.text for h in hits], conv.article, t.answers)})
    return rows


def shift_check(engine, convs, histories, config, k):
    """After conversation i, conversation j's first question (j: the next conversation in
    the same language, and the next in the other): same hits as alone?"""
    from qa.retrieve import search

    same = changed = 0
    lost = []
    for i, conv in enumerate(convs):
        others = [c for c in convs[i + 1:] + convs[:i] if c.article != conv.article]
        picks = [next(c for c in others if c.lang == conv.lang),
                 next(c for c in others if c.lang != conv.lang)]
        for other in picks:
            q = other.turns[0].question
            alone = [h.paragraph_id for h in search(engine.store, engine.embedder, q, k).hits]
            reading, hits, _ = ask(engine, q, histories[conv.id], config, k)
            if [h.paragraph_id for h in hits] == alone:
                same += 1
            else:
                changed += 1
                if hits and alone and hits[0].paragraph_id != alone[0]:
                    lost.append(f"{conv.id} -> {other.id} ({reading.mode})")
    return same, changed, lost


def table(rows, label):
    from qa.conversation_eval import summarise

    m = summarise(rows)
    lines = []
    for mode, by_lang in m.items():
        for lang in ("en", "id", "all"):
            if lang in by_lang:
                cells = "  ".join(f"t{t}={by_lang[lang][t]['hit@1']:.2f}" for t in ("1", "2", "3", "all")
                                  if t in by_lang[lang])
                lines.append(f"{label:34} {mode:10} {lang:3}  {cells}")
    return "\n".join(lines), m


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sweep", action="store_true")
    parser.add_argument("-k", type=int, default=10)
    args = parser.parse_args()
    if not (DATA / "conv_dev.jsonl").exists():
        sys.exit(f"no dev data at {DATA}")

    from qa.conversation_eval import article_pool_index, load_conversations
    from qa.engine import Engine, load_model
    from qa.followup import DEFAULT_FOLLOWUP

    convs = load_conversations(DATA / "conv_dev.jsonl")
    store, folder = article_pool_index(DATA / "conv_pool_articles.jsonl", load_model(None))
    engine = Engine(store=store, embedder=CachedEmbedder(load_model(None)), index_ref=folder)
    text, base = table(run_plain(engine, convs, args.k), "plain")
    print(text)
    configs = [("default", DEFAULT_FOLLOWUP)]
    if args.sweep:
        d = DEFAULT_FOLLOWUP
        configs += [(f"shift_margin={m}", replace(d, shift_margin=m)) for m in (0.05, 0.08, 1.0)]
        configs += [("context_weight=0.1", replace(d, context_weight=0.1)),
                    ("article_boost=0.05", replace(d, article_boost=0.05)),
                    ("lexical context", replace(d, lexical_context=True)),
                    ("shown_penalty=0", replace(d, shown_penalty=0.0))]
    for label, config in configs:
        rows, histories = run_context(engine, convs, config, args.k)
        text, _ = table(rows, label)
        print(text)
        shifts = sum(r["read"] == "new topic" for r in rows if r["turn"] > 1)
        same, changed, lost = shift_check(engine, convs, histories, config, args.k)
        print(f"{label:34} follow-ups read as new topic: {shifts}/60; topic change: {same} of "
              f"{same + changed} retrieve as alone; top hit changed: {lost or 'none'}")
        sys.stdout.flush()
    engine.close()


if __name__ == "__main__":
    main()
