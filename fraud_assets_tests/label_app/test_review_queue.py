"""The review queue: unlabeled alerts, highest score first, filtered; the next alert passes over skipped ones."""

from __future__ import annotations

from fraud_assets.core.label_store import append_label_event
from fraud_assets_tests.label_app.test_data import write_scenario
from label_app.review_queue import left_today, next_alert, review_queue
from label_app.snapshot import load_snapshot


def test_queue_holds_unlabeled_alerts_highest_score_first(snapshot):
    queue = review_queue(snapshot)
    # labeled (c0, c1), matured (a*, b*) and non-alerts (m0, c3) are out
    assert queue["transaction_id"].tolist() == ["d0", "d1", "c2", "d2"]
    assert left_today(snapshot) == 3


def test_queue_filters(snapshot):
    def ids(**filters):
        return review_queue(snapshot, **filters)["transaction_id"].tolist()

    assert ids(day=3) == ["d0", "d1", "d2"]
    assert ids(day=2) == ["c2"]
    assert ids(transaction_type="CASH_OUT") == ["d1", "c2"]
    assert ids(model_version="v1") == []
    assert ids(min_score=0.5) == ["d0", "d1"]
    assert ids(day=3, transaction_type="TRANSFER", model_version="v2", min_score=0.9) == ["d0"]


def test_a_label_takes_the_alert_out_of_the_queue(tmp_path):
    exports, labels = write_scenario(tmp_path)
    append_label_event(labels, "d0", 1, "dave")
    snapshot = load_snapshot(exports, labels)
    assert review_queue(snapshot)["transaction_id"].tolist() == ["d1", "c2", "d2"]
    assert left_today(snapshot) == 2


def test_next_alert_passes_over_skipped_ones_then_starts_over(snapshot):
    queue = review_queue(snapshot)
    assert next_alert(queue) == "d0"
    assert next_alert(queue, ["d0"]) == "d1"
    assert next_alert(queue, ["d0", "d1", "c2", "d2"]) == "d0"
    assert next_alert(queue.iloc[0:0]) is None
