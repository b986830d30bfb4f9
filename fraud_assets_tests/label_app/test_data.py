"""The label app's pure data functions on small hand-made exports, label stores and decision logs.

The helpers at the top (`case`, `write_day`, `write_scenario`) are shared with the app tests.
"""

from __future__ import annotations

import json
import math
import os
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from fraud_assets.core.decision_log import append_decisions
from fraud_assets.core.review_export import REVIEW_COLUMNS, SCORE_BIN_EDGES, SUMMARY_COLUMNS, day_file, write_parquet_atomically
from fraud_assets.core.label_store import append_label_event
from label_app import data

LABEL_DELAY_DAYS = 2
REASONS = [{"feature": "drains_origin", "value": 1.0, "contribution": 2.5,
            "description": "The amount is exactly the paying account's whole balance: the account is emptied."},
           {"feature": "amount", "value": 181000.0, "contribution": 0.75, "description": "Amount of the transaction."}]


def case(transaction_id: str, day: int, score: float, is_alert: bool, is_fraud: int, *, type: str = "TRANSFER",
         model_version: str = "v1", threshold: float = 0.5, amount: float = 1000.0) -> dict:
    """One review-export row (REVIEW_COLUMNS) with plausible PaySim fields."""
    step = day * 24 + 5
    return {
        "transaction_id": transaction_id, "day": day, "step": step,
        "event_ts": pd.Timestamp("2025-01-01") + pd.Timedelta(hours=step - 1), "type": type, "amount": amount,
        "nameOrig": "C100", "oldbalanceOrg": amount, "newbalanceOrig": 0.0, "nameDest": "C200",
        "oldbalanceDest": 0.0, "newbalanceDest": 0.0, "score": score, "is_alert": is_alert, "threshold": threshold,
        "model_version": model_version, "scored_at": pd.Timestamp("2025-02-01"),
        "reasons": json.dumps(REASONS) if is_alert else "", "isFraud": is_fraud,
        "label_matures_on_day": day + LABEL_DELAY_DAYS,
    }


def write_day(exports_dir: Path, day: int, rows: list[dict], n_rows: int, model_version: str, threshold: float) -> None:
    """The day's review and summary files, as the Dagster export writes them; genuine non-alerts score ~0.01."""
    review = pd.DataFrame(rows, columns=REVIEW_COLUMNS).astype(
        {"day": "int32", "step": "int64", "is_alert": bool, "isFraud": "int8", "label_matures_on_day": "int32"})
    scores = np.concatenate([review["score"].to_numpy(), np.full(n_rows - len(review), 0.01)])
    counts, _ = np.histogram(scores, bins=SCORE_BIN_EDGES)
    summary = pd.DataFrame([[day, model_version, threshold, n_rows, int(review["is_alert"].sum()), *counts.tolist()]],
                           columns=SUMMARY_COLUMNS)
    write_parquet_atomically(review, day_file(exports_dir, "review", day))
    write_parquet_atomically(summary, day_file(exports_dir, "summary", day))


def write_scenario(tmp_path: Path) -> tuple[Path, Path]:
    """Four days, label delay 2, so today is day 3 and ground truth is known for days 0 and 1 only.

    day 0 (v1, matured): alerts a0 fraud, a1 legit, a2 fraud; missed fraud m0
    day 1 (v1, matured): alerts b0 fraud, b1 legit (an analyst says fraud)
    day 2 (v2): alerts c0 fraud (analyst: fraud), c1 legit (bob: fraud, then alice: legit), c2 fraud; missed c3
    day 3 (v2, today): alerts d0, d1, d2, no label yet
    """
    exports, labels = tmp_path / "exports", tmp_path / "labels.sqlite"
    write_day(exports, 0, [case("a0", 0, 0.9, True, 1), case("a1", 0, 0.8, True, 0, type="CASH_OUT"),
                           case("a2", 0, 0.6, True, 1), case("m0", 0, 0.1, False, 1)], 1000, "v1", 0.5)
    write_day(exports, 1, [case("b0", 1, 0.95, True, 1), case("b1", 1, 0.7, True, 0)], 1000, "v1", 0.5)
    write_day(exports, 2, [case("c0", 2, 0.99, True, 1, model_version="v2", threshold=0.4),
                           case("c1", 2, 0.5, True, 0, type="CASH_OUT", model_version="v2", threshold=0.4),
                           case("c2", 2, 0.45, True, 1, type="CASH_OUT", model_version="v2", threshold=0.4),
                           case("c3", 2, 0.2, False, 1, model_version="v2", threshold=0.4)], 1000, "v2", 0.4)
    write_day(exports, 3, [case("d0", 3, 0.97, True, 1, model_version="v2", threshold=0.4),
                           case("d1", 3, 0.6, True, 0, type="CASH_OUT", model_version="v2", threshold=0.4),
                           case("d2", 3, 0.42, True, 0, model_version="v2", threshold=0.4)], 1000, "v2", 0.4)
    append_label_event(labels, "b1", 1, "carol", "mule")
    append_label_event(labels, "c0", 1, "alice")
    append_label_event(labels, "c1", 1, "bob", "looked odd")
    append_label_event(labels, "c1", 0, "alice", "customer confirmed")
    return exports, labels


@pytest.fixture
def snapshot(tmp_path) -> data.Snapshot:
    exports, labels = write_scenario(tmp_path)
    return data.load_snapshot(exports, labels, tmp_path / "decisions.sqlite")


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
    assert (cases.loc["b1", "label"], cases.loc["b1", "label_source"], cases.loc["b1", "labeled_by"]) == (1, "analyst", "carol")
    assert (cases.loc["c1", "label"], cases.loc["c1", "labeled_by"]) == (0, "alice")  # relabeled: the newest wins
    assert (cases.loc["a0", "label"], cases.loc["a0", "label_source"]) == (1, "ground_truth")


def test_queue_holds_unlabeled_alerts_highest_score_first(snapshot):
    queue = data.review_queue(snapshot)
    # labeled (c0, c1), matured (a*, b*) and non-alerts (m0, c3) are out
    assert queue["transaction_id"].tolist() == ["d0", "d1", "c2", "d2"]
    assert data.left_today(snapshot) == 3


def test_queue_filters(snapshot):
    def ids(**filters):
        return data.review_queue(snapshot, **filters)["transaction_id"].tolist()

    assert ids(day=3) == ["d0", "d1", "d2"]
    assert ids(day=2) == ["c2"]
    assert ids(transaction_type="CASH_OUT") == ["d1", "c2"]
    assert ids(model_version="v1") == []
    assert ids(min_score=0.5) == ["d0", "d1"]
    assert ids(day=3, transaction_type="TRANSFER", model_version="v2", min_score=0.9) == ["d0"]


def test_a_label_takes_the_alert_out_of_the_queue(tmp_path):
    exports, labels = write_scenario(tmp_path)
    append_label_event(labels, "d0", 1, "dave")
    snapshot = data.load_snapshot(exports, labels)
    assert data.review_queue(snapshot)["transaction_id"].tolist() == ["d1", "c2", "d2"]
    assert data.left_today(snapshot) == 2


def test_next_alert_passes_over_skipped_ones_then_starts_over(snapshot):
    queue = data.review_queue(snapshot)
    assert data.next_alert(queue) == "d0"
    assert data.next_alert(queue, ["d0"]) == "d1"
    assert data.next_alert(queue, ["d0", "d1", "c2", "d2"]) == "d0"
    assert data.next_alert(queue.iloc[0:0]) is None


def test_daily_stats_count_only_known_labels(snapshot):
    stats = data.daily_stats(snapshot).set_index("day")
    day0, day1, day2, day3 = (stats.loc[day] for day in range(4))
    # day 0, matured: TP a0 a2, FP a1, FN m0; TN = 1000 rows - 3 alerts - 1 missed fraud
    assert (day0.true_positives, day0.false_positives, day0.false_negatives, day0.true_negatives) == (2, 1, 1, 996)
    assert day0.precision == pytest.approx(2 / 3) and day0.recall == pytest.approx(2 / 3)
    assert day0.f1 == pytest.approx(2 / 3) and day0.ground_truth_matured
    # day 1: the analyst's fraud label on b1 overrides ground truth
    assert (day1.true_positives, day1.false_positives, day1.precision, day1.recall) == (2, 0, 1.0, 1.0)
    # day 2, not matured: analyst labels only; c2 unlabeled; the missed fraud c3 is not known yet, so no recall
    assert (day2.true_positives, day2.false_positives, day2.unlabeled_alerts, day2.false_negatives) == (1, 1, 1, 0)
    assert day2.precision == 0.5 and math.isnan(day2.recall) and math.isnan(day2.f1)
    assert math.isnan(day2.true_negatives) and not day2.ground_truth_matured
    # today: nothing labeled
    assert (day3.n_alerts, day3.labeled_alerts, day3.model_version, day3.threshold) == (3, 0, "v2", 0.4)
    assert math.isnan(day3.precision)


def test_overall_stats_and_chart_series(snapshot):
    stats = data.daily_stats(snapshot)
    overall = data.overall_stats(stats)
    assert (overall["true_positives"], overall["false_positives"], overall["false_negatives"]) == (5, 2, 1)
    assert overall["precision"] == pytest.approx(5 / 7)
    assert overall["recall_matured_days"] == pytest.approx(4 / 5)  # days 0 and 1: TP 4, FN 1
    metrics = data.metric_series(stats)
    assert set(metrics["metric"]) == {"precision", "recall", "f1"} and metrics["value"].notna().all()
    assert metrics[metrics["metric"] == "recall"]["day"].tolist() == [0, 1]
    confusion = data.confusion_series(stats)
    assert confusion.query("day == 2 and outcome == 'alert not labeled yet'")["count"].item() == 1


def test_model_timeline_volume_and_score_histograms(snapshot):
    timeline = data.model_timeline(snapshot.summary)
    assert timeline[["model_version", "first_day", "last_day", "days_served"]].values.tolist() == [
        ["v1", 0, 1, 2], ["v2", 2, 3, 2]]
    volume = data.alert_volume(snapshot.summary)
    assert volume["n_alerts"].tolist() == [3, 2, 3, 3]
    histogram = data.score_histogram(snapshot.summary, day=3)
    assert histogram["rows"].sum() == 1000 and histogram.loc[19, "rows"] == 1  # d0's 0.97
    days, matrix = data.score_matrix(snapshot.summary)
    assert days == [0, 1, 2, 3] and matrix.shape == (20, 4) and matrix.sum() == 4000


def test_lists_by_known_label(snapshot):
    def ids(kind, **filters):
        return sorted(data.list_cases(snapshot, kind, page_size=100, **filters)["rows"]["transaction_id"])

    assert ids("frauds") == ["a0", "a2", "b0", "b1", "c0", "m0"]
    assert ids("non_frauds") == ["a1", "c1"]
    assert ids("false_positives") == ["a1", "c1"]
    assert ids("false_negatives") == ["m0"]
    assert ids("false_cases") == ["a1", "c1", "m0"]
    assert ids("frauds", day=0) == ["a0", "a2", "m0"]
    assert ids("frauds", model_version="v2") == ["c0"]
    with pytest.raises(ValueError, match="unknown list"):
        data.list_cases(snapshot, "maybe")


def test_lists_page(snapshot):
    first = data.list_cases(snapshot, "frauds", page=1, page_size=4)
    last = data.list_cases(snapshot, "frauds", page=9, page_size=4)  # past the end: the last page
    assert (first["total"], first["pages"], len(first["rows"])) == (6, 2, 4)
    assert (last["page"], len(last["rows"])) == (2, 2)
    assert set(first["rows"]["transaction_id"]).isdisjoint(last["rows"]["transaction_id"])
    assert first["rows"]["label"].eq("fraud").all() and list(first["rows"].columns) == data.LIST_COLUMNS


def test_label_history_newest_first_with_previous_label(snapshot):
    history = data.label_history(snapshot)
    assert history["transaction_id"].tolist() == ["c1", "c1", "c0", "b1"]
    newest = history.iloc[0]
    assert (newest.reviewer, newest.label, newest.previous_label, newest.note) == ("alice", "legit", "fraud",
                                                                                   "customer confirmed")
    assert history.iloc[1].previous_label == ""  # bob's first label of c1
    assert data.label_history(snapshot, reviewer="bob")["transaction_id"].tolist() == ["c1"]
    assert len(data.label_history(snapshot, transaction_id="c1", limit=1)) == 1
    assert (newest.day, newest.type) == (2, "CASH_OUT")


def test_case_detail_gives_readable_reasons_and_hides_immature_truth(snapshot):
    detail = data.case_detail(snapshot, "c1")
    assert detail["reason_text"][0] == ("The amount is exactly the paying account's whole balance: the account is "
                                        "emptied (drains_origin = 1, +2.50 log-odds)")
    assert detail["reason_text"][1] == "Amount of the transaction (amount = 181,000, +0.75 log-odds)"
    assert detail["ground_truth"] is None and detail["label_name"] == "legit"
    assert [event["reviewer"] for event in detail["history"]] == ["alice", "bob"]
    json.dumps(detail)  # plain values only
    assert data.case_detail(snapshot, "nope") is None
    assert data.describe_reasons("") == [] and data.describe_reasons("not json")[0].startswith("(reasons not readable")


@pytest.mark.parametrize("given, expected", [("fraud", 1), ("Legit", 0), ("1", 1), (0, 0), (True, 1), (1.0, 1)])
def test_parse_label(given, expected):
    assert data.parse_label(given) == expected


@pytest.mark.parametrize("given", ["maybe", 2, "", None])
def test_parse_label_refuses_anything_else(given):
    with pytest.raises(ValueError, match="'fraud'"):
        data.parse_label(given)


def test_online_alerts_join_the_queue(tmp_path):
    exports, labels = write_scenario(tmp_path)
    log = tmp_path / "decisions.sqlite"

    def decision(request_id, transaction_id, score, is_alert, transaction):
        return (request_id, 0, transaction_id, f"2025-03-01T10:00:0{request_id[-1]}Z", "v2", score, int(is_alert), 0.4,
                json.dumps(transaction), json.dumps(REASONS[:1]))

    append_decisions(log, [
        decision("r1", "o1", 0.98, True, {"step": 80, "type": "TRANSFER", "amount": 5000.0}),  # step 80 is day 3
        decision("r2", "o2", 0.1, False, {"step": 80, "type": "PAYMENT", "amount": 10.0}),  # not an alert
        decision("r3", "o3", 0.7, True, {"type": "CASH_OUT", "amount": 70.0}),  # no step: today
        decision("r4", "d1", 0.61, True, {"step": 80, "type": "CASH_OUT"}),  # also exported: the export wins
    ])
    snapshot = data.load_snapshot(exports, labels, log)
    cases = by_id(snapshot.cases)
    assert (cases.loc["o1", "source"], cases.loc["o1", "day"], cases.loc["o3", "day"]) == ("online", 3, 3)
    assert "o2" not in cases.index and cases.loc["d1", "source"] == "batch" and cases.loc["d1", "score"] == 0.6
    assert data.review_queue(snapshot)["transaction_id"].tolist() == ["o1", "d0", "o3", "d1", "c2", "d2"]
    assert data.case_detail(snapshot, "o1")["reason_text"][0].startswith("The amount is exactly")
    assert data.is_case(exports, log, "o1") and data.is_case(exports, log, "a0")
    assert not data.is_case(exports, log, "o2") and not data.is_case(exports, None, "o1")
    # online alerts are not in the exported statistics
    assert data.daily_stats(snapshot).set_index("day").loc[3, "n_alerts"] == 3


def test_nothing_exported_yet(tmp_path):
    snapshot = data.load_snapshot(tmp_path / "exports", tmp_path / "labels.sqlite", tmp_path / "decisions.sqlite")
    assert snapshot.today is None and len(snapshot.cases) == 0
    assert len(data.review_queue(snapshot)) == 0 and data.left_today(snapshot) == 0
    assert len(data.daily_stats(snapshot)) == 0 and len(data.label_history(snapshot)) == 0
    assert data.list_cases(snapshot, "frauds")["total"] == 0
    assert data.filter_choices(snapshot) == {"days": [], "types": [], "model_versions": []}
    assert not (tmp_path / "labels.sqlite").exists()  # reading never creates the store


def test_exports_are_read_again_when_a_day_is_replaced(tmp_path):
    exports, labels = write_scenario(tmp_path)
    assert data.load_snapshot(exports, labels).today == 3
    write_day(exports, 3, [case("d9", 3, 0.99, True, 1)], 500, "v3", 0.3)  # Dagster re-ran day 3
    later = time.time() + 5
    os.utime(day_file(exports, "review", 3), (later, later))  # a different mtime even on coarse clocks
    snapshot = data.load_snapshot(exports, labels)
    assert data.review_queue(snapshot, day=3)["transaction_id"].tolist() == ["d9"]


def test_the_queue_api_columns_stay_in_the_frame(snapshot):
    assert set(data.QUEUE_COLUMNS) <= set(snapshot.cases.columns)
    assert set(data.LIST_COLUMNS) <= set(snapshot.cases.columns)
