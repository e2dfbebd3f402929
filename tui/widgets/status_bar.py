"""One line at the top: index path, article and paragraph counts, model, the filter questions
are asked under (if any), and what is going on.

A build or re-sync shows its stage, done/total, a bar and, once a stage has run a few
seconds, the time left at the rate so far (the library reports progress, not time).
"""
from __future__ import annotations

import time
from pathlib import Path

from textual.containers import Horizontal
from textual.widgets import ProgressBar, Static

from tui.text import display_path, join, plural, safe

STAGES = {"read": "reading", "embed": "embedding", "save": "saving", "load": "loading",
          "model": "loading the model"}
ETA_AFTER = 3.0  # seconds into a stage before its rate is trusted for a time left
MIN_PATH = 12  # below this many cells the path is not shortened further (the line is cut instead)


class StatusBar(Horizontal):
    def __init__(self, index_ref: Path, **kwargs) -> None:
        super().__init__(**kwargs)
        self.index_ref = index_ref
        self.state = ""
        self._counts: tuple[int, int] | None = None
        self._model: str | None = None
        self._stage: tuple[str, int, float] | None = None  # name, done and time when it began
        self._filter = ""

    def compose(self):
        yield Static(self._info(), markup=False, id="status-info")
        yield ProgressBar(total=None, show_eta=False, show_percentage=False, id="status-progress")
        yield Static("", markup=False, id="status-state")

    def _info(self, width: int | None = None):
        tail = []
        if self._counts is not None:
            articles, paragraphs = self._counts
            tail += [(" · ", "$text-muted"),
                     safe(f"{plural(articles, 'article')}, {plural(paragraphs, 'paragraph')}")]
        if self._filter:
            tail += [(" · ", "$text-muted"), ("filter: ", "$text-warning"), safe(self._filter)]
        # The model is the first thing to go on a narrow terminal: the filter in force
        # changes every answer, the model name none the user can act on.
        model = [(" · ", "$text-muted"), safe(self._model)] if self._model else []
        if not width or len(join(*tail, *model).plain) + MIN_PATH <= width:
            tail += model
        # a folder as short as it opens from here; a Milvus index as its URI and collection
        path = display_path(self.index_ref) if isinstance(self.index_ref, Path) else str(self.index_ref)
        label = ("index ", "$text-muted")
        if width:
            tail_len = len(join(*tail).plain)
            if len("index ") + len(path) + tail_len > width:
                label = ""  # first drop the word "index", then shorten the path
                room = max(width - tail_len, MIN_PATH)
                if len(path) > room:  # keep the end of the path, the part that tells indexes apart
                    end = path[-(room - 1):]
                    cut = end.find("/", 0, len(end) - 1)
                    path = "…" + (end[cut:] if cut > 0 else end)
        return join(label, safe(path, "bold"), *tail)

    def _refresh_info(self) -> None:
        info = self.query_one("#status-info", Static)
        info.update(self._info(info.content_size.width or None))

    def on_resize(self) -> None:
        self.call_after_refresh(self._refresh_info)

    def set_info(self, articles: int, paragraphs: int, model: str) -> None:
        self._counts = (articles, paragraphs)
        self._model = model
        self._refresh_info()
        self.call_after_refresh(self._refresh_info)

    def set_filter(self, description: str) -> None:
        """The active filter in words (ArticleFilter.describe), "" for none."""
        self._filter = description
        self._refresh_info()
        self.call_after_refresh(self._refresh_info)

    @property
    def info_text(self) -> str:
        return self._info().plain

    def set_state(self, text: str, kind: str = "busy") -> None:
        """kind: busy, ready or error (a CSS class, coloured by the theme)."""
        self.state = text
        state = self.query_one("#status-state", Static)
        state.update(safe(text))
        for name in ("busy", "ready", "error"):
            state.set_class(name == kind, f"-{name}")
        if kind != "busy":
            self.hide_progress()
        self.call_after_refresh(self._refresh_info)

    def show_progress(self, stage: str, done: int, total: int, what: str) -> None:
        now = time.monotonic()
        if self._stage is None or self._stage[0] != stage or done < self._stage[1]:
            self._stage = (stage, done, now)
        _, first, began = self._stage
        label = STAGES.get(stage, stage)
        counted = "" if stage == "model" else f" {done}/{total}" if total else f" {done}"
        left = time_left(done - first, total - done, now - began) if total else ""
        self.set_state(f"{what}: {label}{counted}{f' · {left}' if left else ''}", "busy")
        bar = self.query_one("#status-progress", ProgressBar)
        bar.display = True
        bar.update(total=total if total and stage != "model" else None, progress=done)

    def hide_progress(self) -> None:
        self._stage = None
        self.query_one("#status-progress", ProgressBar).display = False


def time_left(done: int, remaining: int, elapsed: float) -> str:
    """`~40 s left` at the rate of the `done` items of `elapsed` seconds; empty until the
    rate means something."""
    if done <= 0 or remaining <= 0 or elapsed < ETA_AFTER:
        return ""
    seconds = remaining * elapsed / done
    if seconds < 60:
        return f"~{max(1, round(seconds))} s left"
    return f"~{round(seconds / 60)} min left"
