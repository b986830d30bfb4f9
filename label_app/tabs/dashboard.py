"""The Dashboard tab: how the model does per day against the labels known so far, which version served when, and
the score distribution."""

from __future__ import annotations

import gradio as gr

from label_app.model_stats import (
    alert_volume,
    confusion_series,
    daily_stats,
    metric_series,
    model_timeline,
    overall_stats,
)
from label_app.rendering import bars_by_day, display_daily_stats, display_table, render_overall, score_figure
from label_app.review_service import ReviewService
from label_app.tabs import PRIVATE


class DashboardTab:
    """The tab's components and the handler that fills them."""

    def __init__(self, service: ReviewService):
        self.service = service
        with gr.Tab("Dashboard", id="dashboard", elem_id="tab-dashboard"):
            self.refresh = gr.Button("Refresh", scale=0, min_width=100)
            overall = gr.Markdown()
            with gr.Row():
                metrics = gr.LinePlot(x="day", y="value", color="metric", title="Precision, recall and F1 per day",
                                      y_lim=[0, 1], height=300, x_title="day", y_title="", x_axis_format="d")
                confusion = gr.BarPlot(x="day", y="count", color="outcome", height=300, y_aggregate="sum",
                                       title="Alert outcomes and missed frauds per day", x_title="day")
            with gr.Row():
                volume = gr.BarPlot(x="day", y="n_alerts", color="model_version", height=300, y_aggregate="sum",
                                    title="Alerts per day, by serving model version", x_title="day", y_title="alerts")
                versions = gr.Dataframe(label="Which model version served when", interactive=False)
            scores = gr.Plot(label="Score distribution", format="png")
            table = gr.Dataframe(label="Per day", interactive=False, max_height=420)
        self.outputs = [overall, metrics, confusion, volume, versions, scores, table]

    def wire(self, demo: gr.Blocks) -> None:
        """Fill the dashboard on load and on Refresh."""
        demo.load(self.show, None, self.outputs, **PRIVATE)
        self.refresh.click(self.show, None, self.outputs, **PRIVATE)

    def show(self) -> tuple:
        """(summary, metrics, confusion bars, volume bars, model versions, score figure, per-day table)."""
        snapshot = self.service.snapshot()
        stats = daily_stats(snapshot)
        return (render_overall(overall_stats(stats), snapshot.today), metric_series(stats),
                bars_by_day(confusion_series(stats)), bars_by_day(alert_volume(snapshot.summary)),
                display_table(model_timeline(snapshot.summary)), score_figure(snapshot.summary, stats, snapshot.today),
                display_daily_stats(stats))
