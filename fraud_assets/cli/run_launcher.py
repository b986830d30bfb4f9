"""The run launcher of the project's instance: Dagster's DefaultRunLauncher, plus the worker health check that run
monitoring needs. Configured in dagster.yaml (`fraud_assets.cli.instance`).

Run monitoring (the daemon's MONITORING loop) asks the run launcher whether each STARTED run's worker still runs,
and marks the run failed when it does not; the DefaultRunLauncher cannot answer (`supports_check_run_worker_health`
is False), so monitoring never fails a STARTED run. A code server that sees its run worker die reports the run
failed itself (and run monitoring frees the slot the run held, `free_slots_after_run_end_seconds` after its end),
but when the code server dies with it (`make up` killed, the machine restarted), nothing ever does: the run stays
STARTED and its `duckdb_warehouse` pool slot stays claimed.

This launcher launches exactly as the DefaultRunLauncher does, tags each run it launches through a code server of
this host with the host name (before launching it), and answers run monitoring from the run worker's pid
(`fraud_assets.cli.run_recovery`): FAILED when the process is gone, RUNNING otherwise, including when it cannot tell
(another host, a worker that has not written its pid yet), since Dagster fails a run whose worker is in any other
state. Run monitoring then reports the run failed, and frees its slots `free_slots_after_run_end_seconds` later. The
in-process runs of the main job on the same instance carry their own process's tags, so they get the same answer.
"""

from __future__ import annotations

import dagster as dg

from fraud_assets.cli.run_recovery import WORKER_HOST_TAG, run_worker, this_host, why_gone

LOCAL_ADDRESSES = frozenset({"localhost", "127.0.0.1", "::1", "0.0.0.0", "::"})


class PidCheckingRunLauncher(dg.DefaultRunLauncher):
    """DefaultRunLauncher whose runs' workers run monitoring can check by pid, on this host."""

    def launch_run(self, context) -> None:
        """Tag the run with this host before its worker exists (as Dagster's own launchers tag theirs), then launch."""
        if code_server_is_local(context):
            self._instance.add_run_tags(context.dagster_run.run_id, {WORKER_HOST_TAG: this_host()})
        super().launch_run(context)

    @property
    def supports_check_run_worker_health(self) -> bool:
        return True

    def check_run_worker_health(self, run: dg.DagsterRun):
        # Imported here, not with the instance: importing fraud_assets.defs loads the code location's modules.
        from fraud_assets.defs.dagster_compat import run_worker_health

        worker = run_worker(self._instance, run)
        if worker is None:
            return run_worker_health(True, "its run worker is not known on this host (yet): not checked")
        reason = why_gone(worker)
        return run_worker_health(reason is None, reason or f"its run worker ({worker.describe()}) is running")


def code_server_is_local(context) -> bool:
    """Whether the code server that will start the run's worker (a process of its own) runs on this host: it listens
    on a local socket or address, as the code servers the webserver and the daemon start for workspace.yaml do."""
    origin = context.dagster_run.remote_job_origin
    if context.workspace is None or origin is None:
        return False  # the DefaultRunLauncher refuses such a launch
    location = context.workspace.get_code_location(origin.repository_origin.code_location_origin.location_name)
    return bool(getattr(location, "socket", None)) or getattr(location, "host", None) in LOCAL_ADDRESSES | {this_host()}
