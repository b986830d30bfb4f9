"""Fraud rows against the PaySim facts (workspace shared/paysim_facts.md, "The fraud pattern"): their pairs, hours,
amounts, balances and flags. Distributions run on the fraud generator's own 100,000 attacked accounts, as a day holds
too few fraud rows for tight tolerances; each assertion states the figure it checks and its tolerance."""

from __future__ import annotations

import numpy as np
import pytest

from fraud_assets.simulation import profiles
from fraud_assets.simulation.fraud_rows import expected_fraud_rows_per_account
from fraud_assets_tests.simulation.conftest import share


def test_fraud_is_spread_evenly_over_the_hours(steady_days):
    fraud_hours = steady_days.loc[steady_days["isFraud"] == 1, "step"] % 24
    # facts: about 4% each hour, night included: hours 2-7 hold 6/24 = 25% of fraud. ~390 rows from ~190 accounts
    # (rows come in pairs): sd ~3 points, tolerance 10 points
    assert share(fraud_hours.between(2, 7)) == pytest.approx(0.25, abs=0.10)
    expected_per_step = profiles.expected_fraud_rows_per_step(0, "steady", 1.0)
    np.testing.assert_allclose(expected_per_step, expected_per_step.mean())


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
