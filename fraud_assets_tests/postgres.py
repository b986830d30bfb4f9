"""Pytest fixtures for a real PostgreSQL server: one throwaway cluster per test session (`postgres_cluster`), a
fresh, empty database per test (`postgres_database`), and a cluster of a test's own that it may stop and start
(`own_cluster`).

Without PostgreSQL installed the tests that use them skip, saying how to install it; under CI (the environment
variable `CI` set) they fail instead, because CI installs the server and a skip there would hide a missing one.
Registered in conftest.py through `pytest_plugins`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from fraud_assets.cli.local_postgres import (
    LocalCluster,
    PostgresNotInstalled,
    blocking_ancestor,
    find_postgres_bin,
    run_sql,
    start_cluster,
    stop_cluster,
)


def running_in_ci() -> bool:
    """Whether the environment variable CI says this is a CI run (set, and not 0/false/no)."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def require_postgres() -> None:
    """Skip the test when PostgreSQL's server is not installed, saying how to install it; fail under CI."""
    try:
        find_postgres_bin()
        return
    except PostgresNotInstalled as error:
        problem = str(error)
    if running_in_ci():
        pytest.fail(f"{problem}. CI is set and CI installs PostgreSQL: a missing server is a failure here, not a skip",
                    pytrace=False)
    pytest.skip(f"needs a real PostgreSQL server: {problem}")


@contextlib.contextmanager
def server_reachable_folder(tmp_path_factory: pytest.TempPathFactory, name: str) -> Iterator[Path]:
    """A new, empty folder the server's OS user can enter. As root the server runs as `postgres`, which cannot enter
    pytest's /tmp/pytest-of-root (mode 0700): then the folder is made under /tmp (mode 0755) and removed after."""
    candidate = tmp_path_factory.mktemp(name)
    if blocking_ancestor(candidate) is None:
        yield candidate
        return
    folder = Path(tempfile.mkdtemp(prefix="fraud_pg_"))
    try:
        folder.chmod(0o755)
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCluster]:
    """A local cluster for the whole session (role and database `fraud`), stopped at the end even when tests fail."""
    require_postgres()
    with server_reachable_folder(tmp_path_factory, "postgres") as parent:
        folder = parent / "cluster"
        try:
            yield start_cluster(folder)
        finally:
            stop_cluster(folder)


@pytest.fixture
def postgres_database(postgres_cluster: LocalCluster) -> Iterator[str]:
    """The URL of a new, empty database owned by the cluster's role, dropped after the test."""
    name = f"test_{uuid.uuid4().hex[:16]}"
    run_sql(postgres_cluster, f'CREATE DATABASE "{name}"')
    try:
        yield dataclasses.replace(postgres_cluster, database=name).url
    finally:
        run_sql(postgres_cluster, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def own_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, LocalCluster]]:
    """(folder, cluster): a cluster for one test alone, which it may stop and start again (`stop_cluster(folder)`,
    `start_cluster(folder)`) without disturbing the session's; stopped at the end even when the test fails."""
    require_postgres()
    with server_reachable_folder(tmp_path_factory, "own_cluster") as parent:
        folder = parent / "cluster"
        try:
            yield folder, start_cluster(folder)
        finally:
            stop_cluster(folder)
