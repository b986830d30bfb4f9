"""Tests of build_features: hand-computed values, single-vs-batch bit parity, dtypes and robustness."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from fraud_assets.core.schema import TRANSACTION_TYPES
from fraud_assets.ml.features import FEATURE_COLUMNS, FEATURE_DESCRIPTIONS, build_features, feature_matrix

TYPE_COLUMNS = [f"type_{name}" for name in TRANSACTION_TYPES]


def crafted_transactions() -> pd.DataFrame:
    """A draining fraud TRANSFER, a merchant PAYMENT and a CASH_IN, with a non-default index."""
    return pd.DataFrame(
        {
            "step": [25, 19, 40],
            "type": ["TRANSFER", "PAYMENT", "CASH_IN"],
            "amount": [181.0, 9839.64, 100.5],
            "nameOrig": ["C1305486145", "C1231006815", "C840083671"],
            "oldbalanceOrg": [181.0, 170136.0, 1000.0],
            "newbalanceOrig": [0.0, 160296.36, 1100.5],
            "nameDest": ["C553264065", "M1979787155", "C38997010"],
            "oldbalanceDest": [0.0, 0.0, 500.0],
            "newbalanceDest": [0.0, 0.0, 399.5],
            "isFraud": [1, 0, 0],
            "isFlaggedFraud": [0, 0, 0],
        },
        index=[10, 3, 7],
    )


def random_transactions(n: int, seed: int) -> pd.DataFrame:
    """Random transactions of every type with awkward values (cents, zeros, exact drains, missing steps)."""
    rng = np.random.default_rng(seed)
    old_orig = np.round(rng.lognormal(9, 2, n), 2) * (rng.random(n) > 0.3)
    amount = np.where(rng.random(n) < 0.2, old_orig, np.round(rng.lognormal(9, 2, n), 2))
    old_dest = np.round(rng.lognormal(10, 2, n), 2) * (rng.random(n) > 0.4)
    return pd.DataFrame(
        {
            "step": np.where(rng.random(n) < 0.1, np.nan, rng.integers(1, 744, n)),
            "type": rng.choice(list(TRANSACTION_TYPES), n),
            "amount": amount,
            "nameOrig": [f"C{i}" for i in rng.integers(10**8, 10**9, n)],
            "oldbalanceOrg": old_orig,
            "newbalanceOrig": np.maximum(old_orig - amount, 0.0),
            "nameDest": [f"{p}{i}" for p, i in zip(rng.choice(["C", "M"], n), rng.integers(10**8, 10**9, n))],
            "oldbalanceDest": old_dest,
            "newbalanceDest": old_dest + amount * (rng.random(n) > 0.3),
        },
        index=rng.permutation(n) + 1000,
    )


def assert_bit_identical(left: pd.DataFrame, right: pd.DataFrame) -> None:
    """Same columns, index and float32 bits (NaN equal to NaN)."""
    assert list(left.columns) == list(right.columns)
    assert left.index.equals(right.index)
    np.testing.assert_array_equal(left.to_numpy().view(np.uint32), right.to_numpy().view(np.uint32))


def test_hand_computed_values():
    features = build_features(crafted_transactions())
    expected = pd.DataFrame(
        {
            "type_CASH_IN": [0, 0, 1],
            "type_CASH_OUT": [0, 0, 0],
            "type_DEBIT": [0, 0, 0],
            "type_PAYMENT": [0, 1, 0],
            "type_TRANSFER": [1, 0, 0],
            "amount": [181.0, 9839.64, 100.5],
            "log_amount": [np.log1p(181.0), np.log1p(9839.64), np.log1p(100.5)],
            "oldbalanceOrg": [181.0, 170136.0, 1000.0],
            "newbalanceOrig": [0.0, 160296.36, 1100.5],
            "oldbalanceDest": [0.0, 0.0, 500.0],
            "newbalanceDest": [0.0, 0.0, 399.5],
            "errorBalanceOrig": [0.0, 0.0, 201.0],
            "errorBalanceDest": [181.0, 9839.64, 201.0],
            "dest_is_merchant": [0, 1, 0],
            "orig_old_zero": [0, 0, 0],
            "orig_new_zero": [1, 0, 0],
            "dest_old_zero": [1, 1, 0],
            "dest_new_zero": [1, 1, 0],
            "dest_both_zero_nonzero_amount": [1, 1, 0],
            "drains_origin": [1, 0, 0],
            "amount_to_orig_balance": [1.0, 9839.64 / 170136.0, 0.1005],
            "hour_of_day": [1, 19, 16],
            "is_night": [1, 0, 0],
        },
        index=[10, 3, 7],
    ).astype(np.float32)
    pd.testing.assert_frame_equal(features, expected, check_exact=True)


def test_without_step_hour_features_are_missing():
    transaction = crafted_transactions().drop(columns="step").iloc[[0]]
    transaction = transaction.assign(type="CASH_OUT", amount=0.5, oldbalanceOrg=0.0, newbalanceOrig=0.0)
    features = build_features(transaction).iloc[0]
    assert np.isnan(features["hour_of_day"]) and np.isnan(features["is_night"])
    assert features["type_CASH_OUT"] == 1
    assert features["orig_old_zero"] == 1
    assert features["drains_origin"] == 0  # an empty account cannot be drained
    assert features["amount_to_orig_balance"] == 0.5  # balances below 1 divide as 1
    assert features["errorBalanceOrig"] == 0.5


def test_hour_of_day_and_night_follow_paysim_steps():
    transactions = crafted_transactions().iloc[[0] * 5].assign(step=[24, 31, 32, 743, 1])
    features = build_features(transactions)
    assert features["hour_of_day"].tolist() == [0.0, 7.0, 8.0, 23.0, 1.0]
    assert features["is_night"].tolist() == [1.0, 1.0, 0.0, 0.0, 1.0]


def test_drain_is_compared_at_cent_precision():
    transactions = crafted_transactions().iloc[[0, 0, 0, 0]].reset_index(drop=True)
    transactions["amount"] = [0.1 + 0.2, 1000.004, 1000.01, 0.0]
    transactions["oldbalanceOrg"] = [0.3, 1000.0, 1000.0, 0.0]
    features = build_features(transactions)
    assert features["drains_origin"].tolist() == [1.0, 1.0, 0.0, 0.0]
    assert features.loc[0, "errorBalanceOrig"] == 0.0  # float noise of 0.1 + 0.2 - 0.3 is rounded away


def test_single_rows_give_the_same_bits_as_the_batch():
    transactions = random_transactions(300, seed=1)
    batch = build_features(transactions)
    singles = pd.concat([build_features(transactions.iloc[[i]]) for i in range(len(transactions))])
    assert_bit_identical(batch, singles)


def test_shuffled_rows_and_single_type_frames_give_the_same_bits():
    transactions = random_transactions(500, seed=2)
    batch = build_features(transactions)
    shuffled = transactions.sample(frac=1.0, random_state=3)
    assert_bit_identical(build_features(shuffled), batch.loc[shuffled.index])
    for name in TRANSACTION_TYPES:
        only_one_type = transactions[transactions["type"] == name]
        assert_bit_identical(build_features(only_one_type), batch.loc[only_one_type.index])


def test_string_and_categorical_columns_give_the_same_bits_as_object_columns():
    transactions = random_transactions(200, seed=4)
    other_dtypes = transactions.astype({"type": "category", "nameDest": "string"})
    assert_bit_identical(build_features(other_dtypes), build_features(transactions))


def test_numpy_columns_give_the_same_bits_as_the_frame():
    """The service's path (numpy columns straight from a request, object arrays of strings) equals build_features,
    also for an unknown type and for rows with and without a step."""
    rows = random_transactions(500, seed=21)
    rows.iloc[3, rows.columns.get_loc("type")] = "UNKNOWN"
    for frame in (rows, rows.drop(columns="step"), rows.iloc[[7]]):
        columns = {name: np.asarray(values.tolist(), dtype=object if values.dtype == object else np.float64)
                   for name, values in frame.items()}
        assert columns["type"].dtype == object
        online = pd.DataFrame(feature_matrix(columns), index=frame.index, columns=FEATURE_COLUMNS)
        assert_bit_identical(online, build_features(frame))


def test_output_is_float32_with_exactly_the_feature_columns_and_no_ids():
    features = build_features(random_transactions(50, seed=5))
    assert list(features.columns) == FEATURE_COLUMNS
    assert (features.dtypes == np.float32).all()
    assert not any(column in FEATURE_COLUMNS for column in ("nameOrig", "nameDest", "step", "isFraud"))


def test_account_ids_do_not_change_features_beyond_the_merchant_prefix():
    transactions = random_transactions(100, seed=6)
    renamed = transactions.assign(
        nameOrig="C1",
        nameDest=np.where(transactions["nameDest"].str.startswith("M"), "M2", "C3"),
    )
    assert_bit_identical(build_features(renamed), build_features(transactions))


def test_unknown_type_gives_zero_in_every_type_column():
    transactions = crafted_transactions().assign(type=["TRANSFER", "WIRE", None])
    features = build_features(transactions)
    assert features[TYPE_COLUMNS].sum(axis=1).tolist() == [1.0, 0.0, 0.0]


def test_missing_required_column_is_a_clear_error():
    with pytest.raises(ValueError, match="oldbalanceDest"):
        build_features(crafted_transactions().drop(columns="oldbalanceDest"))


def test_every_feature_has_a_description():
    assert set(FEATURE_DESCRIPTIONS) == set(FEATURE_COLUMNS)
    assert all(description.endswith(".") for description in FEATURE_DESCRIPTIONS.values())
