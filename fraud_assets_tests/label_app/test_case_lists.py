"""Lists of cases by their known label, filtered and paged."""

from __future__ import annotations

import pytest

from label_app.case_lists import LIST_COLUMNS, list_cases


def test_lists_by_known_label(snapshot):
    def ids(kind, **filters):
        return sorted(list_cases(snapshot, kind, page_size=100, **filters)["rows"]["transaction_id"])

    assert ids("frauds") == ["a0", "a2", "b0", "b1", "c0", "m0"]
    assert ids("non_frauds") == ["a1", "c1"]
    assert ids("false_positives") == ["a1", "c1"]
    assert ids("false_negatives") == ["m0"]
    assert ids("false_cases") == ["a1", "c1", "m0"]
    assert ids("frauds", day=0) == ["a0", "a2", "m0"]
    assert ids("frauds", model_version="v2") == ["c0"]
    with pytest.raises(ValueError, match="unknown list"):
        list_cases(snapshot, "maybe")


def test_lists_page(snapshot):
    first = list_cases(snapshot, "frauds", page=1, page_size=4)
    last = list_cases(snapshot, "frauds", page=9, page_size=4)  # past the end: the last page
    assert (first["total"], first["pages"], len(first["rows"])) == (6, 2, 4)
    assert (last["page"], len(last["rows"])) == (2, 2)
    assert set(first["rows"]["transaction_id"]).isdisjoint(last["rows"]["transaction_id"])
    assert first["rows"]["label"].eq("fraud").all() and list(first["rows"].columns) == LIST_COLUMNS


def test_the_list_columns_stay_in_the_frame(snapshot):
    assert set(LIST_COLUMNS) <= set(snapshot.cases.columns)
