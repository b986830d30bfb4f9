"""The filters the queue and cases tabs share: every tab's dropdowns get the data's choices; 'all' filters nothing."""

from __future__ import annotations

import gradio as gr

from label_app.tabs.filters import ALL, Filters, day_value, filter_value


def test_every_tab_dropdown_gets_the_choices_of_the_data(service):
    filters = Filters(service)
    with gr.Blocks():
        filters.add()
        filters.add()
    updates = filters.refresh()
    assert len(updates) == len(filters.dropdowns) == 6
    assert updates[0].choices == updates[3].choices == [("All days", ALL), ("Day 3 (today)", "3"), ("Day 2", "2"),
                                                        ("Day 1", "1"), ("Day 0", "0")]
    assert updates[1].choices == [("All types", ALL), ("CASH_OUT", "CASH_OUT"), ("TRANSFER", "TRANSFER")]
    assert updates[5].choices == [("All versions", ALL), ("v1", "v1"), ("v2", "v2")]


def test_all_filters_nothing():
    assert (day_value(ALL), day_value(""), day_value("3")) == (None, None, 3)
    assert (filter_value(ALL), filter_value(None), filter_value("TRANSFER")) == (None, None, "TRANSFER")
