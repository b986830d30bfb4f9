"""Plain values: label words, numbers for people, JSON records."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from label_app.values import format_number, label_name, parse_label, to_records


@pytest.mark.parametrize("given, expected", [("fraud", 1), ("Legit", 0), ("1", 1), (0, 0), (True, 1), (1.0, 1)])
def test_parse_label(given, expected):
    assert parse_label(given) == expected


@pytest.mark.parametrize("given", ["maybe", 2, "", None])
def test_parse_label_refuses_anything_else(given):
    with pytest.raises(ValueError, match="'fraud'"):
        parse_label(given)


def test_label_names_numbers_and_records():
    assert (label_name(1), label_name(0.0), label_name(None), label_name(math.nan)) == ("fraud", "legit", "", "")
    assert [format_number(value) for value in (181000.0, 2.5, 1234.567, math.nan, None, "C100")] == [
        "181,000", "2.5", "1,234.57", "missing", "missing", "C100"]
    assert to_records(pd.DataFrame({"score": [0.5, math.nan]})) == [{"score": 0.5}, {"score": None}]
