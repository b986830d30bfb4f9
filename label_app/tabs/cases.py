"""The Cases tab: frauds, non-frauds, false positives or false negatives by their known label, filtered and paged;
a clicked row opens its case to relabel it."""

from __future__ import annotations

from collections.abc import Callable

import gradio as gr

from label_app.case_detail import case_detail
from label_app.case_lists import list_cases
from label_app.rendering import display_table, render_case, render_label_event, render_list_page
from label_app.review_service import ReviewService
from label_app.tabs import PRIVATE
from label_app.tabs.filters import Filters, day_value, filter_value

LISTS = [("Frauds", "frauds"), ("Non-frauds", "non_frauds"), ("False positives", "false_positives"),
         ("False negatives", "false_negatives"), ("False cases (FP + FN)", "false_cases")]


class CasesTab:
    """The tab's components and the handlers of their events."""

    def __init__(self, service: ReviewService, filters: Filters):
        self.service = service
        with gr.Tab("Cases", id="lists", elem_id="tab-lists"):
            with gr.Row():
                kind = gr.Radio(LISTS, value="false_cases", label="List")
            with gr.Row():
                day, transaction_type, model_version = filters.add()
                page_size = gr.Dropdown([10, 25, 50, 100], value=25, label="Rows per page")
            with gr.Row():
                self.previous = gr.Button("◀ Previous", scale=0, min_width=120)
                self.page = gr.Number(value=1, precision=0, minimum=1, label="Page", scale=0, min_width=100)
                self.next = gr.Button("Next ▶", scale=0, min_width=120)
                info = gr.Markdown()
            self.table = gr.Dataframe(label="Cases (click a row to open it)", interactive=False, max_height=520)
            with gr.Accordion("Open case / relabel", open=True):
                self.transaction_id = gr.Textbox(label="Transaction id", max_lines=1)
                self.detail = gr.Markdown()
                self.note = gr.Textbox(label="Note (optional)", lines=1)
                with gr.Row():
                    self.fraud = gr.Button("Label fraud", elem_classes="fraud-button")
                    self.legit = gr.Button("Label legit", elem_classes="legit-button")
                self.message = gr.Markdown()
        self.controls = [kind, day, transaction_type, model_version, page_size]
        self.outputs = [self.table, self.page, info]

    def wire(self, demo: gr.Blocks) -> None:
        """Show the list on load, from page 1 when a control changes; page; open and relabel cases."""
        paged = [*self.controls, self.page]
        demo.load(self.show, paged, self.outputs, **PRIVATE)
        for control in self.controls:
            control.input(self.first_page, self.controls, self.outputs, **PRIVATE)
        self.page.submit(self.show, paged, self.outputs, **PRIVATE)
        self.previous.click(self.previous_page, paged, self.outputs, **PRIVATE)
        self.next.click(self.next_page, paged, self.outputs, **PRIVATE)
        self.table.select(selected_id, None, self.transaction_id, **PRIVATE).then(
            self.open_case, self.transaction_id, self.detail, **PRIVATE)
        self.transaction_id.submit(self.open_case, self.transaction_id, self.detail, **PRIVATE)
        relabel_inputs = [self.transaction_id, self.note, *paged]
        relabel_outputs = [self.message, self.note, self.detail, *self.outputs]
        self.fraud.click(self.relabel_as(1), relabel_inputs, relabel_outputs, **PRIVATE)
        self.legit.click(self.relabel_as(0), relabel_inputs, relabel_outputs, **PRIVATE)

    def show(self, kind, day, transaction_type, model_version, page_size, page) -> tuple:
        """(table, page number, page line) of one page of the chosen list."""
        listed = list_cases(self.service.snapshot(), kind, day_value(day), filter_value(transaction_type),
                            filter_value(model_version), None, int(page or 1), int(page_size))
        return display_table(listed["rows"]), listed["page"], render_list_page(listed, kind)

    def first_page(self, kind, day, transaction_type, model_version, page_size) -> tuple:
        return self.show(kind, day, transaction_type, model_version, page_size, 1)

    def previous_page(self, kind, day, transaction_type, model_version, page_size, page) -> tuple:
        return self.show(kind, day, transaction_type, model_version, page_size, max(1, int(page or 1) - 1))

    def next_page(self, kind, day, transaction_type, model_version, page_size, page) -> tuple:
        return self.show(kind, day, transaction_type, model_version, page_size, int(page or 1) + 1)

    def open_case(self, transaction_id: str) -> str:
        """The case as Markdown; a message when no case has this id; '' when no id is given."""
        snapshot = self.service.snapshot()
        detail = case_detail(snapshot, (transaction_id or "").strip()) if transaction_id else None
        if transaction_id and detail is None:
            return f"No case has transaction id `{transaction_id}`."
        return render_case(detail, snapshot.today) if detail else ""

    def relabel_as(self, label: int) -> Callable:
        """The handler of the Label fraud (1) or Label legit (0) button: record the label, show the case again."""
        def handler(transaction_id, note, kind, day, transaction_type, model_version, page_size, page,
                    request: gr.Request):
            event = self.service.submit_label((transaction_id or "").strip(), str(label), note, request)
            return (render_label_event(event), "", self.open_case(transaction_id),
                    *self.show(kind, day, transaction_type, model_version, page_size, page))
        return handler


def selected_id(evt: gr.SelectData) -> str:
    """The transaction id of the clicked table row."""
    return evt.row_value[0] if evt.row_value else ""
