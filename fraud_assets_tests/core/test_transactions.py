from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd

from fraud_assets.core.schema import PAYSIM_COLUMNS
from fraud_assets.core.transactions import (
    CLEANED_COLUMNS,
    contract_violations,
    prepare_raw_transactions,
    rejection_reasons,
    validate_transactions,
)

EPOCH = datetime(2025, 1, 1)


def paysim_rows(rows: list[list]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=PAYSIM_COLUMNS)


GOOD = [
    [1, "PAYMENT", 100.0, "C100", 500.0, 400.0, "M200", 0.0, 0.0, 0, 0],
    [1, "TRANSFER", 500.0, "C101", 500.0, 0.0, "C201", 0.0, 0.0, 1, 0],
    [25, "CASH_OUT", 500.0, "C102", 700.0, 200.0, "C202", 10.0, 510.0, 1, 0],
]


def test_raw_rows_get_stable_ids_timestamps_and_days():
    raw = prepare_raw_transactions(paysim_rows(GOOD), EPOCH)
    again = prepare_raw_transactions(paysim_rows(GOOD), EPOCH)
    assert raw["transaction_id"].tolist() == again["transaction_id"].tolist()
    assert raw["transaction_id"].is_unique and raw["transaction_id"].str.fullmatch(r"[0-9a-f]{16}").all()
    assert raw["day"].tolist() == [0, 0, 1]
    # two rows of step 1 spread over hour 0; step 25 is hour 0 of day 1
    assert raw["event_ts"].tolist() == [
        pd.Timestamp("2025-01-01 00:00:00"), pd.Timestamp("2025-01-01 00:30:00"), pd.Timestamp("2025-01-02 00:00:00")
    ]
    # the id depends on the row's content only, not on its position
    reversed_raw = prepare_raw_transactions(paysim_rows(GOOD[::-1]), EPOCH)
    assert set(reversed_raw["transaction_id"]) == set(raw["transaction_id"])


def test_every_kind_of_bad_row_is_rejected_with_its_reason():
    bad = [
        [1, "REFUND", 10.0, "C1", 10.0, 0.0, "C2", 0.0, 10.0, 0, 0],
        [1, "PAYMENT", -5.0, "C3", 10.0, 15.0, "M4", 0.0, 0.0, 0, 0],
        [1, "PAYMENT", np.inf, "C5", 10.0, 0.0, "M6", 0.0, 0.0, 0, 0],
        [1, "CASH_IN", 5.0, None, 10.0, 15.0, "C8", 0.0, 0.0, 0, 0],
        [1, "CASH_IN", 5.0, "C9", np.nan, 15.0, "C10", 0.0, 0.0, 0, 0],
        [1, "CASH_IN", 5.0, "X11", 10.0, 15.0, "C12", 0.0, 0.0, 0, 0],
        [1, "CASH_IN", 5.0, "C13", 10.0, 15.0, "C14", 0.0, 0.0, 2, 0],
        GOOD[0],  # an exact replay of the first good row
    ]
    raw = prepare_raw_transactions(paysim_rows(GOOD + bad), EPOCH)
    cleaned, rejected = validate_transactions(raw)
    assert len(cleaned) == len(GOOD) and len(rejected) == len(bad)
    reasons = rejected["rejection_reason"].tolist()
    assert "unknown type 'REFUND'" in reasons[0]
    assert reasons[1] == "amount is negative"
    assert reasons[2] == "amount is not finite"
    assert reasons[3] == "nameOrig (account) is missing"
    assert reasons[4] == "oldbalanceOrg is missing or not a number"
    assert reasons[5] == "nameOrig 'X11' is not a PaySim account id (C followed by digits)"
    assert reasons[6] == "isFraud is 2.0 (expected 0 or 1)"
    assert reasons[7] == "duplicate transaction_id: an exact repeat of an earlier row"
    # nothing lost, nothing doubled
    assert set(cleaned["transaction_id"]) | set(rejected["transaction_id"]) == set(raw["transaction_id"])


def test_a_row_with_several_problems_lists_them_all():
    raw = prepare_raw_transactions(paysim_rows([[1, "PAYMENT", -1.0, "C1", -2.0, 0.0, "M2", 0.0, 0.0, 0, 0]]), EPOCH)
    assert rejection_reasons(raw).iloc[0] == "amount is negative; oldbalanceOrg is negative"


def test_cleaned_rows_follow_the_contract_and_a_broken_frame_is_reported():
    cleaned, rejected = validate_transactions(prepare_raw_transactions(paysim_rows(GOOD), EPOCH))
    assert rejected.empty
    assert contract_violations(cleaned) == []
    broken = cleaned.drop(columns=["nameDest"]).assign(isFraud=cleaned["isFraud"].astype("float64"))
    problems = contract_violations(broken)
    assert any("columns are" in p for p in problems) and any("isFraud has dtype float64" in p for p in problems)
    assert list(cleaned.columns) == CLEANED_COLUMNS
