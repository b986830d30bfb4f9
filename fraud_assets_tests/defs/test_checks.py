"""The checks' own reading of the warehouse's figures, and the drift report's reuse of a stored day, on hand-made
frames (the statistics: ml/test_evidence.py)."""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd

from fraud_assets.defs.assets.drift_report import stored_report
from fraud_assets.defs.checks.drift import tail_unjudged_status
from fraud_assets.defs.checks.performance import day_recall_events


def test_recall_events_count_a_fraud_once_and_caught_when_one_of_its_rows_is_alerted():
    rows = pd.DataFrame({
        "score": [0.99, 0.98, 0.10, 0.97, 0.20, 0.01, 0.02],
        "amount": [500.0, 500.0, 800.0, 800.0, 90.0, 12.0, 13.0],  # fraud 500 (both rows), fraud 800 (one row high)
        "isFraud": [1, 1, 1, 1, 1, 0, 0],                          # and fraud 90, missed
    })
    assert day_recall_events(rows, budget=3) == (3, 2)
    assert day_recall_events(rows, budget=1) == (3, 1)
    assert day_recall_events(rows.assign(isFraud=np.zeros(7, dtype=int)), budget=3) == (0, 0)


class Card:
    def __init__(self, reference):
        self.high_score_reference = reference


class Champion:
    def __init__(self, version, reference):
        self.version = version
        self.card = Card(reference)


def test_a_tail_is_judged_only_against_the_champion_that_scored_it_with_a_reference():
    reference = {"validation_rows": 60_000, "high_score_events": 40}
    assert tail_unjudged_status(None, None, ["1"]) == "no champion"
    assert tail_unjudged_status(Champion("2", reference), object(), []) == "no scored rows"
    assert "no tail reference" in tail_unjudged_status(Champion("2", None), None, ["2"])
    assert "not by the champion v2" in tail_unjudged_status(Champion("2", reference), object(), ["1"])
    assert tail_unjudged_status(Champion("2", reference), object(), ["2"]) is None


def test_a_stored_drift_report_without_its_two_sample_tests_is_measured_again(tmp_path):
    """A day reported before the p-values existed (the column added empty) is not kept by a new materialization, so
    the feature-drift check's advice to materialize it again works."""
    report = tmp_path / "drift_report_day_020.html"
    report.write_text("<html></html>")
    with duckdb.connect() as connection:
        connection.execute("CREATE SCHEMA fraud")
        connection.execute(
            "CREATE TABLE fraud.drift_report AS SELECT 20 AS day, 'amount' AS \"column\", 'numeric' AS kind, "
            "'wasserstein' AS method, 0.02 AS score, 0.1 AS threshold, false AS drifted, "
            "CAST(NULL AS DOUBLE) AS p_value, 0.0 AS share_drifted, 'champion v1 training sample' AS reference, "
            f"5000 AS reference_rows, '{report}' AS report_path, 'rows 1:2; champion v1' AS data_fingerprint")
        assert stored_report(connection, 20, "rows 1:2; champion v1") is None
        connection.execute("UPDATE fraud.drift_report SET p_value = 0.4")
        kept = stored_report(connection, 20, "rows 1:2; champion v1")
        assert kept is not None and kept.table["p_value"].tolist() == [0.4]
        assert stored_report(connection, 20, "rows 9:9; champion v2") is None
