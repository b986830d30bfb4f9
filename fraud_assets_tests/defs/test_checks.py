"""The checks' own reading of the warehouse's figures, on hand-made frames (their statistics: ml/test_evidence.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd

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
