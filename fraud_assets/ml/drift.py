"""Drift measurement with Evidently (functions over frames, and the report's HTML saved for people).

Each monitored column has an explicitly chosen method and threshold:
- numeric columns: normed Wasserstein distance (the distance between the two distributions in units of the
  reference's standard deviation); drifted at >= 0.1, Evidently's own default for this method;
- categorical and binary columns: Jensen-Shannon distance between the category frequencies; drifted at >= 0.1.
Both frames are sampled to at most `sample_rows` rows with a fixed seed, so a day's report costs the same at any
volume. A distance says how far a column moved, not whether the day's sample could show it by chance: every column
also gets the p-value of a two-sample test (Kolmogorov-Smirnov for numbers, chi-square on the category counts), and
the feature-drift check counts a feature as drifted only when both agree (`evidence.feature_drift_verdict`).
Values are read from the snapshot's measured results (`snapshot.dict()`), never from the configuration.
Evidently is imported by `measure_drift` itself: it takes seconds, which only a drift report should pay.

The model's score is measured the same way but reported apart from the features: it does not count towards the
share of drifted features (the score-drift check judges it).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from fraud_assets.ml.features import build_features

NUMERIC_METHOD, NUMERIC_THRESHOLD = "wasserstein", 0.1
CATEGORICAL_METHOD, CATEGORICAL_THRESHOLD = "jensenshannon", 0.1

NUMERIC_COLUMNS = ["amount", "oldbalanceOrg", "newbalanceOrig", "oldbalanceDest", "newbalanceDest",
                   "errorBalanceOrig", "errorBalanceDest", "hour_of_day", "amount_to_orig_balance"]
CATEGORICAL_COLUMNS = ["type", "dest_is_merchant", "drains_origin", "dest_both_zero_nonzero_amount", "orig_new_zero"]
SCORE_COLUMN = "score"
DRIFT_TABLE_COLUMNS = ["day", "column", "kind", "method", "score", "threshold", "drifted", "p_value"]


@dataclass(frozen=True)
class DriftResult:
    table: pd.DataFrame  # DRIFT_TABLE_COLUMNS, one row per monitored column plus the model score
    share_drifted: float  # among the feature columns
    snapshot: object  # Evidently's snapshot, for save_html


def monitored_frame(transactions: pd.DataFrame, scores: np.ndarray | None) -> pd.DataFrame:
    """The monitored columns of transactions in the PaySim schema (raw fields and shared features)."""
    features = build_features(transactions)
    frame = pd.DataFrame(index=transactions.index)
    frame["type"] = transactions["type"].astype(str)
    for column in NUMERIC_COLUMNS:
        source = transactions[column] if column in transactions else features[column]
        frame[column] = source.astype("float64")
    for column in CATEGORICAL_COLUMNS[1:]:
        frame[column] = features[column].astype(int).astype(str)
    if scores is not None:
        frame[SCORE_COLUMN] = np.asarray(scores, dtype="float64")
    return frame.reset_index(drop=True)


def sample_rows(frame: pd.DataFrame, rows: int, seed: int) -> pd.DataFrame:
    return frame.sample(rows, random_state=seed) if len(frame) > rows else frame


def measure_drift(current: pd.DataFrame, reference: pd.DataFrame, day: int) -> DriftResult:
    """Evidently drift of every monitored column of `current` against `reference` (frames of `monitored_frame`,
    already sampled with `sample_rows`)."""
    from evidently import DataDefinition, Dataset, Report
    from evidently.metrics import ValueDrift

    numeric = [column for column in [*NUMERIC_COLUMNS, SCORE_COLUMN] if column in current and column in reference]
    metrics = [ValueDrift(column=column, method=NUMERIC_METHOD, threshold=NUMERIC_THRESHOLD) for column in numeric]
    metrics += [ValueDrift(column=column, method=CATEGORICAL_METHOD, threshold=CATEGORICAL_THRESHOLD)
                for column in CATEGORICAL_COLUMNS]
    definition = DataDefinition(numerical_columns=numeric, categorical_columns=CATEGORICAL_COLUMNS)
    snapshot = Report(metrics).run(
        Dataset.from_pandas(current[numeric + CATEGORICAL_COLUMNS], data_definition=definition),
        Dataset.from_pandas(reference[numeric + CATEGORICAL_COLUMNS], data_definition=definition))
    rows = []
    for measured in snapshot.dict()["metrics"]:
        config = measured["config"]
        column = config["column"]
        kind = "score" if column == SCORE_COLUMN else ("numeric" if column in NUMERIC_COLUMNS else "categorical")
        value = float(measured["value"])
        rows.append([day, column, kind, config["method"], value, float(config["threshold"]),
                     value >= config["threshold"], two_sample_p_value(current[column], reference[column], kind)])
    table = pd.DataFrame(rows, columns=DRIFT_TABLE_COLUMNS)
    features = table[table["kind"] != "score"]
    return DriftResult(table, float(features["drifted"].mean()), snapshot)


def two_sample_p_value(current: pd.Series, reference: pd.Series, kind: str) -> float:
    """P-value that the two samples come from one distribution: Kolmogorov-Smirnov for numeric columns (and the
    score), chi-square on the category counts for categorical ones; 1.0 when a sample is empty or has one category."""
    if kind == "categorical":
        counts = pd.concat([current.value_counts(), reference.value_counts()], axis=1).fillna(0).to_numpy()
        if counts.shape[0] < 2 or (counts.sum(axis=0) == 0).any():
            return 1.0
        return float(stats.chi2_contingency(counts, correction=False).pvalue)
    current, reference = current[np.isfinite(current)], reference[np.isfinite(reference)]
    if len(current) == 0 or len(reference) == 0:
        return 1.0
    return float(stats.ks_2samp(current.to_numpy(), reference.to_numpy()).pvalue)


@dataclass(frozen=True)
class SavedDrift:
    """A day's drift, its report saved: what crosses back from a worker process (Evidently's snapshot stays there)."""

    table: pd.DataFrame  # DRIFT_TABLE_COLUMNS
    share_drifted: float
    report_path: Path
    reference: str  # what the day was compared with, in words
    reference_rows: int

    def as_stored(self) -> pd.DataFrame:
        """The table with the share, the reference and the report's path on every row, as the warehouse keeps it."""
        return self.table.assign(share_drifted=self.share_drifted, reference=self.reference,
                                 reference_rows=self.reference_rows, report_path=str(self.report_path))


def measure_and_save_drift(current: pd.DataFrame, reference: pd.DataFrame, day: int, reports_dir: str,
                           reference_kind: str, reference_rows: int) -> SavedDrift:
    """`measure_drift`, then the report's HTML saved as `reports_dir`/drift_report_day_NNN.html (a day's reports are
    independent, so several days run in worker processes at once)."""
    result = measure_drift(current, reference, day)
    return SavedDrift(result.table, result.share_drifted, save_report_html(result.snapshot, Path(reports_dir), day),
                      reference_kind, reference_rows)


def save_report_html(snapshot, folder: Path, day: int) -> Path:
    """Save a report's HTML as drift_report_day_NNN.html, through a temporary name and a rename."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"drift_report_day_{day:03d}.html"
    temporary = folder / f".{path.name}.tmp"
    snapshot.save_html(str(temporary))
    temporary.replace(path)
    return path.resolve()
