"""Fixtures of the simulator tests: three simulated steady days and a large sample of the fraud generator's rows."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from fraud_assets.simulation import SimulationSettings, simulate_days
from fraud_assets.simulation.account_ids import DestinationPool
from fraud_assets.simulation.fraud_rows import fraud_rows
from fraud_assets.simulation.rows import to_frame


@pytest.fixture(scope="package")
def steady_days() -> pd.DataFrame:
    """Days 0-2 of the default steady profile at scale 0.5 (~308,000 rows)."""
    return simulate_days(0, 2, SimulationSettings(seed=42, scale=0.5))


@pytest.fixture(scope="package")
def fraud_sample() -> pd.DataFrame:
    """Fraud rows of 100,000 accounts attacked with the drain pattern (~207,000 rows)."""
    rng = np.random.default_rng(0)
    accounts = 100_000
    steps = np.sort(rng.integers(1, 25, accounts))
    rows, _ = fraud_rows(rng, steps, np.zeros(accounts, bool), 1.0, DestinationPool(0, 1.0))
    return to_frame(rows)


def share(mask: pd.Series) -> float:
    return float(np.mean(mask))
