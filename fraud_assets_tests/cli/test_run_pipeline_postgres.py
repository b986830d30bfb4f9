"""The main job with FRAUD_DATABASE_URL set (Dagster's instance on a real PostgreSQL server, the warehouse a DuckLake
with its catalog there) gives the same rows and the same AUPRC as embedded (SQLite instance, DuckDB file), and its
runs and tables are in the database and the shared folder, not in SQLite or DuckDB files."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import psycopg2

from fraud_assets.core.database import DatabaseUrl
from fraud_assets.core.settings import Settings
from fraud_assets.core.warehouse_engine import LAKE_CATALOG_SCHEMA, open_warehouse

SCALE, DAYS = "0.02", "20"  # days 0-14 train the first model, 16-19 are scored unseen
MAIN_JOB_RUNS = ["daily_ingest_job", "train_model_job", "daily_scoring_job", "model_performance_job"]


def run_main_job(data_dir: Path, database_url: str | None) -> str:
    environment = {**{name: value for name, value in os.environ.items() if not name.startswith("FRAUD_")},
                   "FRAUD_DATA_DIR": str(data_dir), "FRAUD_SIMULATION_SCALE": SCALE, "FRAUD_SIMULATION_DAYS": DAYS}
    environment.pop("DAGSTER_HOME", None)
    if database_url:
        environment["FRAUD_DATABASE_URL"] = database_url
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
    on_server = Settings(data_dir=tmp_path / "server", database=DatabaseUrl.parse(postgres_database))
    embedded_output = run_main_job(embedded.data_dir, None)
    server_output = run_main_job(on_server.data_dir, postgres_database)

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
    finally:
        connection.close()
    assert runs == [(job, "SUCCESS") for job in MAIN_JOB_RUNS]
    assert (embedded.dagster_home / "history" / "runs.db").exists()  # the embedded instance's SQLite run storage
    assert not (on_server.dagster_home / "history").exists()
    assert {"raw_transactions", "cleaned_transactions", "scored_predictions", "model_performance"} <= lake_tables
    assert not on_server.warehouse_path.exists() and embedded.warehouse_path.exists()
    assert list((on_server.data_dir / "warehouse_lake").rglob("*.parquet"))  # the shared path holds the lake's files
