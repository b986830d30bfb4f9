"""The Dagster internals this project relies on, in one place (pinned by the `dagster<1.14` bound).

None of these names is exported by `dagster` 1.13; each is used for a reason the public API does not cover:
- `ASSET_PARTITION_RANGE_START_TAG` / `_END_TAG`: the tags that make one run cover a range of days (a single-run
  backfill), which the main job, the replay and the sensors set on their run requests;
- `AssetCheckExecutionRecordStatus`: the status of a check's latest execution, read by the retraining sensor;
- `AssetCheckEvaluationTargetMaterializationData`: which materialization a per-day check evaluation judged;
- `JobFailureData`, `RunFailureReason`, `CheckRunHealthResult`, `WorkerStatus`: failing a run whose process died,
  from the main job's start and from the run launcher that run monitoring asks (`report_run_worker_gone`,
  `run_worker_health`);
- `TableMetadataSet`, `DbIOManager`, `DbTypeHandler`, `TableSlice`: the warehouse IO manager (dagster-duckdb's, with
  each write in one transaction and empty frames stored).

And one behaviour to guard against: every in-process Dagster run ends by mapping SIGTERM to whatever handles SIGINT
(`dagster._utils.interrupts`). A process started with SIGINT ignored (a background job of a non-interactive shell:
`nohup make run &`, CI) then ignores SIGTERM, and so does every process it starts: `keep_sigterm_deliverable`.
"""

from __future__ import annotations

import signal
import threading

import dagster as dg
from dagster._core.definitions.asset_checks.asset_check_evaluation import (
    AssetCheckEvaluationTargetMaterializationData,
)
from dagster._core.definitions.metadata import TableMetadataSet
from dagster._core.storage.asset_check_execution_record import AssetCheckExecutionRecordStatus
from dagster._core.storage.db_io_manager import DbIOManager, DbTypeHandler, TableSlice
from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG

__all__ = [
    "AssetCheckEvaluationTargetMaterializationData",
    "AssetCheckExecutionRecordStatus",
    "DbIOManager",
    "DbTypeHandler",
    "TableMetadataSet",
    "TableSlice",
    "keep_sigterm_deliverable",
    "partition_range_tags",
]


def partition_range_tags(first_key: str, last_key: str) -> dict[str, str]:
    """Run tags that make one run cover the partitions first_key..last_key (a single-run backfill)."""
    return {ASSET_PARTITION_RANGE_START_TAG: first_key, ASSET_PARTITION_RANGE_END_TAG: last_key}


def keep_sigterm_deliverable() -> None:
    """Handle SIGINT as an interactive process does when it was started ignored, before running Dagster in this
    process, so that SIGTERM still stops it and the processes it starts (see the module docstring)."""
    if threading.current_thread() is threading.main_thread() and signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


# Recovering runs whose process died (fraud_assets.cli.run_recovery and .run_launcher): Dagster's own failure reason
# for a run worker that terminated unexpectedly, and a run launcher's answer to run monitoring (their private names
# are imported in the functions, which only the recovery and the daemon's launcher call).


def report_run_worker_gone(instance: dg.DagsterInstance, run: dg.DagsterRun, message: str) -> None:
    """Mark `run` failed from outside its process, with the reason Dagster gives a run worker that terminated
    unexpectedly (what the UI shows and run retries read)."""
    from dagster._core.events import JobFailureData, RunFailureReason

    instance.report_run_failed(run, message, JobFailureData(error=None,
                                                            failure_reason=RunFailureReason.UNEXPECTED_TERMINATION))


def run_worker_health(running: bool, message: str):
    """What a run launcher's `check_run_worker_health` returns to run monitoring: RUNNING, or FAILED (the run is
    then marked failed with `message`)."""
    from dagster._core.launcher import CheckRunHealthResult, WorkerStatus

    return CheckRunHealthResult(WorkerStatus.RUNNING if running else WorkerStatus.FAILED, message)

