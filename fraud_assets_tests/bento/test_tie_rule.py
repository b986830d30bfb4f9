"""The service alerts a transaction whose score equals the threshold, as batch scoring does: a threshold is the score
of the alert budget's last row, so ties at it must be alerted online too, never decided the other way."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import datetime, timezone

import pytest

from bento.contract import Transaction
from fraud_assets.core.served_models import save_served_model
from fraud_assets.core.settings import simulation_epoch
from fraud_assets.core.transactions import prepare_raw_transactions, validate_transactions
from fraud_assets.ml.batch_scoring import score_transactions
from fraud_assets.ml.features import build_features
from fraud_assets.ml.training import predict_scores
from fraud_assets_tests.bento.conftest import IN_PROCESS_CONFIG, request_rows, service_env


def test_a_transaction_at_the_thresholds_score_is_alerted_online_as_in_batch(tmp_path, trained_champion):
    rows = trained_champion.unseen
    scores = predict_scores(trained_champion.booster, build_features(rows))
    at, below = int(scores.argmax()), int(scores.argmin())  # the threshold is the score of the top row
    assert scores[below] < scores[at]
    threshold = float(scores[at])
    card = dataclasses.replace(trained_champion.card("7"), threshold=threshold)
    save_served_model(tmp_path / "bentoml", "fraud_model", trained_champion.booster, card,
                      trained_champion.reference_sample)
    cleaned, _ = validate_transactions(prepare_raw_transactions(rows.iloc[[at, below]], simulation_epoch()))
    batch = score_transactions(cleaned, trained_champion.booster, threshold, "7", datetime.now(timezone.utc))
    assert batch["is_alert"].tolist() == [True, False]

    from bento.service import FraudScoring

    with pytest.MonkeyPatch.context() as patch:
        for key, value in service_env(tmp_path / "bentoml", tmp_path / "data", **IN_PROCESS_CONFIG).items():
            patch.setenv(key, value)
        service = FraudScoring()
        try:
            transactions = [Transaction.model_validate(row) for row in request_rows(rows.iloc[[at, below]])]
            online = asyncio.run(service.predict(transactions=transactions))
            single = asyncio.run(service.score(transactions=transactions[:1]))
        finally:
            service.shutdown()
    assert [decision["model_version"] for decision in online] == ["7", "7"]
    assert online[0]["score"] == threshold == single[0]["score"]
    assert [decision["is_alert"] for decision in online] == batch["is_alert"].tolist() == [True, False]
    assert single[0]["is_alert"] is True and online[0]["threshold"] == threshold
