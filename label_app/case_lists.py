"""Lists of cases by their known label (frauds, non-frauds, false positives, false negatives), paged."""

from __future__ import annotations

import math

import pandas as pd

from label_app.snapshot import Snapshot, filter_cases
from label_app.values import label_name

LIST_COLUMNS = ["transaction_id", "day", "type", "amount", "score", "threshold", "is_alert", "model_version", "label",
                "label_source", "labeled_by", "labeled_at", "source"]
LIST_KINDS = {
    "frauds": "transactions known to be fraud (alerted or missed)",
    "non_frauds": "transactions known to be legit",
    "false_positives": "alerts known to be legit",
    "false_negatives": "frauds the model did not alert",
    "false_cases": "false positives and false negatives",
}


def cases_of_kind(cases: pd.DataFrame, kind: str) -> pd.DataFrame:
    """The cases of one list (see LIST_KINDS) by their known label."""
    label, alerted = cases["label"], cases["is_alert"]
    masks = {
        "frauds": label == 1,
        "non_frauds": label == 0,
        "false_positives": alerted & (label == 0),
        "false_negatives": ~alerted & (label == 1),
        "false_cases": (alerted & (label == 0)) | (~alerted & (label == 1)),
    }
    if kind not in masks:
        raise ValueError(f"unknown list {kind!r}; choose one of {', '.join(LIST_KINDS)}")
    return cases[masks[kind]]


def list_cases(snapshot: Snapshot, kind: str, day: int | None = None, transaction_type: str | None = None,
               model_version: str | None = None, min_score: float | None = None, page: int = 1,
               page_size: int = 25) -> dict:
    """One page of a list, newest day first then highest score: {rows (DataFrame, LIST_COLUMNS), total, page, pages}."""
    if page_size < 1:
        raise ValueError(f"page_size must be at least 1, got {page_size}")
    chosen = filter_cases(cases_of_kind(snapshot.cases, kind), day, transaction_type, model_version, min_score)
    chosen = chosen.sort_values(["day", "score", "transaction_id"], ascending=[False, False, True], kind="stable")
    total = len(chosen)
    pages = max(1, math.ceil(total / page_size))
    page = min(max(1, int(page)), pages)
    rows = chosen.iloc[(page - 1) * page_size: page * page_size].assign(
        label=lambda frame: frame["label"].map(label_name))
    return {"rows": rows[LIST_COLUMNS].reset_index(drop=True), "total": total, "page": page, "pages": pages}
