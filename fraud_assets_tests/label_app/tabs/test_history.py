"""The Label history tab's handler: the newest events of a transaction and/or a reviewer."""

from __future__ import annotations

import gradio as gr

from label_app.tabs.history import HistoryTab


def test_the_history_filters(service):
    with gr.Blocks(), gr.Tabs():
        tab = HistoryTab(service)
    assert tab.show("", "", 100)["transaction_id"].tolist() == ["c1", "c1", "c0", "b1"]
    assert tab.show(" c1 ", "bob", 100)["note"].tolist() == ["looked odd"]
    assert len(tab.show("", "", 2)) == 2
