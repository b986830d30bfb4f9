"""The Review queue tab: one unlabeled alert at a time with its reasons, labeled Fraud or Legit (with a note) or
skipped, beside the queue as a table."""

from __future__ import annotations

from collections.abc import Callable

import gradio as gr

from label_app.case_detail import case_detail
from label_app.rendering import display_table, render_case, render_label_event, render_queue_status
from label_app.review_queue import left_today, next_alert, review_queue, today_alerts_and_budget
from label_app.review_service import ReviewService
from label_app.tabs import PRIVATE
from label_app.tabs.filters import Filters, day_value, filter_value

QUEUE_TABLE_ROWS = 25
QUEUE_TABLE_COLUMNS = ["transaction_id", "day", "type", "amount", "score", "model_version"]


class QueueTab:
    """The tab's components and the handlers of their events."""

    def __init__(self, service: ReviewService, filters: Filters):
        self.service = service
        self.filters = filters
        with gr.Tab("Review queue", id="queue", elem_id="tab-queue"):
            with gr.Row():
                self.day, self.transaction_type, self.model_version = filters.add()
                self.min_score = gr.Slider(0.0, 1.0, value=0.0, step=0.01, label="Minimum score")
                self.refresh = gr.Button("Refresh", scale=0, min_width=100)
            self.status = gr.Markdown()
            self.current_id = gr.State(None)
            self.skipped = gr.State([])
            with gr.Row():
                with gr.Column(scale=3):
                    self.detail = gr.Markdown()
                    self.note = gr.Textbox(label="Note (optional)", placeholder="what you checked, why", lines=2,
                                           elem_id="queue-note")
                    with gr.Row():
                        self.fraud = gr.Button("Fraud", elem_classes="fraud-button", elem_id="queue-fraud")
                        self.legit = gr.Button("Legit", elem_classes="legit-button", elem_id="queue-legit")
                        self.skip_button = gr.Button("Skip", variant="secondary", elem_id="queue-skip")
                    self.message = gr.Markdown()
                with gr.Column(scale=2):
                    self.table = gr.Dataframe(label="Queue (click a row to open it)", interactive=False,
                                              max_height=640, wrap=False)
        self.inputs = [self.day, self.transaction_type, self.model_version, self.min_score, self.skipped]
        self.outputs = [self.status, self.table, self.current_id, self.detail]

    def wire(self, demo: gr.Blocks) -> None:
        """Show the queue on load and on every filter change; open, label and skip alerts. Call it once every tab is
        built: Refresh also refreshes the other tabs' filters."""
        demo.load(self.show, self.inputs, self.outputs, **PRIVATE)
        for control in (self.day, self.transaction_type, self.model_version):
            control.input(self.show, self.inputs, self.outputs, **PRIVATE)
        self.min_score.release(self.show, self.inputs, self.outputs, **PRIVATE)
        self.refresh.click(self.filters.refresh, None, self.filters.dropdowns, **PRIVATE).then(
            self.show, self.inputs, self.outputs, **PRIVATE)
        self.table.select(self.open_selected, self.inputs, self.outputs, **PRIVATE)
        decision_inputs = [self.current_id, self.note, *self.inputs]
        decision_outputs = [self.message, self.note, *self.outputs]
        self.fraud.click(self.label_as(1), decision_inputs, decision_outputs, **PRIVATE)
        self.legit.click(self.label_as(0), decision_inputs, decision_outputs, **PRIVATE)
        self.skip_button.click(self.skip, [self.current_id, *self.inputs], [self.message, self.skipped, *self.outputs],
                               **PRIVATE)

    def show(self, day, transaction_type, model_version, min_score, skipped_ids, prefer=None) -> tuple:
        """(status, table, open transaction id, open case): `prefer` when it is queued, else the next alert."""
        snapshot = self.service.snapshot()
        waiting = review_queue(snapshot, day_value(day), filter_value(transaction_type), filter_value(model_version),
                               min_score)
        chosen = prefer if prefer in set(waiting["transaction_id"]) else next_alert(waiting, skipped_ids)
        status = render_queue_status(left_today(snapshot), len(waiting), snapshot.today,
                                     *today_alerts_and_budget(snapshot))
        table = display_table(waiting.head(QUEUE_TABLE_ROWS)[QUEUE_TABLE_COLUMNS])
        detail = case_detail(snapshot, chosen) if chosen else None
        return status, table, chosen, render_case(detail, snapshot.today)

    def label_as(self, label: int) -> Callable:
        """The handler of the Fraud (1) or Legit (0) button: record the label, then show the next alert."""
        def handler(transaction_id, note, day, transaction_type, model_version, min_score, skipped_ids,
                    request: gr.Request):
            message = "Nothing to label."
            if transaction_id:
                event = self.service.submit_label(transaction_id, str(label), note, request)
                message, note = render_label_event(event), ""
            return (message, note, *self.show(day, transaction_type, model_version, min_score, skipped_ids))
        return handler

    def skip(self, transaction_id, day, transaction_type, model_version, min_score, skipped_ids) -> tuple:
        """Pass over the open alert for this session; once every matching alert was skipped, start over."""
        skipped_ids = [*skipped_ids, transaction_id] if transaction_id else list(skipped_ids)
        waiting = review_queue(self.service.snapshot(), day_value(day), filter_value(transaction_type),
                               filter_value(model_version), min_score)
        if transaction_id and set(waiting["transaction_id"]) <= set(skipped_ids):
            skipped_ids = []
            message = "Every matching alert was skipped once; starting over."
        else:
            message = f"Skipped `{transaction_id}`." if transaction_id else "Nothing to skip."
        next_id = next_alert(waiting, skipped_ids)
        return (message, skipped_ids,
                *self.show(day, transaction_type, model_version, min_score, skipped_ids, prefer=next_id))

    def open_selected(self, day, transaction_type, model_version, min_score, skipped_ids, evt: gr.SelectData) -> tuple:
        """Open the alert of the clicked table row."""
        chosen = evt.row_value[0] if evt.row_value else None
        return self.show(day, transaction_type, model_version, min_score, skipped_ids, prefer=chosen)
