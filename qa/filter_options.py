"""The options that limit what a question searches, declared once for `qa ask`, `qa chat` and
`qa eval` (the pattern of qa.index_options), and their reading into an ArticleFilter
(qa.filtering, which the chat's /filter command shares)."""
from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Optional

import typer

if TYPE_CHECKING:
    from index.storage.base import ArticleFilter

SinceOpt = Annotated[
    Optional[str],
    typer.Option("--since", metavar="DATE", show_default=False,
                 help="Only articles published on or after DATE (YYYY-MM-DD; YYYY-MM or YYYY "
                 "from its first day). Articles without a known date are left out."),
]
UntilOpt = Annotated[
    Optional[str],
    typer.Option("--until", metavar="DATE", show_default=False,
                 help="Only articles published on or before DATE (YYYY-MM-DD; YYYY-MM or "
                 "YYYY to its last day). Articles without a known date are left out."),
]
SourceOpt = Annotated[
    Optional[list[str]],
    typer.Option("--source", metavar="OUTLET", show_default=False,
                 help="Only articles from OUTLET (repeat for several); Kompas, kompas.com and "
                 "KOMPAS.com are the same outlet."),
]
ArticleOpt = Annotated[
    Optional[list[str]],
    typer.Option("--article", metavar="ID", show_default=False,
                 help="Only the article with this id (repeat for several; see qa index list)."),
]


def article_filter(since: str | None, until: str | None, source: list[str] | None,
                   article: list[str] | None) -> ArticleFilter | None:
    """The options' values as a filter, None when none was given; a one-line UserError for
    a bad date."""
    from qa.filtering import make_filter

    return make_filter(since, until, source or (), article or ())
