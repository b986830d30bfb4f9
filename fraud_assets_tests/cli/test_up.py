"""`python -m fraud_assets.cli.up`: the real command starts every service, each answers, Ctrl-C stops them all with
their child processes; a taken port and a service that cannot start are named with the reason."""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
import requests

from fraud_assets.cli.mlflow_server import BACKEND_STORE_URI_ENV
from fraud_assets.cli.up import UpSettings, build_services, live_group_members, port_problems, tracking_environment
from fraud_assets.core.database import DatabaseUrl
from fraud_assets.core.settings import Settings

REPOSITORY_ROOT = Path(__file__).resolve().parents[2]
READY_TIMEOUT_SECONDS = 420


def free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    for each in sockets:
        each.bind(("127.0.0.1", 0))
    ports = [each.getsockname()[1] for each in sockets]
    for each in sockets:
        each.close()
    return ports


def up_command(*options: str) -> list[str]:
    return [sys.executable, "-m", "fraud_assets.cli.up", *options]


def up_environment(data_dir: Path) -> dict[str, str]:
    return {**os.environ, "FRAUD_DATA_DIR": str(data_dir), "PYTHONPATH": str(REPOSITORY_ROOT),
            "FRAUD_UP_TIMEOUT_SECONDS": str(READY_TIMEOUT_SECONDS)}


def read_until(process: subprocess.Popen, marker: str, timeout: float) -> list[str]:
    """Lines of the process's stdout up to the one starting with `marker`; fails with the output otherwise."""
    lines, deadline = [], time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        lines.append(line.rstrip("\n"))
        if line.startswith(marker):
            return lines
    pytest.fail(f"no {marker!r} line within {timeout} s (exit code {process.poll()}):\n" + "\n".join(lines))


def port_is_free(port: int) -> bool:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


@pytest.mark.timeout(900)
def test_up_starts_every_service_each_answers_and_ctrl_c_stops_them_all(tmp_path):
    dagster, service, label_app, mlflow = free_ports(4)
    process = subprocess.Popen(
        up_command("--dagster-port", str(dagster), "--service-port", str(service),
                   "--label-app-port", str(label_app), "--mlflow-port", str(mlflow)),
        cwd=REPOSITORY_ROOT, env=up_environment(tmp_path / "data"), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True, start_new_session=True)
    groups: list[int] = []
    try:
        output = read_until(process, "Ctrl-C stops them all", READY_TIMEOUT_SECONDS + 60)
        text = "\n".join(output)
        for url in (f"http://127.0.0.1:{port}" for port in (dagster, service, label_app, mlflow)):
            assert url in text, text
        groups.extend(child.pid for child in psutil.Process(process.pid).children())
        assert len(groups) == 5, f"expected five services (UI, daemon, service, label app, MLflow): {groups}"
        descendants = {child.pid for child in psutil.Process(process.pid).children(recursive=True)}
        assert len(descendants) > 5, "the webserver's code server and the service's workers are children too"

        assert requests.get(f"http://127.0.0.1:{dagster}/server_info", timeout=10).status_code == 200
        location = requests.post(f"http://127.0.0.1:{dagster}/graphql", timeout=30, json={
            "query": "{ repositoriesOrError { ... on RepositoryConnection { nodes { name jobs { name } } } } }"}).json()
        jobs = {job["name"] for node in location["data"]["repositoriesOrError"]["nodes"] for job in node["jobs"]}
        assert {"daily_ingest_job", "train_model_job", "daily_scoring_job"} <= jobs
        assert "daemons healthy" in text
        assert requests.get(f"http://127.0.0.1:{service}/livez", timeout=10).status_code == 200
        assert requests.get(f"http://127.0.0.1:{service}/readyz", timeout=10).status_code == 503  # no champion yet
        assert "no champion model yet" in text
        assert requests.get(f"http://127.0.0.1:{label_app}/", timeout=10).status_code == 200
        assert requests.get(f"http://127.0.0.1:{mlflow}/health", timeout=10).text.strip() == "OK"

        process.send_signal(signal.SIGINT)  # what Ctrl-C delivers to the foreground process
        rest, _ = process.communicate(timeout=120)
        assert process.returncode == 0, rest
        assert "Stopped Dagster UI, Dagster daemon, Scoring service, Label app, MLflow UI" in rest, rest
        assert "killed after" not in rest, f"a service ignored SIGTERM: {rest}"
        still_running = [pid for pid in descendants if psutil.pid_exists(pid)
                         and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE]
        assert still_running == [], f"left running after Ctrl-C: {still_running}"
        assert all(port_is_free(port) for port in (dagster, service, label_app, mlflow))
        assert not (tmp_path / "data" / "logs" / "up.pid").exists()
    finally:  # whatever failed, leave no service behind
        for group in [process.pid, *groups]:
            if live_group_members(group):
                os.killpg(group, signal.SIGKILL)


def test_a_taken_port_is_named_with_its_service_and_holder_and_nothing_starts(tmp_path):
    holder = socket.socket()
    holder.bind(("127.0.0.1", 0))
    holder.listen()
    taken = holder.getsockname()[1]
    try:
        result = subprocess.run(up_command("--dagster-port", str(taken)), cwd=REPOSITORY_ROOT,
                                env=up_environment(tmp_path / "data"), capture_output=True, text=True, timeout=120,
                                check=False)
    finally:
        holder.close()
    assert result.returncode == 2, result.stderr
    assert f"port {taken} for the Dagster UI on 127.0.0.1 is not free" in result.stderr
    assert f"pid {os.getpid()}" in result.stderr  # the test process holds it
    assert "nothing was started" in result.stderr
    assert not (tmp_path / "data" / "logs").exists()


def test_the_same_port_asked_twice_is_refused():
    ports = UpSettings(dagster_port=3999, service_port=3999)
    problems = port_problems(build_services(Settings(), ports)[:3], "127.0.0.1")
    assert problems == ["port 3999 is asked for both the Dagster UI and the Scoring service"]


@pytest.mark.timeout(300)
def test_a_service_that_cannot_start_is_named_with_the_end_of_its_log(tmp_path):
    """The label app refuses to listen beyond 127.0.0.1 without reviewer accounts; `up` says so and exits 1."""
    (label_app,) = free_ports(1)
    environment = {key: value for key, value in up_environment(tmp_path / "data").items()
                   if not key.startswith("FRAUD_LABEL_APP_USERS")}
    result = subprocess.run(up_command("--only", "label-app", "--host", "0.0.0.0", "--label-app-port", str(label_app)),
                            cwd=REPOSITORY_ROOT, env=environment, capture_output=True, text=True, timeout=240,
                            check=False)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "the Label app exited with code 2 while starting" in result.stderr
    assert "FRAUD_LABEL_APP_USERS" in result.stderr  # the reason, from the app's own log
    assert (tmp_path / "data" / "logs" / "label-app.log").exists()


def test_live_group_members_sees_a_running_group_and_not_a_finished_one():
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"], start_new_session=True)
    try:
        assert live_group_members(child.pid) == [child.pid]
    finally:
        os.killpg(child.pid, signal.SIGKILL)
        child.wait()
    assert live_group_members(child.pid) == []


def test_the_team_deployment_runs_the_tracking_server_and_points_every_service_at_it(tmp_path):
    team = Settings(data_dir=tmp_path, database=DatabaseUrl.parse("postgresql://fraud:secret@db.internal/fraud"))
    up = UpSettings(host="0.0.0.0", mlflow_port=5123)
    services = {service.name: service for service in build_services(team, up)}
    assert "mlflow-ui" not in services
    tracking = services["mlflow-server"]
    assert tracking.title == "MLflow tracking server" and tracking.port == 5123
    assert tracking.command[1] == "server" and "secret" not in " ".join(tracking.command)
    assert tracking.environment[BACKEND_STORE_URI_ENV] == team.mlflow_backend_store_uri
    assert tracking_environment(team, up) == {"FRAUD_MLFLOW_TRACKING_URI": "http://127.0.0.1:5123"}

    remote = Settings(data_dir=tmp_path, database=team.database, mlflow_tracking_uri="http://mlflow.internal:5000")
    assert not {"mlflow-ui", "mlflow-server"} & {service.name for service in build_services(remote, up)}
    assert tracking_environment(remote, up) == {}
    assert "mlflow-ui" in {service.name for service in build_services(Settings(data_dir=tmp_path), up)}


@pytest.mark.timeout(300)
def test_up_starts_the_tracking_server_on_postgres_and_ctrl_c_stops_it(postgres_database, tmp_path):
    (mlflow,) = free_ports(1)
    environment = {**up_environment(tmp_path / "data"), "FRAUD_DATABASE_URL": postgres_database,
                   "FRAUD_SHARED_DIR": str(tmp_path / "shared")}
    process = subprocess.Popen(up_command("--only", "mlflow-server", "--mlflow-port", str(mlflow)),
                               cwd=REPOSITORY_ROOT, env=environment, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, start_new_session=True)
    groups: list[int] = []
    try:
        text = "\n".join(read_until(process, "Ctrl-C stops them all", 240))
        groups.extend(child.pid for child in psutil.Process(process.pid).children())
        assert f"MLflow tracking server http://127.0.0.1:{mlflow}" in text, text
        assert requests.get(f"http://127.0.0.1:{mlflow}/health", timeout=10).text.strip() == "OK"
        assert "<title>MLflow</title>" in requests.get(f"http://127.0.0.1:{mlflow}/", timeout=10).text
        process.send_signal(signal.SIGINT)
        rest, _ = process.communicate(timeout=120)
        assert process.returncode == 0 and "Stopped MLflow tracking server" in rest, rest
        assert port_is_free(mlflow)
        assert (tmp_path / "shared" / "mlartifacts").is_dir() and not (tmp_path / "data" / "mlflow.db").exists()
    finally:
        for group in [process.pid, *groups]:
            if live_group_members(group):
                os.killpg(group, signal.SIGKILL)
