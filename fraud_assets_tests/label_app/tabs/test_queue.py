"""The Review queue tab's handlers: the open alert and the queue, Fraud / Legit, Skip, a clicked row."""

from __future__ import annotations

import gradio as gr
import pytest

from label_app.tabs.filters import ALL, Filters
from label_app.tabs.queue import QUEUE_TABLE_COLUMNS, QueueTab


@pytest.fixture
def tab(service) -> QueueTab:
    with gr.Blocks(), gr.Tabs():
        return QueueTab(service, Filters(service))


def test_the_queue_shows_the_top_alert_and_what_is_left_today(tab):
    status, table, chosen, detail = tab.show(ALL, ALL, ALL, 0.0, [])
    assert status == ("**3** alerts left in today's queue (day 3; 3 alerted, budget 3) · **4** unlabeled alerts "
                      "match the filters")
    assert table["transaction_id"].tolist() == ["d0", "d1", "c2", "d2"] and list(table.columns) == QUEUE_TABLE_COLUMNS
    assert chosen == "d0" and "**Why the model alerted**" in detail
    assert tab.show("2", ALL, ALL, 0.0, [])[2] == "c2"
    assert tab.show(ALL, ALL, ALL, 0.0, ["d0"])[2] == "d1"
    assert tab.show(ALL, ALL, ALL, 0.0, [], prefer="c2")[2] == "c2"


def test_the_queue_table_columns_stay_in_the_frame(snapshot):
    assert set(QUEUE_TABLE_COLUMNS) <= set(snapshot.cases.columns)


def test_fraud_labels_the_open_alert_and_opens_the_next(tab):
    alice = gr.Request(username="alice")
    message, note, status, _, chosen, _ = tab.label_as(1)("d0", "seen", ALL, ALL, ALL, 0.0, [], alice)
    assert (message, note, chosen) == ("Labeled `d0` **fraud** as alice.", "", "d1")
    assert status.startswith("**2** alerts left in today's queue")
    assert tab.label_as(0)(None, "kept", ALL, ALL, ALL, 0.0, [], alice)[:2] == ("Nothing to label.", "kept")


def test_skip_passes_over_alerts_then_starts_over(tab):
    message, skipped, _, _, chosen, _ = tab.skip("d0", "3", ALL, ALL, 0.0, [])
    assert (message, skipped, chosen) == ("Skipped `d0`.", ["d0"], "d1")
    message, skipped, _, _, chosen, _ = tab.skip("d2", "3", ALL, ALL, 0.0, ["d0", "d1"])
    assert (message, skipped, chosen) == ("Every matching alert was skipped once; starting over.", [], "d0")
    assert tab.skip(None, ALL, ALL, ALL, 0.0, [])[:2] == ("Nothing to skip.", [])


def test_a_clicked_row_opens_its_alert(tab):
    row = gr.SelectData(None, {"index": [1, 0], "value": "d1", "row_value": ["d1", 3]})
    assert tab.open_selected(ALL, ALL, ALL, 0.0, [], row)[2] == "d1"
