"""The typed model card: what fraud_model writes is what every reader gets back, and a card that is not one fails
with the fields it lacks."""

from __future__ import annotations

import pytest

from fraud_assets.core import bentoml_compat
from fraud_assets.core.model_card import ModelCard

CARD = ModelCard(
    threshold=0.73, threshold_strategy="alert_budget", expected_precision=0.5, expected_recall=0.9,
    expected_alerts_per_day=58.0, alert_budget_per_day=60.0, high_score_level=0.95,
    alerts_per_1000_transactions=2.92,
    feature_columns=["amount", "log_amount"], training_window={"as_of_day": 15, "last_validation_day": 14},
    label_delay_days=1, metrics={"auprc": 0.98}, n_analyst_labels=3, best_iteration=41,
)


def test_a_card_survives_the_round_trip_through_a_dict_and_promotion_adds_only_its_fields():
    assert "version" not in CARD.to_dict()
    assert ModelCard.from_dict(CARD.to_dict()) == CARD
    promoted = CARD.promoted("4", "2026-12-02T00:00:00+00:00")
    stored = {**promoted.to_dict(), "mlflow_run_id": "abc"}
    again = ModelCard.from_dict(stored)
    assert (again.version, again.promoted_at, again.mlflow_run_id, again.last_validation_day) == (
        "4", "2026-12-02T00:00:00+00:00", "abc", 14)
    assert again.threshold == CARD.threshold and again.feature_columns == CARD.feature_columns


def test_unknown_keys_are_kept_apart_and_a_version_stored_as_a_number_is_read_as_text():
    card = ModelCard.from_dict({**CARD.to_dict(), "version": 7, "added_later": "x"})
    assert card.version == "7" and card.extra == {"added_later": "x"}
    assert card.to_dict()["added_later"] == "x"


def test_a_dict_that_is_not_a_card_names_what_it_lacks():
    values = CARD.to_dict()
    del values["threshold"], values["metrics"]
    with pytest.raises(ValueError, match="threshold, .*metrics"):
        ModelCard.from_dict(values)


def test_the_bentoml_file_name_the_store_checks_is_bentomls_own():
    from bentoml._internal.models.model import MODEL_YAML_FILENAME

    assert bentoml_compat.MODEL_YAML_FILENAME == MODEL_YAML_FILENAME
