"""Rows for fitting and measuring "no confident answer" (qa/confidence.py) on the real case: the
answer is simply not in the index.

Run:  python benchmarks/calibration_data.py [--data ../shared/data] [--n 200] [--offtopic 150]
                                            [--out /tmp/honest/calibration_rows.json]

For each dev set and language (TyDi, FacQA, xling-en, xling-id, XQuAD; a fixed random sample
of `--n` questions each), through the product's retrieval, fusion and answer-sentence choice:
- `full`: the question over its own pool (label 1 when the answering paragraph is ranked
  first: the case a user must see as an answer);
- `removed`: the same question with the answering paragraph removed (label 0). Removal is
  simulated on the question's candidate lists (dense top 100 and lexical top 100, exactly
  scored), dropping the gold paragraph, its near-duplicates (qa.duplicates' trigram
  similarity) and every candidate that contains an answer string as a whole word (the answer
  is then in no candidate); the rest are re-fused. Dense scores are unaffected by removal;
  BM25 would see slightly different IDF in a real index without those paragraphs, which this
  ignores;
- `offtopic`: `--offtopic` of the set's questions over another set's pool (label 0): pairs
  chosen so the two sets share no source (TyDi over xling, FacQA over XQuAD, xling over FacQA,
  XQuAD over FacQA; XQuAD and xling are both SQuAD, so never each other's). The other pool
  can still hold an answer (TyDi and xling are both Wikipedia: "Apa itu logaritma?"), so its
  candidates holding one of the question's answers as a whole word are removed first;
- `everyday`: benchmarks/everyday_questions.py over the bundled seed article and over the
  FacQA news pool (label 0).
Optionally (`--idk`) IDK-MRC over the TyDi pool (label: has an answer), the earlier signal.

Each row holds the product's `Signals` plus raw figures (coverage, shown scores, gold rank),
so benchmarks/honest_dev.py can refit without re-running retrieval. The output is a /tmp JSON
file, never committed.
"""
from __future__ import annotations

import argparse
import json
import random
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.devsets import SETS  # noqa: E402
from benchmarks.everyday_questions import EVERYDAY  # noqa: E402
from qa.evaluate import Question, load_questions, pool_index  # noqa: E402

OFFTOPIC_POOL = {"tydi": "xling", "facqa": "xquad", "xling": "facqa", "xquad": "facqa"}
SHOWN = 5  # `qa ask`'s default k


class CachedPassages:
    """The model's passage embeddings, looked up from one batch made in advance: the answer
    sentences of every row are embedded together (much faster than one call a row on a busy
    machine) and the product's own `choose_sentences` then reads them from here."""

    def __init__(self, embedder):
        self.embedder = embedder
        self.vectors: dict[str, object] = {}

    def fill(self, texts):
        todo = sorted({t for t in texts if t not in self.vectors})
        if todo:
            for t, v in zip(todo, self.embedder.embed_passages(todo)):
                self.vectors[t] = v

    def embed_passages(self, texts):
        import numpy as np

        self.fill(texts)
        return np.stack([self.vectors[t] for t in texts])


def sentence_texts(hit) -> list[str]:
    """What `choose_sentences` embeds for a hit (title, then each sentence), if anything."""
    from qa.sentences import sentence_spans

    spans = sentence_spans(hit.text)
    return [f"{hit.title}: {hit.text[a:b]}" for a, b in spans] if len(spans) > 1 else []


class Asker:
    """One pool's index and the product's retrieval pieces, with optional removal."""

    def __init__(self, store, embedder, cache: CachedPassages):
        from qa.engine import Engine

        self.store = store
        self.embedder = embedder  # token states for the alignment come from the model itself
        self.engine = Engine(store=store, embedder=cache, index_ref=Path("."))

    def candidates(self, question: str, qvec):
        from qa.retrieve import DEFAULT_FUSION, candidates, crossed_side, lexical_trust

        coverage = self.store.vocabulary_coverage(question)
        crossed = crossed_side(self.store, self.embedder, question, coverage,
                               DEFAULT_FUSION.candidates, DEFAULT_FUSION, None)
        if crossed is not None:  # bridged as the answer path bridges it (qa.bridge)
            _, fusion, lexical = crossed
        else:
            fusion = lexical_trust(self.store, question, DEFAULT_FUSION, coverage)
            lexical = self.store.search_lexical(question, fusion.candidates) if fusion.lexical_weight else []
        dense, lexical = candidates(self.store, qvec, question, fusion.candidates, fusion, lexical)
        return coverage, fusion, dense, lexical, None if crossed is None else crossed[0]

    def hits(self, question: str, cands, drop: set[int] = frozenset()):
        """The retrieved list `answer` would see (its depth for `qa ask`'s k), after removal,
        re-ranked as the answer path re-ranks it."""
        from qa import confidence, rerank
        from qa.retrieve import fuse
        from qa.types import Hit

        _, fusion, dense, lexical, _ = cands
        dense = {p: s for p, s in dense.items() if p not in drop}
        lexical = [(p, s) for p, s in lexical if p not in drop]
        ranked = fuse(dense, lexical, fusion)[:max(2 * SHOWN, confidence.DEPTH)]
        by_id = {r[0]: r for r in ranked}
        hits = [Hit(paragraph_id=p.id, article_id=p.article_id, title=p.title, source=p.source,
                    paragraph=p.number, line=p.line, text=p.text, score=by_id[p.id][1],
                    dense_score=by_id[p.id][2], lexical_score=by_id[p.id][3], metadata=dict(p.metadata))
                for p in self.store.paragraphs([r[0] for r in ranked])]
        return rerank.as_needed(self.store.manifest.model, cands[0], self.embedder, question, hits)

    def row(self, question: str, qvec, cands, hits, gold: str | None = None):
        from qa import alignment, confidence
        from qa.answer import choose_sentences
        from qa.duplicates import collapse

        shown = [g.hit for g in collapse(hits)[:SHOWN]]
        _, sentence_scores = choose_sentences(self.engine, qvec, question, shown[:1])
        aligned = hits[0].aligned
        if aligned is None:
            aligned = alignment.aligned(self.embedder, question, hits[0])
        out = confidence.signals(question, hits, sentence_scores[0], cands[0], aligned,
                                 crossing=cands[4]).as_dict()
        terms = confidence.lexical.query_terms(question)
        out.update(
            n_terms=len(terms),
            dense_top=hits[0].dense_score if hits[0].dense_score is not None else hits[0].score,
            margin=shown[0].score - (shown[1].score if len(shown) > 1 else shown[0].score),
            words_shown=(sum(any(confidence.mentions(t, confidence.paragraph_terms(h)) for h in shown)
                              for t in terms) / len(terms)) if terms else 0.5,
            scores=[round(h.score, 5) for h in hits],
            top_pid=hits[0].paragraph_id,  # to read new signals from the rows without asking again
        )
        if gold is not None:
            ids = [h.article_id for h in hits]
            out["gold_rank"] = ids.index(gold) + 1 if gold in ids else None
        return out


def removal(store, cands, q: Question, gold_text: str) -> set[int]:
    from qa.duplicates import THRESHOLD, shingles, similarity

    _, _, dense, lexical, _ = cands
    ids = set(dense) | {p for p, _ in lexical}
    gold_sh = shingles(gold_text)
    patterns = [re.compile(r"(?<!\w)" + re.escape(a.casefold()) + r"(?!\w)") for a in q.answers if a.strip()]
    drop = set()
    for p in store.paragraphs(sorted(ids)):
        text = p.text.casefold()
        if (p.article_id == q.gold or similarity(gold_sh, shingles(p.text)) >= THRESHOLD
                or any(pat.search(text) for pat in patterns)):
            drop.add(p.id)
    return drop


def sample(questions: list[Question], n: int, seed: str, set_name: str) -> list[Question]:
    """`n` questions per language, drawn by group, so xling's English and Indonesian rows are
    the same questions (and need the same paragraphs)."""
    groups = sorted({group_of(set_name, q) for q in questions})
    if len(groups) > n:
        groups = random.Random(seed).sample(groups, n)
    keep = set(groups)
    return [q for q in questions if group_of(set_name, q) in keep]


def cached(pool: Path, embedder) -> bool:
    """Whether the whole pool's index is already built (then it is used whole)."""
    from index.indexing.build import manifest_for
    from qa import paths
    from qa.evaluate import pool_key

    key = pool_key(pool, manifest_for(embedder).fingerprint)
    return (paths.cache_dir() / "eval-indexes" / key / "index.sqlite").exists()


def sub_pool(path: Path, gold: set[str], size: int, out_dir: Path) -> Path:
    """The pool cut to `size` paragraphs: every gold paragraph of the sampled questions plus
    random others (seeded), when the machine cannot embed the whole pool in time."""
    lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    if len(lines) <= size:
        return path
    pids = [json.loads(line)["pid"] for line in lines]
    keep = {i for i, pid in enumerate(pids) if pid in gold}
    others = [i for i in range(len(lines)) if i not in keep]
    keep |= set(random.Random(path.name).sample(others, max(0, size - len(keep))))
    out = out_dir / f"{path.stem}.{size}.jsonl"
    text = "\n".join(lines[i] for i in sorted(keep)) + "\n"
    if not out.exists() or out.read_text(encoding="utf-8") != text:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding="utf-8")
    return out


def group_of(set_name: str, q: Question) -> str:
    """Variants of one question (its English and Indonesian xling rows) share a group."""
    qid = re.sub(r"-(en|id)$", "", q.id)
    return f"{set_name}:{qid}"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    ap.add_argument("--n", type=int, default=200, help="questions per set and language")
    ap.add_argument("--offtopic", type=int, default=150)
    ap.add_argument("--pool-size", type=int, help="cut each pool whose index is not already "
                    "cached to the sampled questions' paragraphs plus random others, this many in "
                    "all (default: whole pools)")
    ap.add_argument("--sets", default=",".join(SETS))
    ap.add_argument("--idk", action="store_true")
    ap.add_argument("--refresh-words", action="store_true",
                    help="recompute the word evidence and the token alignment of the rows already "
                         "in --out (after a change to how words are matched), re-running retrieval "
                         "but no sentence embedding")
    ap.add_argument("--offtopic-only", action="store_true",
                    help="only the off-topic rows whose foreign pool is already built (to run "
                         "beside a collection that is still building pools)")
    ap.add_argument("--seed-index", type=Path, help="an index of the bundled seed (default: built under /tmp/honest)")
    ap.add_argument("--out", type=Path, default=Path("/tmp/honest/calibration_rows.json"))
    args = ap.parse_args()
    if not args.data.is_dir():
        print(f"no dev data at {args.data}; nothing to measure", file=sys.stderr)
        return
    from qa.engine import load_model

    embedder = load_model(None)
    rows = json.loads(args.out.read_text()) if args.out.exists() else []
    done = {(r["kind"], r["set"], r["lang"], r.get("pool")) for r in rows}

    def save():
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(rows))

    cache = CachedPassages(embedder)

    def ask_all(pool_name, store, items, kind, set_name, with_removal=False, label=None,
                pool_file=None):
        """items: (group, Question). Rows for `full` and `removed`, or for one `kind`."""
        asker = Asker(store, embedder, cache)
        gold_texts = {}
        if with_removal:
            with pool_file.open(encoding="utf-8") as fh:
                gold_texts = {r["pid"]: r["text"] for r in map(json.loads, filter(str.strip, fh))}
        started = time.time()
        qvecs = embedder.embed_queries([q.question for _, q in items])
        pending = []  # (base, hits, kind, label, extra)
        for (group, q), v in zip(items, qvecs):
            cands = asker.candidates(q.question, v)
            base = {"set": set_name, "lang": q.lang, "pool": pool_name, "group": group,
                    "id": q.id, "question": q.question}
            if with_removal:
                pending.append((base, q, v, cands, asker.hits(q.question, cands), "full", None, {}))
                drop = removal(store, cands, q, gold_texts.get(q.gold, ""))
                pending.append((base, q, v, cands, asker.hits(q.question, cands, drop), "removed", 0,
                                {"removed": len(drop)}))
            elif kind == "offtopic":
                # Another set's pool may still answer (Wikipedia over Wikipedia): its paragraphs
                # holding one of the question's answers are removed, as in `removed`.
                drop = removal(store, cands, q, "")
                pending.append((base, q, v, cands, asker.hits(q.question, cands, drop), kind, 0,
                                {"removed": len(drop)}))
            else:
                pending.append((base, q, v, cands, asker.hits(q.question, cands), kind,
                                label(q) if callable(label) else int(label or 0), {}))
        cache.fill([t for p in pending for t in sentence_texts(p[4][0])])
        for base, q, v, cands, hits, k, lab, extra in pending:
            r = asker.row(q.question, v, cands, hits, gold=q.gold if with_removal else None)
            if k == "full":
                lab = 1 if r["gold_rank"] == 1 else None
            rows.append({**base, **r, **extra, "kind": k, "label": lab})
        print(f"{kind:9} {set_name:6} over {pool_name:6}: {len(items)} questions "
              f"in {time.time() - started:.0f} s", flush=True)
        save()

    picked = {}
    for name in args.sets.split(","):
        questions = load_questions(args.data / SETS[name][0])
        picked[name] = sample(questions, args.n, name, name)
    pool_files = {}
    for name in SETS:
        path = args.data / SETS[name][1]
        gold = {q.gold for q in picked.get(name, [])}
        cut = args.pool_size and not cached(path, embedder)
        pool_files[name] = sub_pool(path, gold, args.pool_size, args.out.parent / "pools") if cut else path

    def pool(name):
        started = time.time()
        store = pool_index(pool_files[name], embedder)[0]
        print(f"pool {name}: {pool_files[name].name}, {store.counts()[1]} paragraphs "
              f"({time.time() - started:.0f} s to open or build)", flush=True)
        return store

    everyday = everyday_questions()
    if args.refresh_words:
        refresh_words(rows, args, embedder, pool_files, everyday_questions())
        save()
        return
    if args.offtopic_only:
        names = args.sets.split(",")
        for name in names:
            other = OFFTOPIC_POOL[name]
            if not cached(pool_files[other], embedder):
                continue
            questions = load_questions(args.data / SETS[name][0])
            for lang in sorted({q.lang for q in questions}):
                if ("offtopic", name, lang, other) in done:
                    continue
                qs = sample([q for q in questions if q.lang == lang], args.offtopic,
                            f"{name}-{lang}-off", name)
                store = pool(other)
                ask_all(other, store, [(group_of(name, q), q) for q in qs], "offtopic", name, label=0)
                store.close()
        if cached(pool_files["facqa"], embedder) and ("everyday", "everyday", "en", "facqa") not in done:
            store = pool("facqa")
            ask_all("facqa", store, everyday_questions(), "everyday", "everyday", label=0)
            store.close()
        return
    if ("everyday", "everyday", "en", "seed") not in done:
        store = open_seed(args.seed_index or Path("/tmp/honest/seed-index"), embedder)
        ask_all("seed", store, everyday, "everyday", "everyday", label=0)
        store.close()
    names = args.sets.split(",")
    for name in names:
        for lang in sorted({q.lang for q in picked[name]}):
            if ("full", name, lang, name) in done:
                continue
            store = pool(name)
            ask_all(name, store, [(group_of(name, q), q) for q in picked[name] if q.lang == lang],
                    "full", name, with_removal=True, pool_file=pool_files[name])
            store.close()
    # Off-topic after all own pools, each foreign pool opened once.
    for name in names:
        other = OFFTOPIC_POOL[name]
        if other not in names:
            continue
        questions = load_questions(args.data / SETS[name][0])
        for lang in sorted({q.lang for q in questions}):
            if ("offtopic", name, lang, other) in done:
                continue
            qs = sample([q for q in questions if q.lang == lang], args.offtopic, f"{name}-{lang}-off", name)
            store = pool(other)
            ask_all(other, store, [(group_of(name, q), q) for q in qs], "offtopic", name, label=0)
            store.close()
    if "facqa" in names and ("everyday", "everyday", "en", "facqa") not in done:
        store = pool("facqa")
        ask_all("facqa", store, everyday, "everyday", "everyday", label=0)
        store.close()
    if args.idk and "tydi" in names and ("idk", "idk", "id", "tydi") not in done:
        idk = load_questions(args.data / "idk_mrc_id_dev.jsonl")
        store = pool("tydi")
        ask_all("tydi", store, [(f"idk:{q.id}", q) for q in idk], "idk", "idk",
                label=lambda q: int(bool(q.answers)))
        store.close()
    print(f"{len(rows)} rows in {args.out}")


def everyday_questions() -> list[tuple[str, Question]]:
    return [(f"everyday:{lang}:{i}", Question(f"everyday-{lang}-{i}", text, lang, "", ()))
            for lang, texts in EVERYDAY.items() for i, text in enumerate(texts)]


def refresh_words(rows, args, embedder, pool_files, everyday) -> None:
    """Recompute `words`, `words_shown` and `aligned` of every row from its retrieved list,
    rebuilt the way it was made (removal included); the top score must come out as stored."""
    from qa import alignment, confidence
    from qa.duplicates import collapse

    questions = {q.id: q for name in SETS for q in load_questions(args.data / SETS[name][0])}
    questions.update({q.id: q for _, q in everyday})
    by_pool = {}
    for r in rows:
        by_pool.setdefault(r["pool"], []).append(r)
    for pool_name, rs in by_pool.items():
        if pool_name == "seed":
            store = open_seed(args.seed_index or Path("/tmp/honest/seed-index"), embedder)
            gold_texts = {}
        else:
            store = pool_index(pool_files[pool_name], embedder)[0]
            with pool_files[pool_name].open(encoding="utf-8") as fh:
                gold_texts = {r["pid"]: r["text"] for r in map(json.loads, filter(str.strip, fh))}
        asker = Asker(store, embedder, CachedPassages(embedder))
        unique = sorted({r["question"] for r in rs})
        vectors = dict(zip(unique, embedder.embed_queries(unique)))
        drift = 0
        for r in rs:
            q = questions[r["id"]]
            cands = asker.candidates(q.question, vectors[q.question])
            drop = (removal(store, cands, q, gold_texts.get(q.gold, "")) if r["kind"] in ("removed", "offtopic")
                    else set())
            hits = asker.hits(q.question, cands, drop)
            top = hits[0].score if hits[0].fused_score is None else hits[0].fused_score
            drift += abs(top - r["top"]) > 1e-3
            terms = confidence.lexical.query_terms(q.question)
            r["words"] = confidence.word_share(terms, hits[0])
            r["aligned"] = (hits[0].aligned if hits[0].aligned is not None
                            else alignment.aligned(embedder, q.question, hits[0]))
            shown = [g.hit for g in collapse(hits)[:SHOWN]]
            present = [confidence.paragraph_terms(h) for h in shown]
            r["words_shown"] = (sum(any(confidence.mentions(t, p) for p in present) for t in terms)
                                / len(terms)) if terms else 0.5
        store.close()
        print(f"words refreshed over {pool_name}: {len(rs)} rows, {drift} with a different top score",
              flush=True)


def open_seed(folder: Path, embedder):
    from index.indexing.build import build_index, manifest_for
    from index.storage.faiss.store import Store
    from qa import paths

    if not (folder / "index.sqlite").exists():
        build_index([paths.seeds_dir()], folder, embedder, None)
    return Store.open(folder, expect=manifest_for(embedder))


if __name__ == "__main__":
    main()
