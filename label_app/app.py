"""The label app: a Gradio 6 Blocks UI where analysts review alerts, and named API endpoints for other systems.

    python -m label_app [--host 127.0.0.1] [--port 7860]

It reads only the Parquet exports, the label store and the decision log (never the DuckDB warehouse), and writes
only label events, each carrying the reviewer of the login session. See label_app/README.md.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import os
import sys
from pathlib import Path

import gradio as gr
import numpy as np
import pandas as pd
from matplotlib.colors import LogNorm
from matplotlib.figure import Figure

from fraud_assets.core.review_export import SCORE_BIN_EDGES
from fraud_assets.core.label_store import append_label_event
from fraud_assets.core.settings import Settings
from label_app import data
from label_app.auth import load_users, make_authenticator, users_or_demo

ALL = "all"
CONCURRENT_EVENTS = 16  # events the server runs at once (Gradio's default is 1, which would serialize reviewers)
QUEUE_TABLE_ROWS = 25
QUEUE_TABLE_COLUMNS = ["transaction_id", "day", "type", "amount", "score", "model_version"]
CSS = """
.fraud-button { background: #dc2626 !important; border-color: #b91c1c !important; color: white !important; }
.legit-button { background: #16a34a !important; border-color: #15803d !important; color: white !important; }
"""
API_ENDPOINTS = ["queue", "case", "submit_label", "history", "daily_stats", "list_cases"]


# ---------------------------------------------------------------------------------------------------------------
# Settings
# ---------------------------------------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class LabelAppSettings:
    """The label app's configuration; `from_env()` reads it (data paths come from fraud_assets.core.settings)."""

    exports_dir: Path
    label_store_path: Path
    decision_log_path: Path
    host: str = "127.0.0.1"
    port: int = 7860
    users: str = ""
    users_file: str = ""

    @classmethod
    def from_env(cls) -> "LabelAppSettings":
        system = Settings.from_env()
        port_text = os.environ.get("FRAUD_LABEL_APP_PORT", "").strip() or "7860"
        if not port_text.isdigit() or not 0 < int(port_text) < 65536:
            raise ValueError(f"FRAUD_LABEL_APP_PORT={port_text!r} is not a TCP port (1-65535); unset it to use 7860")
        return cls(
            exports_dir=system.exports_dir,
            label_store_path=system.label_store_path,
            decision_log_path=system.decision_log_path,
            host=os.environ.get("FRAUD_LABEL_APP_HOST", "").strip() or "127.0.0.1",
            port=int(port_text),
            users=os.environ.get("FRAUD_LABEL_APP_USERS", ""),
            users_file=os.environ.get("FRAUD_LABEL_APP_USERS_FILE", "").strip(),
        )


# ---------------------------------------------------------------------------------------------------------------
# The API: plain inputs, plain outputs; the reviewer comes from the login session only
# ---------------------------------------------------------------------------------------------------------------
class LabelService:
    """What both the UI and the named API endpoints do, over one set of stores."""

    def __init__(self, settings: LabelAppSettings):
        self.settings = settings

    def snapshot(self) -> data.Snapshot:
        return data.load_snapshot(self.settings.exports_dir, self.settings.label_store_path,
                                  self.settings.decision_log_path)

    def queue(self, day: int | None = None, transaction_type: str = "", model_version: str = "",
              min_score: float = 0.0, limit: int = 50) -> dict:
        """Alerts no analyst has labeled yet, highest score first, filtered by day, transaction type, model version
        and minimum score (None or '' for any). Returns {today, left_today, matching, alerts: [up to `limit` alerts
        with their transaction fields, score, threshold, model_version, source and reasons]}."""
        snapshot = self.snapshot()
        waiting = data.review_queue(snapshot, day, transaction_type or None, model_version or None, min_score)
        shown = waiting.head(max(0, int(limit))).drop(columns=["reasons"])
        alerts = data.to_records(shown)
        for alert, reasons in zip(alerts, waiting["reasons"].head(len(alerts))):
            alert["reasons"] = data.describe_reasons(reasons)
        return {"today": snapshot.today, "left_today": data.left_today(snapshot), "matching": len(waiting),
                "alerts": alerts}

    def case(self, transaction_id: str) -> dict:
        """One transaction: its fields, score, threshold, model version, reasons (raw and as sentences), known label
        (analyst label, or ground truth once matured) and its label history."""
        detail = data.case_detail(self.snapshot(), transaction_id)
        if detail is None:
            raise gr.Error(f"no exported or online alert has transaction_id {transaction_id!r}", print_exception=False)
        return detail

    def submit_label(self, transaction_id: str, label: str, note: str = "", request: gr.Request = None) -> dict:
        """Record a label ('fraud' or 'legit', also 1 or 0) for a transaction, by the logged-in user, with an optional
        note. Relabeling adds an event; nothing is overwritten. Returns the event: {event_id, transaction_id, label,
        previous_label, reviewer, note, labeled_at}."""
        reviewer = getattr(request, "username", None)
        if not reviewer:
            raise gr.Error("labels need a logged-in reviewer; log in first", print_exception=False)
        try:
            value = data.parse_label(label)
        except ValueError as error:
            raise gr.Error(str(error), print_exception=False) from None
        transaction_id = str(transaction_id).strip()
        if not data.is_case(self.settings.exports_dir, self.settings.decision_log_path, transaction_id):
            raise gr.Error(f"no exported or online alert has transaction_id {transaction_id!r}; nothing recorded",
                           print_exception=False)
        return append_label_event(self.settings.label_store_path, transaction_id, value, reviewer, (note or "").strip())

    def history(self, transaction_id: str = "", reviewer: str = "", limit: int = 100) -> list[dict]:
        """Label events newest first: {event_id, labeled_at, reviewer, transaction_id, label, previous_label, note,
        day, type, amount, score}, optionally of one transaction and/or one reviewer."""
        return data.to_records(data.label_history(self.snapshot(), transaction_id, reviewer, limit or None))

    def daily_stats(self) -> dict:
        """Per day: model version, threshold, rows, alerts, the confusion matrix against the labels known so far,
        precision, recall and F1 (recall and F1 once the day's ground truth matured). Returns {today, days, overall,
        model_versions, score_histograms: [{day, model_version, bins: [20 counts]}]}."""
        snapshot = self.snapshot()
        stats = data.daily_stats(snapshot)
        bins = [f"score_bin_{index:02d}" for index in range(len(SCORE_BIN_EDGES) - 1)]
        histograms = [{"day": int(row["day"]), "model_version": str(row["model_version"]),
                       "bins": [int(row[column]) for column in bins]} for _, row in snapshot.summary.iterrows()]
        return {"today": snapshot.today, "days": data.to_records(stats),
                "overall": data.to_records(pd.DataFrame([data.overall_stats(stats)]))[0],
                "model_versions": data.to_records(data.model_timeline(snapshot.summary)),
                "score_bin_edges": [float(edge) for edge in SCORE_BIN_EDGES], "score_histograms": histograms}

    def list_cases(self, kind: str = "false_cases", day: int | None = None, transaction_type: str = "",
                   model_version: str = "", min_score: float = 0.0, page: int = 1, page_size: int = 25) -> dict:
        """One page of a list of labeled cases. kind: frauds, non_frauds, false_positives, false_negatives or
        false_cases. Returns {kind, total, page, pages, page_size, rows}."""
        try:
            listed = data.list_cases(self.snapshot(), kind, day, transaction_type or None, model_version or None,
                                     min_score, page, page_size)
        except ValueError as error:
            raise gr.Error(str(error), print_exception=False) from None
        return {"kind": kind, "total": listed["total"], "page": listed["page"], "pages": listed["pages"],
                "page_size": page_size, "rows": data.to_records(listed["rows"])}


# ---------------------------------------------------------------------------------------------------------------
# Rendering for people
# ---------------------------------------------------------------------------------------------------------------
def _filter_value(value: str | None) -> str | None:
    return None if value in (None, "", ALL) else str(value)


def _day_value(value: str | int | None) -> int | None:
    return None if value in (None, "", ALL) else int(value)


def _display(frame: pd.DataFrame) -> pd.DataFrame:
    """A table for people: rounded numbers, blanks instead of NaN."""
    shown = frame.copy()
    for column, digits in (("score", 4), ("threshold", 4), ("amount", 2), ("precision", 3), ("recall", 3), ("f1", 3)):
        if column in shown.columns:
            shown[column] = pd.to_numeric(shown[column], errors="coerce").round(digits)
    return shown.astype(object).where(shown.notna(), "")


def _bars_by_day(frame: pd.DataFrame) -> gr.BarPlot:
    """A bar chart value with one centred bar per day: days as categories, in day order."""
    days = sorted(frame["day"].unique())
    return gr.BarPlot(value=frame.assign(day=frame["day"].astype(str)), sort=[str(day) for day in days])


def render_case(detail: dict | None, today: int | None) -> str:
    """A case as Markdown: header, score against threshold, reasons, transaction fields, label status, history."""
    if detail is None:
        return "### Nothing to review\nNo alert matches the filters. Change the filters or refresh later."
    fmt = data.format_number
    verdict = "alert" if detail["is_alert"] else "not alerted (a fraud the model missed)"
    lines = [
        f"### {detail.get('type') or '?'} of {fmt(detail.get('amount'))} on day {detail.get('day')}",
        f"Transaction `{detail['transaction_id']}` · source **{detail['source']}** · model **{detail['model_version']}**",
        "",
        f"**Score {detail['score']:.4f}** against threshold {detail['threshold']:.4f}: {verdict}",
        "",
        "**Why the model alerted**" if detail["reason_text"] else "*No reasons recorded for this transaction.*",
    ]
    lines += [f"{number}. {reason}" for number, reason in enumerate(detail["reason_text"], start=1)]
    lines += ["", "| field | value |", "|---|---|"]
    for field in ["step", "event_ts", "nameOrig", "oldbalanceOrg", "newbalanceOrig", "nameDest", "oldbalanceDest",
                  "newbalanceDest", "scored_at"]:
        value = detail.get(field)
        lines.append(f"| {field} | {fmt(value) if isinstance(value, (int, float)) else (value or '')} |")
    if detail["analyst_label"] is not None:
        status = f"labeled **{data.label_name(detail['analyst_label'])}** by {detail['labeled_by']} at {detail['labeled_at']}"
    else:
        status = "not labeled by an analyst yet"
    matures = detail.get("label_matures_on_day")
    if detail["ground_truth"] is not None:
        truth = f"ground truth: **{data.label_name(detail['ground_truth'])}** (known since day {int(matures)})"
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


def score_figure(summary: pd.DataFrame, stats: pd.DataFrame, today: int | None) -> Figure:
    """Score distribution: a heat map of every day's score histogram (log colour) with the threshold, and today's
    histogram on a log scale."""
    figure = Figure(figsize=(12, 3.8), layout="constrained")
    heat, bars = figure.subplots(1, 2, width_ratios=[3, 2])
    days, matrix = data.score_matrix(summary)
    if days:
        image = heat.imshow(np.where(matrix > 0, matrix, np.nan), origin="lower", aspect="auto", cmap="viridis",
                            norm=LogNorm(vmin=1, vmax=max(1, int(matrix.max()))),
                            extent=(days[0] - 0.5, days[-1] + 0.5, 0.0, 1.0))
        figure.colorbar(image, ax=heat, label="transactions")
        heat.step(stats["day"], stats["threshold"], where="mid", color="red", linewidth=1.5, label="threshold")
        heat.legend(loc="upper left", fontsize=8)
    heat.set(title="Score distribution per day", xlabel="day", ylabel="score")
    shown_day = today if today is not None else None
    histogram = data.score_histogram(summary, shown_day)
    bars.bar(histogram["bin_from"], histogram["rows"].clip(lower=0), width=0.05, align="edge", color="#4c72b0")
    bars.set_yscale("symlog", linthresh=1)
    thresholds = stats.loc[stats["day"] == shown_day, "threshold"] if shown_day is not None else pd.Series(dtype=float)
    if len(thresholds) and not math.isnan(thresholds.iloc[0]):
        bars.axvline(thresholds.iloc[0], color="red", linewidth=1.5, label="threshold")
        bars.legend(fontsize=8)
    bars.set(title=f"Scores of day {shown_day} (today)" if shown_day is not None else "No scores yet",
             xlabel="score", ylabel="transactions (log)", xlim=(0, 1))
    return figure


# ---------------------------------------------------------------------------------------------------------------
# The Blocks UI
# ---------------------------------------------------------------------------------------------------------------
def build_app(settings: LabelAppSettings) -> gr.Blocks:
    """The Blocks app with its four tabs and the named API endpoints."""
    service = LabelService(settings)

    with gr.Blocks(title="Fraud alert review", analytics_enabled=False) as demo:
        with gr.Row(equal_height=True):
            gr.Markdown("# Fraud alert review")
            user_md = gr.Markdown(elem_id="signed-in")
            gr.Button("Log out", link="/logout", size="sm", scale=0, min_width=100)

        with gr.Tabs():
            # --- Review queue ------------------------------------------------------------------------------
            with gr.Tab("Review queue", id="queue", elem_id="tab-queue"):
                with gr.Row():
                    q_day = gr.Dropdown([("All days", ALL)], value=ALL, label="Day")
                    q_type = gr.Dropdown([("All types", ALL)], value=ALL, label="Type")
                    q_version = gr.Dropdown([("All versions", ALL)], value=ALL, label="Model version")
                    q_min = gr.Slider(0.0, 1.0, value=0.0, step=0.01, label="Minimum score")
                    q_refresh = gr.Button("Refresh", scale=0, min_width=100)
                q_status = gr.Markdown()
                current_id = gr.State(None)
                skipped = gr.State([])
                with gr.Row():
                    with gr.Column(scale=3):
                        q_detail = gr.Markdown()
                        q_note = gr.Textbox(label="Note (optional)", placeholder="what you checked, why", lines=2,
                                            elem_id="queue-note")
                        with gr.Row():
                            b_fraud = gr.Button("Fraud", elem_classes="fraud-button", elem_id="queue-fraud")
                            b_legit = gr.Button("Legit", elem_classes="legit-button", elem_id="queue-legit")
                            b_skip = gr.Button("Skip", variant="secondary", elem_id="queue-skip")
                        q_message = gr.Markdown()
                    with gr.Column(scale=2):
                        q_table = gr.Dataframe(label="Queue (click a row to open it)", interactive=False,
                                               max_height=640, wrap=False)

            # --- Dashboard ---------------------------------------------------------------------------------
            with gr.Tab("Dashboard", id="dashboard", elem_id="tab-dashboard"):
                d_refresh = gr.Button("Refresh", scale=0, min_width=100)
                d_overall = gr.Markdown()
                with gr.Row():
                    d_metrics = gr.LinePlot(x="day", y="value", color="metric", title="Precision, recall and F1 per day",
                                            y_lim=[0, 1], height=300, x_title="day", y_title="", x_axis_format="d")
                    d_confusion = gr.BarPlot(x="day", y="count", color="outcome", height=300, y_aggregate="sum",
                                             title="Alert outcomes and missed frauds per day", x_title="day")
                with gr.Row():
                    d_volume = gr.BarPlot(x="day", y="n_alerts", color="model_version", height=300, y_aggregate="sum",
                                          title="Alerts per day, by serving model version", x_title="day",
                                          y_title="alerts")
                    d_versions = gr.Dataframe(label="Which model version served when", interactive=False)
                d_scores = gr.Plot(label="Score distribution", format="png")
                d_table = gr.Dataframe(label="Per day", interactive=False, max_height=420)

            # --- Lists ---------------------------------------------------------------------------------------
            with gr.Tab("Cases", id="lists", elem_id="tab-lists"):
                with gr.Row():
                    l_kind = gr.Radio([("Frauds", "frauds"), ("Non-frauds", "non_frauds"),
                                       ("False positives", "false_positives"), ("False negatives", "false_negatives"),
                                       ("False cases (FP + FN)", "false_cases")], value="false_cases", label="List")
                with gr.Row():
                    l_day = gr.Dropdown([("All days", ALL)], value=ALL, label="Day")
                    l_type = gr.Dropdown([("All types", ALL)], value=ALL, label="Type")
                    l_version = gr.Dropdown([("All versions", ALL)], value=ALL, label="Model version")
                    l_page_size = gr.Dropdown([10, 25, 50, 100], value=25, label="Rows per page")
                with gr.Row():
                    l_prev = gr.Button("◀ Previous", scale=0, min_width=120)
                    l_page = gr.Number(value=1, precision=0, minimum=1, label="Page", scale=0, min_width=100)
                    l_next = gr.Button("Next ▶", scale=0, min_width=120)
                    l_info = gr.Markdown()
                l_table = gr.Dataframe(label="Cases (click a row to open it)", interactive=False, max_height=520)
                with gr.Accordion("Open case / relabel", open=True):
                    l_id = gr.Textbox(label="Transaction id", max_lines=1)
                    l_detail = gr.Markdown()
                    l_note = gr.Textbox(label="Note (optional)", lines=1)
                    with gr.Row():
                        l_fraud = gr.Button("Label fraud", elem_classes="fraud-button")
                        l_legit = gr.Button("Label legit", elem_classes="legit-button")
                    l_message = gr.Markdown()

            # --- History -------------------------------------------------------------------------------------
            with gr.Tab("Label history", id="history", elem_id="tab-history"):
                with gr.Row():
                    h_id = gr.Textbox(label="Transaction id", max_lines=1)
                    h_reviewer = gr.Textbox(label="Reviewer", max_lines=1)
                    h_limit = gr.Dropdown([100, 500, 2000], value=100, label="Newest events")
                    h_refresh = gr.Button("Refresh", scale=0, min_width=100)
                h_table = gr.Dataframe(label="Label events, newest first", interactive=False, max_height=640)

        # ---- handlers ---------------------------------------------------------------------------------------
        def signed_in(request: gr.Request):
            return f"Signed in as **{request.username}**" if request and request.username else ""

        def filter_updates():
            snapshot = service.snapshot()
            choices = data.filter_choices(snapshot)
            days = [("All days", ALL)] + [(f"Day {day}" + (" (today)" if day == snapshot.today else ""), str(day))
                                          for day in choices["days"]]
            types = [("All types", ALL)] + [(value, value) for value in choices["types"]]
            versions = [("All versions", ALL)] + [(value, value) for value in choices["model_versions"]]
            return [gr.Dropdown(choices=options) for options in (days, types, versions) * 2]

        def show_queue(day, ttype, version, min_score, skipped_ids, prefer=None):
            snapshot = service.snapshot()
            waiting = data.review_queue(snapshot, _day_value(day), _filter_value(ttype), _filter_value(version),
                                        min_score)
            chosen = prefer if prefer in set(waiting["transaction_id"]) else data.next_alert(waiting, skipped_ids)
            today = snapshot.today
            status = (f"**{data.left_today(snapshot)}** alerts left in today's queue (day {today}) · "
                      f"**{len(waiting)}** unlabeled alerts match the filters" if today is not None
                      else "Nothing exported yet: run the pipeline to fill the queue.")
            table = _display(waiting.head(QUEUE_TABLE_ROWS)[QUEUE_TABLE_COLUMNS])
            detail = data.case_detail(snapshot, chosen) if chosen else None
            return status, table, chosen, render_case(detail, today)

        queue_inputs = [q_day, q_type, q_version, q_min, skipped]
        queue_outputs = [q_status, q_table, current_id, q_detail]

        def decide(label: int):
            def handler(transaction_id, note, day, ttype, version, min_score, skipped_ids, request: gr.Request):
                if not transaction_id:
                    return ("Nothing to label.", note, *show_queue(day, ttype, version, min_score, skipped_ids))
                event = service.submit_label(transaction_id, str(label), note, request)
                previous = f" (was {data.label_name(event['previous_label'])})" if event["previous_label"] is not None else ""
                message = (f"Labeled `{transaction_id}` **{data.label_name(label)}**{previous} as "
                           f"{event['reviewer']}.")
                return (message, "", *show_queue(day, ttype, version, min_score, skipped_ids))
            return handler

        def skip(transaction_id, day, ttype, version, min_score, skipped_ids):
            skipped_ids = [*skipped_ids, transaction_id] if transaction_id else list(skipped_ids)
            waiting = data.review_queue(service.snapshot(), _day_value(day), _filter_value(ttype),
                                        _filter_value(version), min_score)
            if transaction_id and set(waiting["transaction_id"]) <= set(skipped_ids):
                skipped_ids = []  # every alert was skipped once: start over
                message = "Every matching alert was skipped once; starting over."
            else:
                message = f"Skipped `{transaction_id}`." if transaction_id else "Nothing to skip."
            next_id = data.next_alert(waiting, skipped_ids)
            return (message, skipped_ids, *show_queue(day, ttype, version, min_score, skipped_ids, prefer=next_id))

        def open_from_queue(day, ttype, version, min_score, skipped_ids, evt: gr.SelectData):
            chosen = evt.row_value[0] if evt.row_value else None
            return show_queue(day, ttype, version, min_score, skipped_ids, prefer=chosen)

        def dashboard():
            snapshot = service.snapshot()
            stats = data.daily_stats(snapshot)
            overall = data.overall_stats(stats)
            def fmt(value: float) -> str:
                return "–" if value is None or math.isnan(value) else f"{value:.3f}"

            text = (f"**Today is day {snapshot.today}.** Over {overall['days']} days: {overall['alerts']} alerts, "
                    f"{overall['unlabeled_alerts']} not labeled yet. Precision of labeled alerts "
                    f"**{fmt(overall['precision'])}**; recall over the {overall['matured_days']} days whose ground truth "
                    f"has matured **{fmt(overall['recall_matured_days'])}**.\n\n"
                    "| confusion matrix | labeled fraud | labeled legit |\n|---|---|---|\n"
                    f"| **alerted** | {overall['true_positives']} (TP) | {overall['false_positives']} (FP) |\n"
                    f"| **not alerted** | {overall['false_negatives']} (FN) | {overall['true_negatives']} (TN, matured days) |"
                    if snapshot.today is not None else "Nothing exported yet: run the pipeline first.")
            return (text, data.metric_series(stats), _bars_by_day(data.confusion_series(stats)),
                    _bars_by_day(data.alert_volume(snapshot.summary)),
                    _display(data.model_timeline(snapshot.summary)), score_figure(snapshot.summary, stats, snapshot.today),
                    _display(stats))

        dashboard_outputs = [d_overall, d_metrics, d_confusion, d_volume, d_versions, d_scores, d_table]

        def show_list(kind, day, ttype, version, page_size, page):
            listed = data.list_cases(service.snapshot(), kind, _day_value(day), _filter_value(ttype),
                                     _filter_value(version), None, int(page or 1), int(page_size))
            info = f"Page **{listed['page']}** of {listed['pages']} · {listed['total']} {data.LIST_KINDS[kind]}"
            return _display(listed["rows"]), listed["page"], info

        list_inputs = [l_kind, l_day, l_type, l_version, l_page_size]

        def open_case(transaction_id):
            snapshot = service.snapshot()
            detail = data.case_detail(snapshot, (transaction_id or "").strip()) if transaction_id else None
            if transaction_id and detail is None:
                return f"No case has transaction id `{transaction_id}`."
            return render_case(detail, snapshot.today) if detail else ""

        def relabel(label: int):
            def handler(transaction_id, note, kind, day, ttype, version, page_size, page, request: gr.Request):
                event = service.submit_label((transaction_id or "").strip(), str(label), note, request)
                previous = f" (was {data.label_name(event['previous_label'])})" if event["previous_label"] is not None else ""
                message = f"Labeled `{event['transaction_id']}` **{data.label_name(label)}**{previous} as {event['reviewer']}."
                return (message, "", open_case(transaction_id),
                        *show_list(kind, day, ttype, version, page_size, page))
            return handler

        def show_history(transaction_id, reviewer, limit):
            return _display(data.label_history(service.snapshot(), transaction_id, reviewer, int(limit)))

        # ---- wiring (UI events are private: the API below is the programmatic way in) -------------------------
        private = {"api_visibility": "private"}
        demo.load(signed_in, None, user_md, **private)
        demo.load(filter_updates, None, [q_day, q_type, q_version, l_day, l_type, l_version], **private)
        demo.load(show_queue, queue_inputs, queue_outputs, **private)
        demo.load(dashboard, None, dashboard_outputs, **private)
        demo.load(show_list, [*list_inputs, l_page], [l_table, l_page, l_info], **private)
        demo.load(show_history, [h_id, h_reviewer, h_limit], h_table, **private)

        for control in (q_day, q_type, q_version):
            control.input(show_queue, queue_inputs, queue_outputs, **private)
        q_min.release(show_queue, queue_inputs, queue_outputs, **private)
        q_refresh.click(filter_updates, None, [q_day, q_type, q_version, l_day, l_type, l_version], **private).then(
            show_queue, queue_inputs, queue_outputs, **private)
        q_table.select(open_from_queue, queue_inputs, queue_outputs, **private)
        decision_inputs = [current_id, q_note, q_day, q_type, q_version, q_min, skipped]
        decision_outputs = [q_message, q_note, *queue_outputs]
        b_fraud.click(decide(1), decision_inputs, decision_outputs, **private)
        b_legit.click(decide(0), decision_inputs, decision_outputs, **private)
        b_skip.click(skip, [current_id, q_day, q_type, q_version, q_min, skipped], [q_message, skipped, *queue_outputs],
                     **private)

        d_refresh.click(dashboard, None, dashboard_outputs, **private)

        def first_page(*values):
            return show_list(*values, 1)

        for control in (l_kind, l_day, l_type, l_version, l_page_size):
            control.input(first_page, list_inputs, [l_table, l_page, l_info], **private)
        l_page.submit(show_list, [*list_inputs, l_page], [l_table, l_page, l_info], **private)
        l_prev.click(lambda *values: show_list(*values[:-1], max(1, int(values[-1] or 1) - 1)),
                     [*list_inputs, l_page], [l_table, l_page, l_info], **private)
        l_next.click(lambda *values: show_list(*values[:-1], int(values[-1] or 1) + 1),
                     [*list_inputs, l_page], [l_table, l_page, l_info], **private)
        def selected_id(evt: gr.SelectData):
            return evt.row_value[0] if evt.row_value else ""

        l_table.select(selected_id, None, l_id, **private).then(open_case, l_id, l_detail, **private)
        l_id.submit(open_case, l_id, l_detail, **private)
        relabel_inputs = [l_id, l_note, *list_inputs, l_page]
        relabel_outputs = [l_message, l_note, l_detail, l_table, l_page, l_info]
        l_fraud.click(relabel(1), relabel_inputs, relabel_outputs, **private)
        l_legit.click(relabel(0), relabel_inputs, relabel_outputs, **private)

        for control in (h_id, h_reviewer):
            control.submit(show_history, [h_id, h_reviewer, h_limit], h_table, **private)
        h_limit.input(show_history, [h_id, h_reviewer, h_limit], h_table, **private)
        h_refresh.click(show_history, [h_id, h_reviewer, h_limit], h_table, **private)

        # ---- the named API endpoints ------------------------------------------------------------------------
        for name in API_ENDPOINTS:
            gr.api(getattr(service, name), api_name=name)

    demo.queue(default_concurrency_limit=CONCURRENT_EVENTS)
    return demo


def serve(settings: LabelAppSettings, block: bool = True, quiet: bool = False) -> tuple[gr.Blocks, str]:
    """Build and launch the app with login; returns (app, local URL) when `block` is False."""
    users = users_or_demo(load_users(settings.users, settings.users_file), settings.host)
    demo = build_app(settings)
    _, url, _ = demo.launch(
        server_name=settings.host,
        server_port=settings.port,
        auth=make_authenticator(users),
        auth_message="Fraud alert review: log in with your reviewer account.",
        prevent_thread_lock=not block,
        quiet=quiet,
        footer_links=["api", "settings"],
        run_history=False,
        ssr_mode=False,
        theme=gr.themes.Soft(),
        css=CSS,
    )
    return demo, url


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m label_app", description=__doc__.splitlines()[0])
    parser.add_argument("--host", help="address to listen on (FRAUD_LABEL_APP_HOST, default 127.0.0.1)")
    parser.add_argument("--port", type=int, help="port (FRAUD_LABEL_APP_PORT, default 7860)")
    arguments = parser.parse_args(argv)
    try:
        settings = LabelAppSettings.from_env()
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    overrides = {key: value for key, value in (("host", arguments.host), ("port", arguments.port)) if value}
    settings = dataclasses.replace(settings, **overrides)
    print(f"Label app on http://{settings.host}:{settings.port} reading exports from {settings.exports_dir}, "
          f"labels in {settings.label_store_path}", flush=True)
    try:
        serve(settings, block=True)
    except ValueError as error:  # a bad users setting or file
        print(f"error: {error}", file=sys.stderr)
        return 2
    except OSError as error:  # most often: the port is taken
        print(f"error: cannot listen on {settings.host}:{settings.port} ({error}); pass --port or set "
              "FRAUD_LABEL_APP_PORT", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
