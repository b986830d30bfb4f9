"""MLflow tracking for training runs: dagster-mlflow's resource, with the project's experiment created first, and a
hook that closes the MLflow run of a failed step.

Embedded, the experiment's artifacts live under the data folder (MLflow would otherwise put them in ./mlruns of
whatever directory a run starts in); against the team deployment's tracking server, they go through the server into
the shared path (`ensure_experiment`).

MLflow and dagster-mlflow are imported when a run initializes the resource, not when the definitions load.
"""

from __future__ import annotations

from typing import Any, Protocol

import dagster as dg

from fraud_assets.defs.resources.model_registry import ensure_experiment

EXPERIMENT_NAME = "fraud_model"


class MlflowRunLogger(Protocol):
    """What training uses of dagster-mlflow's `MlFlow` resource (the `mlflow` module's functions, bound to the run)."""

    xgboost: Any

    def log_params(self, params: dict) -> None: ...
    def log_metrics(self, metrics: dict) -> None: ...
    def log_figure(self, figure: Any, artifact_file: str) -> None: ...
    def log_dict(self, dictionary: dict, artifact_file: str) -> None: ...
    def log_artifact(self, local_path: str) -> None: ...
    def active_run(self) -> Any: ...
    def end_run(self, status: str = "FINISHED") -> None: ...


@dg.resource(config_schema={
    "experiment_name": dg.Field(str, default_value=EXPERIMENT_NAME),
    "mlflow_tracking_uri": dg.Field(str, description="MLflow tracking URI (sqlite:///... or a tracking server)."),
    "artifact_location": dg.Field(str, description="Folder of the experiment's artifacts when it is created on a "
                                  "local store (a tracking server keeps its own)."),
})
def mlflow_tracking_in_data_dir(init_context) -> MlflowRunLogger:
    from dagster_mlflow.resources import MlFlow

    config = init_context.resource_config
    ensure_experiment(config["mlflow_tracking_uri"], config["experiment_name"], config["artifact_location"])
    return MlFlow(init_context)


@dg.failure_hook(required_resource_keys={"mlflow"})
def end_mlflow_run_on_failure(context: dg.HookContext) -> None:
    """Mark the MLflow run of a failed step FAILED (a successful training ends its run itself)."""
    context.resources.mlflow.end_run(status="FAILED")
