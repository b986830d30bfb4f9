"""Every resource of the code location, built from one `Settings` by `build_resources`."""

from __future__ import annotations

import dagster as dg

from fraud_assets.core.database import DATABASE_URL_ENV
from fraud_assets.core.settings import Settings
from fraud_assets.defs.resources.mlflow_tracking import EXPERIMENT_NAME, mlflow_tracking_in_data_dir
from fraud_assets.defs.resources.model_registry import ModelRegistry
from fraud_assets.defs.resources.retention import StoreRetention
from fraud_assets.defs.resources.retrain_policy import RetrainPolicy
from fraud_assets.defs.resources.review_policy import ReviewPolicy
from fraud_assets.defs.resources.stores import AppExports, DriftReports, LabelStore
from fraud_assets.defs.resources.transaction_source import TransactionSource
from fraud_assets.defs.resources.warehouse import WAREHOUSE_SCHEMA, Warehouse, WarehouseIOManager


def build_resources(settings: Settings) -> dict[str, object]:
    """The resources, by the key assets, checks, sensors and schedules name them."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    warehouse = dict(database=str(settings.warehouse_path),
                     connection_config={"memory_limit": settings.warehouse_memory_limit})
    if settings.database is not None:  # the DuckLake; its catalog URL is read from the environment, never shown
        warehouse.update(lake_catalog_url=dg.EnvVar(DATABASE_URL_ENV),
                         lake_data_path=str(settings.warehouse_location.lake_data_path))
    return {
        "io_manager": WarehouseIOManager(schema=WAREHOUSE_SCHEMA, **warehouse),
        # the daily assets' writes and every read, a day at a time
        "warehouse": Warehouse(**warehouse),
        "transaction_source": TransactionSource.from_settings(settings),
        "mlflow": mlflow_tracking_in_data_dir.configured({
            "experiment_name": EXPERIMENT_NAME,
            "mlflow_tracking_uri": settings.tracking_uri,
            "artifact_location": str(settings.mlflow_artifacts_dir),
        }),
        "model_registry": ModelRegistry.from_settings(settings, database_url_as_env_var=True),
        "label_store": LabelStore(path=str(settings.label_store_path),
                                  database_url=None if settings.database is None else dg.EnvVar(DATABASE_URL_ENV)),
        "app_exports": AppExports(exports_dir=str(settings.exports_dir)),
        "drift_reports": DriftReports(reports_dir=str(settings.reports_dir)),
        "review_policy": ReviewPolicy.from_settings(settings),
        "retrain_policy": RetrainPolicy(cooldown_seconds=settings.retrain_cooldown_seconds,
                                        false_retrainings_per_year=settings.false_retrainings_per_year),
        "store_retention": StoreRetention.from_settings(settings),
    }
