"""The model lifecycle through Dagster: train, promote, re-run an unchanged training (nothing new), refuse a
challenger without a real gain, replace a champion that fails its checks, score, roll back, analyst labels.

The tests share one module fixture and run in order: each leaves the registry as the next expects."""

from __future__ import annotations

import json
from pathlib import Path

import dagster as dg
import duckdb
import pytest
from mlflow.tracking import MlflowClient

from fraud_assets.cli.rollback import main as rollback_main
from fraud_assets.core.label_store import append_label_event, read_latest_labels
from fraud_assets.core.served_models import MODEL_NAME, complete_served_entries
from fraud_assets.core.settings import Settings
from fraud_assets.defs import build_definitions
from fraud_assets.defs.assets.fraud_model import (
    CHAMPION_FAILED_CHECKS_TAG,
    FAILING_CHAMPION_TAG,
    FraudModelConfig,
    config_window,
    read_window,
)
from fraud_assets.defs.names import RECALL_CHECK
from fraud_assets.defs.partitions import day_range_tags, partition_key_of_day
from fraud_assets.defs.resources.model_registry import FINGERPRINT_TAG, UNCHANGED_AS_TAG, ModelRegistry
from fraud_assets.defs.resources.retrain_policy import RetrainPolicy
from fraud_assets.defs.resources.review_policy import ReviewPolicy
from fraud_assets.defs.resources.warehouse import Warehouse, read_stored_days
from fraud_assets.defs.sensors import retrain_on_failed_checks_sensor
from fraud_assets.ml.label_maturity import known_labels
from fraud_assets.simulation.settings import SimulationSettings

DAYS = 10
MODEL_CONFIG = {"as_of_day": 9, "training_days": 5, "validation_days": 3, "n_estimators": 60}
ALERTS_PER_1000 = 4.9  # about 20 alerts a day at scale 0.02 (4,100 transactions)


def run(settings, instance, job_name, days=None, model_config=None, tags=None):
    tags = {**(day_range_tags(*days) if days else {}), **(tags or {})}
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


def registered_versions(settings) -> dict[str, dict[str, str]]:
    """Every registered version of the model and its tags."""
    versions = MlflowClient(settings.tracking_uri).search_model_versions(f"name = '{MODEL_NAME}'")
    return {str(version.version): dict(version.tags) for version in versions}


def served_entries(settings) -> int:
    return len(complete_served_entries(settings.model_store_home, MODEL_NAME))


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
    settings, instance, first = trained
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
    # the training fingerprint is on the run, on the version, and is the materialization's data version
    assert first["unchanged"] is False and len(first["training_fingerprint"]) == 24
    assert run.data.tags[FINGERPRINT_TAG] == first["training_fingerprint"]
    assert registered_versions(settings) == {"1": {FINGERPRINT_TAG: first["training_fingerprint"]}}
    assert latest_tags(instance, "fraud_model")["dagster/data_version"] == first["training_fingerprint"]


def test_an_unchanged_training_registers_nothing_and_promotes_nothing(trained):
    """The same window, labels, config and code: no fit, no new version, no promotion, no new served entry, and the
    same data version (also when only the as-of day's spelling or a promotion setting differs)."""
    settings, instance, first = trained
    entries = served_entries(settings)
    same_window = {key: value for key, value in MODEL_CONFIG.items() if key != "as_of_day"}  # day 9 is the newest
    for config in (MODEL_CONFIG, same_window, {**MODEL_CONFIG, "promotion_min_gain": -1.0}):
        result = run(settings, instance, "train_model_job", model_config=config)
        again = model_metadata(result)
        assert again["unchanged"] is True and again["promoted"] is False, again["promotion_reason"]
        assert again["model_version"] == "1" and again["mlflow_run_id"] == first["mlflow_run_id"]
        assert again["training_fingerprint"] == first["training_fingerprint"]
        assert "version 1" in again["unchanged_reason"]
        assert latest_tags(instance, "fraud_model")["dagster/data_version"] == first["training_fingerprint"]
        # the run's own MLflow run says which version it stands for, and is closed
        skipped = MlflowClient(settings.tracking_uri).search_runs(
            [MlflowClient(settings.tracking_uri).get_run(first["mlflow_run_id"]).info.experiment_id],
            f"tags.dagster_run_id = '{result.run_id}'")
        assert [(r.data.tags[UNCHANGED_AS_TAG], r.info.status) for r in skipped] == [("1", "FINISHED")]
    assert list(registered_versions(settings)) == ["1"]
    assert served_entries(settings) == entries
    assert ModelRegistry.from_settings(settings).load_champion().version == "1"


def test_a_changed_config_trains_a_new_version_promoted_only_with_a_real_gain(trained):
    settings, instance, first = trained
    # a gain of 1.0 in AUPRC cannot happen: the new version stays a challenger
    reseeded = {**MODEL_CONFIG, "seed": 8, "promotion_min_gain": 1.0}
    refused = model_metadata(run(settings, instance, "train_model_job", model_config=reseeded))
    assert refused["unchanged"] is False and refused["model_version"] == "2" and refused["promoted"] is False
    assert refused["training_fingerprint"] != first["training_fingerprint"]
    assert "less than the minimum gain 1.0" in refused["promotion_reason"]
    assert sorted(registered_versions(settings)) == ["1", "2"]
    assert ModelRegistry.from_settings(settings).load_champion().version == "1"


def report_failed_check(instance: dg.DagsterInstance, day: int) -> None:
    instance.report_runless_asset_event(dg.AssetCheckEvaluation(
        asset_key=RECALL_CHECK.asset_key, check_name=RECALL_CHECK.name, passed=False, metadata={},
        partition=partition_key_of_day(day)))


def test_a_champion_failing_its_checks_is_replaced_without_a_gain(trained):
    """The retraining sensor's run names the champion's failed check: a challenger not worse than the tolerance wins
    even when no gain could; here the registered version 2 (same fingerprint) wins without being trained again."""
    settings, instance, _ = trained
    report_failed_check(instance, 9)  # after version 1's window (validated up to day 8)
    context = dg.build_sensor_context(instance=instance, resources={
        "model_registry": ModelRegistry.from_settings(settings), "retrain_policy": RetrainPolicy(cooldown_seconds=0)})
    (request,) = retrain_on_failed_checks_sensor.evaluate_tick(context).run_requests
    assert request.tags[CHAMPION_FAILED_CHECKS_TAG] == RECALL_CHECK.name and request.tags[FAILING_CHAMPION_TAG] == "1"
    lenient = {**MODEL_CONFIG, "seed": 8, "promotion_min_gain": 1.0, "promotion_tolerance": 1.0}
    replaced = model_metadata(run(settings, instance, "train_model_job", model_config=lenient, tags=request.tags))
    assert replaced["unchanged"] is True and replaced["model_version"] == "2" and replaced["promoted"] is True
    assert replaced["champion_failed_checks"] == RECALL_CHECK.name
    assert RECALL_CHECK.name in replaced["promotion_reason"]
    assert sorted(registered_versions(settings)) == ["1", "2"]
    assert ModelRegistry.from_settings(settings).load_champion().version == "2"
    # the tags of a retraining asked for another champion do not relax the rule for this one
    stale = {**request.tags, FAILING_CHAMPION_TAG: "1"}
    kept = model_metadata(run(settings, instance, "train_model_job", model_config={**lenient, "seed": 9}, tags=stale))
    assert kept["model_version"] == "3" and kept["promoted"] is False and kept["champion_failed_checks"] == "none"


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
    registry = ModelRegistry.from_settings(settings)
    assert registry.load_champion().version == "2"  # promoted by the failing-check test
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
    # new labels in the window are a new training: a new version
    assert labeled["unchanged"] is False and labeled["model_version"] not in {"1", "2", "3"}


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


def test_a_busy_training_day_trains_on_its_fraud_and_a_repeatable_sample_of_its_genuine_rows(trained):
    """With a cap of 1,000 genuine rows a day (scale 0.02: about 4,100 rows a day), each training day reads its
    fraud, its analyst-labeled rows and 1,000 genuine rows weighing for all the day's genuine rows; the same data and
    seed read the same sample (the fingerprint of a second read, and of a second training run, is the same)."""
    settings, instance, _ = trained
    cap = 1_000
    config = FraudModelConfig(**MODEL_CONFIG, max_genuine_rows_per_training_day=cap)
    window = config_window(config, label_delay_days=1, newest_day=None)
    warehouse = Warehouse(database=str(settings.warehouse_path))
    policy = ReviewPolicy.from_settings(settings)
    analyst = read_latest_labels(settings.label_store_path)
    data = read_window(warehouse, config, window, policy, analyst)
    with warehouse.get_connection() as connection:
        whole = read_stored_days(connection, "cleaned_transactions", window.first_train_day, window.last_train_day)
    known = known_labels(whole, window.as_of_day, policy.label_delay_days, analyst)
    assert all(sample.sampled for sample in data.samples)
    for day in range(window.first_train_day, window.last_train_day + 1):
        day_known = known[whole["day"] == day]
        kept = int(((day_known["label"] == 1) | (day_known["label_source"] == "analyst")).sum())
        read = data.train.day == day
        assert read.sum() == cap + kept  # every fraud and analyst-labeled row, and the cap of genuine rows
        genuine = read & (data.train.label == 0)
        assert data.train.weight[genuine].sum() == pytest.approx((day_known["label"] == 0).sum())
    assert data.train.weight.sum() == pytest.approx(len(whole))
    assert len(data.validation.day) == len(query(settings, "SELECT * FROM fraud.cleaned_transactions "
                                                           "WHERE day BETWEEN 6 AND 8"))  # validation days whole
    again = read_window(warehouse, config, window, policy, analyst)
    assert again.fingerprint == data.fingerprint and again.train.features.equals(data.train.features)
    assert again.reference.equals(data.reference) and len(data.reference) == 5_000
    reseeded = read_window(warehouse, config.model_copy(update={"seed": 8}), window, policy, analyst)
    assert not reseeded.train.features.equals(data.train.features)
    # through Dagster: trained on the sample, standing for the whole days; an unchanged second run trains nothing
    capped = {**MODEL_CONFIG, "max_genuine_rows_per_training_day": cap}
    sampled = model_metadata(run(settings, instance, "train_model_job", model_config=capped))
    assert sampled["unchanged"] is False and sampled["train_days_sampled"] == 5
    assert sampled["train_rows"] == len(data.train.day) and sampled["train_rows_represented"] == len(whole)
    assert sampled["challenger_auprc"] > 0.8
    repeated = model_metadata(run(settings, instance, "train_model_job", model_config=capped))
    assert repeated["unchanged"] is True and repeated["model_version"] == sampled["model_version"]
    assert repeated["training_fingerprint"] == sampled["training_fingerprint"] == data.fingerprint
