"""Shared fixtures: the workspace's real PaySim sample (skipped with a reason when absent), a count of the Parquet
files read; the definitions-load tests run first."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest

from fraud_assets.defs.dagster_compat import keep_sigterm_deliverable

REPOSITORY_ROOT = Path(__file__).resolve().parents[1]
SHARED_DIR = REPOSITORY_ROOT.parent / "shared"
pytest_plugins = ["fraud_assets_tests.postgres"]  # postgres_cluster, postgres_database: a real local PostgreSQL


@pytest.fixture
def parquet_reads(monkeypatch) -> list:
    """The names of the files pandas reads as Parquet from now on (what a bounded read may open)."""
    reads = []
    original = pd.read_parquet

    def counting(path, *args, **kwargs):
        reads.append(os.path.basename(path))
        return original(path, *args, **kwargs)

    monkeypatch.setattr(pd, "read_parquet", counting)
    return reads


def shared_file(relative: str) -> Path:
    """A file of the workspace's shared/ folder, or skip the test saying why it is missing."""
    path = SHARED_DIR / relative
    if not path.exists():
        pytest.skip(
            f"{relative} not found at {path}: the real PaySim sample lives in the workspace's shared/ folder "
            "beside the repository, which a plain clone does not have"
        )
    return path


@pytest.fixture
def early_steps_csv() -> Path:
    """51,392 real rows of steps 1-119, labels written as 0.0/1.0."""
    return shared_file("data/paysim_early_steps_1_119.csv")


@pytest.fixture
def random_10k_csv() -> Path:
    """10,000 real rows over steps 1-741 (fraud oversampled)."""
    return shared_file("data/paysim_random_10k.csv")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run test_definitions.py first: when the code location does not load, that is the failure to read."""
    items.sort(key=lambda item: item.path.name != "test_definitions.py")


def pytest_configure(config: pytest.Config) -> None:
    """The tests run Dagster in this process, and terminate processes they start: keep SIGTERM deliverable even when
    the suite was started with SIGINT ignored (a background CI job; see fraud_assets.defs.dagster_compat)."""
    keep_sigterm_deliverable()
