from __future__ import annotations

import math
from datetime import datetime, timezone

import numpy as np
import pandas as pd
import pytest

from fraud_assets.ml.batch_scoring import score_transactions
from fraud_assets.ml.features import build_features
from fraud_assets.ml.label_maturity import known_labels, training_window
from fraud_assets.ml.lifecycle import (
    DaySample,
    LabeledRows,
    RowsDigest,
    class_balance,
    decide_promotion,
    reference_positions,
    training_fingerprint,
    training_weights,
)


def test_ground_truth_counts_only_once_matured_and_analyst_labels_override():
    transactions = pd.DataFrame({"transaction_id": ["a", "b", "c", "d"], "day": [3, 4, 5, 5], "isFraud": [1, 0, 1, 0]})
    analyst = pd.DataFrame({"transaction_id": ["b", "d"], "label": [1, 1]})
    labels = known_labels(transactions, as_of_day=5, label_delay_days=1, analyst_labels=analyst)
    assert labels["label"].tolist()[:2] == [1.0, 1.0]  # a matured; b matured but an analyst said fraud
    assert math.isnan(labels["label"].iloc[2])  # day 5 has not matured and nobody labeled c
    assert (labels["label"].iloc[3] == 1.0
            and labels["label_source"].tolist() == ["ground_truth", "analyst", "", "analyst"])
    no_analyst = known_labels(transactions, 5, 1, analyst.iloc[0:0])
    assert no_analyst["label"].iloc[1] == 0.0


def test_training_window_ends_at_the_newest_matured_day():
    window = training_window(as_of_day=15, training_days=12, validation_days=3, label_delay_days=1)
    assert (window.first_train_day, window.last_train_day) == (0, 11)
    assert (window.first_validation_day, window.last_validation_day) == (12, 14)
    with pytest.raises(ValueError, match="days start at 0"):
        training_window(as_of_day=10, training_days=12, validation_days=3, label_delay_days=1)


NAN = float("nan")
MIN_GAIN, TOLERANCE = 0.03, 0.005
FAILED = ("scored_predictions_recall_check",)


@pytest.mark.parametrize(
    "challenger, champion, failed_checks, promote",
    [
        (0.80, None, (), True),  # the first model
        (NAN, None, (), True),  # the first model, even without a defined AUPRC
        (0.95, 0.95, (), False),  # equal: a re-run of the same training
        (0.97, 0.95, (), False),  # a gain below the minimum
        (0.981, 0.95, (), True),  # just above it
        (0.947, 0.95, FAILED, True),  # the champion fails a check: not worse by more than the tolerance is enough
        (0.90, 0.95, FAILED, False),  # ... but not a worse challenger
        (NAN, 0.95, (), False),  # an undefined challenger AUPRC never wins
        (NAN, 0.95, FAILED, False),  # not even against a failing champion
        (0.90, NAN, (), False),  # no gain can be shown against an undefined champion AUPRC
        (0.90, NAN, FAILED, True),  # a failing champion without a defined AUPRC is replaced
    ],
)
def test_promotion_needs_a_real_gain_or_a_failing_champion(challenger, champion, failed_checks, promote):
    decision = decide_promotion(challenger, champion, MIN_GAIN, TOLERANCE, failed_checks)
    assert decision.promote is promote, decision.reason
    if failed_checks and champion is not None and not math.isnan(challenger):
        assert "scored_predictions_recall_check" in decision.reason


def test_a_negative_minimum_gain_accepts_a_challenger_that_much_worse():
    assert decide_promotion(0.90, 0.95, -0.1, TOLERANCE).promote
    assert not decide_promotion(0.80, 0.95, -0.1, TOLERANCE).promote


def fingerprint_inputs() -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    transactions = pd.DataFrame({"transaction_id": ["a", "b", "c", "d"], "day": [3, 4, 5, 5],
                                 "amount": [10.0, 20.0, 30.0, 40.0], "isFraud": [1, 0, 1, 0]})
    labels = known_labels(transactions, as_of_day=5, label_delay_days=1, analyst_labels=pd.DataFrame(
        {"transaction_id": ["d"], "label": [1]}))
    return transactions, labels, {"config": {"seed": 7, "as_of_day": 5}, "label_delay_days": 1}


def fingerprint_of(transactions: pd.DataFrame, labels: pd.DataFrame, settings: dict, parts: int = 1) -> str:
    """The fingerprint of the rows added to the digest in `parts` parts (as days are read one at a time)."""
    digest = RowsDigest()
    for rows in np.array_split(np.arange(len(transactions)), parts):
        digest.add(transactions.iloc[rows], labels.iloc[rows])
    return training_fingerprint(digest, settings)


def test_the_training_fingerprint_ignores_row_order_and_names_every_change():
    transactions, labels, settings = fingerprint_inputs()
    fingerprint = fingerprint_of(transactions, labels, settings)
    assert fingerprint == fingerprint_of(transactions, labels, dict(settings))
    order = [2, 0, 3, 1]  # the warehouse returns rows in no guaranteed order, and days are read one at a time
    assert fingerprint_of(transactions.iloc[order], labels.iloc[order], settings) == fingerprint
    assert fingerprint_of(transactions.iloc[order], labels.iloc[order], settings, parts=3) == fingerprint
    changed_row = transactions.assign(amount=[10.0, 20.0, 30.0, 40.5])
    relabeled = labels.assign(label=[1.0, 1.0, NAN, 1.0], label_source=["ground_truth", "analyst", "", "analyst"])
    # the same label values moved to other rows change the pairing of rows and labels
    swapped = labels.iloc[[1, 0, 2, 3]].set_axis(labels.index)
    changes = [fingerprint_of(changed_row, labels, settings),
               fingerprint_of(transactions, relabeled, settings),
               fingerprint_of(transactions, swapped, settings),
               fingerprint_of(transactions, labels, {**settings, "config": {"seed": 8, "as_of_day": 5}}),
               fingerprint_of(transactions.iloc[:3], labels.iloc[:3], settings),
               fingerprint_of(transactions.assign(sample_weight=[1.0, 1.0, 2.0, 2.0]), labels, settings)]
    assert len({fingerprint, *changes}) == 1 + len(changes)


def test_a_busy_training_day_reads_its_kept_rows_and_genuine_rows_that_stand_for_all_of_them():
    busy = DaySample(day=3, rows=1_010, genuine=1_000, cap=100)  # 10 rows kept: fraud or labeled by an analyst
    assert busy.sampled and busy.rows_read == 110
    weights = busy.weights()
    assert len(weights) == busy.rows_read and (weights[:10] == 1).all() and weights[10:].sum() == pytest.approx(1_000)
    for quiet in (DaySample(3, 1_010, 100, 100), DaySample(3, 1_010, 1_000, None)):
        assert not quiet.sampled and quiet.rows_read == 1_010 and (quiet.weights() == 1).all()
    with pytest.raises(ValueError, match="at least 1"):
        DaySample(3, 1_010, 1_000, 0)


def test_sampled_genuine_rows_keep_the_class_balance_of_the_whole_days():
    """Four genuine rows standing for ten and two fraud rows: `scale_pos_weight` is 10 / 2, as on the whole day."""
    rows = LabeledRows(pd.DataFrame({"amount": np.ones(6, dtype=np.float32)}), np.array([0, 0, 0, 1, 1, 1]),
                       np.array([0.0, 0.0, 1.0, 0.0, 0.0, 1.0]), np.zeros(6, dtype=bool), np.ones(6),
                       np.array([2.5, 2.5, 1.0, 2.5, 2.5, 1.0]))
    assert class_balance(rows) == 5.0
    assert np.array_equal(training_weights(rows, 1, None), rows.weight)
    assert np.allclose(training_weights(rows, 1, 1.0), rows.weight * np.array([0.5, 0.5, 0.5, 1, 1, 1]))
    whole = rows.where(rows.weight == 1)  # rows standing for themselves weigh by recency alone, as before
    assert training_weights(whole, 1, None) is None and class_balance(rows.where(rows.label == 0)) is None


def test_the_reference_sample_is_a_uniform_draw_or_one_in_proportion_to_the_rows_each_stands_for():
    frame = pd.DataFrame({"fraud": np.arange(20_000) < 1_000})
    uniform = reference_positions(np.ones(len(frame)), seed=7)
    assert frame.iloc[uniform].equals(frame.sample(5_000, random_state=7))  # as the whole-window training drew it
    # 1,000 fraud rows and 19,000 genuine rows each standing for 10: the real share of fraud is 1,000 / 191,000
    weighted = reference_positions(np.where(frame["fraud"], 1.0, 10.0), seed=7)
    assert len(set(weighted)) == 5_000 and frame["fraud"].iloc[weighted].mean() < 0.01
    assert np.array_equal(weighted, reference_positions(np.where(frame["fraud"], 1.0, 10.0), seed=7))


def test_labeled_rows_read_a_day_at_a_time_equal_the_rows_read_at_once():
    transactions, labels, _ = fingerprint_inputs()
    transactions = transactions.assign(type="TRANSFER", oldbalanceOrg=50.0, newbalanceOrig=0.0, nameDest="C2",
                                       oldbalanceDest=0.0, newbalanceDest=0.0)
    at_once = LabeledRows.of(transactions, labels)
    by_day = LabeledRows.concat([LabeledRows.of(transactions[transactions["day"] == day],
                                                labels[transactions["day"] == day]) for day in (3, 4, 5)])
    assert by_day.features.equals(build_features(transactions).reset_index(drop=True))
    assert np.array_equal(by_day.label, at_once.label, equal_nan=True) and by_day.analyst.tolist() == [
        False, False, False, True]
    assert by_day.known().day.tolist() == [3, 4, 5]


def test_batch_scores_equal_one_by_one_scores_and_only_alerts_get_reasons():
    import xgboost as xgb

    rng = np.random.default_rng(0)
    n = 400
    balance = rng.uniform(1000, 100000, n).round(2)
    drains = rng.random(n) < 0.1
    transactions = pd.DataFrame({
        "transaction_id": [f"t{i}" for i in range(n)], "event_ts": pd.Timestamp("2025-01-01"), "day": 0,
        "step": 1 + np.arange(n) % 24,
        "type": np.where(drains, "TRANSFER", "PAYMENT"), "amount": np.where(drains, balance, (balance * 0.1).round(2)),
        "nameOrig": "C1", "oldbalanceOrg": balance, "newbalanceOrig": np.where(drains, 0.0, (balance * 0.9).round(2)),
        "nameDest": np.where(drains, "C2", "M3"), "oldbalanceDest": 0.0, "newbalanceDest": 0.0,
    })
    booster = xgb.train({"objective": "binary:logistic", "max_depth": 2},
                        xgb.DMatrix(build_features(transactions), label=drains), 5)
    now = datetime(2025, 1, 2, tzinfo=timezone.utc)
    batch = score_transactions(transactions, booster, 0.5, "7", now)
    single = pd.concat([score_transactions(transactions.iloc[[i]], booster, 0.5, "7", now) for i in range(0, n, 37)])
    assert np.array_equal(batch["score"].to_numpy()[::37], single["score"].to_numpy())
    assert batch["is_alert"].tolist() == drains.tolist()
    assert ((batch.loc[batch["is_alert"], "reasons"] != "").all()
            and (batch.loc[~batch["is_alert"], "reasons"] == "").all())
    assert set(batch["model_version"]) == {"7"}
