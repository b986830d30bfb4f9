"""What people see: tables rounded for reading, bar chart values, Markdown texts and the score figure."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import gradio as gr
import numpy as np
import pandas as pd

from label_app.case_lists import LIST_KINDS
from label_app.model_stats import score_histogram, score_matrix
from label_app.values import format_number, label_name

if TYPE_CHECKING:
    from matplotlib.figure import Figure

CASE_FIELDS = ["step", "event_ts", "nameOrig", "oldbalanceOrg", "newbalanceOrig", "nameDest", "oldbalanceDest",
               "newbalanceDest", "scored_at"]


def display_daily_stats(stats: pd.DataFrame) -> pd.DataFrame:
    """The dashboard's per-day table in words where a figure is undefined: "no alerts" on a day without alerts,
    "none labeled yet" while no alert of the day has a label, "not matured" for recall before the ground truth."""
    shown = display_table(stats)
    shown.loc[stats["labeled_alerts"] == 0, "precision"] = "none labeled yet"
    shown.loc[stats["n_alerts"] == 0, "precision"] = "no alerts"
    immature = ~stats["ground_truth_matured"].astype(bool)
    shown.loc[immature, ["recall", "f1"]] = "not matured"
    shown.loc[immature, "true_negatives"] = ""
    return shown


def display_table(frame: pd.DataFrame) -> pd.DataFrame:
    """A table for people: rounded numbers, blanks instead of NaN."""
    shown = frame.copy()
    for column, digits in (("score", 4), ("threshold", 4), ("amount", 2), ("precision", 3), ("recall", 3), ("f1", 3)):
        if column in shown.columns:
            shown[column] = pd.to_numeric(shown[column], errors="coerce").round(digits)
    return shown.astype(object).where(shown.notna(), "")


def bars_by_day(frame: pd.DataFrame) -> gr.BarPlot:
    """A bar chart value with one centred bar per day: days as categories, in day order."""
    days = sorted(frame["day"].unique())
    return gr.BarPlot(value=frame.assign(day=frame["day"].astype(str)), sort=[str(day) for day in days])


def render_case(detail: dict | None, today: int | None) -> str:
    """A case as Markdown: header, score against threshold, reasons, transaction fields, label status, history."""
    if detail is None:
        return "### Nothing to review\nNo alert matches the filters. Change the filters or refresh later."
    verdict = "alert" if detail["is_alert"] else "not alerted (a fraud the model missed)"
    lines = [
        f"### {detail.get('type') or '?'} of {format_number(detail.get('amount'))} on day {detail.get('day')}",
        f"Transaction `{detail['transaction_id']}` · source **{detail['source']}** · "
        f"model **{detail['model_version']}**",
        "",
        f"**Score {detail['score']:.4f}** against threshold {detail['threshold']:.4f}: {verdict}",
        "",
        "**Why the model alerted**" if detail["reason_text"] else "*No reasons recorded for this transaction.*",
    ]
    lines += [f"{number}. {reason}" for number, reason in enumerate(detail["reason_text"], start=1)]
    lines += ["", "| field | value |", "|---|---|"]
    for field in CASE_FIELDS:
        value = detail.get(field)
        lines.append(f"| {field} | {format_number(value) if isinstance(value, (int, float)) else (value or '')} |")
    if detail["analyst_label"] is not None:
        status = (f"labeled **{label_name(detail['analyst_label'])}** by {detail['labeled_by']} "
                  f"at {detail['labeled_at']}")
    else:
        status = "not labeled by an analyst yet"
    matures = detail.get("label_matures_on_day")
    if detail["ground_truth"] is not None:
        truth = f"ground truth: **{label_name(detail['ground_truth'])}** (known since day {int(matures)})"
    elif matures is not None:
        truth = f"ground truth: known from day {int(matures)} (today is day {today})"
    else:
        truth = "ground truth: none for online decisions"
    lines += ["", f"**Label:** {status}; {truth}."]
    if detail["history"]:
        lines += ["", "**History**"]
        for event in detail["history"]:
            previous = f" (was {event['previous_label']})" if event["previous_label"] else ""
            note = f": “{event['note']}”" if event["note"] else ""
            lines.append(f"- {event['labeled_at']} · {event['reviewer']} · **{event['label']}**{previous}{note}")
    return "\n".join(lines)


def render_queue_status(left_today: int, matching: int, today: int | None,
                        today_alerts: int = 0, today_budget: int | None = None) -> str:
    """The queue's header line: what is left of today's queue, today's alerts against the analysts' budget, and how
    many alerts match the filters."""
    if today is None:
        return "Nothing exported yet: run the pipeline to fill the queue."
    budget = ""
    if today_budget is not None:
        over = today_alerts - today_budget
        budget = (f"; {today_alerts} alerted, budget {today_budget}"
                  + (f": over by {over}" if over > 0 else ""))
    return (f"**{left_today}** alerts left in today's queue (day {today}{budget}) · "
            f"**{matching}** unlabeled alerts match the filters")


def render_label_event(event: dict) -> str:
    """The confirmation of a recorded label: the transaction, the label, the label it replaced and the reviewer."""
    previous = f" (was {label_name(event['previous_label'])})" if event["previous_label"] is not None else ""
    return f"Labeled `{event['transaction_id']}` **{label_name(event['label'])}**{previous} as {event['reviewer']}."


def render_list_page(listed: dict, kind: str) -> str:
    """Which page of a list is shown, of how many, and what the list holds."""
    return f"Page **{listed['page']}** of {listed['pages']} · {listed['total']} {LIST_KINDS[kind]}"


def render_overall(overall: dict, today: int | None) -> str:
    """The dashboard's summary: alerts, precision, recall over matured days and the confusion matrix."""
    if today is None:
        return "Nothing exported yet: run the pipeline first."

    def fmt(value: float, undefined: str) -> str:
        return undefined if value is None or math.isnan(value) else f"{value:.3f}"

    return (f"**Today is day {today}.** Over {overall['days']} days: {overall['alerts']} alerts, "
            f"{overall['unlabeled_alerts']} not labeled yet. Precision of labeled alerts "
            f"**{fmt(overall['precision'], 'no alerts' if overall['alerts'] == 0 else 'none labeled yet')}**; "
            f"recall over the {overall['matured_days']} days whose ground truth has matured "
            f"**{fmt(overall['recall_matured_days'], 'no fraud known yet')}**.\n\n"
            "| confusion matrix | labeled fraud | labeled legit |\n|---|---|---|\n"
            f"| **alerted** | {overall['true_positives']} (TP) | {overall['false_positives']} (FP) |\n"
            f"| **not alerted** | {overall['false_negatives']} (FN) | {overall['true_negatives']} (TN, matured days) |")


def score_figure(summary: pd.DataFrame, stats: pd.DataFrame, today: int | None) -> Figure:
    """Score distribution: a heat map of every day's score histogram (log colour) with the threshold, and today's
    histogram on a log scale."""
    from matplotlib.colors import LogNorm
    from matplotlib.figure import Figure

    figure = Figure(figsize=(12, 3.8), layout="constrained")
    heat, bars = figure.subplots(1, 2, width_ratios=[3, 2])
    days, matrix = score_matrix(summary)
    if days:
        image = heat.imshow(np.where(matrix > 0, matrix, np.nan), origin="lower", aspect="auto", cmap="viridis",
                            norm=LogNorm(vmin=1, vmax=max(1, int(matrix.max()))),
                            extent=(days[0] - 0.5, days[-1] + 0.5, 0.0, 1.0))
        figure.colorbar(image, ax=heat, label="transactions")
        heat.step(stats["day"], stats["threshold"], where="mid", color="red", linewidth=1.5, label="threshold")
        heat.legend(loc="upper left", fontsize=8)
    heat.set(title="Score distribution per day", xlabel="day", ylabel="score")
    histogram = score_histogram(summary, today)
    bars.bar(histogram["bin_from"], histogram["rows"].clip(lower=0), width=0.05, align="edge", color="#4c72b0")
    bars.set_yscale("symlog", linthresh=1)
    thresholds = stats.loc[stats["day"] == today, "threshold"] if today is not None else pd.Series(dtype=float)
    if len(thresholds) and not math.isnan(thresholds.iloc[0]):
        bars.axvline(thresholds.iloc[0], color="red", linewidth=1.5, label="threshold")
        bars.legend(fontsize=8)
    bars.set(title=f"Scores of day {today} (today)" if today is not None else "No scores yet",
             xlabel="score", ylabel="transactions (log)", xlim=(0, 1))
    return figure
