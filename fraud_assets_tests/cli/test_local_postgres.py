"""`python -m fraud_assets.cli.local_postgres` against the real server: `start` prints an export line whose URL
connects and needs its password, `start` again gives the same URL, `stop` leaves no server process and may repeat,
errors are one line with exit code 1; the `postgres_database` fixture gives each test an empty database."""

from __future__ import annotations

import os
import socket
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import psutil
import pytest

from fraud_assets.cli import local_postgres
from fraud_assets.cli.local_postgres import LocalCluster, PostgresNotInstalled, find_postgres_bin, read_cluster, run_sql
from fraud_assets_tests.postgres import require_postgres, server_reachable_folder

REPOSITORY_ROOT = Path(__file__).resolve().parents[2]
EXPORT_PREFIX = "export FRAUD_DATABASE_URL="


def run_local_postgres(*arguments: str) -> subprocess.CompletedProcess[str]:
    """The real command, in a child process."""
    return subprocess.run([sys.executable, "-m", "fraud_assets.cli.local_postgres", *arguments], capture_output=True,
                          text=True, timeout=120, cwd=REPOSITORY_ROOT,
                          env={**os.environ, "PYTHONPATH": str(REPOSITORY_ROOT)})


def exported_url(completed: subprocess.CompletedProcess[str]) -> str:
    """The URL of the one `export FRAUD_DATABASE_URL=...` line the command printed on stdout."""
    assert completed.returncode == 0, completed.stderr
    lines = completed.stdout.splitlines()
    assert len(lines) == 1 and lines[0].startswith(EXPORT_PREFIX), completed.stdout
    return lines[0].removeprefix(EXPORT_PREFIX)


def psql_through_url(url: str, sql: str, password: str | None = None) -> subprocess.CompletedProcess[str]:
    """Run SQL with psql over TCP as the URL says, the password given through PGPASSWORD (the URL's by default)."""
    parts = urlsplit(url)
    environment = {**os.environ, "PGPASSWORD": parts.password if password is None else password,
                   "PGPASSFILE": os.devnull, "PGCONNECT_TIMEOUT": "10"}
    command = [local_postgres.psql_binary(), "-X", "-w", "-A", "-t", "-h", parts.hostname, "-p", str(parts.port),
               "-U", parts.username, "-d", parts.path.lstrip("/"), "-c", sql]
    return subprocess.run(command, capture_output=True, text=True, timeout=30, env=environment)


def server_processes(data_dir: Path) -> list[str]:
    """Processes whose command line names the data folder or that work inside it (the postmaster's children)."""
    found = []
    for process in psutil.process_iter(["pid", "cmdline"]):
        try:
            cwd = process.cwd()
        except psutil.Error:
            cwd = ""
        cmdline = " ".join(process.info["cmdline"] or [])
        if str(data_dir) in cmdline or cwd == str(data_dir) or cwd.startswith(f"{data_dir}/"):
            found.append(f"{process.pid}: {cmdline}")
    return found


@pytest.fixture(scope="module")
def cli_folder(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The folder of the cluster the command-line tests start; its server is stopped at the end, whatever happened."""
    require_postgres()
    with server_reachable_folder(tmp_path_factory, "cli_postgres") as parent:
        folder = parent / "cluster"
        try:
            yield folder
        finally:
            local_postgres.stop_cluster(folder)


@pytest.fixture(scope="module")
def started_url(cli_folder: Path) -> str:
    return exported_url(run_local_postgres("start", "--folder", str(cli_folder)))


def test_start_prints_an_export_line_whose_url_connects(started_url: str) -> None:
    assert urlsplit(started_url).hostname == "127.0.0.1"
    completed = psql_through_url(started_url, "SELECT 1")
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip() == "1"


def test_the_url_needs_its_password(started_url: str) -> None:
    wrong = psql_through_url(started_url, "SELECT 1", password="not-the-password")
    assert wrong.returncode != 0 and "password authentication failed" in wrong.stderr, wrong.stderr
    missing = psql_through_url(started_url, "SELECT 1", password="")
    assert missing.returncode != 0, missing.stdout


def test_start_again_and_url_give_the_same_url(cli_folder: Path, started_url: str) -> None:
    assert exported_url(run_local_postgres("start", "--folder", str(cli_folder))) == started_url
    assert exported_url(run_local_postgres("url", "--folder", str(cli_folder))) == started_url


def test_the_cluster_is_local_and_its_secrets_private(cli_folder: Path, started_url: str) -> None:
    cluster = read_cluster(cli_folder)
    assert cluster.url == started_url
    assert cluster.masked_url == started_url.replace(cluster.password, "***")
    assert stat.S_IMODE((cli_folder / "cluster.json").stat().st_mode) == 0o600
    assert run_sql(cluster, "SHOW listen_addresses") == "127.0.0.1"
    assert (cli_folder / f".s.PGSQL.{cluster.port}").is_socket()


def test_stop_leaves_no_server_and_may_repeat_then_start_brings_it_back(cli_folder: Path, started_url: str) -> None:
    data_dir = cli_folder / "data"
    assert server_processes(data_dir), "the server should be running before the stop"
    stopped = run_local_postgres("stop", "--folder", str(cli_folder))
    assert stopped.returncode == 0, stopped.stderr
    assert server_processes(data_dir) == []
    again = run_local_postgres("stop", "--folder", str(cli_folder))
    assert again.returncode == 0, again.stderr
    assert psql_through_url(started_url, "SELECT 1").returncode != 0
    assert exported_url(run_local_postgres("start", "--folder", str(cli_folder))) == started_url
    assert psql_through_url(started_url, "SELECT 1").stdout.strip() == "1"


def test_a_taken_port_is_one_clear_line(tmp_path: Path) -> None:
    require_postgres()
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        completed = run_local_postgres("start", "--folder", str(tmp_path / "cluster"), "--port", str(port))
    assert completed.returncode == 1 and completed.stdout == ""
    assert completed.stderr.count("\n") == 1 and f"port {port}" in completed.stderr, completed.stderr
    assert "Traceback" not in completed.stderr


def test_a_missing_server_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("FRAUD_POSTGRES_BIN", raising=False)
    for finder in ("pg_config_bindir", "newest_debian_bindir", "path_initdb_bindir"):
        monkeypatch.setattr(local_postgres, finder, lambda: None)
    with pytest.raises(PostgresNotInstalled, match=r"apt-get install -y postgresql.*FRAUD_POSTGRES_BIN"):
        find_postgres_bin()
    monkeypatch.setenv("FRAUD_POSTGRES_BIN", str(tmp_path / "no_bin"))
    completed = run_local_postgres("start", "--folder", str(tmp_path / "cluster"))
    assert completed.returncode == 1 and completed.stdout == "", completed.stdout
    assert completed.stderr.count("\n") == 1 and "FRAUD_POSTGRES_BIN=" in completed.stderr, completed.stderr
    assert "Traceback" not in completed.stderr
    assert not (tmp_path / "cluster").exists()


@pytest.mark.parametrize("turn", [1, 2])
def test_postgres_database_is_fresh_and_empty(postgres_database: str, postgres_cluster: LocalCluster,
                                              turn: int) -> None:
    assert urlsplit(postgres_database).path.lstrip("/") != postgres_cluster.database
    tables = psql_through_url(postgres_database, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
    assert tables.returncode == 0, tables.stderr
    assert tables.stdout.strip() == "0"
    created = psql_through_url(postgres_database, f"CREATE TABLE left_by_turn_{turn} (id int)")  # not seen by the next
    assert created.returncode == 0, created.stderr
