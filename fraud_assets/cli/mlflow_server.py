"""The team deployment's MLflow tracking server: `mlflow server` with its backend store (experiments, runs, the model
registry) in schema `mlflow` of the team database and its artifacts under the shared path.

    python -m fraud_assets.cli.mlflow_server [--host H] [--port N]   (or `make mlflow-ui`): in the foreground;
                                    embedded (no FRAUD_DATABASE_URL), `mlflow ui` over data/mlflow.db instead

`make up` starts it as one of its services; the main job starts one for its duration when FRAUD_MLFLOW_TRACKING_URI
is unset (`running_tracking_server`). Training and the registry talk to it over HTTP, and clients upload and download
artifacts through it (`--serve-artifacts`): a run worker on another host needs the server, not the shared path.

The backend store URI holds the database password: it reaches `mlflow server` through MLFLOW_BACKEND_STORE_URI, the
environment variable its CLI reads for `--backend-store-uri`, so that it is never on a command line (`ps`) or in a
log.

Hosts: MLflow 3's security middleware answers only requests whose Host header is localhost, 127.0.0.1 or a private
address (10.*, 172.16-31.*, 192.168.*), on any port. That covers this machine and hosts of a private network reaching
the server by IP address; clients that use a DNS name (http://mlflow.internal:5000) need that name in MLflow's own
MLFLOW_SERVER_ALLOWED_HOSTS (and browsers on other origins in MLFLOW_SERVER_CORS_ALLOWED_ORIGINS), which `mlflow
server` reads from the environment it is started with. The project does not widen the defaults itself.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import psutil

from fraud_assets.core.database import DatabaseUnreachable
from fraud_assets.core.processes import kill_processes, process_tree
from fraud_assets.core.settings import DEFAULT_MLFLOW_PORT, MLFLOW_SCHEMA, Settings, env_str
from fraud_assets.core.tracking_server import HEALTH_PATH, answers, is_tracking_server

MLFLOW_BIN = Path(sys.executable).parent / "mlflow"
BACKEND_STORE_URI_ENV = "MLFLOW_BACKEND_STORE_URI"  # what `mlflow server` reads for --backend-store-uri
READY_TIMEOUT_SECONDS = 120.0
STOP_GRACE_SECONDS = 15.0


class TrackingServerError(RuntimeError):
    """The MLflow tracking server did not start, or the one named does not answer; the message is for people."""


def prepare_tracking_store(settings: Settings) -> None:
    """What `mlflow server` needs before it starts: schema `mlflow` in the team database (MLflow creates its tables
    in the backend store's search path, not the schema itself) and the artifacts folder under the shared path."""
    import psycopg2

    database = settings.database
    try:
        connection = psycopg2.connect(database.url, connect_timeout=10)
    except psycopg2.Error as error:
        raise database.unreachable(error) from None
    try:
        with connection, connection.cursor() as cursor:
            cursor.execute(f"CREATE SCHEMA IF NOT EXISTS {MLFLOW_SCHEMA}")
    finally:
        connection.close()
    settings.mlflow_artifacts_dir.mkdir(parents=True, exist_ok=True)


def server_command(settings: Settings, host: str, port: int) -> list[str]:
    """`mlflow server` on host:port, serving the artifacts under the shared path; one worker (the UI and a few
    clients)."""
    return [str(MLFLOW_BIN), "server", "--host", host, "--port", str(port), "--workers", "1",
            "--artifacts-destination", str(settings.mlflow_artifacts_dir.resolve()), "--serve-artifacts"]


def ui_command(settings: Settings, host: str, port: int) -> list[str]:
    """The embedded deployment's `mlflow ui` over its local store (MLflow's SQLite file unless
    FRAUD_MLFLOW_TRACKING_URI names another; its artifacts are local folders)."""
    return [str(MLFLOW_BIN), "ui", "--backend-store-uri", settings.tracking_uri, "--host", host,
            "--port", str(port), "--workers", "1"]


def server_environment(settings: Settings) -> dict[str, str]:
    """The variables `mlflow server` needs on top of the caller's environment: its backend store, no telemetry, and
    no job execution (a runner and seven huey consumers for GenAI evaluation and prompt jobs this project never
    submits)."""
    return {BACKEND_STORE_URI_ENV: settings.mlflow_backend_store_uri, "MLFLOW_ENABLE_TELEMETRY": "false",
            "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"}


def check_tracking_server(tracking_uri: str) -> None:
    """A TrackingServerError when the server named by FRAUD_MLFLOW_TRACKING_URI does not answer."""
    reason = answers(tracking_uri)
    if reason is not None:
        raise TrackingServerError(
            f"the MLflow tracking server FRAUD_MLFLOW_TRACKING_URI={tracking_uri} does not answer ({reason}); start "
            "it (`make up` starts one on this machine), or unset FRAUD_MLFLOW_TRACKING_URI and the main job starts "
            "its own for its duration")


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
            return True
        except OSError:
            return False


def free_port(preferred: int = DEFAULT_MLFLOW_PORT, host: str = "127.0.0.1") -> int:
    """`preferred` when nothing listens on it, else a port the system picks."""
    if port_is_free(preferred, host):
        return preferred
    with socket.socket() as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


def log_tail(path: Path, lines: int = 20) -> str:
    text = path.read_text(errors="replace").splitlines()[-lines:] if path.exists() else ["(no log)"]
    return "\n".join(f"    | {line}" for line in text)


def wait_until_ready(process: subprocess.Popen, tracking_uri: str, log_path: Path, timeout: float) -> None:
    """Poll GET /health until it answers; a TrackingServerError with the end of the log if the server exits or
    does not answer in time."""
    deadline = time.monotonic() + timeout
    while answers(tracking_uri, timeout=2.0) is not None:
        if process.poll() is not None:
            raise TrackingServerError(f"the MLflow tracking server exited with code {process.returncode} while "
                                      f"starting; the end of {log_path}:\n{log_tail(log_path)}")
        if time.monotonic() > deadline:
            raise TrackingServerError(f"the MLflow tracking server did not answer {tracking_uri}{HEALTH_PATH} within "
                                      f"{timeout:.0f} s; the end of {log_path}:\n{log_tail(log_path)}")
        time.sleep(0.5)


def stop_process_group(process: subprocess.Popen, grace_seconds: float = STOP_GRACE_SECONDS) -> None:
    """SIGTERM the server's process group (a start_new_session child leads a group with its pid as id: the CLI and
    uvicorn), then SIGKILL every process of its tree still running after the grace period."""
    tree = process_tree(process.pid)  # read first: a leader that exits leaves its children out of its tree
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=grace_seconds)
    _, alive = psutil.wait_procs(tree, timeout=1.0)
    kill_processes(alive)
    process.wait()


@contextlib.contextmanager
def running_tracking_server(settings: Settings, port: int | None = None, host: str = "127.0.0.1",
                            ready_timeout: float = READY_TIMEOUT_SECONDS) -> Iterator[str]:
    """Start `mlflow server` on the team database in its own process group, wait until it answers, yield its URI;
    stop the group on leaving, whatever happened. Its output goes to <data>/logs/mlflow-server-<port>.log (`make up`'s
    own server, on the same data folder, logs to mlflow-server.log).

    `port` defaults to FRAUD_MLFLOW_PORT (settings.mlflow_port) when free, else a free one."""
    if settings.database is None:
        raise TrackingServerError("the MLflow tracking server keeps its store in the team database: set "
                                  "FRAUD_DATABASE_URL (embedded, MLflow writes to its SQLite file directly)")
    prepare_tracking_store(settings)
    port = port or free_port(settings.mlflow_port, host)
    tracking_uri = f"http://{host}:{port}"
    logs_dir = settings.data_dir / "logs"
    logs_dir.mkdir(parents=True, exist_ok=True)
    log_path = logs_dir / f"mlflow-server-{port}.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(server_command(settings, host, port), cwd=settings.data_dir,
                                   env={**os.environ, **server_environment(settings)}, stdout=log,
                                   stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        wait_until_ready(process, tracking_uri, log_path, ready_timeout)
        yield tracking_uri
    finally:
        stop_process_group(process)


def main(argv: list[str] | None = None) -> int:
    """Run MLflow in the foreground until Ctrl-C: the tracking server in the team deployment, the UI over the SQLite
    file when embedded."""
    parser = argparse.ArgumentParser(prog="python -m fraud_assets.cli.mlflow_server", description=main.__doc__)
    parser.add_argument("--host", default=env_str("FRAUD_BIND_HOST", "127.0.0.1"),
                        help="address to bind (FRAUD_BIND_HOST, default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=None,
                        help=f"port (FRAUD_MLFLOW_PORT, default {DEFAULT_MLFLOW_PORT})")
    arguments = parser.parse_args(argv)
    try:
        settings = Settings.from_env()
        port = arguments.port or settings.mlflow_port
        if settings.database is None:
            if is_tracking_server(settings.tracking_uri):
                raise ValueError(f"FRAUD_MLFLOW_TRACKING_URI={settings.tracking_uri} is a tracking server already: "
                                 "open it in a browser, or unset the variable to see the local store")
            command, environment = ui_command(settings, arguments.host, port), {}
        else:
            prepare_tracking_store(settings)
            command, environment = server_command(settings, arguments.host, port), server_environment(settings)
    except (DatabaseUnreachable, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    os.execve(command[0], command, {**os.environ, **environment})


if __name__ == "__main__":
    sys.exit(main())
