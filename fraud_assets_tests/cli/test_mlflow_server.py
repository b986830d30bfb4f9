"""The team deployment's MLflow tracking server on a real PostgreSQL: a client elsewhere logs a run with an artifact
over HTTP, the run lands in schema `mlflow`, the artifact under the shared path, the UI is served by the same
server, and the server's whole process group stops with the context, even when its body fails."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import psutil
import psycopg2
import pytest
import requests

from fraud_assets.cli.mlflow_server import TrackingServerError, check_tracking_server, running_tracking_server
from fraud_assets.cli.up import live_group_members
from fraud_assets.core.database import DatabaseUrl
from fraud_assets.core.settings import MLFLOW_SCHEMA, Settings

CLIENT_SCRIPT = textwrap.dedent("""
    import sys
    from pathlib import Path
    from mlflow.tracking import MlflowClient
    from fraud_assets.defs.resources.model_registry import ensure_experiment

    client = MlflowClient(sys.argv[1])
    experiment_id = ensure_experiment(sys.argv[1], "server_test", "/nonexistent/not/used/with/a/server")
    run = client.create_run(experiment_id)
    Path("note.txt").write_text("logged through the server")
    client.log_artifact(run.info.run_id, "note.txt")
    client.log_metric(run.info.run_id, "auprc", 0.5)
    client.set_terminated(run.info.run_id)
    print(run.info.run_id)
""")


def team_settings(postgres_database: str, tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data", shared_dir=tmp_path / "shared",
                    database=DatabaseUrl.parse(postgres_database))


def server_group(tracking_uri: str) -> int:
    """The process group of the `mlflow server` listening on the URI's port."""
    port = int(tracking_uri.rsplit(":", 1)[1])
    for connection in psutil.net_connections(kind="tcp"):
        if connection.status == psutil.CONN_LISTEN and connection.laddr.port == port and connection.pid:
            return os.getpgid(connection.pid)
    pytest.fail(f"nothing listens on port {port}")


@pytest.mark.timeout(300)
def test_a_client_elsewhere_logs_through_the_server_into_postgres_and_the_shared_path(postgres_database, tmp_path):
    settings = team_settings(postgres_database, tmp_path)
    client_folder = tmp_path / "client"
    client_folder.mkdir()
    with running_tracking_server(settings) as tracking_uri:
        group = server_group(tracking_uri)
        client_environment = {**os.environ, "MLFLOW_ENABLE_TELEMETRY": "false"}
        result = subprocess.run([sys.executable, "-c", CLIENT_SCRIPT, tracking_uri], cwd=client_folder,
                                env=client_environment, capture_output=True, text=True, timeout=120, check=False)
        assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
        run_id = result.stdout.strip().splitlines()[-1]
        ui = requests.get(f"{tracking_uri}/", timeout=10)
        assert ui.status_code == 200 and "<title>MLflow</title>" in ui.text, ui.text[:500]
        process_lines = "\n".join(" ".join(psutil.Process(pid).cmdline()) for pid in live_group_members(group))
        assert settings.database.password not in process_lines  # the backend store comes through the environment
    (log,) = (settings.data_dir / "logs").glob("mlflow-server-*.log")
    assert settings.database.password not in log.read_text()

    assert live_group_members(group) == []
    artifacts = list(settings.mlflow_artifacts_dir.rglob("note.txt"))
    assert [path.read_text() for path in artifacts] == ["logged through the server"]
    assert run_id in str(artifacts[0])
    assert list(client_folder.iterdir()) == [client_folder / "note.txt"]  # no mlruns/ or mlflow.db next to the client
    assert not (settings.data_dir / "mlflow.db").exists() and not (settings.data_dir / "mlruns").exists()
    connection = psycopg2.connect(postgres_database)
    try:
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT r.status, e.name, e.artifact_location FROM {MLFLOW_SCHEMA}.runs r "
                           f"JOIN {MLFLOW_SCHEMA}.experiments e USING (experiment_id) WHERE r.run_uuid = %s", (run_id,))
            (status, experiment, artifact_location), = cursor.fetchall()
            cursor.execute("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public' "
                           "AND table_name = 'experiments'")
            public_experiments = cursor.fetchone()[0]
    finally:
        connection.close()
    assert (status, experiment) == ("FINISHED", "server_test")
    assert artifact_location.startswith("mlflow-artifacts:/")  # the server's store, not a client's folder
    assert public_experiments == 0


def test_the_server_group_stops_when_the_body_fails(postgres_database, tmp_path):
    settings = team_settings(postgres_database, tmp_path)
    with pytest.raises(RuntimeError, match="the body failed"):
        with running_tracking_server(settings) as tracking_uri:
            group = server_group(tracking_uri)
            raise RuntimeError("the body failed")
    assert live_group_members(group) == []
    with pytest.raises(TrackingServerError, match="does not answer"):
        check_tracking_server(tracking_uri)

