"""The simulator's entry points: their API, determinism, and fidelity of whole days to the PaySim facts (workspace
shared/paysim_facts.md) and to the real PaySim sample.

Each statistical assertion states the facts-file figure it checks and its tolerance. Most run on the ``steady_days``
fixture: 3 steady days at scale 0.5 (about 308,000 rows, 400 fraud rows).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import numpy as np
import pandas as pd
import pytest

from fraud_assets.core.schema import LAST_PAYSIM_STEP, PAYSIM_COLUMNS, PAYSIM_DTYPES, TRANSACTION_TYPES, steps_of_day
from fraud_assets.simulation import SimulationSettings, profiles, simulate_day, simulate_days
from fraud_assets_tests.simulation.conftest import share

SHARED_DIR = Path(__file__).resolve().parents[2] / ".." / "shared"
MONEY_COLUMNS = ["amount", "oldbalanceOrg", "newbalanceOrig", "oldbalanceDest", "newbalanceDest"]


# ---------------------------------------------------------------------------------------------------------------
# API
# ---------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("day", [-1, 5, 2.0])
def test_day_outside_the_simulation_is_rejected(day):
    with pytest.raises(ValueError, match="day"):
        simulate_day(day, SimulationSettings(num_days=5, scale=0.001))


def test_frame_has_the_paysim_schema(steady_days):
    day = simulate_day(4, SimulationSettings(scale=0.02))
    assert list(day.columns) == PAYSIM_COLUMNS
    assert {c: str(t) for c, t in day.dtypes.items()} == PAYSIM_DTYPES
    assert isinstance(day.index, pd.RangeIndex)
    for column in ["type", "nameOrig", "nameDest"]:
        assert all(type(value) is str for value in day[column])
    assert set(day["step"]) <= set(steps_of_day(4))
    assert day["step"].is_monotonic_increasing
    for column in MONEY_COLUMNS:
        values = steady_days[column].to_numpy()
        assert (np.round(values, 2) == values).all(), f"{column} not in cents"
        assert (values >= 0).all(), f"{column} negative"


def test_simulate_days_concatenates_days_with_a_fresh_index():
    settings = SimulationSettings(scale=0.01)
    days = simulate_days(2, 4, settings)
    expected = pd.concat([simulate_day(d, settings) for d in (2, 3, 4)], ignore_index=True)
    pd.testing.assert_frame_equal(days, expected)
    assert days.index.equals(pd.RangeIndex(len(days)))
    with pytest.raises(ValueError, match="first_day <= last_day"):
        simulate_days(4, 2, settings)


# ---------------------------------------------------------------------------------------------------------------
# Determinism
# ---------------------------------------------------------------------------------------------------------------
def test_same_seed_and_day_give_identical_frames():
    settings = SimulationSettings(seed=7, scale=0.02)
    pd.testing.assert_frame_equal(simulate_day(3, settings), simulate_day(3, settings))


def test_a_day_regenerates_alone_identically_to_its_slice_of_a_range():
    settings = SimulationSettings(seed=7, scale=0.01)
    days = simulate_days(0, 10, settings)
    day_5 = days[days["step"].isin(steps_of_day(5))].reset_index(drop=True)
    pd.testing.assert_frame_equal(simulate_day(5, settings), day_5)


def test_different_seeds_give_different_days():
    first = simulate_day(3, SimulationSettings(seed=1, scale=0.01))
    second = simulate_day(3, SimulationSettings(seed=2, scale=0.01))
    assert len(first) != len(second) or not first.equals(second)
    assert not set(first["nameOrig"]) & set(second["nameOrig"])


def test_num_days_does_not_change_a_days_content():
    """scale is a per-day rate: a 5-day simulation's day 0 is the 31-day simulation's day 0."""
    short = simulate_day(0, SimulationSettings(scale=0.01, num_days=5))
    pd.testing.assert_frame_equal(short, simulate_day(0, SimulationSettings(scale=0.01, num_days=31)))


# ---------------------------------------------------------------------------------------------------------------
# Volume and mix (facts: "Volume and mix (full data set)")
# ---------------------------------------------------------------------------------------------------------------
def test_rows_scale_with_pay_sims_daily_rate(steady_days):
    expected = 6_362_620 * 0.5 / 31 * 3  # facts: 6,362,620 rows over 31 days, here 3 days at scale 0.5
    assert len(steady_days) == pytest.approx(expected, rel=0.01)  # Poisson noise is ~0.2%


def test_type_mix(steady_days):
    # facts: CASH_OUT 35.17%, PAYMENT 33.81%, CASH_IN 21.99%, TRANSFER 8.38%, DEBIT 0.65%; tolerance 0.5 points
    facts = {"CASH_OUT": 0.3517, "PAYMENT": 0.3381, "CASH_IN": 0.2199, "TRANSFER": 0.0838, "DEBIT": 0.0065}
    mix = steady_days["type"].value_counts(normalize=True)
    assert set(mix.index) == set(TRANSACTION_TYPES)
    for name, expected in facts.items():
        assert mix[name] == pytest.approx(expected, abs=0.005), name


def test_fraud_only_in_transfer_and_cash_out_at_their_rates(steady_days):
    fraud = steady_days[steady_days["isFraud"] == 1]
    assert set(fraud["type"]) == {"TRANSFER", "CASH_OUT"}
    # facts: 0.129% of rows; ~400 fraud rows here (they come in pairs), tolerance 0.03 points (~2.5 sd)
    assert share(steady_days["isFraud"] == 1) == pytest.approx(0.00129, abs=0.0003)
    by_type = steady_days.groupby("type")["isFraud"].mean()
    assert by_type["TRANSFER"] == pytest.approx(0.0077, rel=0.25)  # facts: 0.77% of transfers
    assert by_type["CASH_OUT"] == pytest.approx(0.0018, rel=0.25)  # facts: 0.18% of cash-outs


def test_expected_fraud_rows_follow_the_facts():
    per_day = profiles.expected_fraud_rows_per_step(3, "steady", 1.0).sum()
    assert per_day == pytest.approx(8_213 / 31)  # facts: 8,213 fraud rows over 31 days
    paysim_total = sum(profiles.expected_fraud_rows_per_step(d, "paysim", 1.0).sum() for d in range(31))
    assert paysim_total == pytest.approx(8_213, abs=30)  # the two quiet steps hold 2 instead of ~11


def test_steady_days_are_draws_from_one_distribution():
    """Scenario "none" with the steady profile is stationary: day 3 and day 28 differ only by sampling noise."""
    settings = SimulationSettings(scale=0.1)
    np.testing.assert_allclose(
        profiles.expected_genuine_rows_per_step(3, "steady", 0.1),
        profiles.expected_genuine_rows_per_step(28, "steady", 0.1),
    )
    early, late = simulate_day(3, settings), simulate_day(28, settings)
    assert len(late) == pytest.approx(len(early), rel=0.03)  # ~20,500 rows, Poisson sd ~0.7%
    mix_gap = early["type"].value_counts(normalize=True) - late["type"].value_counts(normalize=True)
    assert mix_gap.abs().max() < 0.016  # sd of a share difference <= 0.0049: over 3 sd
    for q in (0.25, 0.5, 0.75):
        assert late["amount"].quantile(q) == pytest.approx(early["amount"].quantile(q), rel=0.05)
    assert (early["step"] % 24).value_counts(normalize=True).sort_index().to_numpy() == pytest.approx(
        (late["step"] % 24).value_counts(normalize=True).sort_index().to_numpy(), abs=0.01
    )


# ---------------------------------------------------------------------------------------------------------------
# Amounts and balances of all rows (facts: "Amounts", "Balances")
# ---------------------------------------------------------------------------------------------------------------
def test_amount_means_by_type(steady_days):
    # facts: CASH_IN 166k, CASH_OUT 172k, DEBIT 5.2k, PAYMENT 12.8k, TRANSFER 870k (all rows of the type)
    facts = {"CASH_IN": 166e3, "CASH_OUT": 172e3, "DEBIT": 5.2e3, "PAYMENT": 12.8e3, "TRANSFER": 870e3}
    # tolerance 4%; DEBIT (~2,000 heavy-tailed rows: sd 3.8% over seeds) 12%, TRANSFER (tail up to 25M) 10%
    tolerance = {"CASH_IN": 0.04, "CASH_OUT": 0.04, "DEBIT": 0.12, "PAYMENT": 0.04, "TRANSFER": 0.10}
    means = steady_days.groupby("type")["amount"].mean()
    for name, expected in facts.items():
        assert means[name] == pytest.approx(expected, rel=tolerance[name]), name


def test_amount_quartiles(steady_days):
    # facts: quartiles 13,390 / 74,872 / 208,722; tolerance 4%
    quartiles = steady_days["amount"].quantile([0.25, 0.5, 0.75]).to_numpy()
    assert quartiles == pytest.approx([13_390, 74_872, 208_722], rel=0.04)


def test_zero_balance_shares(steady_days):
    # facts: oldbalanceOrg = 0 33.0%, newbalanceOrig = 0 56.7%, oldbalanceDest = 0 42.5%, newbalanceDest = 0 38.3%;
    # tolerance 1.5 points
    facts = {"oldbalanceOrg": 0.330, "newbalanceOrig": 0.567, "oldbalanceDest": 0.425, "newbalanceDest": 0.383}
    for column, expected in facts.items():
        assert share(steady_days[column] == 0) == pytest.approx(expected, abs=0.015), column


# ---------------------------------------------------------------------------------------------------------------
# The "paysim" volume profile (facts: "volume over time", "fraud over time")
# ---------------------------------------------------------------------------------------------------------------
def test_paysim_curve_hits_the_facts():
    curve = profiles.paysim_genuine_step_curve()
    steps = np.arange(curve.size)
    assert curve.sum() == pytest.approx(6_362_620 - 8_213)  # facts: genuine rows of the full file
    assert curve[steps <= 400].sum() / curve.sum() == pytest.approx(0.97)  # facts: about 97% in steps <= 400
    assert int(np.argmax(curve)) == 19 and curve[19] == pytest.approx(51_352)  # facts: busiest step 19, 51,352 rows
    for quiet_step in (112, 662):  # facts: steps 112 and 662 hold 2 rows each
        day, position = divmod(quiet_step - 1, 24)
        fraud = profiles.expected_fraud_rows_per_step(day, "paysim", 1.0)[position]
        assert curve[quiet_step] + fraud == pytest.approx(2)
    assert curve[LAST_PAYSIM_STEP + 1 :].sum() == 0


def test_paysim_profile_volume_over_time():
    settings = SimulationSettings(scale=0.02, volume_profile="paysim")
    month = simulate_days(0, 30, settings)
    genuine = month[month["isFraud"] == 0]
    # facts: about 97% of genuine volume in steps <= 400; ~127,000 rows here, tolerance 1 point
    assert share(genuine["step"] <= 400) == pytest.approx(0.97, abs=0.01)
    assert genuine["step"].value_counts().idxmax() == 19  # facts: busiest step 19
    assert month["step"].max() <= LAST_PAYSIM_STEP
    # facts: fraud even over time (~11 rows per step at scale 1): late days carry a much higher fraud share
    day = (month["step"] - 1) // 24
    fraud_share = month.groupby(day)["isFraud"].mean()
    assert fraud_share.loc[20:].mean() > 10 * fraud_share.loc[:10].mean()
    fraud_per_step = month["isFraud"].sum() / LAST_PAYSIM_STEP / 0.02
    assert fraud_per_step == pytest.approx(8_213 / 743, rel=0.35)  # ~165 fraud rows in pairs here: sd ~11%


# ---------------------------------------------------------------------------------------------------------------
# Fidelity against the real PaySim sample (workspace shared/ folder; skipped without it)
# ---------------------------------------------------------------------------------------------------------------
def shared_path(relative: str) -> Path:
    path = (SHARED_DIR / relative).resolve()
    if not path.exists():
        pytest.skip(
            f"real PaySim sample not found at {path}; it lives in the workspace's shared/ folder, beside the repository"
        )
    return path


def fidelity_tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location("paysim_fidelity", shared_path("tools/paysim_fidelity.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_genuine_rows_are_hard_to_tell_from_real_ones(steady_days):
    """The fidelity tool's classifier two-sample test on genuine rows. Measured 0.555-0.565 over seeds (0.5 would
    be indistinguishable); bound 0.60."""
    tool = fidelity_tool()
    real = tool.load(shared_path("data/paysim_random_10k.csv"))
    auc, rows = tool.c2st(real[real["isFraud"] == 0], steady_days[steady_days["isFraud"] == 0])
    assert rows == 9_500
    assert auc < 0.60


def test_fraud_rows_resemble_the_real_ones(fraud_sample):
    """The fidelity tool's fraud statistics, simulated (the fraud generator's 207,000 rows) vs the real random
    sample's 500 fraud rows."""
    tool = fidelity_tool()
    real = tool.load(shared_path("data/paysim_random_10k.csv"))
    real_fraud = tool.describe(real[real["isFraud"] == 1])
    simulated_fraud = tool.describe(fraud_sample)
    for statistic in ("share TRANSFER", "newbalanceOrig = 0", "oldbalanceDest = 0", "newbalanceDest = 0"):
        assert simulated_fraud[statistic] == pytest.approx(real_fraud[statistic], abs=0.05), statistic
    for statistic in ("drains origin (amount = oldbalanceOrg > 0)", "origin balance adds up"):
        assert simulated_fraud[statistic] == pytest.approx(real_fraud[statistic], abs=0.03), statistic
    for statistic in ("amount q25", "amount median", "amount q75"):  # 500 real rows: sd of a log quantile ~0.1
        assert simulated_fraud[statistic] == pytest.approx(real_fraud[statistic], rel=0.25), statistic
    # fraud keeps its even pace at night: the expected share of hours 2-7 is 6/24 = 0.25 (real: 0.246, 500 rows)
    expected_per_step = profiles.expected_fraud_rows_per_step(0, "steady", 1.0)
    expected_night = expected_per_step[[hour - 1 for hour in range(2, 8)]].sum() / expected_per_step.sum()
    assert expected_night == pytest.approx(real_fraud["night share (hours 2-7)"], abs=0.05)
