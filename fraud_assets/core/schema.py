"""The PaySim transaction schema, shared by every source, asset and service."""

from __future__ import annotations

# Exact header of the Kaggle PaySim CSV, in order.
PAYSIM_COLUMNS: list[str] = [
    "step",
    "type",
    "amount",
    "nameOrig",
    "oldbalanceOrg",
    "newbalanceOrig",
    "nameDest",
    "oldbalanceDest",
    "newbalanceDest",
    "isFraud",
    "isFlaggedFraud",
]

TRANSACTION_TYPES: tuple[str, ...] = ("CASH_IN", "CASH_OUT", "DEBIT", "PAYMENT", "TRANSFER")

AMOUNT_COLUMNS: list[str] = ["amount", "oldbalanceOrg", "newbalanceOrig", "oldbalanceDest", "newbalanceDest"]
ACCOUNT_COLUMNS: list[str] = ["nameOrig", "nameDest"]
LABEL_COLUMNS: list[str] = ["isFraud", "isFlaggedFraud"]

# pandas dtypes of a source frame in the PaySim schema.
PAYSIM_DTYPES: dict[str, str] = {
    "step": "int64",
    "type": "object",
    "amount": "float64",
    "nameOrig": "object",
    "oldbalanceOrg": "float64",
    "newbalanceOrig": "float64",
    "nameDest": "object",
    "oldbalanceDest": "float64",
    "newbalanceDest": "float64",
    "isFraud": "int8",
    "isFlaggedFraud": "int8",
}

HOURS_PER_DAY = 24
LAST_PAYSIM_STEP = 743  # 30 days and 23 hours


def day_of_step(step):
    """Simulation day of a PaySim step (works on ints and numpy/pandas arrays): step s is day (s - 1) // 24."""
    return (step - 1) // HOURS_PER_DAY


def steps_of_day(day: int) -> range:
    """The PaySim steps that belong to simulation day `day`."""
    return range(day * HOURS_PER_DAY + 1, (day + 1) * HOURS_PER_DAY + 1)
