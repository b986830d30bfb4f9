"""The model lifecycle through Dagster: train, promote, refuse a worse challenger, score, roll back, analyst labels."""

from __future__ import annotations

import json
from pathlib import Path

import dagster as dg
import duckdb
import pytest
from mlflow.tracking import MlflowClient

from fraud_assets.cli.rollback import main as rollback_main
from fraud_assets.core.label_store import append_label_event
from fraud_assets.core.settings import Settings
from fraud_assets.defs import build_definitions
from fraud_assets.defs.partitions import day_range_tags
from fraud_assets.defs.resources.model_registry import ModelRegistry
from fraud_assets.simulation.settings import SimulationSettings

DAYS = 10
MODEL_CONFIG = {"as_of_day": 9, "training_days": 5, "validation_days": 3, "n_estimators": 60}
ALERTS_PER_1000 = 4.9  # about 20 alerts a day at scale 0.02 (4,100 transactions)


def run(settings, instance, job_name, days=None, model_config=None):
    tags = day_range_tags(*days) if days else {}
    run_config = {"ops": {"fraud_model": {"config": model_config}}} if model_config else None
    result = build_definitions(settings).resolve_job_def(job_name).execute_in_process(
        instance=instance, tags=tags, run_config=run_config, raise_on_error=False)
    assert result.success, f"{job_name} failed"
    return result


def model_metadata(result) -> dict:
    (event,) = [e for e in result.get_asset_materialization_events()
                if e.materialization.asset_key.to_user_string() == "fraud_model"]
    return {key: value.value for key, value in event.materialization.metadata.items()}


def query(settings, sql):
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as connection:
        return connection.execute(sql).fetchall()


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """Ten ingested days and a first model (the champion)."""
    settings = Settings(data_dir=tmp_path_factory.mktemp("lifecycle"), simulation=SimulationSettings(scale=0.02),
                        alerts_per_1000_transactions=ALERTS_PER_1000)
    instance = dg.DagsterInstance.ephemeral()
    run(settings, instance, "daily_ingest_job", (0, DAYS - 1))
    first = model_metadata(run(settings, instance, "train_model_job", model_config=MODEL_CONFIG))
    return settings, instance, first


def test_the_first_model_is_champion_in_mlflow_and_the_bentoml_store(trained):
    settings, _, first = trained
    assert first["promoted"] is True and first["model_version"] == "1"
    assert first["training_window"] == "train days 1-5, validate days 6-8 (as of day 9)"
    assert first["challenger_auprc"] > 0.8
    # the rows trained and validated on are exactly the window's days in the warehouse (days 0 and 9 are outside it)
    (window_rows,) = query(settings, "SELECT count(*) FROM fraud.cleaned_transactions WHERE day BETWEEN 1 AND 8")[0]
    assert first["train_rows"] + first["validation_rows"] == window_rows
    registry = ModelRegistry.from_settings(settings)
    assert registry.champion_version() == "1"
    champion = registry.load_champion()
    assert champion.version == "1" and 0 < champion.threshold <= 1
    assert champion.card.last_validation_day == 8 and champion.card.version == "1"
    assert champion.card.alerts_per_1000_transactions == ALERTS_PER_1000 and champion.card.label_delay_days == 1
    assert champion.card.mlflow_run_id == first["mlflow_run_id"]
    assert {"auprc", "roc_auc", "recall_at_budget", "brier"} <= set(champion.card.metrics)
    assert len(champion.reference_sample) > 1000 and "score" in champion.reference_sample
    run = MlflowClient(settings.tracking_uri).get_run(first["mlflow_run_id"])
    assert run.data.metrics["validation_auprc"] == pytest.approx(first["challenger_auprc"])
    assert run.data.params["window_first_train_day"] == "1"


def test_a_challenger_worse_than_the_tolerance_allows_is_not_promoted(trained):
    settings, instance, first = trained
    # a negative tolerance demands a better AUPRC than the champion's; the same data cannot give one
    strict = {**MODEL_CONFIG, "promotion_tolerance": -0.5}
    refused = model_metadata(run(settings, instance, "train_model_job", model_config=strict))
    assert refused["promoted"] is False
    assert refused["champion_auprc"] == pytest.approx(first["challenger_auprc"], abs=1e-9)
    assert ModelRegistry.from_settings(settings).load_champion().version == "1"


def test_scoring_replaces_a_day_and_explains_alerts(trained):
    settings, instance, _ = trained
    run(settings, instance, "daily_scoring_job", (7, 9))
    cleaned = dict(query(settings, "SELECT day, count(*) FROM fraud.cleaned_transactions WHERE day >= 7 GROUP BY day"))
    scored = dict(query(settings, "SELECT day, count(*) FROM fraud.scored_predictions GROUP BY day"))
    assert scored == cleaned
    run(settings, instance, "daily_scoring_job", (8, 8))
    assert dict(query(settings, "SELECT day, count(*) FROM fraud.scored_predictions GROUP BY day")) == cleaned
    alerts = query(settings, "SELECT reasons, score, threshold FROM fraud.scored_predictions WHERE is_alert")
    assert alerts and all(score >= threshold for _, score, threshold in alerts)
    reasons = json.loads(alerts[0][0])
    assert 1 <= len(reasons) <= 3 and {"feature", "value", "contribution", "description"} <= set(reasons[0])
    assert query(settings,
                 "SELECT count(*) FROM fraud.scored_predictions WHERE NOT is_alert AND reasons <> ''") == [(0,)]


def test_rollback_serves_an_earlier_version_again(trained):
    settings, instance, _ = trained
    second = model_metadata(run(settings, instance, "train_model_job", model_config=MODEL_CONFIG))
    assert second["promoted"] is True
    registry = ModelRegistry.from_settings(settings)
    assert registry.load_champion().version == second["model_version"] != "1"
    env = {"FRAUD_DATA_DIR": str(settings.data_dir)}
    with pytest.MonkeyPatch.context() as patch:
        for key, value in env.items():
            patch.setenv(key, value)
        assert rollback_main(["--version", "1"]) == 0
        assert rollback_main(["--version", "999"]) == 2
    assert registry.champion_version() == "1"
    assert registry.load_champion().version == "1"


def test_analyst_labels_reach_training(trained):
    settings, instance, _ = trained
    ids = [row[0] for row in query(settings, "SELECT transaction_id FROM fraud.cleaned_transactions "
                                             "WHERE day = 4 AND isFraud = 0 LIMIT 5")]
    write_label_events(settings.label_store_path, ids, label=1)
    labeled = model_metadata(run(settings, instance, "train_model_job", model_config=MODEL_CONFIG))
    assert labeled["analyst_labels_used"] == 5


def write_label_events(path: Path, transaction_ids: list[str], label: int) -> None:
    for transaction_id in transaction_ids:
        append_label_event(path, transaction_id, label, reviewer="analyst")


def latest_tags(instance: dg.DagsterInstance, asset_key: str) -> dict[str, str]:
    return dict(instance.get_latest_materialization_event(dg.AssetKey(asset_key)).asset_materialization.tags)


def test_rereading_unchanged_labels_keeps_the_model_in_sync_and_a_new_label_does_not(trained):
    """Dagster marks the model out of date ("Unsynced") when the labels' data version differs from the one it was
    trained on; re-reading the label store (as every model_performance_job does) must not change it."""
    settings, instance, _ = trained
    definitions = build_definitions(settings)
    run(settings, instance, "train_model_job", model_config=MODEL_CONFIG)
    trained_on = latest_tags(instance, "fraud_model")["dagster/input_data_version/reviewed_labels"]
    assert trained_on == latest_tags(instance, "reviewed_labels")["dagster/data_version"]

    def reread_labels() -> str:
        result = definitions.resolve_implicit_global_asset_job_def().execute_in_process(
            instance=instance, asset_selection=[dg.AssetKey("reviewed_labels")])
        assert result.success
        return latest_tags(instance, "reviewed_labels")["dagster/data_version"]

    assert reread_labels() == trained_on
    (transaction_id,) = query(settings,
                              "SELECT transaction_id FROM fraud.cleaned_transactions WHERE day = 3 LIMIT 1")[0]
    write_label_events(settings.label_store_path, [transaction_id], label=1)
    assert reread_labels() != trained_on


def test_without_an_as_of_day_the_model_trains_as_of_the_newest_ingested_day(trained):
    settings, instance, _ = trained
    config = {key: value for key, value in MODEL_CONFIG.items() if key != "as_of_day"}
    assert model_metadata(run(settings, instance, "train_model_job", model_config=config))["training_window"] == (
        f"train days 1-5, validate days 6-8 (as of day {DAYS - 1})")
