"""The options that name an index, declared once for every `qa` command, and their reading.

`qa` takes `--backend faiss|milvus` (env QA_BACKEND; default faiss). A FAISS + SQLite index is
a folder (`--index`, QA_INDEX); a Milvus one is a collection (`--collection`, QA_COLLECTION;
default qa_default) at `--uri` (QA_URI): a path ending in .db for Milvus Lite, or
http://host:19530 for a Milvus server or cluster. Typer reads the environment variables
(`envvar=`); their help texts name them already, so Typer does not list them again.

The storage modules are imported only when an index is resolved, so `qa --help` stays instant.
"""
from __future__ import annotations

from collections.abc import Collection
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from index.errors import UserError

if TYPE_CHECKING:
    from index.storage.base import IndexRef

BACKENDS = ("faiss", "milvus")
DEFAULT_COLLECTION = "qa_default"

IndexOpt = Annotated[
    Optional[Path],
    typer.Option("--index", envvar="QA_INDEX", metavar="DIR", show_envvar=False,
                 help="Index folder of the FAISS backend (default: $QA_INDEX or the "
                 "user data dir).", show_default=False),
]
BackendOpt = Annotated[
    Optional[str],
    typer.Option("--backend", envvar="QA_BACKEND", metavar="NAME", show_envvar=False,
                 help="Where the index lives: faiss (a local folder, the default) "
                 "or milvus (default: $QA_BACKEND).", show_default=False),
]
UriOpt = Annotated[
    Optional[str],
    typer.Option("--uri", envvar="QA_URI", metavar="URI", show_envvar=False,
                 help="Milvus backend: a Milvus Lite file (./news.db) or a server "
                 "(http://host:19530) (default: $QA_URI).", show_default=False),
]
CollectionOpt = Annotated[
    Optional[str],
    typer.Option("--collection", envvar="QA_COLLECTION", metavar="NAME", show_envvar=False,
                 help="Milvus backend: the index's collection name "
                 f"(default: $QA_COLLECTION or {DEFAULT_COLLECTION}).", show_default=False),
]
ModelOpt = Annotated[
    Optional[str],
    typer.Option("--model", envvar="QA_MODEL", metavar="MODEL", show_envvar=False,
                 help="sentence-transformers model name or folder "
                 "(default: $QA_MODEL, else the index's own model; new indexes: multilingual-e5-small).",
                 show_default=False),
]
# The index commands' machine-readable report.
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object on stdout.")]


def from_env(ctx: typer.Context) -> frozenset[str]:
    """The index options of the running command that took their value from the environment.

    An option typed on the command line is checked against the backend (`--uri` with the
    FAISS backend is a mistake); the same value left in the environment for another
    backend's sake is not, and an error names the variable rather than the option."""
    return frozenset(name for name in ("index", "uri", "collection")
                     if getattr(ctx.get_parameter_source(name), "name", None) == "ENVIRONMENT")


def backend_name(backend: str | None) -> str:
    """The backend the user chose (faiss when none), or a UserError naming the choices."""
    name = (backend or "faiss").strip().lower()
    if name not in BACKENDS:
        raise UserError(f"unknown backend {name!r}; choose one of: {', '.join(BACKENDS)}")
    return name


def resolve(index: Path | None = None, backend: str | None = None, uri: str | None = None,
            collection: str | None = None,
            env: Collection[str] = frozenset()) -> tuple[IndexRef, bool]:
    """The index the user named, and whether it is the default FAISS folder (the only one
    built on demand from the bundled articles). The arguments are the options' values as
    Typer read them, environment included; `env` names those that came from the environment
    (see `from_env`)."""
    from index.storage import folder_path
    from index.storage.base import MilvusRef

    name = backend_name(backend)
    if name == "faiss":
        if (uri and "uri" not in env) or (collection and "collection" not in env):
            raise UserError("--uri and --collection name a Milvus index; add --backend milvus")
        if index is not None:
            return folder_path(index, "QA_INDEX" if "index" in env else "--index"), False
        from qa import paths

        return folder_path(paths.default_index_dir(), "--index"), True
    if index is not None and "index" not in env:
        raise UserError("--index names a FAISS folder; a Milvus index is named with "
                        "--uri and --collection")
    if not uri:
        raise UserError("--backend milvus needs --uri: a Milvus Lite file (./news.db) or a "
                        "server (http://host:19530); or set QA_URI")
    return MilvusRef.parse(uri, collection or DEFAULT_COLLECTION), False
