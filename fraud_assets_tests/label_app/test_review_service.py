"""The service behind the UI and the named API endpoints, called directly: what a login session keeps a client from
trying, and the parts of its answers the app tests do not read."""

from __future__ import annotations

import gradio as gr
import pytest

from label_app.review_service import API_ENDPOINTS, ReviewService


def test_every_endpoint_is_a_service_method():
    assert all(callable(getattr(ReviewService, name)) for name in API_ENDPOINTS)


def test_labels_need_a_logged_in_reviewer(service):
    for request in (None, gr.Request()):
        with pytest.raises(gr.Error, match="logged-in reviewer"):
            service.submit_label("d0", "fraud", "", request)
    assert service.history(transaction_id="d0") == []


def test_a_label_is_recorded_as_the_session_reviewer(service):
    event = service.submit_label(" d0 ", 1, " seen ", gr.Request(username="alice"))
    assert (event["transaction_id"], event["label"], event["reviewer"], event["note"]) == ("d0", 1, "alice", "seen")
    assert "d0" not in [alert["transaction_id"] for alert in service.queue()["alerts"]]


def test_daily_stats_carry_every_day_score_histogram(service):
    stats = service.daily_stats()
    assert [(histogram["day"], histogram["model_version"], sum(histogram["bins"]))
            for histogram in stats["score_histograms"]] == [(0, "v1", 1000), (1, "v1", 1000), (2, "v2", 1000),
                                                             (3, "v2", 1000)]
    assert len(stats["score_bin_edges"]) == 21 and stats["overall"]["true_positives"] == 5
