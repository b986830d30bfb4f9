"""Bring the whole system up with one command, and down again with Ctrl-C.

    python -m fraud_assets.cli.up            (or `make up`, which also sets up the environment)
    python -m fraud_assets.cli.up --only dagster-ui,service
    python -m fraud_assets.cli.up --stop     stop a running `up` from another terminal

Starts, each in its own process group, with its output in $FRAUD_DATA_DIR/logs/<name>.log:

    dagster-ui       dagster-webserver: the asset graph, backfills, asset checks and runs
    dagster-daemon   runs the sensors (retraining on failed checks, re-scoring), the schedule and backfills
    service          bentoml serve of the champion (bento/service.py)
    label-app        the Gradio app where analysts review and label alerts (label_app/)
    mlflow-ui        embedded: the MLflow UI over MLflow's SQLite file
    mlflow-server    team deployment (FRAUD_DATABASE_URL): the MLflow tracking server, its tables in the database
                     (schema `mlflow`), its artifacts under the shared path; every other service (and the runs the
                     daemon launches) gets FRAUD_MLFLOW_TRACKING_URI pointing at it
                     Neither starts when FRAUD_MLFLOW_TRACKING_URI names a tracking server elsewhere.

Before starting anything, every port is checked: a taken port is named with the service that wanted it and the
process that holds it. Then each service is waited for until it answers (the Dagster UI with its code location
loaded, the daemon with healthy heartbeats, the service's /livez, the label app's page, MLflow's /health); one
that exits or does not answer in time is named with the end of its log, and everything started is stopped.
Ctrl-C, SIGTERM or `--stop` stops every service and its child processes: SIGTERM to each process group, SIGKILL
to what is left after a grace period.

Ports and the address come from the environment (FRAUD_BIND_HOST, FRAUD_DAGSTER_PORT, FRAUD_SERVICE_PORT,
FRAUD_LABEL_APP_PORT, FRAUD_MLFLOW_PORT) or the command line; everything binds to 127.0.0.1 unless told otherwise.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import psutil
import requests

from fraud_assets.cli.instance import prepare_dagster_home
from fraud_assets.cli.mlflow_server import prepare_tracking_store, server_command, server_environment, ui_command
from fraud_assets.core.database import DatabaseUnreachable
from fraud_assets.core.rotating_log import RotatingLog, copy_output
from fraud_assets.core.settings import Settings, env_number, env_str

REPOSITORY_ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent  # the console scripts of this environment (dagster-webserver, bentoml)
SERVICE_NAMES = ("dagster-ui", "dagster-daemon", "service", "label-app", "mlflow-ui", "mlflow-server")
STOP_GRACE_SECONDS = 20.0
POLL_SECONDS = 1.0

WORKSPACE_QUERY = """{ workspaceOrError { __typename ... on Workspace { locationEntries { name loadStatus
  locationOrLoadError { __typename ... on PythonError { message } } } } } }"""
DAEMON_QUERY = """{ instance { daemonHealth { allDaemonStatuses { daemonType required healthy
  lastHeartbeatErrors { message } } } } }"""


class StartupError(RuntimeError):
    """A service could not start: the message says which and why."""


@dataclass(frozen=True)
class UpSettings:
    """Where the services listen, and how long to wait for them."""

    host: str = "127.0.0.1"
    dagster_port: int = 3000
    service_port: int = 3001
    label_app_port: int = 7860
    mlflow_port: int = 5000
    ready_timeout_seconds: float = 300.0

    @classmethod
    def from_env(cls) -> UpSettings:
        return cls(
            host=env_str("FRAUD_BIND_HOST", "127.0.0.1"),
            dagster_port=env_number("FRAUD_DAGSTER_PORT", 3000, int),
            service_port=env_number("FRAUD_SERVICE_PORT", 3001, int),
            label_app_port=env_number("FRAUD_LABEL_APP_PORT", 7860, int),
            mlflow_port=env_number("FRAUD_MLFLOW_PORT", 5000, int),
            ready_timeout_seconds=env_number("FRAUD_UP_TIMEOUT_SECONDS", 300.0, float),
        )


@dataclass
class ManagedService:
    """One service: how to start it, how to tell it is ready, and its process once started."""

    name: str
    title: str
    command: list[str]
    port: int | None
    url: str | None
    purpose: str
    probe: Callable[[], str | None]  # a readiness note once ready, None before; raises StartupError on a fatal state
    environment: dict[str, str] = field(default_factory=dict)  # its own variables, on top of every service's
    process: subprocess.Popen | None = None
    log_path: Path | None = None
    note: str = ""
    ready: bool = False
    started_at: float = field(default=0.0)


# ---------------------------------------------------------------------------------------------------------------
# Readiness probes
# ---------------------------------------------------------------------------------------------------------------
def _get(url: str, timeout: float = 5.0) -> requests.Response | None:
    try:
        return requests.get(url, timeout=timeout)
    except requests.RequestException:
        return None


def _graphql(base_url: str, query: str) -> dict | None:
    try:
        response = requests.post(f"{base_url}/graphql", json={"query": query}, timeout=10)
        return response.json().get("data") if response.ok else None
    except (requests.RequestException, ValueError):
        return None


def dagster_ui_probe(base_url: str) -> Callable[[], str | None]:
    def probe() -> str | None:
        data = _graphql(base_url, WORKSPACE_QUERY)
        entries = ((data or {}).get("workspaceOrError") or {}).get("locationEntries") or []
        if not entries or any(entry["loadStatus"] != "LOADED" for entry in entries):
            return None
        for entry in entries:
            location = entry["locationOrLoadError"] or {}
            if location.get("__typename") == "PythonError":
                raise StartupError(f"the code location {entry['name']!r} failed to load: {location['message'].strip()}")
        return f"code location {', '.join(entry['name'] for entry in entries)} loaded"
    return probe


def dagster_daemon_probe(base_url: str) -> Callable[[], str | None]:
    """Ready when every required daemon has a healthy heartbeat, as the UI's deployment page shows it."""
    def probe() -> str | None:
        data = _graphql(base_url, DAEMON_QUERY)
        statuses = (((data or {}).get("instance") or {}).get("daemonHealth") or {}).get("allDaemonStatuses") or []
        required = [status for status in statuses if status["required"]]
        if not required or not all(status["healthy"] for status in required):
            return None
        return f"{len(required)} daemons healthy ({', '.join(sorted(s['daemonType'].lower() for s in required))})"
    return probe


def service_probe(base_url: str) -> Callable[[], str | None]:
    def probe() -> str | None:
        live = _get(f"{base_url}/livez")
        if live is None or live.status_code != 200:
            return None
        ready = _get(f"{base_url}/readyz")
        if ready is not None and ready.status_code == 200:
            return "champion loaded, POST /predict and /score"
        return "up, but no champion model yet: /readyz answers 503 until `make run` (or the Dagster UI) trains one"
    return probe


def http_probe(url: str, note: str) -> Callable[[], str | None]:
    def probe() -> str | None:
        response = _get(url)
        return note if response is not None and response.status_code == 200 else None
    return probe


# ---------------------------------------------------------------------------------------------------------------
# The services
# ---------------------------------------------------------------------------------------------------------------
def build_services(settings: Settings, up: UpSettings) -> list[ManagedService]:
    """Every service of the system on these settings, in start order."""
    host = up.host
    probe_host = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    dagster_url = f"http://{probe_host}:{up.dagster_port}"
    workspace = ["-w", str(REPOSITORY_ROOT / "workspace.yaml")]
    services = [
        ManagedService("dagster-ui", "Dagster UI",
                       [str(BIN / "dagster-webserver"), "-h", host, "-p", str(up.dagster_port), *workspace],
                       up.dagster_port, dagster_url, "asset graph, backfills, asset checks, runs",
                       dagster_ui_probe(dagster_url)),
        ManagedService("dagster-daemon", "Dagster daemon", [str(BIN / "dagster-daemon"), "run", *workspace],
                       None, None, "runs the sensors, the schedule and backfills",
                       dagster_daemon_probe(dagster_url)),
        ManagedService("service", "Scoring service",
                       [str(BIN / "bentoml"), "serve", "bento.service:FraudScoring", "--host", host,
                        "--port", str(up.service_port)],
                       up.service_port, f"http://{probe_host}:{up.service_port}", "the champion over HTTP",
                       service_probe(f"http://{probe_host}:{up.service_port}")),
        ManagedService("label-app", "Label app",
                       [sys.executable, "-m", "label_app", "--host", host, "--port", str(up.label_app_port)],
                       up.label_app_port, f"http://{probe_host}:{up.label_app_port}", "review and label alerts",
                       http_probe(f"http://{probe_host}:{up.label_app_port}/",
                                  "log in with a reviewer account (demo: analyst / analyst)")),
    ]
    mlflow_url = f"http://{probe_host}:{up.mlflow_port}"
    if starts_tracking_server(settings):
        services.append(ManagedService(
            "mlflow-server", "MLflow tracking server", server_command(settings, host, up.mlflow_port),
            up.mlflow_port, mlflow_url, "experiments, the model registry and their UI",
            http_probe(f"{mlflow_url}/health", f"runs in the database, artifacts in {settings.mlflow_artifacts_dir}"),
            environment=server_environment(settings)))
    elif settings.tracking_uri.startswith(("sqlite:", "file:")):
        services.append(ManagedService(
            "mlflow-ui", "MLflow UI", ui_command(settings, host, up.mlflow_port),
            up.mlflow_port, mlflow_url, "experiments and the model registry",
            http_probe(f"{mlflow_url}/health", "experiments and registered versions")))
    return services


def starts_tracking_server(settings: Settings) -> bool:
    """Whether `up` runs the MLflow tracking server: in the team deployment, unless FRAUD_MLFLOW_TRACKING_URI names
    one."""
    return settings.database is not None and not settings.mlflow_tracking_uri


def tracking_environment(settings: Settings, up: UpSettings) -> dict[str, str]:
    """FRAUD_MLFLOW_TRACKING_URI of the tracking server `up` runs (on up.mlflow_port, which may not be the default
    port), for every service; nothing when `up` runs none."""
    if not starts_tracking_server(settings):
        return {}
    probe_host = "127.0.0.1" if up.host in ("0.0.0.0", "::") else up.host
    return {"FRAUD_MLFLOW_TRACKING_URI": f"http://{probe_host}:{up.mlflow_port}"}


def service_environment(settings: Settings) -> dict[str, str]:
    """The environment every service runs with: the project's data folder, Dagster home and model store."""
    return {
        **os.environ,
        "FRAUD_DATA_DIR": str(settings.data_dir),
        "DAGSTER_HOME": str(prepare_dagster_home(settings.dagster_home)),
        "BENTOML_HOME": str(settings.model_store_home.resolve()),
        "PYTHONUNBUFFERED": "1",
        "BENTOML_DO_NOT_TRACK": "true",
        "GRADIO_ANALYTICS_ENABLED": "False",
        "MLFLOW_ENABLE_TELEMETRY": "false",
    }


# ---------------------------------------------------------------------------------------------------------------
# Ports
# ---------------------------------------------------------------------------------------------------------------
def port_owner(port: int) -> str:
    """Which process listens on `port`, when the system lets us see it."""
    try:
        connections = psutil.net_connections(kind="tcp")
    except psutil.Error:  # not allowed to list them: the message stays general
        return "another process"
    for connection in connections:
        if (connection.status == psutil.CONN_LISTEN and connection.laddr and connection.laddr.port == port
                and connection.pid):
            try:
                return f"pid {connection.pid} ({' '.join(psutil.Process(connection.pid).cmdline()[:3])})"
            except psutil.Error:
                return f"pid {connection.pid}"
    return "another process"


def port_problems(services: list[ManagedService], host: str) -> list[str]:
    """Why some ports cannot be used: the same port asked twice, or one already taken."""
    problems, seen = [], {}
    for service in services:
        if service.port is None:
            continue
        if service.port in seen:
            problems.append(f"port {service.port} is asked for both the {seen[service.port]} and the {service.title}")
            continue
        seen[service.port] = service.title
        with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind((host, service.port))
            except OSError as error:
                problems.append(f"port {service.port} for the {service.title} on {host} is not free: "
                                f"{error.strerror} (held by {port_owner(service.port)})")
    return problems


# ---------------------------------------------------------------------------------------------------------------
# Starting, watching and stopping
# ---------------------------------------------------------------------------------------------------------------
def log_tail(path: Path | None, lines: int = 15) -> str:
    if path is None or not path.exists():
        return "(no log)"
    text = path.read_text(errors="replace").splitlines()[-lines:]
    return "\n".join(f"    | {line}" for line in text) or "    | (empty log)"


def start(service: ManagedService, environment: dict[str, str], logs_dir: Path) -> None:
    service.log_path = logs_dir / f"{service.name}.log"
    log = RotatingLog(service.log_path)  # bounded; the previous run's log is kept as .log.1
    service.process = subprocess.Popen(service.command, cwd=REPOSITORY_ROOT, env={**environment, **service.environment},
                                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                       start_new_session=True)
    copy_output(service.process.stdout, log)
    service.started_at = time.monotonic()


def exited(service: ManagedService) -> bool:
    return service.process is not None and service.process.poll() is not None


def wait_until_ready(services: list[ManagedService], timeout: float) -> None:
    """Poll every service until all are ready; StartupError names the first that exits, fails or times out."""
    deadline = time.monotonic() + timeout
    while True:
        for service in services:
            if service.ready:
                continue
            if exited(service):
                raise StartupError(f"the {service.title} exited with code {service.process.returncode} while "
                                   f"starting; the end of {service.log_path}:\n{log_tail(service.log_path)}")
            note = service.probe()
            if note is not None:
                service.ready, service.note = True, note
                print(f"  ready: {service.title:<22} after {time.monotonic() - service.started_at:5.1f} s", flush=True)
        if all(service.ready for service in services):
            return
        if time.monotonic() > deadline:
            late = [service for service in services if not service.ready]
            raise StartupError("not ready after {:.0f} s: {}; the end of their logs:\n{}".format(
                timeout, ", ".join(service.title for service in late),
                "\n".join(f"  {service.log_path}:\n{log_tail(service.log_path)}" for service in late)))
        time.sleep(POLL_SECONDS)


def stop_all(services: list[ManagedService], grace_seconds: float = STOP_GRACE_SECONDS) -> list[str]:
    """SIGTERM every started process group, SIGKILL what is left after the grace period; returns what was killed."""
    started = [service for service in services if service.process is not None]
    for service in reversed(started):
        _signal_group(service.process.pid, signal.SIGTERM)
    deadline = time.monotonic() + grace_seconds
    while time.monotonic() < deadline and any(live_group_members(service.process.pid) for service in started):
        time.sleep(0.2)
    killed = []
    for service in started:
        if live_group_members(service.process.pid):
            _signal_group(service.process.pid, signal.SIGKILL)
            killed.append(service.title)
    for service in started:
        try:
            service.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
    return killed


def live_group_members(group_id: int) -> list[int]:
    """Processes of a process group that still run (zombies waiting for a reaper do not count)."""
    members = []
    for process in psutil.process_iter(["pid", "status"]):
        try:
            if process.info["status"] != psutil.STATUS_ZOMBIE and os.getpgid(process.pid) == group_id:
                members.append(process.pid)
        except (ProcessLookupError, psutil.Error):
            continue
    return members


def _signal_group(group_id: int, signal_number: int) -> None:
    try:
        os.killpg(group_id, signal_number)  # the group of a start_new_session child has the child's pid as its id
    except ProcessLookupError:
        pass


class StopRequested(Exception):
    pass


def _raise_stop(signal_number: int, _frame) -> None:
    raise StopRequested(signal.Signals(signal_number).name)


def print_ready(services: list[ManagedService], settings: Settings, logs_dir: Path) -> None:
    print(f"\nUp: {len(services)} services on the data in {settings.data_dir} (logs in {logs_dir}):")
    for service in services:
        where = service.url or "(no port)"
        print(f"  {service.title:<22} {where:<24} {service.purpose}; {service.note}")
    print("Ctrl-C stops them all (or `python -m fraud_assets.cli.up --stop` from another terminal).", flush=True)


def watch(services: list[ManagedService]) -> ManagedService:
    """Block until a service exits on its own; returns it."""
    while True:
        for service in services:
            if exited(service):
                return service
        time.sleep(POLL_SECONDS)


def run_up(settings: Settings, up: UpSettings, only: list[str] | None = None) -> int:
    services = [service for service in build_services(settings, up) if not only or service.name in only]
    problems = port_problems(services, up.host)
    if problems:
        print("error: cannot start, nothing was started:\n  " + "\n  ".join(problems) +
              "\nFree the port or choose another (FRAUD_DAGSTER_PORT, FRAUD_SERVICE_PORT, FRAUD_LABEL_APP_PORT, "
              "FRAUD_MLFLOW_PORT, or the --*-port options).", file=sys.stderr)
        return 2
    try:
        environment = service_environment(settings)  # prepares DAGSTER_HOME: checks FRAUD_DATABASE_URL's server first
        environment.update(tracking_environment(settings, up))
        if any(service.name == "mlflow-server" for service in services):
            prepare_tracking_store(settings)
    except (DatabaseUnreachable, ValueError) as error:
        print(f"error: cannot start, nothing was started: {error}", file=sys.stderr)
        return 2
    logs_dir = settings.data_dir / "logs"
    logs_dir.mkdir(parents=True, exist_ok=True)
    pid_file = logs_dir / "up.pid"
    pid_file.write_text(str(os.getpid()))
    previous = {number: signal.signal(number, _raise_stop) for number in (signal.SIGINT, signal.SIGTERM)}
    try:
        print(f"Starting {', '.join(service.title for service in services)} on {up.host} "
              f"(waiting up to {up.ready_timeout_seconds:.0f} s for each to answer)", flush=True)
        for service in services:
            start(service, environment, logs_dir)
        wait_until_ready(services, up.ready_timeout_seconds)
        print_ready(services, settings, logs_dir)
        stopped = watch(services)
        print(f"error: the {stopped.title} exited with code {stopped.process.returncode}; the end of "
              f"{stopped.log_path}:\n{log_tail(stopped.log_path)}\nStopping the others.", file=sys.stderr)
        return 1
    except StartupError as error:
        print(f"error: {error}\nStopping what was started.", file=sys.stderr)
        return 1
    except StopRequested as request:
        print(f"\n{request} received: stopping {len(services)} services", flush=True)
        return 0
    finally:
        for number in previous:  # a second Ctrl-C must not interrupt the clean stop
            signal.signal(number, signal.SIG_IGN)
        killed = stop_all(services)
        print(f"Stopped {', '.join(service.title for service in services if service.process is not None)}"
              + (f" (killed after {STOP_GRACE_SECONDS:.0f} s: {', '.join(killed)})" if killed else ""), flush=True)
        pid_file.unlink(missing_ok=True)
        for number, handler in previous.items():
            signal.signal(number, handler)


def stop_running_up(settings: Settings, timeout: float = 60.0) -> int:
    """`--stop`: signal the `up` recorded in the data folder and wait for it to finish stopping its services."""
    pid_file = settings.data_dir / "logs" / "up.pid"
    if not pid_file.exists():
        print(f"nothing to stop: no {pid_file} (no `up` is running on {settings.data_dir})", file=sys.stderr)
        return 1
    pid = int(pid_file.read_text())
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        pid_file.unlink(missing_ok=True)
        print(f"`up` (pid {pid}) is not running any more; removed its stale {pid_file}", file=sys.stderr)
        return 1
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            print(f"stopped `up` (pid {pid}) and its services")
            return 0
        time.sleep(0.5)
    print(f"`up` (pid {pid}) is still running after {timeout:.0f} s", file=sys.stderr)
    return 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m fraud_assets.cli.up", description=__doc__.splitlines()[0])
    parser.add_argument("--host", help="address every service binds to (FRAUD_BIND_HOST, default 127.0.0.1)")
    parser.add_argument("--dagster-port", type=int, help="Dagster UI port (FRAUD_DAGSTER_PORT, default 3000)")
    parser.add_argument("--service-port", type=int, help="scoring service port (FRAUD_SERVICE_PORT, default 3001)")
    parser.add_argument("--label-app-port", type=int, help="label app port (FRAUD_LABEL_APP_PORT, default 7860)")
    parser.add_argument("--mlflow-port", type=int,
                        help="MLflow UI or tracking server port (FRAUD_MLFLOW_PORT, default 5000)")
    parser.add_argument("--only", help=f"comma-separated subset of {', '.join(SERVICE_NAMES)}")
    parser.add_argument("--stop", action="store_true", help="stop the `up` running on this data folder")
    arguments = parser.parse_args(argv)
    try:
        settings, up = Settings.from_env(), UpSettings.from_env()
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if arguments.stop:
        return stop_running_up(settings)
    overrides = {name: value for name, value in [
        ("host", arguments.host), ("dagster_port", arguments.dagster_port), ("service_port", arguments.service_port),
        ("label_app_port", arguments.label_app_port), ("mlflow_port", arguments.mlflow_port)] if value}
    up = replace(up, **overrides)
    only = [name.strip() for name in arguments.only.split(",")] if arguments.only else None
    unknown = sorted(set(only or []) - set(SERVICE_NAMES))
    if unknown:
        parser.error(f"unknown service(s) {', '.join(unknown)}; choose from {', '.join(SERVICE_NAMES)}")
    if only and "dagster-daemon" in only and "dagster-ui" not in only:
        parser.error("the daemon's readiness is read through the Dagster UI's API: start dagster-ui with it")
    return run_up(settings, up, only)


if __name__ == "__main__":
    sys.exit(main())
