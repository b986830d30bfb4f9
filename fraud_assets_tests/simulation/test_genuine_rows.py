"""Genuine rows against the PaySim facts (workspace shared/paysim_facts.md): their balances, merchants, rare
look-alikes of fraud, and hour profile. Each assertion states the figure it checks and its tolerance."""

from __future__ import annotations

import numpy as np
import pytest

from fraud_assets.simulation import profiles
from fraud_assets_tests.simulation.conftest import share


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


def test_few_genuine_transfers_and_cash_outs_look_like_fraud(steady_days):
    """Genuine look-alikes exist but stay rare (facts: none of the real sample's genuine TRANSFER/CASH_OUT rows drains
    exactly; 0.06% have 0/0 destination balances)."""
    genuine = steady_days[(steady_days["isFraud"] == 0) & steady_days["type"].isin(["TRANSFER", "CASH_OUT"])]
    empty_dest = share((genuine["oldbalanceDest"] == 0) & (genuine["newbalanceDest"] == 0) & (genuine["amount"] > 0))
    assert empty_dest == pytest.approx(0.0006, abs=0.0003)  # ~130,000 rows: ~80 expected, sd ~9
    drains = (genuine["amount"] == genuine["oldbalanceOrg"]) & (genuine["oldbalanceOrg"] > 0)
    assert 0 < drains.sum() and share(drains) < 0.0003  # profiles.GENUINE_SELF_DRAIN_SHARE = 0.01%
    assert (genuine["amount"] == profiles.FRAUD_AMOUNT_CAP).any()  # genuine 10M transfers exist too


def test_genuine_hour_profile(steady_days):
    genuine_hours = (steady_days.loc[steady_days["isFraud"] == 0, "step"] % 24).value_counts(normalize=True)
    # facts: "almost nothing at hours 3-6"; real samples 0.1%; bound 0.5%
    assert genuine_hours.reindex([3, 4, 5, 6], fill_value=0).sum() < 0.005
    # facts: "peaks at 18-20h (9-10% each)"; tolerance 1.5 points
    for hour in (18, 19, 20):
        assert genuine_hours[hour] == pytest.approx(0.095, abs=0.015), hour
    assert genuine_hours.idxmax() in (18, 19, 20)
