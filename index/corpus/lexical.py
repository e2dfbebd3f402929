"""Words as the lexical index sees them: case-folded, Indonesian affixes stripped.

"memanggil", "dipanggil" and "panggilannya" must meet as "panggil", or BM25 misses the
paragraph that answers a question phrased with another affix. Sastrawi's dictionary-backed
stemmer (Nazief-Adriani) only strips an affix when the stem is a known Indonesian word, so
English words and names pass through unchanged. Articles and questions go through the same
function; schema migration 3 re-tokenised existing indexes with it, so a change to
`index_text` needs a new migration, never a silent mismatch between index and queries.

Question words and function words are dropped from queries only: they occur in every
article and carry no evidence; the stored text keeps them (for phrases and the vocabulary).
"""
from __future__ import annotations

import re
from functools import lru_cache

_WORD = re.compile(r"\w+", re.UNICODE)

# Function and question words of both languages: the part of a question that no answer
# paragraph repeats. Kept short on purpose: content words such as "besar" (in "duta besar")
# or "hari" stay, unlike in Sastrawi's 800-word list, which cost recall on the dev sets.
QUERY_STOP_WORDS = frozenset("""
    apa apakah siapa siapakah kapan kapankah dimana di mana manakah bagaimana bagaimanakah
    berapa berapakah mengapa kenapa yang dan atau di ke dari pada untuk dengan oleh dalam
    ini itu tersebut adalah ialah merupakan ada akan telah sudah sedang juga saja pun nya
    se sebuah seorang para
    what which who whom whose when where why how is are was were be been being do does did
    the a an of in on at to for from by with as and or that this these those it its has have
    had will would can could should there their they he she his her
""".split())


@lru_cache(maxsize=1)
def _stemmer():
    from Sastrawi.Stemmer.StemmerFactory import StemmerFactory

    return StemmerFactory().create_stemmer()


@lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    """Stem of one case-folded word; digits, mixed tokens, short words and words with letters
    outside ASCII stay as they are. Indonesian is written in ASCII, and Sastrawi replaces every
    other letter by a space ("władysław" became "w adys aw"), which broke names with accents
    into junk words (found comparing the Milvus and FTS5 lexical sides on TyDi)."""
    if len(word) <= 3 or not (word.isascii() and word.isalpha()):
        return word
    return _stemmer().stem(word) or word


def words(text: str) -> list[str]:
    return _WORD.findall(text.casefold())


def index_text(text: str) -> str:
    """The text the FTS table stores for a paragraph or title."""
    return " ".join(stem(w) for w in words(text))


def query_terms(question: str, limit: int = 64) -> list[str]:
    """Distinct stemmed content words of a question, in order."""
    terms = [stem(w) for w in words(question) if w not in QUERY_STOP_WORDS]
    return list(dict.fromkeys(t for t in terms if t))[:limit]
