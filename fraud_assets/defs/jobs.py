"""Jobs over the asset graph; the main job runs them in order over the whole simulation window.

The daily jobs take their partitions from the daily assets they select (the Settings' simulation days).
"""

from __future__ import annotations

import dagster as dg

from fraud_assets.defs.names import (
    ARCHIVED_DECISIONS,
    DRIFT_REPORT,
    FRAUD_MODEL,
    MODEL_PERFORMANCE,
    REVIEW_EXPORT,
    REVIEWED_LABELS,
    SCORED_PREDICTIONS,
    STORE_RETENTION,
)
from fraud_assets.defs.resources.mlflow_tracking import end_mlflow_run_on_failure

DAY_OUTPUTS = dg.AssetSelection.assets(SCORED_PREDICTIONS, REVIEW_EXPORT, DRIFT_REPORT)  # what a scored day yields

daily_ingest_job = dg.define_asset_job(
    name="daily_ingest_job",
    selection=dg.AssetSelection.groups("ingest"),
    description="Raw, cleaned and rejected transactions (and their checks) for a range of days, in one run.",
)

train_model_job = dg.define_asset_job(
    name="train_model_job",
    selection=dg.AssetSelection.assets(REVIEWED_LABELS, FRAUD_MODEL),
    hooks={end_mlflow_run_on_failure},
    description="Bring analyst labels into the warehouse, train a challenger (nothing when the window, labels, config "
                "and code are those of a registered version), log it to MLflow and promote it when it beats the "
                "champion by the minimum gain or the champion fails its checks.",
)

daily_scoring_job = dg.define_asset_job(
    name="daily_scoring_job",
    selection=DAY_OUTPUTS,
    description="Score a range of days with the current champion, export its alerts for review and report drift, "
                "in one run.",
)

simulation_day_job = dg.define_asset_job(
    name="simulation_day_job",
    selection=dg.AssetSelection.groups("ingest") | DAY_OUTPUTS,
    description="Everything that happens when a new simulation day arrives: ingest, score, export, drift "
                "(the clock's job).",
)

model_performance_job = dg.define_asset_job(
    name="model_performance_job",
    selection=dg.AssetSelection.assets(REVIEWED_LABELS, MODEL_PERFORMANCE),
    description="Recompute per-day model performance on the labels known so far.",
)

retention_job = dg.define_asset_job(
    name="retention_job",
    selection=dg.AssetSelection.assets(STORE_RETENTION, ARCHIVED_DECISIONS),
    description="Prune every growing store to its retention, the decision log's old days moved into the warehouse "
                "(the nightly schedule runs it).",
)

all_jobs = [daily_ingest_job, train_model_job, daily_scoring_job, simulation_day_job, model_performance_job,
            retention_job]
