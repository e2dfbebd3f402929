"""Dev-set sweep of the lexical side: tokenisation (Indonesian stemming, stop words) and how
much the fused ranking trusts it.

Run:  python benchmarks/lexical_dev.py [--sets tydi,facqa,xling,xquad] [--out FILE]

Each pool's cached index (the real pipeline, see qa.evaluate.pool_index) supplies the stored
paragraphs and their vectors. Every tokenisation variant gets its own in-memory FTS5 table
over the same paragraphs, so variants differ only in tokenisation; dense scores are the
index's exact view scores. Prints R@1 / MRR@10 per set and language, lexical-only and fused.
"""
from __future__ import annotations

import argparse
import json
import re
import sqlite3
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from index.corpus import lexical  # noqa: E402
from qa.evaluate import load_questions, metrics, pool_index  # noqa: E402

from benchmarks.devsets import SETS  # noqa: E402
N = 100


def _raw_words(text: str) -> list[str]:
    return re.findall(r"\w+", text.casefold())


def _sastrawi_stop():
    from Sastrawi.StopWordRemover.StopWordRemoverFactory import StopWordRemoverFactory

    return frozenset(StopWordRemoverFactory().get_stop_words())


def tokenisations():
    """name -> (index text function, query terms function)."""
    big = _sastrawi_stop()
    small = lexical.QUERY_STOP_WORDS

    def raw_text(t):
        return " ".join(_raw_words(t))

    def q(stem, stop):
        def terms(question):
            out = [lexical.stem(w) if stem else w for w in _raw_words(question) if w not in stop]
            return list(dict.fromkeys(out))
        return terms

    return {
        "raw": (raw_text, q(False, frozenset())),
        "raw+stop": (raw_text, q(False, small)),
        "stem": (lexical.index_text, q(True, frozenset())),
        "stem+stop": (lexical.index_text, lexical.query_terms),
        "stem+bigstop": (lexical.index_text, q(True, big)),
    }


class Fts:
    """An in-memory FTS5 table of the pool under one tokenisation."""

    def __init__(self, rows, index_text):
        self.db = sqlite3.connect(":memory:")
        self.db.execute("CREATE VIRTUAL TABLE f USING fts5(text, title, tokenize='unicode61 remove_diacritics 2')")
        self.db.execute("CREATE VIRTUAL TABLE v USING fts5vocab(f, 'row')")
        self.db.executemany("INSERT INTO f(rowid, text, title) VALUES (?, ?, ?)",
                            [(pid, index_text(text), index_text(title)) for pid, text, title in rows])

    def search(self, terms, k=N):
        if not terms:
            return []
        match = " OR ".join(f'"{t}"' for t in terms)
        return [(int(r), -float(s)) for r, s in self.db.execute(
            "SELECT rowid, bm25(f, 1.0, 0.5) s FROM f WHERE f MATCH ? ORDER BY s LIMIT ?", (match, k))]

    def coverage(self, terms):
        if not terms:
            return 0.0
        marks = ",".join("?" * len(terms))
        found = self.db.execute(f"SELECT count(*) FROM v WHERE term IN ({marks})", terms).fetchone()[0]
        return found / len(terms)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    ap.add_argument("--sets", default="tydi,facqa,xling")
    ap.add_argument("--out", type=Path)
    ap.add_argument("--toks", help="comma-separated tokenisations to run (default: all)")
    ap.add_argument("--weights", default="0.03,0.05,0.08,0.12")
    ap.add_argument("--powers", default="1,2")
    args = ap.parse_args()
    if not args.data.is_dir():
        print(f"no dev data at {args.data}; nothing to measure", file=sys.stderr)
        return
    from qa.engine import load_model
    from qa.retrieve import Fusion, dense_score, fuse

    embedder = load_model(None)
    toks = tokenisations()
    if args.toks:
        toks = {t: toks[t] for t in args.toks.split(",")}
    weights = [float(w) for w in args.weights.split(",")]
    powers = [float(p) for p in args.powers.split(",")]
    results: dict = {}
    for name in args.sets.split(","):
        qfile, pfile = SETS[name]
        questions = load_questions(args.data / qfile)
        store, _ = pool_index(args.data / pfile, embedder)
        rows = store._conn().execute(
            "SELECT p.id, p.text, a.title FROM paragraphs p JOIN articles a ON a.id = p.article_id").fetchall()
        pid_of = {pid: aid for pid, aid in store._conn().execute("SELECT id, article_id FROM paragraphs")}
        ftss = {t: Fts(rows, f) for t, (f, _) in toks.items()}
        qvecs = embedder.embed_queries([q.question for q in questions])
        per_q = []
        for q, v in zip(questions, qvecs):
            lex, cov = {}, {}
            for t, (_, qf) in toks.items():
                terms = qf(q.question)
                lex[t] = ftss[t].search(terms)
                cov[t] = ftss[t].coverage(terms)
            ids = [pid for pid, _ in store.search_dense(v, N)]
            ids += [pid for lst in lex.values() for pid, _ in lst]
            per_q.append((q, store.view_scores(v, list(dict.fromkeys(ids))), lex, cov))

        def run(label, fn):
            ranked = {q.id: [pid_of[p] for p in fn(views, lex, cov)][:10] for q, views, lex, cov in per_q}
            m = metrics(ranked, questions)
            results.setdefault(name, {})[label] = m
            print(f"{name:6} {label:34} " + " ".join(
                f"{lang}: R@1 {v['R@1']:.3f} MRR {v['MRR@10']:.3f}" for lang, v in m.items() if lang != "all"),
                flush=True)

        def fused(t, w, power):
            def fn(views, lex, cov):
                weight = w * cov[t] ** power if t else 0.0
                f = Fusion(lexical_weight=weight)
                dense = {p: dense_score(a, b, f) for p, (a, b) in views.items()}
                return [r[0] for r in fuse(dense, lex[t] if t else [], f)]
            return fn

        run("dense", fused(None, 0.0, 1))
        for t in toks:
            run(f"lexical {t}", lambda views, lex, cov, t=t: [p for p, _ in lex[t]])
        for t in toks:
            for w in weights:
                for power in powers:
                    run(f"fused {t} w{w} cov^{power}", fused(t, w, power))
        store.close()
    if args.out:
        args.out.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
