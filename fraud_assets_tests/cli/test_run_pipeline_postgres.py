"""The main job with FRAUD_DATABASE_URL set (Dagster's instance on a real PostgreSQL server, the warehouse a DuckLake
with its catalog there, training logging to the MLflow tracking server the job starts) gives the same rows and the
same AUPRC as embedded (SQLite instance, DuckDB file, MLflow's SQLite file), and its runs, tables, MLflow runs and
registered versions are in the database and the shared folder, not in SQLite or DuckDB files."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys

import psycopg2

from fraud_assets.core.database import DatabaseUrl
from fraud_assets.core.served_models import CHAMPION_ALIAS, MODEL_NAME
from fraud_assets.core.settings import MLFLOW_SCHEMA, Settings
from fraud_assets.core.warehouse_engine import LAKE_CATALOG_SCHEMA, open_warehouse
from fraud_assets.defs.resources.mlflow_tracking import EXPERIMENT_NAME
from fraud_assets.defs.resources.model_registry import MODEL_CARD_ARTIFACT

SCALE, DAYS = "0.02", "20"  # days 0-14 train the first model, 16-19 are scored unseen
MAIN_JOB_RUNS = ["daily_ingest_job", "train_model_job", "daily_scoring_job", "model_performance_job"]


def run_main_job(settings: Settings, database_url: str | None) -> str:
    environment = {**{name: value for name, value in os.environ.items()
                      if not name.startswith(("FRAUD_", "MLFLOW_"))},
                   "FRAUD_DATA_DIR": str(settings.data_dir), "FRAUD_SIMULATION_SCALE": SCALE,
                   "FRAUD_SIMULATION_DAYS": DAYS}
    environment.pop("DAGSTER_HOME", None)
    if database_url:
        environment["FRAUD_DATABASE_URL"] = database_url
    if settings.shared_dir:
        environment["FRAUD_SHARED_DIR"] = str(settings.shared_dir)
    result = subprocess.run([sys.executable, "-m", "fraud_assets.cli.run_pipeline"], env=environment,
                            capture_output=True, text=True, timeout=900, check=False)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result.stdout


def out_of_time_auprc(output: str) -> float:
    return float(re.search(r"never seen in training\): AUPRC ([0-9.]+)", output).group(1))


def stored_rows(settings: Settings) -> dict[str, list[tuple]]:
    with open_warehouse(settings.warehouse_location, read_only=True) as connection:
        return {
            "cleaned": connection.execute("SELECT day, count(*), sum(isFraud) FROM fraud.cleaned_transactions "
                                          "GROUP BY day ORDER BY day").fetchall(),
            "scored": connection.execute("SELECT transaction_id, is_alert FROM fraud.scored_predictions "
                                         "ORDER BY transaction_id").fetchall(),
        }


def test_the_main_job_on_postgres_gives_the_embedded_rows_and_auprc(postgres_database, tmp_path):
    embedded = Settings(data_dir=tmp_path / "embedded")
    on_server = Settings(data_dir=tmp_path / "server", shared_dir=tmp_path / "shared",
                         database=DatabaseUrl.parse(postgres_database))
    embedded_output = run_main_job(embedded, None)
    server_output = run_main_job(on_server, postgres_database)

    assert abs(out_of_time_auprc(server_output) - out_of_time_auprc(embedded_output)) <= 0.001
    embedded_rows, server_rows = stored_rows(embedded), stored_rows(on_server)
    assert len(embedded_rows["cleaned"]) == int(DAYS) and len(server_rows["scored"]) > 50_000
    assert server_rows == embedded_rows

    connection = psycopg2.connect(postgres_database)
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pipeline_name, status FROM runs ORDER BY create_timestamp")
            runs = cursor.fetchall()
            cursor.execute(f"SELECT table_name FROM {LAKE_CATALOG_SCHEMA}.ducklake_table WHERE end_snapshot IS NULL")
            lake_tables = {row[0] for row in cursor.fetchall()}
            mlflow_tables = mlflow_rows(cursor)
    finally:
        connection.close()
    assert runs == [(job, "SUCCESS") for job in MAIN_JOB_RUNS]
    assert (embedded.dagster_home / "history" / "runs.db").exists()  # the embedded instance's SQLite run storage
    assert not (on_server.dagster_home / "history").exists()
    assert {"raw_transactions", "cleaned_transactions", "scored_predictions", "model_performance"} <= lake_tables
    assert not on_server.warehouse_path.exists() and embedded.warehouse_path.exists()
    assert list((on_server.shared_path / "warehouse_lake").rglob("*.parquet"))  # the shared path holds the lake
    assert_mlflow_on_the_tracking_server(on_server, mlflow_tables, server_output)
    assert (embedded.data_dir / "mlflow.db").exists()


def mlflow_rows(cursor) -> dict[str, list[tuple]]:
    """What MLflow's tracking server wrote in schema `mlflow`: registered versions, aliases, training runs."""
    queries = {
        "versions": f"SELECT name, version, status FROM {MLFLOW_SCHEMA}.model_versions ORDER BY version",
        "aliases": f"SELECT name, alias, version FROM {MLFLOW_SCHEMA}.registered_model_aliases",
        "runs": f"SELECT e.name, r.status FROM {MLFLOW_SCHEMA}.runs r JOIN {MLFLOW_SCHEMA}.experiments e "
                "USING (experiment_id) WHERE e.name = 'fraud_model'",
    }
    rows = {}
    for name, query in queries.items():
        cursor.execute(query)
        rows[name] = cursor.fetchall()
    return rows


def assert_mlflow_on_the_tracking_server(settings: Settings, rows: dict[str, list[tuple]], output: str) -> None:
    """One registered version, champion, its run in PostgreSQL; the model and its card under the shared path; no
    MLflow file store in the data folder."""
    assert rows["versions"] == [(MODEL_NAME, 1, "READY")]
    assert rows["aliases"] == [(MODEL_NAME, CHAMPION_ALIAS, 1)]
    assert rows["runs"] == [(EXPERIMENT_NAME, "FINISHED")]
    artifacts = settings.mlflow_artifacts_dir
    assert list(artifacts.rglob(MODEL_CARD_ARTIFACT)) and list(artifacts.rglob("MLmodel")), sorted(artifacts.rglob("*"))
    assert not (settings.data_dir / "mlflow.db").exists() and not (settings.data_dir / "mlruns").exists()
    assert not (settings.data_dir / "mlartifacts").exists()
    assert "MLflow tracking server for this job: http://127.0.0.1:" in output
    assert f"MLflow: runs and registered versions in schema {MLFLOW_SCHEMA} of {settings.database.masked_url}" in output


def test_a_tracking_server_that_does_not_answer_stops_the_main_job_before_its_first_stage(postgres_database,
                                                                                          tmp_path):
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        dead_uri = f"http://127.0.0.1:{probe.getsockname()[1]}"
    environment = {**{name: value for name, value in os.environ.items() if not name.startswith("FRAUD_")},
                   "FRAUD_DATA_DIR": str(tmp_path / "data"), "FRAUD_DATABASE_URL": postgres_database,
                   "FRAUD_MLFLOW_TRACKING_URI": dead_uri}
    environment.pop("DAGSTER_HOME", None)
    result = subprocess.run([sys.executable, "-m", "fraud_assets.cli.run_pipeline"], env=environment,
                            capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 2, result.stdout[-2000:] + result.stderr[-2000:]
    (line,) = result.stderr.strip().splitlines()  # one line, no traceback
    assert line.startswith(f"error: the MLflow tracking server FRAUD_MLFLOW_TRACKING_URI={dead_uri} does not answer "
                           "(ConnectionError"), line
    assert line.endswith("or unset FRAUD_MLFLOW_TRACKING_URI and the main job starts its own for its duration")
    assert "[1/4]" not in result.stdout
