"""The Label history tab: every label event, newest first, of one transaction and/or one reviewer."""

from __future__ import annotations

import gradio as gr
import pandas as pd

from label_app.label_history import label_history
from label_app.rendering import display_table
from label_app.review_service import ReviewService
from label_app.tabs import PRIVATE


class HistoryTab:
    """The tab's components and the handler that fills its table."""

    def __init__(self, service: ReviewService):
        self.service = service
        with gr.Tab("Label history", id="history", elem_id="tab-history"):
            with gr.Row():
                self.transaction_id = gr.Textbox(label="Transaction id", max_lines=1)
                self.reviewer = gr.Textbox(label="Reviewer", max_lines=1)
                self.limit = gr.Dropdown([100, 500, 2000], value=100, label="Newest events")
                self.refresh = gr.Button("Refresh", scale=0, min_width=100)
            self.table = gr.Dataframe(label="Label events, newest first", interactive=False, max_height=640)
        self.inputs = [self.transaction_id, self.reviewer, self.limit]

    def wire(self, demo: gr.Blocks) -> None:
        """Show the events on load, on Enter in a filter, on a new limit and on Refresh."""
        demo.load(self.show, self.inputs, self.table, **PRIVATE)
        for control in (self.transaction_id, self.reviewer):
            control.submit(self.show, self.inputs, self.table, **PRIVATE)
        self.limit.input(self.show, self.inputs, self.table, **PRIVATE)
        self.refresh.click(self.show, self.inputs, self.table, **PRIVATE)

    def show(self, transaction_id, reviewer, limit) -> pd.DataFrame:
        """The newest `limit` label events that pass the filters."""
        return display_table(label_history(self.service.snapshot(), transaction_id, reviewer, int(limit)))
