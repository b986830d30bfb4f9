"""The one Definitions object of the code location: assets, checks, jobs and resources."""

from __future__ import annotations

import dagster as dg
from dagster_duckdb import DuckDBResource

from fraud_assets.assets.exports import review_export
from fraud_assets.assets.ingest import clean_transactions, raw_transactions
from fraud_assets.assets.labels import reviewed_labels
from fraud_assets.assets.monitoring import drift_report
from fraud_assets.assets.model import fraud_model
from fraud_assets.assets.scoring import model_performance, scored_predictions
from fraud_assets.checks import ingest_checks, monitoring_checks
from fraud_assets.jobs import all_jobs
from fraud_assets.mlflow_tracking import mlflow_tracking_in_data_dir
from fraud_assets.model_registry import ModelRegistry
from fraud_assets.resources import AppExports, DriftReports, LabelStore, TransactionSource
from fraud_assets.schedules import simulation_clock_schedule
from fraud_assets.sensors import RetrainPolicy, rescore_after_retraining_sensor, retrain_on_failed_checks_sensor
from fraud_assets.settings import Settings
from fraud_assets.warehouse import WAREHOUSE_SCHEMA, WarehouseIOManager

EXPERIMENT_NAME = "fraud_model"


def build_resources(settings: Settings) -> dict[str, object]:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return {
        "io_manager": WarehouseIOManager(database=str(settings.warehouse_path), schema=WAREHOUSE_SCHEMA),
        "warehouse": DuckDBResource(database=str(settings.warehouse_path)),  # direct reads, a day at a time
        "transaction_source": TransactionSource(
            kind=settings.source,
            paysim_csv_path=settings.paysim_csv_path,
            seed=settings.simulation_seed,
            scale=settings.simulation_scale,
            num_days=settings.simulation_days,
            volume_profile=settings.volume_profile,
            scenario=settings.drift_scenario,
            drift_start_day=settings.drift_start_day,
            drift_strength=settings.drift_strength,
        ),
        "mlflow": mlflow_tracking_in_data_dir.configured({
            "experiment_name": EXPERIMENT_NAME,
            "mlflow_tracking_uri": settings.tracking_uri,
            "artifact_location": str(settings.mlflow_artifacts_dir),
        }),
        "model_registry": ModelRegistry(tracking_uri=settings.tracking_uri, bentoml_home=str(settings.model_store_home)),
        "label_store": LabelStore(path=str(settings.label_store_path)),
        "app_exports": AppExports(exports_dir=str(settings.exports_dir)),
        "drift_reports": DriftReports(reports_dir=str(settings.reports_dir)),
        "retrain_policy": RetrainPolicy(cooldown_seconds=settings.retrain_cooldown_seconds),
    }


def build_definitions(settings: Settings) -> dg.Definitions:
    return dg.Definitions(
        assets=[raw_transactions, clean_transactions, fraud_model, scored_predictions, model_performance,
                review_export, reviewed_labels, drift_report],
        asset_checks=[*ingest_checks, *monitoring_checks],
        sensors=[retrain_on_failed_checks_sensor, rescore_after_retraining_sensor],
        schedules=[simulation_clock_schedule],
        jobs=all_jobs,
        resources=build_resources(settings),
        # A run's steps execute one after another in the run's process: warehouse steps are serialized by their pool
        # anyway, and a process per step would pay the imports (Evidently, MLflow, BentoML) for every step.
        executor=dg.in_process_executor,
    )


defs = build_definitions(Settings.from_env())
