"""One article, scrolled to the cited paragraph (highlighted); escape goes back to the chat."""
from __future__ import annotations

from typing import TYPE_CHECKING

from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Static

from index.safe_text import one_paragraph
from qa.citations import display_source
from tui import library
from tui.engine_worker import EngineWorker, Job
from tui.text import join, plural, safe, safe_line
from tui.widgets.answer_card import MUTED_STYLE, passage_body

if TYPE_CHECKING:
    from index.storage.base import StoredParagraph
    from qa.types import AnswerPassage


def _citation(p: StoredParagraph):
    from qa.citations import cite
    from qa.types import Hit

    hit = Hit(paragraph_id=p.id, article_id=p.article_id, title=p.title, source=p.source,
              paragraph=p.number, line=p.line, text=p.text, score=0.0)
    return cite(hit, p.metadata)


class ArticleParagraph(Static):
    def __init__(self, paragraph: StoredParagraph, target: bool, passage: AnswerPassage | None) -> None:
        label = safe(f"¶ {paragraph.number} · line {paragraph.line}", MUTED_STYLE)
        if target:
            rank = f" [{passage.rank}]" if passage is not None else ""
            label = join(label, (f"  ◆ cited passage{rank}", "bold $text-accent"))
        if target and passage is not None and passage.hit.text == paragraph.text:
            body = passage_body(paragraph.text, passage.sentence_start, passage.sentence_end)
        else:
            body = safe(paragraph.text)
        super().__init__(join(label, "\n", body), markup=False,
                         classes="paragraph -target" if target else "paragraph")
        self.paragraph = paragraph


class ArticleScreen(Screen):
    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("c", "copy_citation", "Cite"),
        Binding("y", "copy_paragraph", "Copy"),
        Binding("j", "scroll('down')", "Down", show=False),
        Binding("k", "scroll('up')", "Up", show=False),
        Binding("q", "back", "Back", show=False),
        Binding("question_mark", "app.help", "Help", show=False),
    ]

    def __init__(self, article_id: str, passage: AnswerPassage | None = None, *,
                 worker: EngineWorker) -> None:
        super().__init__()
        self.worker = worker
        self.article_id = article_id
        self.passage = passage
        self.target_number = passage.hit.paragraph if passage else None
        self.paragraphs: list[StoredParagraph] = []
        self.loaded = False

    def compose(self):
        yield Static(safe("Loading article…", MUTED_STYLE), markup=False, id="article-head")
        yield VerticalScroll(id="article-body")
        yield Footer(show_command_palette=False)

    def on_mount(self) -> None:
        article_id = self.article_id
        self.worker.submit(Job(run=lambda engine: library.article_paragraphs(engine, article_id),
                               done=self._show, failed=self._failed, kind="article"))

    @property
    def body(self) -> VerticalScroll:
        return self.query_one("#article-body", VerticalScroll)

    @property
    def target(self) -> ArticleParagraph | None:
        found = self.query(".-target")
        return found.first(ArticleParagraph) if found else None

    def _failed(self, error: BaseException) -> None:
        self.query_one("#article-head", Static).update(
            join(("Cannot read the article: ", "bold $text-error"), safe(str(error))))

    def _show(self, paragraphs: list[StoredParagraph]) -> None:
        if not self.is_attached:
            return
        self.paragraphs = paragraphs
        head = self.query_one("#article-head", Static)
        if not paragraphs:
            head.update(safe("This article is no longer in the index (re-synced since?).",
                             "bold $text-warning"))
            self.loaded = True
            return
        first = paragraphs[0]
        meta = [display_source(first.source), plural(len(paragraphs), "paragraph")]
        meta += [f"{k}: {v}" for k, v in sorted(first.metadata.items())]
        # Title, then source and metadata: two lines whatever the file's name or url holds.
        head.update(join(safe_line(first.title, "bold"), "\n",
                         safe_line(" · ".join(meta), MUTED_STYLE)))
        widgets = [ArticleParagraph(p, p.number == self.target_number, self.passage) for p in paragraphs]
        self.body.mount_all(widgets)
        self.call_after_refresh(self._scroll_to_target)

    def _scroll_to_target(self) -> None:
        target = self.target
        if target is not None:
            self.body.scroll_to_widget(target, animate=False, top=True)
        self.body.focus()
        self.loaded = True

    def action_back(self) -> None:
        self.app.pop_screen()

    def _copy_source(self) -> StoredParagraph | None:
        target = self.target
        if target is not None:
            return target.paragraph
        return self.paragraphs[0] if self.paragraphs else None

    # Copies hold no control character or line break from a file (see ChatScreen's): the
    # citation label is one inert line (Citation.label), the paragraph one inert paragraph.

    def action_copy_citation(self) -> None:
        if self.passage is not None:
            label = self.passage.citation.label()
        else:
            p = self._copy_source()
            if p is None:
                return
            label = _citation(p).label()
        self.app.copy_to_clipboard(label)
        self.app.notify(f"Copied citation: {label}", title="Copied", markup=False)

    def action_copy_paragraph(self) -> None:
        p = self._copy_source()
        if p is not None:
            self.app.copy_to_clipboard(one_paragraph(p.text))
            self.app.notify(f"Copied paragraph {p.number}", title="Copied", markup=False)

    def action_scroll(self, direction: str) -> None:
        if direction == "down":
            self.body.scroll_down(animate=False)
        else:
            self.body.scroll_up(animate=False)
