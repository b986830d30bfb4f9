"""Fixtures of the service tests: a small real champion in a temporary BentoML store, service environments, and
what importing the service loads.

The champion is trained like the pipeline trains one (simulated days, `build_features`, `train_xgboost`), only
smaller, and saved with `save_served_model`, as a promotion does; no Dagster run is needed.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
import xgboost as xgb

from bento.model_holder import ModelHolder
from fraud_assets.core.model_card import ModelCard
from fraud_assets.core.schema import day_of_step
from fraud_assets.core.served_models import ChampionModel, save_served_model
from fraud_assets.ml.features import FEATURE_COLUMNS, build_features
from fraud_assets.ml.training import XGBoostParams, time_split, train_xgboost
from fraud_assets.simulation import SimulationSettings, simulate_days

REPOSITORY_ROOT = Path(__file__).resolve().parents[2]
TEST_PARAMS = XGBoostParams(n_estimators=40, max_depth=4, early_stopping_rounds=10, nthread=2)
TEST_THRESHOLD = 0.5
TEST_TRAINING_WINDOW = {"as_of_day": 5, "first_train_day": 0, "last_train_day": 3, "first_validation_day": 4,
                        "last_validation_day": 4}
REQUEST_COLUMNS = ["step", "type", "amount", "nameOrig", "oldbalanceOrg", "newbalanceOrig", "nameDest",
                   "oldbalanceDest", "newbalanceDest"]


@dataclass
class TrainedChampion:
    booster: xgb.Booster
    reference_sample: pd.DataFrame
    unseen: pd.DataFrame  # simulated transactions of a later day, for requests

    def card(self, version: str) -> ModelCard:
        return ModelCard(
            threshold=TEST_THRESHOLD, threshold_strategy="alert_budget", expected_precision=0.8, expected_recall=0.7,
            expected_alerts_per_day=12.0, alert_budget_per_day=12.0,
            high_score_level=0.95, alerts_per_1000_transactions=2.92,
            feature_columns=list(FEATURE_COLUMNS), training_window=TEST_TRAINING_WINDOW,
            label_delay_days=1, metrics={"auprc": 0.9, "roc_auc": 0.99}, n_analyst_labels=0, best_iteration=39,
            version=version, promoted_at="2025-02-01T00:00:00+00:00", mlflow_run_id="test",
        )

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


@pytest.fixture(scope="session")
def champion(model_home) -> ChampionModel:
    """The champion of `model_home`, loaded as the service loads it (by a `ModelHolder`)."""
    holder = ModelHolder([model_home])
    return holder.refresh().current.champion


@dataclass(frozen=True)
class ServiceImports:
    modules: frozenset[str]  # every module in sys.modules after `import bento.service`
    project_files: frozenset[str]  # the files of those from bento/ and fraud_assets/, relative to the repository


@pytest.fixture(scope="session")
def service_imports(tmp_path_factory) -> ServiceImports:
    """What `import bento.service` loads in a fresh Python process."""
    probe = ("import json, sys\nimport bento.service\n"
             "print(json.dumps({name: getattr(module, '__file__', None) for name, module in sys.modules.items()}))")
    folder = tmp_path_factory.mktemp("service_imports")
    env = {**os.environ, **service_env(folder / "bentoml", folder / "data")}
    result = subprocess.run([sys.executable, "-c", probe], cwd=REPOSITORY_ROOT, env=env, capture_output=True,
                            text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stderr
    files = json.loads(result.stdout.splitlines()[-1])
    return ServiceImports(
        modules=frozenset(files),
        project_files=frozenset(Path(path).resolve().relative_to(REPOSITORY_ROOT).as_posix()
                                for name, path in files.items() if name.split(".")[0] in ("bento", "fraud_assets")),
    )


def request_rows(frame: pd.DataFrame) -> list[dict]:
    """Rows of a PaySim frame as request transactions (JSON-able Python values, labels dropped)."""
    return [
        {column: (value.item() if hasattr(value, "item") else value) for column, value in row.items()}
        for row in frame[REQUEST_COLUMNS].to_dict(orient="records")
    ]


def count_decisions(path: Path) -> int:
    """Rows of the decision log at `path`."""
    with sqlite3.connect(path) as connection:
        return connection.execute("SELECT COUNT(*) FROM decisions").fetchone()[0]


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

