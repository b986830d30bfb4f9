"""A run killed at any point costs nothing but the re-run (issue 12).

A run whose process dies without cleanup stays STARTED and keeps the `duckdb_warehouse` pool slot its step held;
before `fraud_assets.cli.run_recovery`, every later warehouse step waited for that slot forever. Here, with real
processes and a real instance (no mocks):

- the main job (`python -m fraud_assets.cli.run_pipeline`), killed with SIGKILL (its whole process group: the command
  and the child that executes the run) right after the first day of a warehouse-writing step is stored, i.e. in the
  middle of the step's day-by-day writes: in ingest (`raw_transactions`) and in scoring (`scored_predictions`). The
  kill is triggered by the step's first progress line on the console (a day done), so no test hook is needed in the
  product. Before the re-run the wedge is there (the run STARTED, the slot held by it); the re-run fails the dead
  run, finishes within a bound, and the warehouse holds every day once;
- a run launched by the daemon (as under `make up`) whose worker dies with the daemon and its code server (the
  whole daemon process group killed): a daemon started again fails it through run monitoring and the project's run
  launcher, and frees its slot, within a bound;
- the recovery itself on a real instance: a run whose process is gone is failed and its slot goes to the run waiting
  for it; a run whose process is alive is never touched; the run launcher gives run monitoring the same answers.

The warehouse (a DuckDB file one process holds at a time) is read only once every process is dead.
"""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import duckdb
import psutil
import pytest

from fraud_assets.cli.instance import prepare_dagster_home
from fraud_assets.cli.run_recovery import (
    WORKER_HOST_TAG,
    WORKER_PID_TAG,
    WORKER_STARTED_AT_TAG,
    RunWorker,
    in_process_run_tags,
    logged_worker_pid,
    recover_dead_runs,
    this_host,
    why_gone,
)
from fraud_assets.cli.up import live_group_members
from fraud_assets.defs.partitions import partition_key_of_day
from fraud_assets_tests.defs.test_dagster_ui_backfill import (  # noqa: F401  (dagster_services is a fixture)
    INGEST_ASSETS,
    WAREHOUSE_POOL,
    DagsterServices,
    dagster_services,
    launch_backfill,
)

REPOSITORY_ROOT = Path(__file__).resolve().parents[2]
SIMULATION_SCALE = "0.02"  # about 4,100 transactions a day
SIMULATION_DAYS = 20  # enough for the main job's first model (trained as of day 15)
KILL_TIMEOUT_SECONDS = 600  # until the step to kill writes its first day (a busy 2-core machine)
RERUN_TIMEOUT_SECONDS = 600  # the whole main job once more (about 2 minutes here when the machine is quiet)
RUN_START_TIMEOUT_SECONDS = 600  # until a daemon's backfill run holds the warehouse slot
MONITORING_TIMEOUT_SECONDS = 300  # run monitoring polls every 30 s, frees slots 30 s after a run ended
PROGRESS_LINE = "days done"  # the steps' progress lines (fraud_assets.core.progress)


# ---------------------------------------------------------------------------------------------------------------
# The main job, as a command
# ---------------------------------------------------------------------------------------------------------------
def main_job_environment(data_dir: Path) -> dict[str, str]:
    environment = {name: value for name, value in os.environ.items()
                   if not name.startswith("FRAUD_") and name != "DAGSTER_HOME"}
    return {**environment, "FRAUD_DATA_DIR": str(data_dir), "FRAUD_SIMULATION_SCALE": SIMULATION_SCALE,
            "FRAUD_SIMULATION_DAYS": str(SIMULATION_DAYS), "PYTHONUNBUFFERED": "1"}


@contextmanager
def main_job(data_dir: Path) -> Iterator[tuple[subprocess.Popen, queue.Queue]]:
    """`python -m fraud_assets.cli.run_pipeline` in its own process group, its output lines in a queue (None at the
    end); whatever happens, the group is killed on the way out."""
    process = subprocess.Popen([sys.executable, "-m", "fraud_assets.cli.run_pipeline"], cwd=REPOSITORY_ROOT,
                               env=main_job_environment(data_dir), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               stdin=subprocess.DEVNULL, text=True, start_new_session=True)
    lines: queue.Queue = queue.Queue()
    threading.Thread(target=lambda: [*map(lines.put, process.stdout), lines.put(None)], daemon=True).start()
    try:
        yield process, lines
    finally:
        kill_group(process.pid)
        process.wait(timeout=60)


def kill_group(group_id: int) -> None:
    """SIGKILL every process of the group and wait until none is left."""
    deadline = time.monotonic() + 60
    while live_group_members(group_id) and time.monotonic() < deadline:
        try:
            os.killpg(group_id, signal.SIGKILL)
        except ProcessLookupError:
            break
        time.sleep(0.2)
    assert not live_group_members(group_id), f"process group {group_id} still runs after SIGKILL"


def read_lines(lines: queue.Queue, timeout: float, until=None) -> list[str]:
    """Output lines up to the first for which `until(line)` holds, or up to the end of the output without `until`;
    fails with the output when the time is up first (or, with `until`, when the output ends first)."""
    seen, deadline = [], time.monotonic() + timeout
    while (left := deadline - time.monotonic()) > 0:
        try:
            line = lines.get(timeout=left)
        except queue.Empty:
            break
        if line is None:
            if until is None:
                return seen
            break
        seen.append(line.rstrip("\n"))
        if until is not None and until(line):
            return seen
    pytest.fail(f"{'the command did not end' if until is None else 'no awaited line'} within {timeout:.0f} s; "
                "its output:\n" + "\n".join(seen[-60:]))


def first_day_stored_by(step_key: str):
    """The console line of the step's first day done: Dagster prints the step key between dashes."""
    return lambda line: f" - {step_key} - " in line and PROGRESS_LINE in line


def kill_main_job_in_step(data_dir: Path, step_key: str) -> list[str]:
    """Run the main job and SIGKILL its process group as soon as `step_key` has stored its first day."""
    with main_job(data_dir) as (process, lines):
        output = read_lines(lines, KILL_TIMEOUT_SECONDS, first_day_stored_by(step_key))
        kill_group(process.pid)
    return output


def run_main_job_to_the_end(data_dir: Path) -> tuple[int, list[str], float]:
    """Run the main job to its end, failing the test after RERUN_TIMEOUT_SECONDS: (exit code, output, seconds)."""
    started = time.monotonic()
    with main_job(data_dir) as (process, lines):
        output = read_lines(lines, RERUN_TIMEOUT_SECONDS)
        returncode = process.wait(timeout=60)
    return returncode, output, time.monotonic() - started


# ---------------------------------------------------------------------------------------------------------------
# The instance and the warehouse, read by the test
# ---------------------------------------------------------------------------------------------------------------
def slot_holders(instance: dg.DagsterInstance) -> list[str]:
    """Ids of the runs holding a slot of the warehouse pool."""
    return [slot.run_id for slot in instance.event_log_storage.get_concurrency_info(WAREHOUSE_POOL).claimed_slots]


def assert_pool_is_free(instance: dg.DagsterInstance) -> None:
    info = instance.event_log_storage.get_concurrency_info(WAREHOUSE_POOL)
    assert info.claimed_slots == [] and info.pending_steps == [], info


def failure_message(instance: dg.DagsterInstance, run_id: str) -> str:
    return "\n".join(entry.message for entry in instance.all_logs(run_id, of_type=dg.DagsterEventType.RUN_FAILURE))


def only_run_of(instance: dg.DagsterInstance, job_name: str, status: dg.DagsterRunStatus) -> dg.DagsterRun:
    runs = instance.get_runs(filters=dg.RunsFilter(job_name=job_name, statuses=[status]))
    assert len(runs) == 1, f"runs of {job_name} in status {status}: {[run.run_id for run in runs]}"
    return runs[0]


def wait_until(condition, timeout: float, what: str) -> float:
    """Seconds until `condition()` held; fails the test after `timeout`."""
    started = time.monotonic()
    while not condition():
        assert time.monotonic() - started < timeout, f"{what}: not within {timeout:.0f} s"
        time.sleep(1)
    return time.monotonic() - started


def warehouse_rows_per_day(connection, table: str) -> dict[int, int]:
    return dict(connection.execute(f"SELECT day, count(*) FROM fraud.{table} GROUP BY day").fetchall())


def has_duplicate_ids(connection, table: str) -> bool:
    return connection.execute(f"SELECT count(*) > count(DISTINCT transaction_id) FROM fraud.{table}").fetchone()[0]


def assert_every_day_once(warehouse: Path) -> None:
    """Every day ingested and scored, raw = cleaned + rejected and scored = cleaned each day, no id twice."""
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        tables = {name for (name,) in connection.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'fraud'").fetchall()}
        raw, cleaned, scored = (warehouse_rows_per_day(connection, table)
                                for table in ("raw_transactions", "cleaned_transactions", "scored_predictions"))
        rejected = (warehouse_rows_per_day(connection, "rejected_transactions")
                    if "rejected_transactions" in tables else {})
        duplicated = [table for table in ("raw_transactions", "cleaned_transactions", "scored_predictions")
                      if has_duplicate_ids(connection, table)]
    days = list(range(SIMULATION_DAYS))
    assert sorted(raw) == days and sorted(cleaned) == days, f"raw days {sorted(raw)}, cleaned days {sorted(cleaned)}"
    assert all(raw[day] > 0 for day in days)
    assert {day: raw[day] - rejected.get(day, 0) for day in days} == cleaned, (raw, cleaned, rejected)
    assert scored == cleaned, f"scored rows per day {scored}, cleaned {cleaned}"
    assert duplicated == [], f"transaction ids stored twice in {duplicated}"


# ---------------------------------------------------------------------------------------------------------------
# The main job killed in a warehouse write, then run again
# ---------------------------------------------------------------------------------------------------------------
@pytest.mark.timeout(KILL_TIMEOUT_SECONDS + RERUN_TIMEOUT_SECONDS + 300)
@pytest.mark.parametrize(("job_name", "step_key", "runs_before"), [
    ("daily_ingest_job", "raw_transactions", 0),  # stage 1
    ("daily_scoring_job", "scored_predictions", 2),  # stage 3, after ingest and training succeeded
])
def test_the_main_job_killed_in_a_warehouse_write_costs_only_the_rerun(tmp_path, job_name, step_key, runs_before):
    data_dir = tmp_path / "data"
    kill_main_job_in_step(data_dir, step_key)
    with dg.DagsterInstance.from_config(str(data_dir / "dagster_home")) as instance:
        dead = only_run_of(instance, job_name, dg.DagsterRunStatus.STARTED)  # the wedge: STARTED, holding the slot
        assert slot_holders(instance) == [dead.run_id]
    worker = f"pid {dead.tags[WORKER_PID_TAG]} on {dead.tags[WORKER_HOST_TAG]}"

    returncode, output, seconds = run_main_job_to_the_end(data_dir)
    text = "\n".join(output)
    assert returncode == 0, text[-6000:]
    assert f"Marked run {dead.run_id} of {job_name} as failed: its process ({worker}) is gone" in text, text[:3000]
    print(f"the main job after a kill in {step_key}: ran again to its end in {seconds:.0f} s")

    with dg.DagsterInstance.from_config(str(data_dir / "dagster_home")) as instance:
        statuses = {run.run_id: run.status for run in instance.get_runs()}
        assert statuses.pop(dead.run_id) == dg.DagsterRunStatus.FAILURE
        assert list(statuses.values()) == [dg.DagsterRunStatus.SUCCESS] * (runs_before + 4), statuses
        assert f"its process ({worker}) is gone" in failure_message(instance, dead.run_id)
        assert_pool_is_free(instance)
    assert_every_day_once(data_dir / "warehouse.duckdb")


# ---------------------------------------------------------------------------------------------------------------
# A daemon's run whose worker died with the daemon and its code server
# ---------------------------------------------------------------------------------------------------------------
def process_runs(pid: int) -> bool:
    """Whether a process with this pid runs (a zombie waiting for its parent does not)."""
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def wait_for_warehouse_step(instance: dg.DagsterInstance, timeout: float) -> str:
    """Id of the first run seen holding the warehouse slot for `raw_transactions` (its worker writing days)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        slots = instance.event_log_storage.get_concurrency_info(WAREHOUSE_POOL).claimed_slots
        holders = [slot.run_id for slot in slots if slot.step_key == "raw_transactions"]
        if holders:
            return holders[0]
        time.sleep(0.1)
    pytest.fail(f"no run held the {WAREHOUSE_POOL} slot for raw_transactions within {timeout:.0f} s")


@pytest.mark.timeout(2400)
def test_a_daemon_run_whose_worker_died_with_its_code_server_is_failed_by_run_monitoring(
    dagster_services: DagsterServices,  # noqa: F811
):
    services = dagster_services
    daemon = next(service for service in services.managed if service.name == "dagster-daemon")
    days = [partition_key_of_day(day) for day in range(services.settings.simulation_days)]
    launch_backfill(services, INGEST_ASSETS, days)
    services.start_daemon()
    with dg.DagsterInstance.from_config(str(services.dagster_home)) as instance:
        run_id = wait_for_warehouse_step(instance, RUN_START_TIMEOUT_SECONDS)
        pid, _ = logged_worker_pid(instance, run_id)
        kill_group(daemon.process.pid)  # the daemon, its code server and the run worker, as when `make up` is killed
        run = instance.get_run_by_id(run_id)
        assert run.tags[WORKER_HOST_TAG] == this_host(), "the project's run launcher tags the runs it launches"
        assert not process_runs(pid), f"the run worker (pid {pid}) is not in the daemon's process group"
        assert run.status == dg.DagsterRunStatus.STARTED and slot_holders(instance) == [run_id]  # the wedge

        daemon.ready = False
        services.start_daemon()  # as `make up` again (ready at once: the killed daemon's heartbeats are recent)
        failed_after = wait_until(lambda: instance.get_run_by_id(run_id).status == dg.DagsterRunStatus.FAILURE,
                                  MONITORING_TIMEOUT_SECONDS, f"run {run_id} marked failed by run monitoring")
        freed_after = wait_until(lambda: not slot_holders(instance), MONITORING_TIMEOUT_SECONDS,
                                 f"the slot of run {run_id} freed")
        print(f"daemon started again; the dead run failed {failed_after:.0f} s later, its slot freed "
              f"{freed_after:.0f} s after that")
        message = failure_message(instance, run_id)
        assert "Detected run worker status FAILED" in message, message  # run monitoring, through the launcher
        assert f"its process (pid {pid} on {this_host()}) is gone" in message, message
        assert_pool_is_free(instance)


# ---------------------------------------------------------------------------------------------------------------
# The recovery and the run launcher on a real instance
# ---------------------------------------------------------------------------------------------------------------
@dg.op(pool=WAREHOUSE_POOL)
def write_to_the_warehouse() -> None:
    pass


@dg.job
def warehouse_writer_job() -> None:
    write_to_the_warehouse()


@pytest.fixture
def instance(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dg.DagsterInstance]:
    """A fresh instance with the project's dagster.yaml."""
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))  # prepare_dagster_home sets it; restored after the test
    with dg.DagsterInstance.from_config(str(prepare_dagster_home(tmp_path / "dagster_home"))) as instance:
        instance.event_log_storage.set_concurrency_slots(WAREHOUSE_POOL, 1)
        yield instance


def dead_process_tags() -> dict[str, str]:
    """Tags naming a process that has exited."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return {WORKER_HOST_TAG: this_host(), WORKER_PID_TAG: str(child.pid), WORKER_STARTED_AT_TAG: repr(time.time())}


def started_run(instance: dg.DagsterInstance, tags: dict[str, str]) -> dg.DagsterRun:
    return instance.create_run_for_job(warehouse_writer_job, status=dg.DagsterRunStatus.STARTED, tags=tags)


def test_a_run_whose_process_is_gone_is_failed_and_its_slot_goes_to_the_run_waiting_for_it(instance):
    dead = started_run(instance, dead_process_tags())
    alive = started_run(instance, in_process_run_tags())  # this process: never touched
    elsewhere = started_run(instance, {**dead_process_tags(), WORKER_HOST_TAG: "another-host"})  # cannot be checked
    untagged = started_run(instance, {})  # its process is not known
    reused = started_run(instance, {**in_process_run_tags(),  # this process's pid, but seen before it started
                                    WORKER_STARTED_AT_TAG: repr(psutil.Process().create_time() - 3600)})
    storage = instance.event_log_storage
    step = "write_to_the_warehouse"
    assert storage.claim_concurrency_slot(WAREHOUSE_POOL, dead.run_id, step).is_claimed
    assert not storage.claim_concurrency_slot(WAREHOUSE_POOL, alive.run_id, step).is_claimed  # waits for the slot

    recovered = {run.run_id: run for run in recover_dead_runs(instance)}

    assert sorted(recovered) == sorted([dead.run_id, reused.run_id])
    assert recovered[dead.run_id].freed_pools == [WAREHOUSE_POOL] and recovered[reused.run_id].freed_pools == []
    assert "is gone (killed or crashed without cleanup)" in recovered[dead.run_id].reason
    assert "now belongs to another process" in recovered[reused.run_id].reason
    statuses = {run.run_id: instance.get_run_by_id(run.run_id).status for run in (dead, alive, elsewhere, untagged,
                                                                                   reused)}
    assert statuses == {dead.run_id: dg.DagsterRunStatus.FAILURE, reused.run_id: dg.DagsterRunStatus.FAILURE,
                        alive.run_id: dg.DagsterRunStatus.STARTED, elsewhere.run_id: dg.DagsterRunStatus.STARTED,
                        untagged.run_id: dg.DagsterRunStatus.STARTED}
    assert "is gone" in failure_message(instance, dead.run_id)
    assert storage.claim_concurrency_slot(WAREHOUSE_POOL, alive.run_id, step).is_claimed  # the freed slot
    assert recover_dead_runs(instance) == []


def test_the_run_launcher_answers_run_monitoring_from_the_run_worker_pid(instance):
    launcher = instance.run_launcher
    assert instance.run_monitoring_enabled and type(launcher).__name__ == "PidCheckingRunLauncher"
    assert launcher.supports_check_run_worker_health
    answers = {name: launcher.check_run_worker_health(started_run(instance, tags)) for name, tags in [
        ("dead", dead_process_tags()), ("alive", in_process_run_tags()), ("unknown", {})]}
    assert {name: answer.status.value for name, answer in answers.items()} == {
        "dead": "FAILED", "alive": "RUNNING", "unknown": "RUNNING"}, answers
    assert "is gone" in answers["dead"].msg and "is running" in answers["alive"].msg


def test_why_gone_tells_a_running_process_from_an_exited_one():
    me = psutil.Process()
    assert why_gone(RunWorker(this_host(), me.pid, me.create_time())) is None
    assert why_gone(RunWorker("another-host", me.pid, 0.0)) is None  # not checked from here
    tags = dead_process_tags()
    assert "is gone" in why_gone(RunWorker(this_host(), int(tags[WORKER_PID_TAG]), time.time()))
