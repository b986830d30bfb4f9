"""Runs left in progress by a process that died are marked failed, and the pool slots they held are freed.

A run whose process dies without cleanup (SIGKILL, the out-of-memory killer, a power cut) stays STARTED in the
instance, and the `duckdb_warehouse` pool slot its step held stays claimed: every later warehouse step waits for that
slot forever. Nothing in Dagster watches an in-process run's process, and run monitoring only asks the run launcher
(which the stock one cannot answer: see `fraud_assets.cli.run_launcher`).

So every run says which process executes it, and where:
- in-process runs (`run_pipeline.run_job`, so the main job) carry the host name, the pid and the start time of the
  process that executes them (`in_process_run_tags`);
- runs launched through `PidCheckingRunLauncher` (the daemon's, under `make up`) carry the host name of their code
  server when it is local, and their pid is in the run's first engine event with a pid, the "Started process for run
  (pid: N)" that the run worker writes itself before it runs anything.

A run's process is gone when no process with that pid runs on that host, or when the one that does started after
the run's process was last seen (the pid was reused). A run of another host, or whose process is not known yet, is
never touched; nor is a run whose process runs (a `make up` daemon's run while `make run` starts, and the other way
round).

`recover_dead_runs` fails such runs and frees their slots (the main job calls it at start); the run launcher gives the
same answer to run monitoring, which fails them in the daemon (and frees their slots `free_slots_after_run_end_seconds`
later: see `fraud_assets.cli.instance`).
"""

from __future__ import annotations

import logging
import socket
from dataclasses import dataclass

import dagster as dg
import psutil

WORKER_HOST_TAG = "fraud_assets/worker_host"
WORKER_PID_TAG = "fraud_assets/worker_pid"
WORKER_STARTED_AT_TAG = "fraud_assets/worker_started_at"
# A process with the run's pid that started later than this after the run's process was last seen is another one.
# psutil derives a start time from the boot time in whole seconds: the slack absorbs that rounding.
START_TIME_SLACK_SECONDS = 2.0
# The run worker writes its pid among its first engine events; later ones may name step processes.
ENGINE_EVENTS_READ = 100
UNFINISHED_STATUSES = [dg.DagsterRunStatus.NOT_STARTED, dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.STARTED]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RunWorker:
    """The process that executes a run: its host, its pid, and a moment (epoch seconds) at which it was running."""

    host: str
    pid: int
    seen_at: float

    def describe(self) -> str:
        return f"pid {self.pid} on {self.host}"


@dataclass(frozen=True)
class RecoveredRun:
    """A run marked failed because its process was gone, and the pools whose slots it held."""

    run_id: str
    job_name: str
    reason: str
    freed_pools: list[str]

    def describe(self) -> str:
        freed = f"; freed its slot(s) of pool {', '.join(self.freed_pools)}" if self.freed_pools else ""
        return f"Marked run {self.run_id} of {self.job_name} as failed: {self.reason}{freed}"


def this_host() -> str:
    return socket.gethostname()


def in_process_run_tags() -> dict[str, str]:
    """Tags naming this process as the one that executes a run started here (`execute_in_process`)."""
    process = psutil.Process()
    return {WORKER_HOST_TAG: this_host(), WORKER_PID_TAG: str(process.pid),
            WORKER_STARTED_AT_TAG: repr(process.create_time())}


def run_worker(instance: dg.DagsterInstance, run: dg.DagsterRun) -> RunWorker | None:
    """The process that executes `run`, when its host is known: from the run's tags (in-process runs), or from the
    pid its run worker logged (runs of `PidCheckingRunLauncher`). None when it cannot be known (yet)."""
    host = run.tags.get(WORKER_HOST_TAG)
    if not host:
        return None
    try:
        if WORKER_PID_TAG in run.tags:
            return RunWorker(host, int(run.tags[WORKER_PID_TAG]), float(run.tags[WORKER_STARTED_AT_TAG]))
    except (KeyError, ValueError):
        return None
    logged = logged_worker_pid(instance, run.run_id)
    return RunWorker(host, *logged) if logged else None


def logged_worker_pid(instance: dg.DagsterInstance, run_id: str) -> tuple[int, float] | None:
    """(pid, timestamp) of the run's first engine event with a pid: the run worker's own "Started process for run"
    (a run worker always reports its pid before it starts a step, and steps' processes only after)."""
    events = instance.event_log_storage.get_logs_for_run(run_id, of_type=dg.DagsterEventType.ENGINE_EVENT,
                                                         limit=ENGINE_EVENTS_READ)
    for entry in events:
        pid = entry.dagster_event.engine_event_data.metadata.get("pid") if entry.dagster_event else None
        if pid is not None and str(pid.value).isdigit():
            return int(pid.value), entry.timestamp
    return None


def why_gone(worker: RunWorker) -> str | None:
    """Why the worker's process is known to be gone; None when it runs, or when it cannot be checked from here."""
    if worker.host != this_host():
        return None
    try:
        process = psutil.Process(worker.pid)
        if process.status() == psutil.STATUS_ZOMBIE:
            return f"its process ({worker.describe()}) has exited"
        started = process.create_time()
    except psutil.NoSuchProcess:
        return f"its process ({worker.describe()}) is gone (killed or crashed without cleanup)"
    except psutil.AccessDenied:  # a process of another user holds the pid: it exists, and may be the run's
        return None
    if started > worker.seen_at + START_TIME_SLACK_SECONDS:
        return (f"its process ({worker.describe()}) is gone: that pid now belongs to another process, started "
                f"{started - worker.seen_at:.0f} s after the run's was last seen")
    return None


def recover_dead_runs(instance: dg.DagsterInstance, recovered_by: str = "the main job") -> list[RecoveredRun]:
    """Mark failed every unfinished run of the instance whose process is gone, free its pool slots, log each one."""
    recovered = []
    for record in instance.get_run_records(filters=dg.RunsFilter(statuses=UNFINISHED_STATUSES)):
        worker = run_worker(instance, record.dagster_run)
        reason = why_gone(worker) if worker else None
        current = instance.get_run_by_id(record.dagster_run.run_id) if reason else None
        if current and not current.is_finished:  # run monitoring may have failed it meanwhile
            recovered.append(fail_dead_run(instance, current, reason, recovered_by))
    return recovered


def fail_dead_run(instance: dg.DagsterInstance, run: dg.DagsterRun, reason: str,
                  recovered_by: str) -> RecoveredRun:
    """Report the run failed in its event log (as Dagster reports a run worker's unexpected termination), then free
    the slots it held: Dagster frees them only when a step ends, which a dead process never reaches."""
    # Imported here: importing fraud_assets.defs loads the code location's modules (pandas, DuckDB, XGBoost), which
    # the webserver and the daemon, importing this module with their run launcher, need for nothing else.
    from fraud_assets.defs.dagster_compat import report_run_worker_gone

    pools = pools_held_by(instance, run.run_id)
    report_run_worker_gone(instance, run, f"Marked failed by {recovered_by}: {reason}. Re-run it: a re-run "
                                          "replaces what it had written.")
    if instance.event_log_storage.supports_global_concurrency_limits:
        instance.event_log_storage.free_concurrency_slots_for_run(run.run_id)
    recovered = RecoveredRun(run.run_id, run.job_name, reason, pools)
    logger.warning(recovered.describe())
    return recovered


def pools_held_by(instance: dg.DagsterInstance, run_id: str) -> list[str]:
    """The pools in which the run holds a slot."""
    storage = instance.event_log_storage
    if not storage.supports_global_concurrency_limits:
        return []
    return sorted(pool for pool in storage.get_concurrency_keys()
                  if any(slot.run_id == run_id for slot in storage.get_concurrency_info(pool).claimed_slots))
