"""How one qa index is laid out in Milvus: which collections, with which fields and indexes.

An index named N is a root collection `N` plus one family of data collections:

    N              key/value rows: `state` (the manifest and which family is live, one row so
                   a rebuild switches both at once), generation, updated_at, next_pid, and a
                   journal row per running write
    N__<tag>_a     articles: id, title, source, metadata, content_hash, added_at, paragraphs,
                   batch (the commit id of the article's current paragraphs)
    N__<tag>_p     paragraphs, one row each: location, text, text hash, number of vectors,
                   and two BM25 fields (text, title) fed by Milvus BM25 functions
    N__<tag>_v     vectors, one row per view: id = paragraph id * 64 + view, as in FAISS
    N__<tag>_t     terms: each word and how many paragraphs hold it (text or title), for
                   FTS5's exact IDF and for vocabulary coverage (index.storage.milvus.lexical)

Since schema 6 the article, paragraph and vector rows also carry their article's
publication date (`published`, yyyymmdd as an integer, 0 when unknown) and outlet key
(`outlet`), and vector rows their `article_id`, so a search filtered by an ArticleFilter is
one scalar filter on the collection it searches (`filter_expression`). A family made before
has no such fields; it is searched as before, and refuses a filter (`filterable`).

Paragraphs and vectors are separate because BM25 statistics must count each paragraph once,
while a paragraph has several vectors (whole text and word windows). Milvus wants a vector
field in every collection, so the root and article collections carry a constant 2-d one.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from datetime import date

    from pymilvus import MilvusClient

    from index.storage.base import ArticleFilter

MAX_TEXT = 65535  # bytes in a Milvus VARCHAR
MAX_TERM = 512
DUMMY = [1.0, 0.0]
ANALYZER = {"tokenizer": "standard"}


@dataclass(frozen=True)
class Family:
    """The data collections of one build of an index."""

    root: str
    tag: str

    @property
    def articles(self) -> str:
        return f"{self.root}__{self.tag}_a"

    @property
    def paragraphs(self) -> str:
        return f"{self.root}__{self.tag}_p"

    @property
    def vectors(self) -> str:
        return f"{self.root}__{self.tag}_v"

    @property
    def terms(self) -> str:
        return f"{self.root}__{self.tag}_t"

    @property
    def tokens_key(self) -> str:
        """Root row holding the family's total length in words (FTS5's avgdl needs it)."""
        return f"tokens:{self.tag}"

    def names(self) -> tuple[str, str, str, str]:
        return self.articles, self.paragraphs, self.vectors, self.terms


def vector_index() -> tuple[str, dict]:
    """Index type for the dense vectors. FLAT (exact) by default, so results match the FAISS
    store; QA_MILVUS_INDEX=HNSW, IVF_FLAT or AUTOINDEX trades exactness for speed at scale."""
    kind = (os.environ.get("QA_MILVUS_INDEX") or "FLAT").upper()
    params = {"HNSW": {"M": 16, "efConstruction": 200}, "IVF_FLAT": {"nlist": 1024}}
    return kind, params.get(kind, {})


def create_root(client: MilvusClient, root: str) -> None:
    from pymilvus import DataType

    schema = client.create_schema(auto_id=False)
    schema.add_field("key", DataType.VARCHAR, is_primary=True, max_length=256)
    schema.add_field("value", DataType.VARCHAR, max_length=MAX_TEXT)
    schema.add_field("_v", DataType.FLOAT_VECTOR, dim=2)
    index = client.prepare_index_params()
    index.add_index(field_name="_v", index_type="FLAT", metric_type="L2")
    client.create_collection(root, schema=schema, index_params=index, consistency_level="Strong")


def create_family(client: MilvusClient, family: Family, dim: int) -> None:
    from pymilvus import DataType, Function, FunctionType

    a = client.create_schema(auto_id=False)
    a.add_field("id", DataType.VARCHAR, is_primary=True, max_length=4096)
    for name in ("title", "source", "metadata"):
        a.add_field(name, DataType.VARCHAR, max_length=MAX_TEXT)
    a.add_field("content_hash", DataType.VARCHAR, max_length=256)
    a.add_field("added_at", DataType.VARCHAR, max_length=64)
    a.add_field("paragraphs", DataType.INT64)
    a.add_field("batch", DataType.INT64)
    _provenance_fields(a, DataType)
    a.add_field("_v", DataType.FLOAT_VECTOR, dim=2)
    ai = client.prepare_index_params()
    ai.add_index(field_name="_v", index_type="FLAT", metric_type="L2")

    p = client.create_schema(auto_id=False)
    p.add_field("pid", DataType.INT64, is_primary=True)
    p.add_field("article_id", DataType.VARCHAR, max_length=4096)
    for name in ("batch", "number", "line", "start", "end", "views"):
        p.add_field(name, DataType.INT64)
    p.add_field("text", DataType.VARCHAR, max_length=MAX_TEXT)
    p.add_field("text_hash", DataType.VARCHAR, max_length=64)
    _provenance_fields(p, DataType)
    for name in ("lex_text", "lex_title"):
        p.add_field(name, DataType.VARCHAR, max_length=MAX_TEXT, enable_analyzer=True,
                    analyzer_params=ANALYZER)
    p.add_field("text_sparse", DataType.SPARSE_FLOAT_VECTOR)
    p.add_field("title_sparse", DataType.SPARSE_FLOAT_VECTOR)
    for source, target in (("lex_text", "text_sparse"), ("lex_title", "title_sparse")):
        p.add_function(Function(name=f"bm25_{source}", function_type=FunctionType.BM25,
                                input_field_names=[source], output_field_names=[target]))
    pi = client.prepare_index_params()
    for target in ("text_sparse", "title_sparse"):
        pi.add_index(field_name=target, index_type="SPARSE_INVERTED_INDEX", metric_type="BM25",
                     params={"bm25_k1": 1.2, "bm25_b": 0.75})
    pi.add_index(field_name="article_id", index_type="INVERTED")
    pi.add_index(field_name="text_hash", index_type="INVERTED")

    v = client.create_schema(auto_id=False)
    v.add_field("id", DataType.INT64, is_primary=True)
    v.add_field("pid", DataType.INT64)
    _provenance_fields(v, DataType, with_article_id=True)
    v.add_field("vector", DataType.FLOAT_VECTOR, dim=dim)
    kind, params = vector_index()
    vi = client.prepare_index_params()
    vi.add_index(field_name="vector", index_type=kind, metric_type="IP", params=params)

    t = client.create_schema(auto_id=False)
    t.add_field("term", DataType.VARCHAR, is_primary=True, max_length=MAX_TERM)
    t.add_field("df", DataType.INT64)
    t.add_field("_v", DataType.FLOAT_VECTOR, dim=2)
    ti = client.prepare_index_params()
    ti.add_index(field_name="_v", index_type="FLAT", metric_type="L2")

    for name, schema, index in ((family.articles, a, ai), (family.paragraphs, p, pi),
                                (family.vectors, v, vi), (family.terms, t, ti)):
        client.create_collection(name, schema=schema, index_params=index,
                                 consistency_level="Strong")


def _provenance_fields(schema, data_type, with_article_id: bool = False) -> None:
    """What a filter reads (schema 6); vector rows also need their article's id."""
    if with_article_id:
        schema.add_field("article_id", data_type.VARCHAR, max_length=4096)
    schema.add_field("published", data_type.INT64)
    schema.add_field("outlet", data_type.VARCHAR, max_length=MAX_TEXT)


def filterable(client: MilvusClient, family: Family) -> bool:
    """Whether the family's rows carry what a filter reads (made at schema 6 or later)."""
    info = client.describe_collection(family.vectors)
    return any(f["name"] == "published" for f in info["fields"])


def published_number(day: date | None) -> int:
    """A date as the `published` field holds it: yyyymmdd, 0 for none."""
    return 0 if day is None else day.year * 10_000 + day.month * 100 + day.day


def filter_expression(where: ArticleFilter, id_field: str = "article_id") -> str:
    """`where` as a Milvus boolean expression over the provenance fields; `id_field` names
    the article id (`id` in the articles collection). An undated article (0) passes no
    date bound."""
    parts = []
    if where.since is not None:
        parts.append(f"published >= {published_number(where.since)}")
    if where.until is not None:
        if where.since is None:
            parts.append("published > 0")
        parts.append(f"published <= {published_number(where.until)}")
    if where.outlets:
        parts.append(in_list("outlet", list(where.outlets)))
    if where.article_ids:
        parts.append(in_list(id_field, list(where.article_ids)))
    return " and ".join(parts)


def drop_family(client: MilvusClient, family: Family) -> None:
    for name in family.names():
        if client.has_collection(name):
            client.drop_collection(name)


def families(client: MilvusClient, root: str) -> set[str]:
    """Tags of every data family present under `root`, live or left over."""
    prefix = f"{root}__"
    return {name[len(prefix):].rsplit("_", 1)[0] for name in client.list_collections()
            if name.startswith(prefix) and name.rsplit("_", 1)[-1] in ("a", "p", "v", "t")}


def literal(value: str) -> str:
    """A string as a Milvus filter literal (Milvus Lite takes no filter templates).

    Milvus's expression grammar takes any character as itself inside double quotes except
    the quote, the backslash and the two line breaks, which are escaped; it knows no
    `\\xNN` or `\\uNNNN` escapes. Every other character, control characters (ESC, NUL) and
    characters beyond the BMP included, is passed as it is: an article id is whatever its
    file name was, and must be findable by it (tests/test_output_safety.py checks every
    code point against Milvus Lite).
    """
    escaped = (value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
               .replace("\r", "\\r"))
    return f'"{escaped}"'


def in_list(field: str, values: list) -> str:
    if values and isinstance(values[0], str):
        return f"{field} in [{', '.join(literal(v) for v in values)}]"
    return f"{field} in [{', '.join(str(int(v)) for v in values)}]"
