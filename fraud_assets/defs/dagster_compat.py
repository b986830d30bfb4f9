"""The Dagster internals this project relies on, in one place (pinned by the `dagster<1.14` bound).

None of these names is exported by `dagster` 1.13; each is used for a reason the public API does not cover:
- `ASSET_PARTITION_RANGE_START_TAG` / `_END_TAG`: the tags that make one run cover a range of days (a single-run
  backfill), which the main job, the replay and the sensors set on their run requests;
- `AssetCheckExecutionRecordStatus`: the status of a check's latest execution, read by the retraining sensor;
- `AssetCheckEvaluationTargetMaterializationData`: which materialization a per-day check evaluation judged;
- `TableMetadataSet`, `DbTypeHandler`, `TableSlice`: extending dagster-duckdb's type handler for empty frames.
"""

from __future__ import annotations

from dagster._core.definitions.asset_checks.asset_check_evaluation import (
    AssetCheckEvaluationTargetMaterializationData,
)
from dagster._core.definitions.metadata import TableMetadataSet
from dagster._core.storage.asset_check_execution_record import AssetCheckExecutionRecordStatus
from dagster._core.storage.db_io_manager import DbTypeHandler, TableSlice
from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG

__all__ = [
    "ASSET_PARTITION_RANGE_END_TAG",
    "ASSET_PARTITION_RANGE_START_TAG",
    "AssetCheckEvaluationTargetMaterializationData",
    "AssetCheckExecutionRecordStatus",
    "DbTypeHandler",
    "TableMetadataSet",
    "TableSlice",
    "partition_range_tags",
]


def partition_range_tags(first_key: str, last_key: str) -> dict[str, str]:
    """Run tags that make one run cover the partitions first_key..last_key (a single-run backfill)."""
    return {ASSET_PARTITION_RANGE_START_TAG: first_key, ASSET_PARTITION_RANGE_END_TAG: last_key}
