"""The simulator's API, determinism and fidelity to the PaySim facts (workspace shared/paysim_facts.md).

Each statistical assertion states the facts-file figure it checks and its tolerance. Most run on one fixture of
3 steady days at scale 0.5 (about 308,000 rows, 400 fraud rows); fraud-pattern distributions run on 100,000
attacked accounts from the fraud generator itself, as a day holds too few fraud rows for tight tolerances.
"""

from __future__ import annotations

import dataclasses
import importlib.util
from pathlib import Path
from types import ModuleType

import numpy as np
import pandas as pd
import pytest

from fraud_assets.schema import LAST_PAYSIM_STEP, PAYSIM_COLUMNS, PAYSIM_DTYPES, TRANSACTION_TYPES, steps_of_day
from fraud_assets.simulation import DRIFT_SCENARIOS, VOLUME_PROFILES, SimulationSettings, simulate_day, simulate_days
from fraud_assets.simulation import profiles
from fraud_assets.simulation.simulator import (
    _DestinationPool,
    _fraud_rows,
    _to_frame,
    expected_fraud_rows_per_account,
    format_account_ids,
)

SHARED_DIR = Path(__file__).resolve().parents[2] / ".." / "shared"
MONEY_COLUMNS = ["amount", "oldbalanceOrg", "newbalanceOrig", "oldbalanceDest", "newbalanceDest"]


@pytest.fixture(scope="module")
def steady_days() -> pd.DataFrame:
    """Days 0-2 of the default steady profile at scale 0.5 (~308,000 rows)."""
    return simulate_days(0, 2, SimulationSettings(seed=42, scale=0.5))


@pytest.fixture(scope="module")
def fraud_sample() -> pd.DataFrame:
    """Fraud rows of 100,000 accounts attacked with the drain pattern (~207,000 rows)."""
    rng = np.random.default_rng(0)
    accounts = 100_000
    steps = np.sort(rng.integers(1, 25, accounts))
    rows, _ = _fraud_rows(rng, steps, np.zeros(accounts, bool), 1.0, _DestinationPool(0, 1.0))
    return _to_frame(rows)


def share(mask: pd.Series) -> float:
    return float(np.mean(mask))


# ---------------------------------------------------------------------------------------------------------------
# Settings and API
# ---------------------------------------------------------------------------------------------------------------
def test_public_constants():
    assert DRIFT_SCENARIOS == ("none", "amount_inflation", "type_mix_shift", "fraud_pattern_shift")
    assert VOLUME_PROFILES == ("steady", "paysim")
    assert SimulationSettings() == SimulationSettings(
        seed=42,
        scale=0.1,
        num_days=31,
        volume_profile="steady",
        scenario="none",
        drift_start_day=20,
        drift_strength=1.0,
    )


@pytest.mark.parametrize(
    ("field", "value", "allowed"),
    [
        ("volume_profile", "weekly", "('steady', 'paysim')"),
        ("scenario", "flood", "('none', 'amount_inflation', 'type_mix_shift', 'fraud_pattern_shift')"),
        ("scale", 0, "> 0"),
        ("scale", -0.5, "> 0"),
        ("num_days", 0, ">= 1"),
        ("drift_start_day", -1, ">= 0"),
        ("drift_strength", -0.1, ">= 0"),
        ("seed", -3, "non-negative"),
    ],
)
def test_invalid_settings_name_the_field_the_value_and_what_is_allowed(field, value, allowed):
    with pytest.raises(ValueError) as error:
        SimulationSettings(**{field: value})
    message = str(error.value)
    assert field in message and repr(value) in message and allowed in message


def test_settings_are_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        SimulationSettings().scale = 2.0  # type: ignore[misc]


def test_paysim_profile_covers_at_most_the_real_files_31_days():
    with pytest.raises(ValueError, match="num_days.*31"):
        SimulationSettings(volume_profile="paysim", num_days=32)


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
# Amounts and balances (facts: "Amounts", "Balances")
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


def test_genuine_balances_often_do_not_add_up(steady_days):
    """facts: "errorBalanceOrig / errorBalanceDest are often non-zero" even in genuine rows. Targets: the fidelity
    tool's "adds up" shares on the real random sample's genuine rows, 0.199 (origin) and 0.344 (destination);
    tolerance 0.03."""
    genuine = steady_days[steady_days["isFraud"] == 0]
    origin_error = genuine["newbalanceOrig"] + genuine["amount"] - genuine["oldbalanceOrg"]
    dest_error = genuine["oldbalanceDest"] + genuine["amount"] - genuine["newbalanceDest"]
    assert share(np.isclose(origin_error, 0, atol=0.01)) == pytest.approx(0.199, abs=0.03)
    assert share(np.isclose(dest_error, 0, atol=0.01)) == pytest.approx(0.344, abs=0.03)
    assert share(origin_error.round(2) < 0) > 0.005  # cent slips below the rule exist, as in real rows
    assert share(dest_error.round(2) < 0) > 0.03


def test_merchants_are_only_payment_destinations_with_no_balances(steady_days):
    merchant = steady_days["nameDest"].str.startswith("M")
    assert (merchant == (steady_days["type"] == "PAYMENT")).all()
    assert (steady_days.loc[merchant, ["oldbalanceDest", "newbalanceDest"]] == 0).all().all()


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


def test_format_account_ids_matches_python_formatting():
    rng = np.random.default_rng(3)
    numbers = np.r_[rng.integers(10**8, 2**31, 5_000), [10**8, 10**9 - 1, 10**9, 2**31 - 1, 2**32 - 1]]
    prefixes = rng.choice([ord("C"), ord("M")], numbers.size).astype(np.uint8)
    expected = [chr(p) + str(n) for p, n in zip(prefixes.tolist(), numbers.tolist())]
    assert format_account_ids(prefixes, numbers).tolist() == expected


# ---------------------------------------------------------------------------------------------------------------
# Hour of day (facts: "hour of day", "fraud is spread evenly over the hours")
# ---------------------------------------------------------------------------------------------------------------
def test_genuine_hour_profile(steady_days):
    genuine_hours = (steady_days.loc[steady_days["isFraud"] == 0, "step"] % 24).value_counts(normalize=True)
    # facts: "almost nothing at hours 3-6"; real samples 0.1%; bound 0.5%
    assert genuine_hours.reindex([3, 4, 5, 6], fill_value=0).sum() < 0.005
    # facts: "peaks at 18-20h (9-10% each)"; tolerance 1.5 points
    for hour in (18, 19, 20):
        assert genuine_hours[hour] == pytest.approx(0.095, abs=0.015), hour
    assert genuine_hours.idxmax() in (18, 19, 20)


def test_fraud_is_spread_evenly_over_the_hours(steady_days):
    fraud_hours = steady_days.loc[steady_days["isFraud"] == 1, "step"] % 24
    # facts: about 4% each hour, night included: hours 2-7 hold 6/24 = 25% of fraud. ~390 rows from ~190 accounts
    # (rows come in pairs): sd ~3 points, tolerance 10 points
    assert share(fraud_hours.between(2, 7)) == pytest.approx(0.25, abs=0.10)
    expected_per_step = profiles.expected_fraud_rows_per_step(0, "steady", 1.0)
    np.testing.assert_allclose(expected_per_step, expected_per_step.mean())


# ---------------------------------------------------------------------------------------------------------------
# The fraud pattern (facts: "The fraud pattern")
# ---------------------------------------------------------------------------------------------------------------
def test_each_fraud_cash_out_follows_its_transfer(steady_days):
    """TRANSFER then CASH_OUT of the same amount, same step, by an account other than the transfer's destination."""
    rows = steady_days.reset_index(drop=True)
    cash_outs = rows.index[(rows["isFraud"] == 1) & (rows["type"] == "CASH_OUT")]
    transfers = rows.loc[cash_outs - 1]
    assert len(cash_outs) > 150
    assert (transfers["isFraud"].to_numpy() == 1).all()
    assert (transfers["type"].to_numpy() == "TRANSFER").all()
    assert (transfers["amount"].to_numpy() == rows.loc[cash_outs, "amount"].to_numpy()).all()
    assert (transfers["step"].to_numpy() == rows.loc[cash_outs, "step"].to_numpy()).all()
    assert (transfers["nameDest"].to_numpy() != rows.loc[cash_outs, "nameOrig"].to_numpy()).all()
    fraud_transfer = (rows["isFraud"] == 1) & (rows["type"] == "TRANSFER")
    unflagged_transfers = rows.index[fraud_transfer & (rows["isFlaggedFraud"] == 0)]
    assert set(unflagged_transfers + 1) == set(cash_outs)


def test_fraud_transfers_drain_the_victim_to_a_mule(steady_days):
    transfers = steady_days[(steady_days["isFraud"] == 1) & (steady_days["type"] == "TRANSFER")]
    moved = transfers[transfers["isFlaggedFraud"] == 0]
    below_cap = moved[moved["amount"] < profiles.FRAUD_AMOUNT_CAP]
    assert (below_cap["amount"] == below_cap["oldbalanceOrg"]).all()
    assert (below_cap["newbalanceOrig"] == 0).all()
    assert np.allclose(moved["newbalanceOrig"], moved["oldbalanceOrg"] - moved["amount"], atol=0.005)


def test_fraud_rows_are_not_at_a_predictable_place_in_their_step(steady_days):
    rows = steady_days.reset_index(drop=True)
    step_start = rows.groupby("step").cumcount()
    step_size = rows.groupby("step")["step"].transform("size")
    place = (step_start / step_size)[rows["isFraud"] == 1]
    assert 0.35 < place.mean() < 0.65 and place.std() > 0.2  # uniform: mean 0.5, sd 0.29


def test_fraud_amounts(fraud_sample):
    amount = fraud_sample["amount"]
    # facts: quartiles 127k / 441k / 1.52M; tolerance 5%
    assert amount.quantile([0.25, 0.5, 0.75]).to_numpy() == pytest.approx([127e3, 441e3, 1.52e6], rel=0.05)
    # facts: maximum exactly 10,000,000, 3.5% of fraud rows at that cap; tolerance 0.5 points
    assert amount.max() == profiles.FRAUD_AMOUNT_CAP
    assert share(amount == profiles.FRAUD_AMOUNT_CAP) == pytest.approx(0.035, abs=0.005)


def test_fraud_balance_signature(fraud_sample):
    amount, old = fraud_sample["amount"], fraud_sample["oldbalanceOrg"]
    # facts: amount == oldbalanceOrg in 97.8% of fraud rows, newbalanceOrig == 0 in 98.1%; tolerance 1 point
    assert share(np.isclose(amount, old)) == pytest.approx(0.978, abs=0.01)
    assert share(fraud_sample["newbalanceOrig"] == 0) == pytest.approx(0.981, abs=0.01)
    # facts: oldbalanceDest == newbalanceDest == 0 with a non-zero amount in 49.6% of fraud rows; tolerance 1.5 points
    empty_dest = (fraud_sample["oldbalanceDest"] == 0) & (fraud_sample["newbalanceDest"] == 0) & (amount > 0)
    assert share(empty_dest) == pytest.approx(0.496, abs=0.015)
    # facts: TRANSFER 4,097 and CASH_OUT 4,116 fraud rows: about half each
    assert share(fraud_sample["type"] == "TRANSFER") == pytest.approx(0.5, abs=0.01)


def test_few_genuine_transfers_and_cash_outs_look_like_fraud(steady_days):
    """Genuine look-alikes exist but stay rare (facts: none of the real sample's genuine TRANSFER/CASH_OUT rows drains
    exactly; 0.06% have 0/0 destination balances)."""
    genuine = steady_days[(steady_days["isFraud"] == 0) & steady_days["type"].isin(["TRANSFER", "CASH_OUT"])]
    empty_dest = share((genuine["oldbalanceDest"] == 0) & (genuine["newbalanceDest"] == 0) & (genuine["amount"] > 0))
    assert empty_dest == pytest.approx(0.0006, abs=0.0003)  # ~130,000 rows: ~80 expected, sd ~9
    drains = (genuine["amount"] == genuine["oldbalanceOrg"]) & (genuine["oldbalanceOrg"] > 0)
    assert 0 < drains.sum() and share(drains) < 0.0003  # profiles.GENUINE_SELF_DRAIN_SHARE = 0.01%
    assert (genuine["amount"] == profiles.FRAUD_AMOUNT_CAP).any()  # genuine 10M transfers exist too


def test_flagged_fraud_follows_the_blocking_rule(steady_days, fraud_sample):
    flagged = fraud_sample[fraud_sample["isFlaggedFraud"] == 1]
    assert (flagged["type"] == "TRANSFER").all()
    assert (flagged["newbalanceOrig"] == flagged["oldbalanceOrg"]).all()  # blocked: the balance is unchanged
    assert (flagged[["oldbalanceDest", "newbalanceDest"]] == 0).all().all()
    assert (flagged["amount"] >= profiles.FLAG_MIN_AMOUNT).all()  # facts: the smallest is 353,874.22
    # facts: 16 flagged rows among PaySim's 8,213 fraud rows; tolerance 25% (~800 flagged here)
    assert len(flagged) / len(fraud_sample) * 8_213 == pytest.approx(16, rel=0.25)
    assert set(steady_days.loc[steady_days["isFlaggedFraud"] == 1, "isFraud"]) <= {1}


def test_expected_rows_per_account_match_the_generator(fraud_sample):
    rows_per_account = len(fraud_sample) / 100_000
    assert rows_per_account == pytest.approx(expected_fraud_rows_per_account(1.0, split=False), rel=0.005)


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
