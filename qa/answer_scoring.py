"""Scoring a short answer against readers' answers, as SQuAD scores it: exact match and
token F1 after lower-casing and dropping punctuation and English articles. Kept apart so
that `qa eval` and the benchmarks measure with one definition."""
from __future__ import annotations

import re
import string
from collections import Counter

_PUNCTUATION = set(string.punctuation)
_ARTICLES = re.compile(r"\b(a|an|the)\b")
RIGHT_F1 = 0.5  # a short answer counts as right from this token F1 on


def normalize(text: str) -> str:
    text = "".join(ch for ch in text.lower() if ch not in _PUNCTUATION)
    return " ".join(_ARTICLES.sub(" ", text).split())


def f1(prediction: str, gold: str) -> float:
    p, g = normalize(prediction).split(), normalize(gold).split()
    same = sum((Counter(p) & Counter(g)).values())
    if same == 0:
        return 0.0
    precision, recall = same / len(p), same / len(g)
    return 2 * precision * recall / (precision + recall)


def exact(prediction: str, gold: str) -> float:
    return float(normalize(prediction) == normalize(gold))


def best_f1(prediction: str, answers: list[str]) -> float:
    return max((f1(prediction, a) for a in answers), default=0.0)


def best_exact(prediction: str, answers: list[str]) -> float:
    return max((exact(prediction, a) for a in answers), default=0.0)


def summary(shown: list[str | None], answers: list[list[str]]) -> dict:
    """Coverage (share given a short answer), and among those shown: precision (token F1 >=
    RIGHT_F1), exact match and mean token F1. Only questions with readers' answers count."""
    pairs = [(s, a) for s, a in zip(shown, answers) if a]
    given = [(s, a) for s, a in pairs if s is not None]
    n = len(given)
    return {
        "n": len(pairs),
        "shown": n,
        "coverage": n / len(pairs) if pairs else None,
        "precision": sum(best_f1(s, a) >= RIGHT_F1 for s, a in given) / n if n else None,
        "exact_match": sum(best_exact(s, a) for s, a in given) / n if n else None,
        "f1": sum(best_f1(s, a) for s, a in given) / n if n else None,
    }
