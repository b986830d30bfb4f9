"""Jobs over the asset graph; the main job runs them in order over the whole simulation window."""

from __future__ import annotations

import dagster as dg
from dagster_mlflow import end_mlflow_on_run_finished

from fraud_assets.partitions import simulation_day_partitions

daily_ingest_job = dg.define_asset_job(
    name="daily_ingest_job",
    selection=dg.AssetSelection.groups("ingest"),
    partitions_def=simulation_day_partitions,
    description="Raw, cleaned and rejected transactions (and their checks) for a range of days, in one run.",
)

train_model_job = dg.define_asset_job(
    name="train_model_job",
    selection=dg.AssetSelection.assets("reviewed_labels", "fraud_model"),
    hooks={end_mlflow_on_run_finished},
    description="Bring analyst labels into the warehouse, train a challenger, log it to MLflow and promote it when it is not worse than the champion.",
)

daily_scoring_job = dg.define_asset_job(
    name="daily_scoring_job",
    selection=dg.AssetSelection.assets("scored_predictions", "review_export", "drift_report"),
    partitions_def=simulation_day_partitions,
    description="Score a range of days with the current champion, export its alerts for review and report drift, in one run.",
)

simulation_day_job = dg.define_asset_job(
    name="simulation_day_job",
    selection=dg.AssetSelection.groups("ingest") | dg.AssetSelection.assets("scored_predictions", "review_export", "drift_report"),
    partitions_def=simulation_day_partitions,
    description="Everything that happens when a new simulation day arrives: ingest, score, export, drift (the clock's job).",
)

model_performance_job = dg.define_asset_job(
    name="model_performance_job",
    selection=dg.AssetSelection.assets("reviewed_labels", "model_performance"),
    description="Recompute per-day model performance on the labels known so far.",
)

all_jobs = [daily_ingest_job, train_model_job, daily_scoring_job, simulation_day_job, model_performance_job]
