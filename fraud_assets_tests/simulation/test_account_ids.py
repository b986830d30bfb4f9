"""Account ids: PaySim's id format, the id range's uniqueness, and the pool of recurring destination customers."""

from __future__ import annotations

import numpy as np
import pytest

from fraud_assets.simulation import SimulationSettings, profiles, simulate_day
from fraud_assets.simulation.account_ids import DestinationPool, format_account_ids


def test_ids_look_like_pay_sims(steady_days):
    # facts: "C followed by digits"; like PaySim's, uniform below 2**31 with 9-10 digits
    assert steady_days["nameOrig"].str.fullmatch(r"C[1-9]\d{8,9}").all()
    assert steady_days["nameDest"].str.fullmatch(r"[CM][1-9]\d{8,9}").all()
    # facts: nameOrig 99.85% unique over 6.36M rows (fewer rows collide less): the id range gives that rate
    span = profiles.ACCOUNT_ID_END - profiles.ACCOUNT_ID_MIN
    assert 1 - 6_362_620 / (2 * span) == pytest.approx(0.9985, abs=0.0002)
    assert steady_days["nameOrig"].nunique() / len(steady_days) > 0.9985


def test_destination_customers_recur_across_days():
    settings = SimulationSettings(scale=0.02)
    first, second = simulate_day(0, settings), simulate_day(1, settings)
    customers = lambda day: set(day.loc[day["type"] != "PAYMENT", "nameDest"])  # noqa: E731
    assert len(customers(first) & customers(second)) > 100


def test_destination_pool_is_fixed_per_seed_and_scale():
    pool = DestinationPool(3, 0.01)
    assert pool.size == round(profiles.DEST_POOL_ACCOUNTS_AT_FULL_SCALE * 0.01)
    ids = pool.draw(np.random.default_rng(0), 100_000)
    assert ((ids >= profiles.ACCOUNT_ID_MIN) & (ids < profiles.ACCOUNT_ID_END)).all()
    assert np.unique(ids).size == pool.size  # 100,000 draws reach every account; distinct accounts, distinct ids
    np.testing.assert_array_equal(DestinationPool(3, 0.01).draw(np.random.default_rng(0), 100_000), ids)
    assert not set(DestinationPool(4, 0.01).draw(np.random.default_rng(0), 100_000).tolist()) & set(ids.tolist())


def test_format_account_ids_matches_python_formatting():
    rng = np.random.default_rng(3)
    numbers = np.r_[rng.integers(10**8, 2**31, 5_000), [10**8, 10**9 - 1, 10**9, 2**31 - 1, 2**32 - 1]]
    prefixes = rng.choice([ord("C"), ord("M")], numbers.size).astype(np.uint8)
    expected = [chr(p) + str(n) for p, n in zip(prefixes.tolist(), numbers.tolist())]
    assert format_account_ids(prefixes, numbers).tolist() == expected
