"""The snapshot the label app reads once per request: today on the simulation clock, ground truth only once
matured, the latest analyst label first, online alerts joined, exports re-read when a day is replaced."""

from __future__ import annotations

import json
import math
import os
import time
from datetime import datetime, timedelta, timezone

import pandas as pd

from fraud_assets.core.decision_log import append_decisions
from fraud_assets.core.review_export import day_file
from fraud_assets_tests.label_app.test_data import REASONS, case, write_day, write_scenario
from label_app.case_detail import case_detail
from label_app.case_lists import list_cases
from label_app.label_history import label_history
from label_app.model_stats import daily_stats, overall_stats
from label_app.review_queue import left_today, review_queue
from label_app.snapshot import filter_choices, is_case, load_snapshot


def by_id(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.set_index("transaction_id")


def test_today_is_the_newest_exported_day(snapshot):
    assert snapshot.today == 3
    assert len(snapshot.cases) == 13 and set(snapshot.cases["source"]) == {"batch"}


def test_ground_truth_is_visible_only_once_matured(snapshot):
    cases = by_id(snapshot.cases)
    assert "isFraud" not in snapshot.cases.columns
    assert cases.loc["a0", "ground_truth"] == 1 and cases.loc["a1", "ground_truth"] == 0  # day 0 matured on day 2
    assert cases.loc["b0", "ground_truth"] == 1  # day 1 matures on day 3, today
    for unmatured in ["c2", "c3", "d0", "d1"]:
        assert math.isnan(cases.loc[unmatured, "ground_truth"]), unmatured
        assert math.isnan(cases.loc[unmatured, "label"]) and cases.loc[unmatured, "label_source"] == ""


def test_the_latest_analyst_label_overrides_ground_truth(snapshot):
    cases = by_id(snapshot.cases)
    assert cases.loc["b1", "ground_truth"] == 0
    assert (cases.loc["b1", "label"], cases.loc["b1", "label_source"], cases.loc["b1", "labeled_by"]) == (
        1, "analyst", "carol")
    assert (cases.loc["c1", "label"], cases.loc["c1", "labeled_by"]) == (0, "alice")  # relabeled: the newest wins
    assert (cases.loc["a0", "label"], cases.loc["a0", "label_source"]) == (1, "ground_truth")


def test_online_alerts_join_the_queue(tmp_path):
    exports, labels = write_scenario(tmp_path)
    log = tmp_path / "decisions.sqlite"

    an_hour_ago = datetime.now(timezone.utc) - timedelta(hours=1)  # within the review window of the wall clock

    def decision(request_id, transaction_id, score, is_alert, transaction):
        decided_at = (an_hour_ago + timedelta(seconds=int(request_id[-1]))).isoformat(timespec="milliseconds")
        return (request_id, 0, transaction_id, decided_at, "v2", score, int(is_alert), 0.4,
                json.dumps(transaction), json.dumps(REASONS[:1]))

    append_decisions(log, [
        decision("r1", "o1", 0.98, True, {"step": 80, "type": "TRANSFER", "amount": 5000.0}),  # step 80 is day 3
        decision("r2", "o2", 0.1, False, {"step": 80, "type": "PAYMENT", "amount": 10.0}),  # not an alert
        decision("r3", "o3", 0.7, True, {"type": "CASH_OUT", "amount": 70.0}),  # no step: today
        decision("r4", "d1", 0.61, True, {"step": 80, "type": "CASH_OUT"}),  # also exported: the export wins
    ])
    snapshot = load_snapshot(exports, labels, log)
    cases = by_id(snapshot.cases)
    assert (cases.loc["o1", "source"], cases.loc["o1", "day"], cases.loc["o3", "day"]) == ("online", 3, 3)
    assert "o2" not in cases.index and cases.loc["d1", "source"] == "batch" and cases.loc["d1", "score"] == 0.6
    assert review_queue(snapshot)["transaction_id"].tolist() == ["o1", "d0", "o3", "d1", "c2", "d2"]
    assert case_detail(snapshot, "o1")["reason_text"][0].startswith("The amount is exactly")
    assert is_case(exports, log, "o1") and is_case(exports, log, "a0")
    assert not is_case(exports, log, "o2") and not is_case(exports, None, "o1")
    # online alerts are not in the exported statistics
    assert daily_stats(snapshot).set_index("day").loc[3, "n_alerts"] == 3


def test_nothing_exported_yet(tmp_path):
    snapshot = load_snapshot(tmp_path / "exports", tmp_path / "labels.sqlite", tmp_path / "decisions.sqlite")
    assert snapshot.today is None and len(snapshot.cases) == 0
    assert len(review_queue(snapshot)) == 0 and left_today(snapshot) == 0
    assert len(daily_stats(snapshot)) == 0 and len(label_history(snapshot)) == 0
    assert overall_stats(daily_stats(snapshot))["alerts"] == 0  # the dashboard of an empty folder, not a KeyError
    assert list_cases(snapshot, "frauds")["total"] == 0
    assert filter_choices(snapshot) == {"days": [], "types": [], "model_versions": []}
    assert not (tmp_path / "labels.sqlite").exists()  # reading never creates the store


def test_exports_are_read_again_when_a_day_is_replaced(tmp_path):
    exports, labels = write_scenario(tmp_path)
    assert load_snapshot(exports, labels).today == 3
    write_day(exports, 3, [case("d9", 3, 0.99, True, 1)], 500, "v3", 0.3)  # Dagster re-ran day 3
    later = time.time() + 5
    os.utime(day_file(exports, "review", 3), (later, later))  # a different mtime even on coarse clocks
    snapshot = load_snapshot(exports, labels)
    assert review_queue(snapshot, day=3)["transaction_id"].tolist() == ["d9"]
