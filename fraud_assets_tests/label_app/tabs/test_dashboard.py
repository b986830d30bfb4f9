"""The Dashboard tab's handler fills every chart and table."""

from __future__ import annotations

import gradio as gr

from label_app.tabs.dashboard import DashboardTab


def test_the_dashboard_fills_every_output(service):
    with gr.Blocks(), gr.Tabs():
        tab = DashboardTab(service)
    overall, metrics, confusion, volume, versions, scores, table = tab.show()
    assert overall.startswith("**Today is day 3.** Over 4 days: 11 alerts")
    assert set(metrics["metric"]) == {"precision", "recall", "f1"}
    assert confusion.sort == volume.sort == ["0", "1", "2", "3"]
    assert versions["model_version"].tolist() == ["v1", "v2"]
    assert scores.axes[0].get_title() == "Score distribution per day"
    assert table["day"].tolist() == [0, 1, 2, 3] and table.loc[3, "recall"] == "not matured"
