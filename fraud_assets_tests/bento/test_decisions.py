"""Decisions on their own: the service's scores, alerts and reasons are batch scoring's."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import numpy as np
import pandas as pd

from bento.contract import Transaction
from bento.decisions import decide
from fraud_assets.ml.batch_scoring import score_transactions
from fraud_assets_tests.bento.conftest import TEST_THRESHOLD, request_rows


def test_decide_matches_batch_scoring_exactly(champion, trained_champion):
    """Same rows, same champion: the service's scores, alerts and reasons are the batch scoring ones."""
    day = trained_champion.unseen
    batch = score_transactions(day.assign(transaction_id=np.arange(len(day)).astype(str), event_ts=pd.Timestamp(0),
                                          day=5), trained_champion.booster, TEST_THRESHOLD, "1",
                               datetime.now(UTC))
    decisions, _ = decide(champion, [Transaction.model_validate(row) for row in request_rows(day)])
    np.testing.assert_array_equal([decision["score"] for decision in decisions], batch["score"].to_numpy())
    np.testing.assert_array_equal([decision["is_alert"] for decision in decisions], batch["is_alert"].to_numpy())
    assert batch["is_alert"].sum() > 0, "the test champion should alert some simulated rows"
    for decision, batch_reasons in zip(decisions, batch["reasons"]):
        expected = json.loads(batch_reasons) if batch_reasons else []
        assert [reason["feature"] for reason in decision["reasons"]] == [reason["feature"] for reason in expected]
        np.testing.assert_allclose([reason["contribution"] for reason in decision["reasons"]],
                                   [reason["contribution"] for reason in expected], rtol=0, atol=1e-6)
