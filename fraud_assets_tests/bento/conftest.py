"""Fixtures of the service tests: a small real champion in a temporary BentoML store, and service environments.

The champion is trained like the pipeline trains one (simulated days, `build_features`, `train_xgboost`), only
smaller, and saved with `save_served_model`, as a promotion does; no Dagster run is needed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
import xgboost as xgb

from fraud_assets.ml.features import FEATURE_COLUMNS, build_features
from fraud_assets.ml.training import XGBoostParams, time_split, train_xgboost
from fraud_assets.served_models import save_served_model
from fraud_assets.schema import day_of_step
from fraud_assets.simulation import SimulationSettings, simulate_days

TEST_PARAMS = XGBoostParams(n_estimators=40, max_depth=4, early_stopping_rounds=10, nthread=2)
TEST_THRESHOLD = 0.5
REQUEST_COLUMNS = ["step", "type", "amount", "nameOrig", "oldbalanceOrg", "newbalanceOrig", "nameDest",
                   "oldbalanceDest", "newbalanceDest"]


@dataclass
class TrainedChampion:
    booster: xgb.Booster
    reference_sample: pd.DataFrame
    unseen: pd.DataFrame  # simulated transactions of a later day, for requests

    def card(self, version: str) -> dict:
        return {
            "version": version,
            "threshold": TEST_THRESHOLD,
            "feature_columns": FEATURE_COLUMNS,
            "training_window": {"first_day": 0, "last_day": 4, "validation_days": 1},
            "metrics": {"auprc": 0.9, "roc_auc": 0.99},
            "promoted_at": "2025-02-01T00:00:00+00:00",
            "mlflow_run_id": "test",
        }

    def save(self, home: Path, version: str) -> str:
        """Promote: save as the newest `fraud_model` entry of the store under `home`; returns the BentoML tag."""
        return save_served_model(home, "fraud_model", self.booster, self.card(version), self.reference_sample)


@pytest.fixture(scope="session")
def trained_champion() -> TrainedChampion:
    """A small XGBoost champion trained on five simulated days (scale 0.02), plus a sixth day to score."""
    days = simulate_days(0, 5, SimulationSettings(seed=11, scale=0.02))
    day = day_of_step(days["step"])
    history, unseen = days[day <= 4], days[day == 5].reset_index(drop=True)
    features = build_features(history)
    train, valid = time_split(day[day <= 4], validation_days=1)
    model = train_xgboost(features[train], history["isFraud"][train], features[valid], history["isFraud"][valid],
                          TEST_PARAMS, seed=1)
    return TrainedChampion(booster=model.booster, reference_sample=features.sample(500, random_state=0),
                           unseen=unseen)


@pytest.fixture(scope="session")
def model_home(tmp_path_factory, trained_champion) -> Path:
    """A BentoML home whose store holds one champion, version "1" (shared: tests must not add entries to it)."""
    home = tmp_path_factory.mktemp("bentoml_home")
    trained_champion.save(home, "1")
    return home


def request_rows(frame: pd.DataFrame) -> list[dict]:
    """Rows of a PaySim frame as request transactions (JSON-able Python values, labels dropped)."""
    return [
        {column: (value.item() if hasattr(value, "item") else value) for column, value in row.items()}
        for row in frame[REQUEST_COLUMNS].to_dict(orient="records")
    ]


def service_env(model_home: Path, data_dir: Path, **extra: str) -> dict[str, str]:
    """Environment variables that point the service at a model store and a data folder."""
    return {"BENTOML_HOME": str(model_home), "FRAUD_DATA_DIR": str(data_dir), "BENTOML_DO_NOT_TRACK": "True",
            **extra}


# BentoML registers its Prometheus metrics in the process-wide registry when an app starts, so a second in-process
# app fails; the tests of /metrics run against `bentoml serve`.
IN_PROCESS_CONFIG = {"BENTOML_CONFIG_OPTIONS": "services.fraud_scoring.metrics.enabled=false"}


def valid_transaction(**changes) -> dict:
    transaction = {"step": 10, "type": "TRANSFER", "amount": 1000.0, "nameOrig": "C1", "oldbalanceOrg": 1000.0,
                   "newbalanceOrig": 0.0, "nameDest": "C2", "oldbalanceDest": 0.0, "newbalanceDest": 0.0}
    transaction.update(changes)
    return {key: value for key, value in transaction.items() if value is not ...}

