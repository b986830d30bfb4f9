"""Analyst labels in the team database reach the next training: label events appended to PostgreSQL (as every
label-app replica appends them, fraud_assets_tests/label_app/test_app_team.py) are what `fraud_model` trains with,
through `reviewed_labels`, on the team deployment's lake."""

from __future__ import annotations

import dagster as dg

from fraud_assets.core.database import DatabaseUrl
from fraud_assets.core.label_store import append_label_event
from fraud_assets.core.settings import Settings
from fraud_assets.core.warehouse_engine import open_warehouse
from fraud_assets.simulation.settings import SimulationSettings
from fraud_assets_tests.defs.test_model_assets import ALERTS_PER_1000, DAYS, MODEL_CONFIG, model_metadata, run


def test_labels_in_the_team_database_reach_the_next_training(postgres_database, tmp_path, monkeypatch):
    monkeypatch.setenv("FRAUD_DATABASE_URL", postgres_database)  # the resources read the URL through EnvVar
    settings = Settings(data_dir=tmp_path / "data", simulation=SimulationSettings(scale=0.02),
                        alerts_per_1000_transactions=ALERTS_PER_1000, database=DatabaseUrl.parse(postgres_database),
                        shared_dir=tmp_path / "shared", mlflow_tracking_uri=f"sqlite:///{tmp_path / 'mlflow.db'}")
    open_warehouse(settings.warehouse_location).close()  # the lake's catalog, created before the runs
    instance = dg.DagsterInstance.ephemeral()
    run(settings, instance, "daily_ingest_job", (0, DAYS - 1))
    first = model_metadata(run(settings, instance, "train_model_job", model_config=MODEL_CONFIG))
    assert first["analyst_labels_used"] == 0

    with open_warehouse(settings.warehouse_location, read_only=True) as connection:
        genuine = [row[0] for row in connection.execute(
            "SELECT transaction_id FROM fraud.cleaned_transactions WHERE day = 4 AND isFraud = 0 "
            "ORDER BY transaction_id LIMIT 5").fetchall()]
    for transaction_id in genuine:  # an analyst calls five genuine training rows fraud
        append_label_event(settings.label_store, transaction_id, 1, reviewer="analyst", note="mule account")

    labeled = model_metadata(run(settings, instance, "train_model_job", model_config=MODEL_CONFIG))
    assert labeled["analyst_labels_used"] == 5
    assert labeled["unchanged"] is False and labeled["model_version"] != first["model_version"]
