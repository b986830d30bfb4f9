"""FRAUD_DATABASE_URL, part 1: Dagster's instance on a real PostgreSQL server (started by the session's fixture).

The instance written by `prepare_dagster_home` keeps runs and events in the database and names only the environment
variable in dagster.yaml; a malformed URL, a wrong password or an unreachable server stop the entry points with one
line that names the host and the database, never the password, and no traceback.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import dagster as dg
import psycopg2
import pytest

from fraud_assets.cli.instance import prepare_dagster_home
from fraud_assets.core.database import DATABASE_URL_ENV, DatabaseUrl
from fraud_assets_tests.bento.conftest import REPOSITORY_ROOT


@dg.op
def count_to_three() -> int:
    return 3


@dg.job
def tiny_job():
    count_to_three()


def test_the_instance_keeps_its_runs_in_postgres_and_no_password_in_its_file(postgres_database, tmp_path,
                                                                             monkeypatch):
    database = DatabaseUrl.parse(postgres_database)
    monkeypatch.setenv(DATABASE_URL_ENV, postgres_database)
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))  # prepare_dagster_home sets it; restored after the test
    dagster_home = prepare_dagster_home(tmp_path / "dagster_home")
    config = (dagster_home / "dagster.yaml").read_text()
    assert database.password and database.password not in config
    assert f"env: {DATABASE_URL_ENV}" in config and "QueuedRunCoordinator" in config

    with dg.DagsterInstance.from_config(str(dagster_home)) as instance:
        assert type(instance.run_storage).__name__ == "PostgresRunStorage"
        result = tiny_job.execute_in_process(instance=instance)
        assert result.success
        assert [run.run_id for run in instance.get_runs()] == [result.run_id]
    connection = psycopg2.connect(postgres_database)
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT run_id, status FROM runs")
            stored = cursor.fetchall()
            cursor.execute("SELECT count(*) FROM event_logs WHERE run_id = %s", [result.run_id])
            events = cursor.fetchone()
    finally:
        connection.close()
    assert stored == [(result.run_id, "SUCCESS")]
    assert events[0] > 5  # the run's events are in the database too
    assert not (dagster_home / "history").exists()  # no SQLite run storage beside it


def run_entry_point(module: str, database_url: str, data_dir: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, DATABASE_URL_ENV: database_url, "FRAUD_DATA_DIR": str(data_dir)}
    return subprocess.run([sys.executable, "-m", module], cwd=REPOSITORY_ROOT, env=env, capture_output=True,
                          text=True, timeout=300, check=False)


@pytest.mark.parametrize("module", ["fraud_assets.cli.instance", "fraud_assets.cli.run_pipeline"])
def test_a_wrong_password_is_one_clear_line_without_the_password(postgres_cluster, tmp_path, module):
    wrong = DatabaseUrl.parse(postgres_cluster.url)
    url = wrong.url.replace(f":{wrong.password}@", ":not-the-password@")
    result = run_entry_point(module, url, tmp_path)
    assert result.returncode == 2, result.stderr[-2000:]
    assert "Traceback" not in result.stderr and "not-the-password" not in result.stderr + result.stdout
    assert (f"Cannot connect to PostgreSQL database '{wrong.database}' on 127.0.0.1:{wrong.port} as "
            f"'{wrong.user}'") in result.stderr
    assert "password authentication failed" in result.stderr and ":***@" in result.stderr
    assert not (tmp_path / "dagster_home").exists()  # nothing written before the check


def test_an_unreachable_server_and_a_malformed_url_are_one_clear_line(tmp_path):
    unreachable = run_entry_point("fraud_assets.cli.instance", "postgresql://fraud:secret@127.0.0.1:1/fraud", tmp_path)
    assert unreachable.returncode == 2 and "Traceback" not in unreachable.stderr
    assert "Cannot connect to PostgreSQL database 'fraud' on 127.0.0.1:1" in unreachable.stderr
    assert "secret" not in unreachable.stderr
    malformed = run_entry_point("fraud_assets.cli.instance", "mysql://fraud@/", tmp_path)
    assert malformed.returncode == 2 and "Traceback" not in malformed.stderr
    assert "the scheme must be postgresql://" in malformed.stderr and "it names no host" in malformed.stderr


def test_database_urls_are_parsed_and_masked():
    url = DatabaseUrl.parse("postgresql://team%40fraud:p%40ss@db.internal:6543/dagster")
    assert (url.user, url.password, url.host, url.port, url.database) == (
        "team@fraud", "p@ss", "db.internal", 6543, "dagster")
    assert url.masked_url == "postgresql://team@fraud:***@db.internal:6543/dagster"
    assert DatabaseUrl.parse("postgres://fraud@localhost/warehouse").port == 5432
    with pytest.raises(ValueError, match="it names no database"):
        DatabaseUrl.parse("postgresql://fraud:secret@localhost:5432/")
