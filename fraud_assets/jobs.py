"""Jobs over the asset graph."""

from __future__ import annotations

import dagster as dg

from fraud_assets.partitions import simulation_day_partitions

daily_pipeline_job = dg.define_asset_job(
    name="daily_pipeline_job",
    selection=dg.AssetSelection.groups("ingest"),
    partitions_def=simulation_day_partitions,
    description="Every daily asset of a range of simulation days, in one run (the main job runs it over the whole window).",
)
