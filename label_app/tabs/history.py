"""The Label history tab: label events newest first, of one transaction and/or one reviewer, a page at a time."""

from __future__ import annotations

import gradio as gr
import pandas as pd

from label_app.rendering import display_table
from label_app.review_service import ReviewService
from label_app.tabs import PRIVATE


class HistoryTab:
    """The tab's components and the handlers that fill its table, one page of events at a time (paged in SQL)."""

    def __init__(self, service: ReviewService):
        self.service = service
        with gr.Tab("Label history", id="history", elem_id="tab-history"):
            with gr.Row():
                self.transaction_id = gr.Textbox(label="Transaction id", max_lines=1)
                self.reviewer = gr.Textbox(label="Reviewer", max_lines=1)
                self.limit = gr.Dropdown([100, 500, 2000], value=100, label="Events a page")
                self.refresh = gr.Button("Refresh", scale=0, min_width=100)
            with gr.Row():
                self.newer = gr.Button("Newer", scale=0, min_width=100, elem_id="history-newer")
                self.page = gr.Number(value=1, minimum=1, precision=0, label="Page (1 = newest)", scale=0,
                                      min_width=140, elem_id="history-page")
                self.older = gr.Button("Older", scale=0, min_width=100, elem_id="history-older")
            self.table = gr.Dataframe(label="Label events, newest first", interactive=False, max_height=640)
        self.inputs = [self.transaction_id, self.reviewer, self.limit, self.page]

    def wire(self, demo: gr.Blocks) -> None:
        """Page 1 on load, on Enter in a filter and on a new page size; the page shown on Refresh or a typed page
        number; the next page on Older, the previous one on Newer."""
        outputs = [self.page, self.table]
        demo.load(self.first_page, self.inputs, outputs, **PRIVATE)
        for control in (self.transaction_id, self.reviewer):
            control.submit(self.first_page, self.inputs, outputs, **PRIVATE)
        self.limit.input(self.first_page, self.inputs, outputs, **PRIVATE)
        self.page.submit(self.show, self.inputs, self.table, **PRIVATE)
        self.refresh.click(self.show, self.inputs, self.table, **PRIVATE)
        self.older.click(self.older_page, self.inputs, outputs, **PRIVATE)
        self.newer.click(self.newer_page, self.inputs, outputs, **PRIVATE)

    def show(self, transaction_id, reviewer, limit, page=1) -> pd.DataFrame:
        """Page `page` (1 = the newest `limit` events) of the events that pass the filters; empty past the last."""
        return display_table(self.service.history_page(transaction_id, reviewer, int(limit), page_number(page)))

    def first_page(self, transaction_id, reviewer, limit, page=1) -> tuple[int, pd.DataFrame]:
        """Page 1 (the newest events) and its table."""
        return 1, self.show(transaction_id, reviewer, limit, 1)

    def older_page(self, transaction_id, reviewer, limit, page=1) -> tuple[int, pd.DataFrame]:
        """The next older page; the page stays when it was the last one (nothing older)."""
        current = page_number(page)
        older = self.service.history_page(transaction_id, reviewer, int(limit), current + 1)
        if not len(older):
            gr.Info("no older label events")
            return current, self.show(transaction_id, reviewer, limit, current)
        return current + 1, display_table(older)

    def newer_page(self, transaction_id, reviewer, limit, page=1) -> tuple[int, pd.DataFrame]:
        """The next newer page, down to page 1 (the newest)."""
        newer = max(1, page_number(page) - 1)
        return newer, self.show(transaction_id, reviewer, limit, newer)


def page_number(page) -> int:
    """A page number from the page box: a whole number of at least 1 (an empty box is page 1)."""
    try:
        return max(1, int(page or 1))
    except (TypeError, ValueError):
        raise gr.Error(f"a page number is a whole number from 1, got {page!r}", print_exception=False) from None
