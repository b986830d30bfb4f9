"""Plain values: label names and words, numbers for people, frames as JSON records."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd

LABEL_NAMES = {0: "legit", 1: "fraud"}


def label_name(value: object) -> str:
    """'fraud', 'legit', or '' for an unknown label."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return ""
    return LABEL_NAMES.get(int(value), "")


def parse_label(value: object) -> int:
    """1 for fraud, 0 for legit, from 1/0, True/False or the words 'fraud'/'legit'; ValueError otherwise."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, (int, np.integer)) and int(value) in (0, 1):
        return int(value)
    if isinstance(value, float) and value in (0.0, 1.0):
        return int(value)
    text = str(value).strip().lower()
    words = {"fraud": 1, "1": 1, "true": 1, "legit": 0, "legitimate": 0, "genuine": 0, "0": 0, "false": 0}
    if text in words:
        return words[text]
    raise ValueError(f"label must be 'fraud' (1) or 'legit' (0), got {value!r}")


def is_number(value: object) -> bool:
    """Whether `value` is an int or float that is not NaN (booleans are not numbers here)."""
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool) \
        and not math.isnan(float(value))


def format_number(value: object) -> str:
    """A number for people: whole numbers without decimals, others with up to 2; 'missing' for NaN."""
    if not is_number(value):
        return "missing" if value is None or isinstance(value, float) else str(value)
    number = float(value)
    if number.is_integer():
        return f"{number:,.0f}"
    return f"{number:,.2f}".rstrip("0").rstrip(".")


def to_records(frame: pd.DataFrame) -> list[dict]:
    """A frame as JSON-ready records: NaN and NA become None, timestamps ISO strings."""
    return json.loads(frame.to_json(orient="records", date_format="iso", date_unit="ms"))
