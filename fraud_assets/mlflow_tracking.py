"""dagster-mlflow's tracking resource, with the project's experiment created first so that its artifacts live
under the data folder (MLflow would otherwise put them in ./mlruns of whatever directory a run starts in)."""

from __future__ import annotations

import dagster as dg
from dagster_mlflow.resources import CONFIG_SCHEMA, MlFlow

from fraud_assets.model_registry import ensure_experiment


@dg.resource(config_schema={**CONFIG_SCHEMA, "artifact_location": dg.Field(str, is_required=True)})
def mlflow_tracking_in_data_dir(init_context) -> MlFlow:
    config = init_context.resource_config
    ensure_experiment(config["mlflow_tracking_uri"], config["experiment_name"], config["artifact_location"])
    return MlFlow(init_context)
