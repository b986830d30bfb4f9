"""The Cases tab's handlers: a page of a list, paging, opening and relabeling a case."""

from __future__ import annotations

import gradio as gr
import pytest

from label_app.tabs.cases import CasesTab, selected_id
from label_app.tabs.filters import ALL, Filters


@pytest.fixture
def tab(service) -> CasesTab:
    with gr.Blocks(), gr.Tabs():
        return CasesTab(service, Filters(service))


def test_a_page_of_a_list_and_paging(tab):
    table, page, info = tab.show("frauds", ALL, ALL, ALL, 4, 1)
    assert (len(table), page, info) == (4, 1, "Page **1** of 2 · 6 transactions known to be fraud (alerted or missed)")
    assert tab.next_page("frauds", ALL, ALL, ALL, 4, 1)[1] == 2
    assert tab.next_page("frauds", ALL, ALL, ALL, 4, 2)[1] == 2  # past the end: the last page
    assert tab.previous_page("frauds", ALL, ALL, ALL, 4, None)[1] == 1
    assert tab.first_page("false_cases", "0", ALL, ALL, 25)[0]["transaction_id"].tolist() == ["a1", "m0"]


def test_open_and_relabel_a_case(tab):
    assert tab.open_case(" c1 ").startswith("### CASH_OUT of 1,000 on day 2")
    assert tab.open_case("nope") == "No case has transaction id `nope`."
    assert tab.open_case("") == ""
    relabel = tab.relabel_as(1)
    message, note, detail, table, page, _ = relabel(" a1 ", "chargeback", "false_cases", ALL, ALL, ALL, 25, 1,
                                                    gr.Request(username="bob"))
    assert (message, note, page) == ("Labeled `a1` **fraud** as bob.", "", 1)
    assert "labeled **fraud** by bob" in detail and table["transaction_id"].tolist() == ["c1", "m0"]


def test_a_clicked_row_gives_its_transaction_id():
    assert selected_id(gr.SelectData(None, {"index": [0, 1], "value": 2, "row_value": ["c1", 2]})) == "c1"
    assert selected_id(gr.SelectData(None, {"index": 0, "value": None})) == ""
