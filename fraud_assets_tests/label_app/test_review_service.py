"""The service behind the UI and the named API endpoints, called directly: what a login session keeps a client from
trying, and the parts of its answers the app tests do not read."""

from __future__ import annotations

import socket

import gradio as gr
import pytest

from fraud_assets.core.database import DatabaseUrl
from fraud_assets_tests.label_app.test_data import write_scenario
from label_app.review_service import API_ENDPOINTS, ReviewService
from label_app.settings import LabelAppSettings


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


def test_a_database_that_does_not_answer_is_an_error_the_reviewer_reads(tmp_path):
    """The team database refusing connections: submit and every read raise a gr.Error naming the server, with the
    password masked. (The app tests in test_app_team.py stop a real server; this one needs none.)"""
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    exports, _ = write_scenario(tmp_path)
    database = DatabaseUrl.parse(f"postgresql://fraud:pw-not-shown@127.0.0.1:{port}/fraud")
    service = ReviewService(LabelAppSettings(exports_dir=exports, label_store=database, decision_log=database))
    with pytest.raises(gr.Error) as raised:
        service.submit_label("d0", "fraud", "", gr.Request(username="alice"))
    message = raised.value.message
    assert message.startswith("the label was not recorded: Cannot connect to PostgreSQL") and message.endswith(
        "; try again")
    assert "fraud:***@127.0.0.1" in message and "pw-not-shown" not in message
    for read in (service.queue, service.history, service.daily_stats):
        with pytest.raises(gr.Error) as raised:
            read()
        assert raised.value.message.startswith("the label events and online alerts could not be read: Cannot connect")
        assert "pw-not-shown" not in raised.value.message
