"""Labels as a bank has them, and the training window they allow.

A day's ground truth (`isFraud`, standing for chargebacks) is known only once the day is `label_delay_days`
old. An analyst's label from the label app is known at once and overrides the ground truth.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

ANALYST_LABEL_COLUMNS = ["transaction_id", "label"]


def newest_matured_day(as_of_day: int, label_delay_days: int) -> int:
    """The newest day whose ground truth is known on `as_of_day`."""
    return as_of_day - label_delay_days


def known_labels(
    transactions: pd.DataFrame, as_of_day: int, label_delay_days: int, analyst_labels: pd.DataFrame
) -> pd.DataFrame:
    """Per transaction: `label` (1.0, 0.0 or NaN when not yet known) and `label_source`
    ('analyst', 'ground_truth' or ''), indexed like `transactions` (columns transaction_id, day, isFraud)."""
    matured = transactions["day"].to_numpy() <= newest_matured_day(as_of_day, label_delay_days)
    label = np.where(matured, transactions["isFraud"].to_numpy(dtype=np.float64), np.nan)
    source = np.where(matured, "ground_truth", "")
    if len(analyst_labels):
        analyst = transactions["transaction_id"].map(analyst_labels.set_index("transaction_id")["label"])
        has_analyst = analyst.notna().to_numpy()
        label = np.where(has_analyst, analyst.to_numpy(dtype=np.float64), label)
        source = np.where(has_analyst, "analyst", source)
    return pd.DataFrame({"label": label, "label_source": source}, index=transactions.index)


@dataclass(frozen=True)
class TrainingWindow:
    """Days a model trains and validates on; the validation days are the newest days with matured labels."""

    as_of_day: int
    first_train_day: int
    last_train_day: int
    first_validation_day: int
    last_validation_day: int

    def as_dict(self) -> dict[str, int]:
        return asdict(self)

    def describe(self) -> str:
        return (f"train days {self.first_train_day}-{self.last_train_day}, validate days "
                f"{self.first_validation_day}-{self.last_validation_day} (as of day {self.as_of_day})")


def training_window(as_of_day: int, training_days: int, validation_days: int, label_delay_days: int) -> TrainingWindow:
    """The window ending at the newest matured day; raises ValueError when it would start before day 0."""
    last_validation = newest_matured_day(as_of_day, label_delay_days)
    first_validation = last_validation - validation_days + 1
    first_train = first_validation - training_days
    if training_days < 1 or validation_days < 1 or first_train < 0:
        raise ValueError(
            f"cannot train as of day {as_of_day}: {training_days} training and {validation_days} validation days "
            f"with a label delay of {label_delay_days} days need days {first_train}..{last_validation}, "
            "and days start at 0; materialize more days or shorten the window"
        )
    return TrainingWindow(as_of_day, first_train, first_validation - 1, first_validation, last_validation)
