"""One case as plain values: its transaction fields, score, threshold, reasons in words, known label and history."""

from __future__ import annotations

import json

import pandas as pd

from label_app.label_history import label_history
from label_app.snapshot import Snapshot
from label_app.values import format_number, is_number, label_name, to_records


def case_row(snapshot: Snapshot, transaction_id: str) -> pd.Series | None:
    """The case's row of `snapshot.cases`; None when no case has this transaction id."""
    match = snapshot.cases[snapshot.cases["transaction_id"] == str(transaction_id)]
    return match.iloc[0] if len(match) else None


def describe_reasons(reasons_json: str) -> list[str]:
    """The reasons JSON of an alert as sentences, strongest first; [] when there are none."""
    if not reasons_json or not reasons_json.strip():
        return []
    try:
        reasons = json.loads(reasons_json)
    except ValueError:
        return [f"(reasons not readable: {reasons_json[:80]!r})"]
    lines = []
    for reason in reasons if isinstance(reasons, list) else []:
        feature = str(reason.get("feature", "?"))
        description = str(reason.get("description") or feature).rstrip(".")
        contribution = reason.get("contribution")
        push = f", {contribution:+.2f} log-odds" if is_number(contribution) else ""
        lines.append(f"{description} ({feature} = {format_number(reason.get('value'))}{push})")
    return lines


def case_detail(snapshot: Snapshot, transaction_id: str) -> dict | None:
    """One case as plain values: transaction fields, score, threshold, reasons, known label and its history."""
    row = case_row(snapshot, transaction_id)
    if row is None:
        return None
    detail = to_records(row.drop(labels=["reasons"]).to_frame().T)[0]
    detail["reasons"] = _parse_reasons(row["reasons"])
    detail["reason_text"] = describe_reasons(row["reasons"])
    detail["label_name"] = label_name(row["label"])
    detail["history"] = to_records(label_history(snapshot, transaction_id=str(transaction_id)))
    return detail


def _parse_reasons(reasons_json: str) -> list[dict]:
    try:
        parsed = json.loads(reasons_json) if reasons_json.strip() else []
    except ValueError:
        return []
    return parsed if isinstance(parsed, list) else []
