"""Benchmark of a 3-day UI backfill of every daily asset, and where its fixed costs go (issue 12).

Run by hand, never by CI (it prints tables; nothing in it is a timed assertion):

    .venv/bin/python bench/bench_ui_backfill.py                          # scale 1.0: main job ~5 min, bench ~6 min
    .venv/bin/python bench/bench_ui_backfill.py --scale 0.1 --repeats 1  # smoke test, ~5 min
    .venv/bin/python bench/bench_ui_backfill.py --keep /tmp/ui_backfill  # prepare once, reuse the folder later
    .venv/bin/python bench/bench_ui_backfill.py --keep /tmp/ui_backfill --dagster-yaml-extra fast_queue.yaml

Target (the issue): a backfill of days 10-12 over every daily asset, launched through the webserver's GraphQL API as
the UI does, in 60 s or less on this 2-core machine.

What it does:
1. Prepares a data folder (a temporary one, or `--keep PATH`, reused when the main job already ran there) with the
   main job, `FRAUD_DATA_DIR=... FRAUD_SIMULATION_SCALE=... python -m fraud_assets.cli.run_pipeline`, so that
   scoring has a champion. Every other FRAUD_* variable is dropped: the embedded defaults.
2. Writes the project's dagster.yaml (`prepare_dagster_home`), deep-merged with `--dagster-yaml-extra FILE` for
   experiments (the merged file is printed), and starts `dagster-webserver` and `dagster-daemon run` on that
   DAGSTER_HOME as `make up` does (`fraud_assets.cli.up`); every process group started is stopped at the end,
   whatever happens.
3. Waits `--settle` seconds (the CPU the idle services use meanwhile is printed), then launches, `--repeats` times,
   one backfill of every partitioned asset of the definitions over `--days`, with the GraphQL mutation the UI's
   backfill dialog sends (`launchPartitionBackfill`), polling it every 0.5 s until it is done. The wall time from
   the request to the poll that sees COMPLETED_SUCCESS is the figure; the median is quoted.
4. Splits that time, from the instance's run records and event log, into consecutive phases that add up to it: the
   backfill daemon's wait before it creates each run (its loop runs every 30 s, and it requests a run only once the
   parents of its assets are materialized, so each run of the backfill waits for the one before), submitting and
   queueing the run, starting its worker process (spawn, import Dagster), loading the code location in it (importing
   the definitions), setting up the run, the steps and the gaps between them, tearing down, and the daemon's wait to
   mark the backfill done. With each figure: the load average, the share of the machine's CPU busy (every process:
   the machine is shared), and the CPU seconds of the services' process groups by role (webserver, daemon, their
   code servers, run workers), polled every 0.5 s.

The daemon's loop makes the total come in steps: the request waits 0-30 s for the loop's next iteration (15 s on
average when a user clicks), then every run of the chain costs whole periods (a run's parents must be materialized
before the daemon requests it, and the backfill is marked done in the iteration after its last run ended). The
summary therefore also gives "request -> run 1 created" and "run 1 created -> done". Each launch is timed, from the
backfill daemon's heartbeat (written at the start of an iteration), to wait a chosen time for the daemon's first
look, spread evenly over the period (25, 15 and 5 s for 3 repeats): the median then has the average wait of a click
at a random moment, where launching right after the previous backfill ended would always wait a full period.

Experiments beyond dagster.yaml (not settings of the project, each changes how the services are started):
`--backfill-daemon-period S` starts the daemon with Dagster's 30 s module constant patched; `--code-server` serves
the code location from one persistent `dagster api grpc` process (workspace `grpc_server`, as `dagster dev` does)
instead of the code servers the webserver and the daemon each start (the daemon replaces its own every 60 s).
`--assets a,b` backfills those assets only (e.g. the five of the first run, to time a one-run backfill).
`--json PATH` saves every figure; `--from-json PATH` prints a saved file's tables again.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from contextlib import ExitStack
from dataclasses import asdict, dataclass, field
from pathlib import Path

import psutil
import yaml
from bench_ingest import machine_description, print_table, step_timeline

PROJECT_ROOT = Path(__file__).resolve().parents[1]
if str(PROJECT_ROOT) not in sys.path:
    sys.path.insert(0, str(PROJECT_ROOT))

from fraud_assets.cli.up import (  # noqa: E402
    BIN,
    ManagedService,
    UpSettings,
    build_services,
    service_environment,
    start,
    wait_until_ready,
)
from fraud_assets.core.settings import Settings  # noqa: E402
from fraud_assets_tests.defs.test_dagster_ui_backfill import (  # noqa: E402
    BACKFILL_DONE,
    DagsterServices,
    backfill_report,
    fetch_backfill,
    free_port,
    launch_backfill,
)

TARGET_SECONDS = 60.0
POLL_SECONDS = 0.5
BACKFILL_DAEMON_PERIOD = 30.0  # dagster._daemon.controller.DEFAULT_DAEMON_INTERVAL_SECONDS: no setting in 1.13
PREPARED_RECORD = "bench_ui_backfill.json"  # written in the data folder once the main job succeeded there
DAGSTER_SERVICES = ("dagster-ui", "dagster-daemon")
LOCATION_NAME = "fraud_assets"
# `dagster-daemon run` with the backfill daemon's loop period (a module constant of Dagster) replaced.
PATCHED_DAEMON = """\
import sys
import dagster._daemon.controller as controller
controller.DEFAULT_DAEMON_INTERVAL_SECONDS = float(sys.argv.pop(1))
from dagster._daemon.cli import main
sys.argv[0] = "dagster-daemon"
sys.exit(main())
"""


@dataclass
class Repeat:
    """One backfill: wall times seen by this script, what the instance recorded, and the CPU used meanwhile."""

    backfill_id: str
    status: str
    requested: float  # epoch seconds, just before the GraphQL request
    answered: float  # the request's answer
    done: float  # the first poll that saw a final status
    load_before: tuple[float, float, float]
    load_after: tuple[float, float, float]
    cpu_busy: float  # share of every core's time busy during the backfill, all processes of the machine
    cpu_by_role: dict[str, float]  # CPU seconds of the services' processes during the backfill, by role
    code_servers_started: int
    target_wait: float = 0.0  # the launch was timed to wait this long for the daemon's first look
    runs: list[dict] = field(default_factory=list)

    @property
    def seconds(self) -> float:
        return self.done - self.requested


# ---------------------------------------------------------------------------------------------------------------
# The data folder and the instance's configuration
# ---------------------------------------------------------------------------------------------------------------
def bench_environment(data_dir: Path, scale: float) -> dict[str, str]:
    """This process's environment without any FRAUD_*, BENTOML_HOME or DAGSTER_HOME, plus the data folder and scale:
    the embedded defaults, as `make run` has them."""
    environment = {name: value for name, value in os.environ.items()
                   if not name.startswith("FRAUD_") and name not in ("BENTOML_HOME", "DAGSTER_HOME")}
    return {**environment, "FRAUD_DATA_DIR": str(data_dir), "FRAUD_SIMULATION_SCALE": str(scale),
            "PYTHONPATH": str(PROJECT_ROOT)}


def prepared_scale(data_dir: Path) -> float | None:
    """The scale the main job ran at in `data_dir` (None when it has not run there to the end)."""
    record = data_dir / PREPARED_RECORD
    return float(json.loads(record.read_text())["scale"]) if record.exists() else None


def prepare_data(data_dir: Path, scale: float) -> float:
    """Run the main job in a child process on `data_dir`; returns its seconds. Exits with its log's end on failure."""
    data_dir.mkdir(parents=True, exist_ok=True)
    log_path = data_dir / "main_job.log"
    print(f"Preparing {data_dir} with the main job at scale {scale} (log: {log_path}) ...", flush=True)
    started = time.perf_counter()
    with log_path.open("w") as log:
        result = subprocess.run([sys.executable, "-m", "fraud_assets.cli.run_pipeline"], cwd=PROJECT_ROOT,
                                env=bench_environment(data_dir, scale), stdout=log, stderr=subprocess.STDOUT)
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        tail = "\n".join(log_path.read_text(errors="replace").splitlines()[-40:])
        raise SystemExit(f"the main job failed (exit code {result.returncode}) after {seconds:.0f} s:\n{tail}")
    (data_dir / PREPARED_RECORD).write_text(json.dumps({"scale": scale, "main_job_seconds": seconds}))
    print(f"  main job done in {seconds:.1f} s", flush=True)
    return seconds


def use_data_folder(data_dir: Path, scale: float | None) -> float:
    """Prepare `data_dir` unless the main job already ran there; returns the scale its data has."""
    existing = prepared_scale(data_dir)
    if existing is not None and scale not in (None, existing):
        raise SystemExit(f"{data_dir} was prepared at scale {existing}, not {scale}: drop --scale or choose "
                         "another --keep folder")
    if existing is not None:
        print(f"Reusing {data_dir} (prepared at scale {existing})", flush=True)
        return existing
    scale = 1.0 if scale is None else scale
    prepare_data(data_dir, scale)
    return scale


def deep_merge(base: dict, extra: dict) -> dict:
    merged = dict(base)
    for key, value in extra.items():
        both_maps = isinstance(value, dict) and isinstance(merged.get(key), dict)
        merged[key] = deep_merge(merged[key], value) if both_maps else value
    return merged


def write_dagster_yaml(dagster_home: Path, extra_file: Path | None) -> str:
    """The project's dagster.yaml, with `extra_file` deep-merged into it when given; returns the file written."""
    config_path = dagster_home / "dagster.yaml"
    text = config_path.read_text()
    if extra_file is not None:
        merged = deep_merge(yaml.safe_load(text), yaml.safe_load(extra_file.read_text()) or {})
        text = (f"# fraud_assets.cli.instance's template, merged with {extra_file} by bench/bench_ui_backfill.py\n"
                + yaml.safe_dump(merged, sort_keys=False))
        config_path.write_text(text)
    return text


def daily_assets(settings: Settings) -> list[str]:
    """Every partitioned asset of the code location."""
    from fraud_assets.defs import build_definitions

    with warnings.catch_warnings():  # Dagster's beta and preview warnings about APIs the project chose
        warnings.simplefilter("ignore")
        specs = build_definitions(settings).resolve_all_asset_specs()
    return sorted(spec.key.to_user_string() for spec in specs if spec.partitions_def is not None)


# ---------------------------------------------------------------------------------------------------------------
# The services
# ---------------------------------------------------------------------------------------------------------------
def code_server_service(port: int) -> ManagedService:
    """One persistent code server for the webserver and the daemon (`--code-server`)."""
    def probe() -> str | None:
        from dagster._grpc.client import DagsterGrpcClient

        try:
            DagsterGrpcClient(port=port, host="127.0.0.1").ping("ready")
        except Exception:  # not listening yet
            return None
        return f"serving {LOCATION_NAME} on port {port}"

    command = [str(BIN / "dagster"), "api", "grpc", "-m", "fraud_assets.definitions", "--location-name",
               LOCATION_NAME, "-h", "127.0.0.1", "-p", str(port), "--log-level", "warning"]
    return ManagedService("code-server", "Code server", command, port, None, "the code location", probe)


def use_workspace(service: ManagedService, workspace: Path) -> None:
    service.command[service.command.index("-w") + 1] = str(workspace)


def patch_daemon(service: ManagedService, period: float) -> None:
    """Start the daemon with Dagster's backfill loop period replaced (it also sets the asset daemon's, unused here)."""
    arguments = service.command[service.command.index("run"):]
    service.command = [sys.executable, "-c", PATCHED_DAEMON, str(period), *arguments]


def dagster_services(settings: Settings, logs_dir: Path, arguments: argparse.Namespace) -> DagsterServices:
    """The webserver and the daemon as `make up` builds them (and a code server with `--code-server`)."""
    logs_dir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    managed = [service for service in build_services(settings, UpSettings(dagster_port=port))
               if service.name in DAGSTER_SERVICES]
    if arguments.code_server:
        server = code_server_service(free_port())
        workspace = logs_dir / "workspace_grpc.yaml"
        workspace.write_text(yaml.safe_dump({"load_from": [{"grpc_server": {
            "host": "127.0.0.1", "port": server.port, "location_name": LOCATION_NAME}}]}))
        for service in managed:
            use_workspace(service, workspace)
        managed.insert(0, server)
    if arguments.backfill_daemon_period:
        daemon = next(service for service in managed if service.name == "dagster-daemon")
        patch_daemon(daemon, arguments.backfill_daemon_period)
    return DagsterServices(settings=settings, dagster_home=settings.dagster_home, port=port, managed=managed,
                           logs_dir=logs_dir)


def start_services(services: DagsterServices, environment: dict[str, str]) -> None:
    """Start every service (a code server first, when there is one) and wait until each is ready."""
    started = time.perf_counter()
    for group in ([s for s in services.managed if s.name == "code-server"],
                  [s for s in services.managed if s.name != "code-server"]):
        for service in group:
            start(service, environment, services.logs_dir)
        wait_until_ready(group, UpSettings().ready_timeout_seconds)
    print(f"  {', '.join(s.title for s in services.managed)} ready after {time.perf_counter() - started:.1f} s "
          f"(logs in {services.logs_dir})", flush=True)


class CpuSampler:
    """CPU seconds used by the services' process groups since `begin`, by role, polled: a process that ends loses
    what it used after its last sample (under POLL_SECONDS)."""

    def __init__(self, services: DagsterServices) -> None:
        self.groups = {service.process.pid: service.name for service in services.started()}
        self.first: dict[tuple[int, float], float] = {}
        self.last: dict[tuple[int, float], float] = {}
        self.roles: dict[tuple[int, float], str] = {}
        self.begun = False

    def begin(self) -> None:
        self.first, self.last, self.roles, self.begun = {}, {}, {}, False
        self.sample()
        self.begun = True

    def sample(self) -> None:
        for process in psutil.process_iter(["pid", "create_time", "cmdline", "cpu_times"]):
            try:
                group = self.groups.get(os.getpgid(process.pid))
            except (ProcessLookupError, PermissionError):
                continue
            times = process.info["cpu_times"]
            if group is None or times is None:
                continue
            key = (process.pid, process.info["create_time"])
            used = times.user + times.system
            self.first.setdefault(key, used if not self.begun else 0.0)
            self.last[key] = used
            self.roles.setdefault(key, role(group, process.info["cmdline"] or []))

    def by_role(self) -> dict[str, float]:
        totals: dict[str, float] = {}
        for key, used in self.last.items():
            totals[self.roles[key]] = totals.get(self.roles[key], 0.0) + used - self.first[key]
        return dict(sorted(totals.items()))

    def new_code_servers(self) -> int:
        return sum(1 for key, name in self.roles.items() if name.endswith("code server") and self.first[key] == 0.0)


def role(group: str, command: list[str]) -> str:
    """What a process of a service's group is: the service, a code server it started, or a run worker."""
    line = " ".join(command)
    if "api grpc" in line and group != "code-server":
        return f"{group}: code server"
    if "multiprocessing" in line or line.startswith("tail ") or "watch_orphans" in line:
        return "run workers"  # a run's process, and the tail processes of its compute-log capture
    return group


def cpu_counters() -> tuple[float, float]:
    """(busy, total) CPU seconds of every core since boot."""
    times = psutil.cpu_times()
    return times.user + times.nice + times.system + times.irq + times.softirq + times.steal, sum(times)


def settle(services: DagsterServices, sampler: CpuSampler, seconds: float) -> dict[str, float]:
    """Wait `seconds` with the services idle; returns their CPU seconds by role meanwhile."""
    sampler.begin()
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        services.assert_running()
        time.sleep(POLL_SECONDS)
        sampler.sample()
    return sampler.by_role()


def run_backfill(services: DagsterServices, sampler: CpuSampler, assets: list[str], keys: list[str],
                 timeout: float) -> Repeat:
    """Launch one backfill as the UI does and poll it every POLL_SECONDS until it is in a final state."""
    load_before, (busy_before, total_before) = os.getloadavg(), cpu_counters()
    sampler.begin()
    requested = time.time()
    backfill_id = launch_backfill(services, assets, keys)
    answered = time.time()
    while True:
        services.assert_running()
        sampler.sample()
        backfill = fetch_backfill(services, backfill_id)
        if backfill["status"] in BACKFILL_DONE:
            break
        if time.time() - requested > timeout:
            raise SystemExit(f"backfill not done after {timeout:.0f} s:\n{backfill_report(services, backfill)}")
        time.sleep(POLL_SECONDS)
    done = time.time()
    sampler.sample()
    busy_after, total_after = cpu_counters()
    repeat = Repeat(backfill_id=backfill_id, status=backfill["status"], requested=requested, answered=answered,
                    done=done, load_before=load_before, load_after=os.getloadavg(),
                    cpu_busy=(busy_after - busy_before) / max(total_after - total_before, 1e-9),
                    cpu_by_role=sampler.by_role(), code_servers_started=sampler.new_code_servers())
    if repeat.status != "COMPLETED_SUCCESS":
        print(backfill_report(services, backfill), file=sys.stderr)
    return repeat


# ---------------------------------------------------------------------------------------------------------------
# Reading the instance
# ---------------------------------------------------------------------------------------------------------------
def run_marks(instance, record) -> dict:
    """Epoch seconds of a run's milestones, from its record and event log, and its steps' timeline."""
    import dagster as dg

    run = record.dagster_run
    logs = instance.all_logs(run.run_id)
    marks: dict = {"run_id": run.run_id, "status": run.status.value, "created": record.create_timestamp.timestamp(),
                   "assets": sorted(key.to_user_string() for key in run.asset_selection or [])}
    by_type = {
        dg.DagsterEventType.RUN_ENQUEUED.value: "enqueued",
        dg.DagsterEventType.RUN_STARTING.value: "starting",
        dg.DagsterEventType.RUN_START.value: "started",
        dg.DagsterEventType.RUN_SUCCESS.value: "ended",
        dg.DagsterEventType.RUN_FAILURE.value: "ended",
    }
    for entry in logs:
        event = entry.dagster_event
        if event is None:
            continue
        name = by_type.get(event.event_type_value)
        if name is not None:
            marks.setdefault(name, entry.timestamp)
        elif event.event_type_value == dg.DagsterEventType.ENGINE_EVENT.value:
            if entry.message.startswith("Started process for run"):
                marks["process"] = entry.timestamp
            elif entry.message.startswith("Process for run exited"):
                marks["exited"] = entry.timestamp
    marks["steps"] = sorted(step_timeline(logs, 0.0)[0], key=lambda step: step["start"])
    return marks


def read_runs(dagster_home: Path, backfill_id: str) -> list[dict]:
    """The backfill's runs, oldest first, with their milestones."""
    import dagster as dg

    with dg.DagsterInstance.from_config(str(dagster_home)) as instance:
        records = instance.get_run_records(filters=dg.RunsFilter(tags={"dagster/backfill": backfill_id}))
        runs = [run_marks(instance, record) for record in records]
    return sorted(runs, key=lambda run: run["created"])


def busy_seconds(steps: list[dict], since: float) -> float:
    """Seconds after `since` during which at least one step ran (the union of the steps' intervals)."""
    busy, reached = 0.0, since
    for step in steps:
        start, end = step["start"], step["start"] + step["total"]
        if end > reached:
            busy += end - max(start, reached)
            reached = end
    return busy


def run_phases(run: dict, previous_mark: float) -> list[tuple[str, float]]:
    """A run's time split into consecutive phases, from `previous_mark` (the launch's answer or the previous run's
    end) to the run's end; the phases add up to that span.

    A run the daemon created while the previous one still ran (it requests a child as soon as its parents'
    partitions are materialized, not when their run ends) counts only from the previous run's end: each milestone
    is taken no earlier than `previous_mark`, so its queue phase is what it waited once the previous run ended.
    Without a queue (DefaultRunCoordinator) a run is never enqueued: its queue phase is 0."""
    steps = run["steps"]
    milestones = [run["created"]]
    for name in ("enqueued", "starting", "process", "started"):  # a run that failed early lacks the later ones
        milestones.append(run.get(name, milestones[-1]))
    milestones.append(steps[0]["start"] if steps else milestones[-1])
    milestones.append(max((step["start"] + step["total"] for step in steps), default=milestones[-1]))
    milestones.append(run.get("ended", milestones[-1]))
    created, enqueued, starting, process, started, first_step, last_step, ended = (
        max(mark, previous_mark) for mark in milestones)
    in_steps = busy_seconds(steps, previous_mark)
    return [
        ("daemon: creates the run", created - previous_mark),
        ("submit: planned events, enqueue", enqueued - created),
        ("queue: enqueued -> launched", starting - enqueued),
        ("worker start: launched -> process up", process - starting),
        ("code load: process up -> RUN_START", started - process),
        ("run setup: RUN_START -> first step", first_step - started),
        ("steps (union of their intervals)", in_steps),
        ("between steps", last_step - first_step - in_steps),
        ("teardown: last step -> run end", ended - last_step),
    ]


def repeat_phases(repeat: Repeat) -> list[tuple[str, str, float]]:
    """(run label, phase, seconds) from the request to the poll that saw the backfill done; they add up to it."""
    rows = [("", "launch request (GraphQL)", repeat.answered - repeat.requested)]
    previous = repeat.answered
    for number, run in enumerate(repeat.runs, 1):
        rows += [(f"run {number}", phase, seconds) for phase, seconds in run_phases(run, previous)]
        previous = max(previous, run.get("ended", previous))
    rows.append(("", "daemon: marks the backfill done (+ poll)", repeat.done - previous))
    return rows


CATEGORIES = {  # phase -> category of the summary table
    "launch request (GraphQL)": "launch request",
    "daemon: creates the run": "backfill daemon: waits + iterations",
    "daemon: marks the backfill done (+ poll)": "backfill daemon: waits + iterations",
    "submit: planned events, enqueue": "submit (planned events) + queue",
    "queue: enqueued -> launched": "submit (planned events) + queue",
    "worker start: launched -> process up": "run worker start (spawn, import Dagster)",
    "code load: process up -> RUN_START": "code load (import the definitions)",
    "run setup: RUN_START -> first step": "run setup (to the first step)",
    "steps (union of their intervals)": "steps",
    "between steps": "between steps",
    "teardown: last step -> run end": "teardown (after the last step)",
}


def summary(repeat: Repeat) -> dict[str, float]:
    totals: dict[str, float] = {category: 0.0 for category in dict.fromkeys(CATEGORIES.values())}
    for _, phase, seconds in repeat_phases(repeat):
        totals[CATEGORIES[phase]] += seconds
    return totals


# ---------------------------------------------------------------------------------------------------------------
# Printing
# ---------------------------------------------------------------------------------------------------------------
def load_text(load: tuple[float, float, float]) -> str:
    return f"{load[0]:.2f}/{load[1]:.2f}"


def print_repeat(number: int, repeat: Repeat) -> None:
    print(f"\nRepeat {number}: backfill {repeat.backfill_id} {repeat.status} in {repeat.seconds:.1f} s "
          f"(launched to wait {repeat.target_wait:.1f} s for the daemon's first look; load 1/5 min "
          f"{load_text(repeat.load_before)} before, {load_text(repeat.load_after)} after; machine CPU busy "
          f"{repeat.cpu_busy:.0%} of every core during it)")
    rows, elapsed = [], 0.0
    for run_label, phase, seconds in repeat_phases(repeat):
        elapsed += seconds
        rows.append([run_label, phase, f"{seconds:.2f}", f"{elapsed:.1f}"])
    print_table(["run", "phase", "seconds", "at"], rows)
    for number_in_backfill, run in enumerate(repeat.runs, 1):
        print_run(number_in_backfill, run, repeat.runs[number_in_backfill - 2] if number_in_backfill > 1 else None)


def print_run(number: int, run: dict, previous: dict | None) -> None:
    ended, started = run.get("ended", float("nan")), run.get("started", run["created"])
    overlap = previous.get("ended", 0.0) - run["created"] if previous else 0.0
    print(f"  run {number} {run['run_id'][:8]} {run['status']}: {', '.join(run['assets'])}; its process exited "
          f"{run.get('exited', ended) - ended:.2f} s after the run's end"
          + (f"; created {overlap:.1f} s before the previous run ended" if overlap > 0 else ""))
    print_table(["  step", "starts (s after RUN_START)", "seconds", "inputs/compute/outputs"], [
        [f"  {step['step']}", f"{step['start'] - started:.2f}", f"{step['total']:.2f}",
         f"{step['inputs']:.2f}/{step['compute']:.2f}/{step['outputs']:.2f}"] for step in run["steps"]])


def median_row(label: str, values: list[float], digits: int = 1) -> list[str]:
    return [label, *(f"{value:.{digits}f}" for value in values), f"{statistics.median(values):.{digits}f}"]


def print_summary(repeats: list[Repeat]) -> None:
    tables = [summary(repeat) for repeat in repeats]
    walls = [repeat.seconds for repeat in repeats]
    headers = ["seconds", *(f"repeat {number}" for number in range(1, len(repeats) + 1)), "median"]
    rows = [median_row(category, [table[category] for table in tables]) for category in tables[0]]
    rows.append(median_row("total: request -> COMPLETED_SUCCESS seen", walls))
    fixed = [wall - table["steps"] for wall, table in zip(walls, tables)]
    rows.append(median_row("fixed costs (total - steps)", fixed))
    # The daemon loop's phase at the request, then whole loop periods: the backfill is done in the iteration after
    # its last run ended.
    first_created = [repeat.runs[0]["created"] if repeat.runs else repeat.done for repeat in repeats]
    rows.append(median_row("  launch timed to wait for the daemon", [repeat.target_wait for repeat in repeats]))
    rows.append(median_row("  request -> run 1 created", [c - r.requested for c, r in zip(first_created, repeats)]))
    rows.append(median_row("  run 1 created -> done seen", [r.done - c for c, r in zip(first_created, repeats)]))
    rows.append(["runs in the backfill", *(str(len(repeat.runs)) for repeat in repeats), ""])
    rows.append(["load avg 1 min, before / after",
                 *(f"{repeat.load_before[0]:.2f}/{repeat.load_after[0]:.2f}" for repeat in repeats), ""])
    rows.append(["machine CPU busy (both cores, all processes)", *(f"{r.cpu_busy:.0%}" for r in repeats), ""])
    roles = sorted({name for repeat in repeats for name in repeat.cpu_by_role})
    rows += [median_row(f"CPU s, {name}", [repeat.cpu_by_role.get(name, 0.0) for repeat in repeats]) for name in roles]
    rows.append(["code servers started", *(str(repeat.code_servers_started) for repeat in repeats), ""])
    print("\nSummary (the categories above the total add up to it):")
    print_table(headers, rows)
    median = statistics.median(walls)
    print(f"\nMedian {median:.1f} s over {len(repeats)} backfill(s) [{min(walls):.1f}-{max(walls):.1f}]; target "
          f"{TARGET_SECONDS:.0f} s: {'met' if median <= TARGET_SECONDS else 'not met'}.")


def print_idle(cpu: dict[str, float], seconds: float, load: tuple[float, float, float]) -> None:
    per_minute = ", ".join(f"{name} {used * 60 / seconds:.1f}" for name, used in cpu.items())
    print(f"  idle for {seconds:.0f} s before the first backfill: CPU s per minute: {per_minute} "
          f"(load {load_text(load)})", flush=True)


# ---------------------------------------------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------------------------------------------
def parse_days(text: str) -> list[int]:
    first, _, last = text.partition("-")
    return list(range(int(first), int(last or first) + 1))


def target_waits(repeats: int, period: float) -> list[float]:
    """How long each repeat should wait for the daemon's first look: spread evenly over the loop's period (a user's
    click meets the loop at a uniformly random phase), so that their median is the mean, half a period."""
    return [period * (1 - (index + 0.5) / repeats) for index in range(repeats)]


def last_backfill_iteration(dagster_home: Path) -> float | None:
    """Epoch seconds at which a recent iteration of the backfill daemon's loop began, or None: the daemon writes its
    heartbeat at the first point of its loop that comes 30 s or more after the previous one; when no backfill is in
    progress, the loop's only points are an iteration's start and end, a few milliseconds apart."""
    import dagster as dg

    with dg.DagsterInstance.from_config(str(dagster_home)) as instance:
        heartbeat = instance.get_daemon_heartbeats().get("BACKFILL")
    return heartbeat.timestamp if heartbeat else None


def wait_for_phase(dagster_home: Path, period: float, wait: float) -> None:
    """Sleep until `wait` seconds before the backfill daemon's next iteration."""
    began = last_backfill_iteration(dagster_home)
    if began is None:
        return
    next_iteration = began + period * math.ceil((time.time() + wait - began) / period)
    time.sleep(max(0.0, next_iteration - wait - time.time()))


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, help="simulator scale of the main job (default 1.0; a kept folder "
                                                    "keeps the scale it was prepared at)")
    parser.add_argument("--keep", type=Path, help="data folder to use and keep (prepared only if the main job has "
                                                  "not run there yet); default: a temporary folder")
    parser.add_argument("--repeats", type=int, default=3, help="backfills, one after another (default 3)")
    parser.add_argument("--days", default="10-12", help="the days to backfill, FIRST-LAST (default 10-12)")
    parser.add_argument("--assets", help="comma-separated assets to backfill (default: every daily asset)")
    parser.add_argument("--dagster-yaml-extra", type=Path, help="YAML deep-merged into the project's dagster.yaml")
    parser.add_argument("--settle", type=float, default=60.0,
                        help="seconds the services stay idle before the first backfill (default 60)")
    parser.add_argument("--timeout", type=float, default=1800.0, help="seconds one backfill may take (default 1800)")
    parser.add_argument("--json", type=Path, help="also save every figure to this JSON file")
    parser.add_argument("--from-json", type=Path, help="print the tables of a file saved with --json, run nothing")
    experiments = parser.add_argument_group("experiments (change how the services start; not project settings)")
    experiments.add_argument("--backfill-daemon-period", type=float,
                             help="patch Dagster's 30 s backfill daemon loop period in the daemon process")
    experiments.add_argument("--code-server", action="store_true",
                             help="one persistent `dagster api grpc` code server for the webserver and the daemon")
    return parser.parse_args()


def experiment_text(arguments: argparse.Namespace) -> str:
    parts = [f"dagster.yaml extra {arguments.dagster_yaml_extra}" if arguments.dagster_yaml_extra else "",
             f"backfill daemon period {arguments.backfill_daemon_period} s" if arguments.backfill_daemon_period else "",
             "one persistent code server" if arguments.code_server else ""]
    return "; ".join(part for part in parts if part) or "none (the project's dagster.yaml as written)"


def print_report(repeats: list[Repeat]) -> None:
    for number, repeat in enumerate(repeats, 1):
        print_repeat(number, repeat)
    print_summary(repeats)


def reprint(saved: Path) -> int:
    figures = json.loads(saved.read_text())
    print(f"{saved}: experiment {figures['experiment']}, scale {figures['scale']}")
    print_report([Repeat(**repeat) for repeat in figures["repeats"]])
    return 0


def bench(data_dir: Path, arguments: argparse.Namespace, stack: ExitStack) -> int:
    from fraud_assets.defs.partitions import partition_key_of_day

    print("\n".join(machine_description()), flush=True)
    scale = use_data_folder(data_dir, arguments.scale)
    environment = bench_environment(data_dir, scale)
    os.environ.clear()
    os.environ.update(environment)
    settings = Settings.from_env()
    # prepare_dagster_home, in there, rewrites dagster.yaml from the template: before the experiment's extra.
    service_env = service_environment(settings)
    config = write_dagster_yaml(settings.dagster_home, arguments.dagster_yaml_extra)
    assets = arguments.assets.split(",") if arguments.assets else daily_assets(settings)
    keys = [partition_key_of_day(day) for day in parse_days(arguments.days)]
    print(f"Assets: {', '.join(assets)}; days {arguments.days} ({keys[0]}..{keys[-1]}); scale {scale}")
    print(f"Experiment: {experiment_text(arguments)}")
    if arguments.dagster_yaml_extra:
        print(f"dagster.yaml ({settings.dagster_home / 'dagster.yaml'}):\n{config}")
    services = dagster_services(settings, data_dir / "logs" / "bench_ui_backfill", arguments)
    stack.callback(services.stop)
    start_services(services, service_env)
    sampler = CpuSampler(services)
    print_idle(settle(services, sampler, arguments.settle), arguments.settle, os.getloadavg())
    repeats: list[Repeat] = []
    period = arguments.backfill_daemon_period or BACKFILL_DAEMON_PERIOD
    for number, wait in enumerate(target_waits(arguments.repeats, period), 1):
        wait_for_phase(settings.dagster_home, period, wait)
        repeat = run_backfill(services, sampler, assets, keys, arguments.timeout)
        repeat.target_wait = wait
        repeat.runs = read_runs(settings.dagster_home, repeat.backfill_id)
        repeats.append(repeat)
        print(f"  repeat {number}: {repeat.status} in {repeat.seconds:.1f} s "
              f"(load {load_text(repeat.load_before)} -> {load_text(repeat.load_after)})", flush=True)
        if repeat.status != "COMPLETED_SUCCESS":
            break  # its report is printed above; the figures so far below
    services.stop()
    print(f"\ndata        {data_dir} (scale {scale}); days {arguments.days}; experiment: {experiment_text(arguments)}")
    print_report(repeats)
    if arguments.json:
        arguments.json.write_text(json.dumps({"experiment": experiment_text(arguments), "scale": scale,
                                              "dagster_yaml": config, "repeats": [asdict(r) for r in repeats]}))
    return 0 if all(repeat.status == "COMPLETED_SUCCESS" for repeat in repeats) else 1


def main() -> int:
    arguments = parse_arguments()
    if arguments.from_json:
        return reprint(arguments.from_json)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so that the services are stopped on SIGTERM too
    with ExitStack() as stack:
        if arguments.keep:
            data_dir = arguments.keep.resolve()
        else:
            data_dir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench_ui_backfill_")))
        return bench(data_dir, arguments, stack)


if __name__ == "__main__":
    sys.exit(main())
