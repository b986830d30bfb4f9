"""Where a day's rows go: step order, each fraud account's rows together at an unpredictable place in its step."""

from __future__ import annotations

import numpy as np

from fraud_assets.simulation.rows import Rows, place_rows


def hand_made_rows(step: np.ndarray, row_id: np.ndarray, is_fraud: int) -> Rows:
    """Rows that carry only their step, an id to follow them by, and their label."""
    zeros = np.zeros(step.size)
    return Rows(
        step=step,
        type_code=np.zeros(step.size, np.int64),
        amount=zeros,
        old_orig=zeros,
        new_orig=zeros,
        old_dest=zeros,
        new_dest=zeros,
        orig_id=row_id,
        dest_id=row_id,
        dest_is_merchant=np.zeros(step.size, bool),
        is_fraud=np.full(step.size, is_fraud, np.int8),
        is_flagged=np.zeros(step.size, np.int8),
    )


def test_placed_rows_keep_step_order_genuine_order_and_each_accounts_rows_together():
    steps = np.array([1, 2, 3])
    genuine_per_step = np.array([2, 0, 3])
    account_steps = np.array([1, 3, 3])
    rows_per_account = np.array([2, 1, 2])
    fraud_account = np.repeat(np.arange(3), rows_per_account)
    genuine = hand_made_rows(np.repeat(steps, genuine_per_step), np.arange(5), is_fraud=0)
    fraud = hand_made_rows(account_steps[fraud_account], 100 + np.arange(5), is_fraud=1)
    first_places = set()
    for seed in range(20):
        genuine_at, fraud_order, fraud_at = place_rows(
            np.random.default_rng(seed), genuine_per_step, account_steps, rows_per_account, steps
        )
        assert sorted(np.concatenate([genuine_at, fraud_at]).tolist()) == list(range(10))
        placed = Rows.placed([(genuine, genuine_at), (fraud.take(fraud_order), fraud_at)])
        assert (np.diff(placed.step) >= 0).all()
        assert placed.orig_id[placed.is_fraud == 0].tolist() == [0, 1, 2, 3, 4]
        for account in range(3):
            account_ids = 100 + np.flatnonzero(fraud_account == account)
            positions = np.flatnonzero(np.isin(placed.orig_id, account_ids))
            assert placed.orig_id[positions].tolist() == account_ids.tolist()
            assert (np.diff(positions) == 1).all()
        first_places.add(int(np.flatnonzero(placed.orig_id == 100)[0]))
    assert first_places == {0, 1, 2}  # before either genuine row of step 1, or after both


def test_fraud_rows_are_not_at_a_predictable_place_in_their_step(steady_days):
    rows = steady_days.reset_index(drop=True)
    step_start = rows.groupby("step").cumcount()
    step_size = rows.groupby("step")["step"].transform("size")
    place = (step_start / step_size)[rows["isFraud"] == 1]
    assert 0.35 < place.mean() < 0.65 and place.std() > 0.2  # uniform: mean 0.5, sd 0.29
