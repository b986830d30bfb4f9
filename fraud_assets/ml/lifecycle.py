"""Training a challenger on a time window, fingerprinting what it is trained on, and deciding whether it replaces the
champion (pure functions)."""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd
import xgboost as xgb
from sklearn.metrics import average_precision_score

from fraud_assets.core.schema import PAYSIM_COLUMNS
from fraud_assets.ml.evaluation import evaluate
from fraud_assets.ml.evidence import fraud_events
from fraud_assets.ml.features import FEATURE_COLUMNS, build_features
from fraud_assets.ml.label_maturity import TrainingWindow
from fraud_assets.ml.thresholds import ThresholdChoice, choose_threshold, high_precision_level
from fraud_assets.ml.training import TrainedModel, XGBoostParams, predict_scores, train_xgboost

REFERENCE_SAMPLE_ROWS = 5_000
REFERENCE_COLUMNS = ["day", *PAYSIM_COLUMNS]  # the reference sample's columns, besides the score


@dataclass(frozen=True)
class ThresholdPolicy:
    strategy: str  # "alert_budget" or "net_value"
    alerts_per_1000: float  # the analysts' budget: alerts per 1,000 transactions of a day
    review_cost_per_alert: float


@dataclass(frozen=True)
class LabeledRows:
    """Rows as training, validation and the champion's comparison use them, their string columns gone once the
    features are built: features, day, known label (NaN while unknown), whether an analyst gave it, amount, and how
    many rows of its day each row stands for (1, or more for a sampled genuine row of a busy training day)."""

    features: pd.DataFrame
    day: np.ndarray
    label: np.ndarray
    analyst: np.ndarray
    amount: np.ndarray
    weight: np.ndarray

    @classmethod
    def of(cls, transactions: pd.DataFrame, labels: pd.DataFrame, weight: np.ndarray | None = None) -> LabeledRows:
        """The rows of cleaned `transactions` with their `known_labels`; `weight` defaults to 1 each."""
        # copies, not views of the frame's blocks: the frame (with its strings) is dropped once these are taken
        return cls(build_features(transactions), transactions["day"].to_numpy(copy=True),
                   labels["label"].to_numpy(copy=True), (labels["label_source"] == "analyst").to_numpy(),
                   transactions["amount"].to_numpy(dtype=np.float64, copy=True),
                   np.ones(len(transactions)) if weight is None else np.array(weight, dtype=np.float64))

    @classmethod
    def concat(cls, parts: Sequence[LabeledRows]) -> LabeledRows:
        """The parts (days read one at a time) one after the other."""
        return cls(pd.concat([part.features for part in parts], ignore_index=True),
                   *(np.concatenate([getattr(part, name) for part in parts])
                     for name in ("day", "label", "analyst", "amount", "weight")))

    def where(self, mask: np.ndarray) -> LabeledRows:
        """The rows where `mask` holds (these rows themselves, not a copy, when it holds everywhere)."""
        if mask.all():
            return self
        return LabeledRows(self.features[mask], self.day[mask], self.label[mask], self.analyst[mask],
                           self.amount[mask], self.weight[mask])

    def known(self) -> LabeledRows:
        return self.where(~np.isnan(self.label))


@dataclass
class Challenger:
    trained: TrainedModel
    threshold: ThresholdChoice
    validation_metrics: dict[str, float]
    validation: pd.DataFrame  # the labeled validation rows (day, label, amount) with the challenger's score
    reference_sample: pd.DataFrame
    n_analyst_labels: int

    @property
    def high_score_level(self) -> float:
        """Where validation scores become nearly all fraud (precision 0.9), or the threshold if they never do."""
        level = high_precision_level(self.validation["score"].to_numpy(), self.validation["label"].to_numpy(), 0.9)
        return self.threshold.threshold if np.isnan(level) else level

    @property
    def high_score_reference(self) -> dict[str, int]:
        """The validation days' rows and, at or above `high_score_level`, their rows and fraud events (the score-drift
        check's reference count, with its size: `evidence.TailReference`)."""
        tail = self.validation[self.validation["score"] >= self.high_score_level]
        return {"validation_rows": len(self.validation), "high_score_rows": len(tail),
                "high_score_events": fraud_events(tail["day"].to_numpy(), tail["amount"].to_numpy())}

    def feature_importance(self) -> dict[str, float]:
        gains = self.trained.booster.get_score(importance_type="total_gain")
        return {name: float(gains.get(name, 0.0)) for name in FEATURE_COLUMNS}


def fit_challenger(
    transactions: pd.DataFrame,
    labels: pd.DataFrame,
    window: TrainingWindow,
    params: XGBoostParams,
    policy: ThresholdPolicy,
    seed: int,
    recency_half_life_days: float | None = None,
) -> Challenger:
    """Train on the window's training days and validate on its validation days, using known labels only.

    `transactions` holds cleaned rows, every one standing for itself; `labels` comes from `known_labels` (same
    index). See `train_challenger`.
    """
    days = transactions["day"].to_numpy()
    train_rows = labels["label"].notna().to_numpy() & (days >= window.first_train_day) & (days <= window.last_train_day)
    rows = LabeledRows.of(transactions, labels)
    reference = transactions.loc[train_rows, REFERENCE_COLUMNS]
    reference = reference.iloc[reference_positions(np.ones(len(reference)), seed)]
    return train_challenger(rows.where(train_rows), rows.where(validation_rows(transactions, labels, window)),
                            reference, window, params, policy, seed, recency_half_life_days)


def train_challenger(
    train: LabeledRows,
    validation: LabeledRows,
    reference: pd.DataFrame,
    window: TrainingWindow,
    params: XGBoostParams,
    policy: ThresholdPolicy,
    seed: int,
    recency_half_life_days: float | None = None,
) -> Challenger:
    """Train on `train` (the training days' rows, labels known), validate and choose the threshold on `validation`
    (the validation days' rows, labels known, every one of them: the alert budget is a day's), and score
    `reference` (training rows in the PaySim schema, the drift report's reference) with the challenger.

    A training row weighs what its `weight` says (the rows of its day it stands for) and, with
    `recency_half_life_days`, half as much for every that many days it is older than the newest training day, so
    that a recent change in fraud outweighs the many older days that do not show it yet. `scale_pos_weight` counts
    the genuine rows trained rows stand for: a sample of genuine rows balances the classes as the whole days would.
    """
    if params.scale_pos_weight is None:
        params = replace(params, scale_pos_weight=class_balance(train))
    trained = train_xgboost(
        train.features, train.label, validation.features, validation.label, params, seed,
        train_weight=training_weights(train, window.last_train_day, recency_half_life_days),
    )
    scored = pd.DataFrame({
        "day": validation.day,
        "label": validation.label.astype(np.int8),
        "amount": validation.amount,
        "score": predict_scores(trained.booster, validation.features),
    })
    threshold = choose_threshold(
        policy.strategy, scored["score"].to_numpy(), scored["label"].to_numpy(), scored["amount"].to_numpy(),
        scored["day"].to_numpy(), policy.alerts_per_1000, policy.review_cost_per_alert,
    )
    metrics = evaluate(
        scored["label"].to_numpy(), scored["score"].to_numpy(), threshold.threshold, scored["amount"].to_numpy(),
        scored["day"].to_numpy(), policy.alerts_per_1000,
    )
    sample = reference.assign(score=predict_scores(trained.booster, build_features(reference))).reset_index(drop=True)
    n_analyst = int(train.analyst.sum() + validation.analyst.sum())
    return Challenger(trained, threshold, metrics, scored, sample, n_analyst)


def class_balance(train: LabeledRows) -> float | None:
    """Genuine rows per fraud row of the training days, a sampled genuine row counting for the rows it stands for;
    None without fraud (`train_xgboost` then says what is wrong)."""
    fraud = float(train.weight[train.label == 1].sum())
    return float(train.weight[train.label == 0].sum()) / fraud if fraud else None


def training_weights(train: LabeledRows, newest_day: int, half_life_days: float | None) -> np.ndarray | None:
    """Each training row's weight: the rows of its day it stands for, times its recency weight; None when all are
    equal (no half-life, no sampled day)."""
    recency = recency_weights(train.day, newest_day, half_life_days)
    if (train.weight == 1).all():
        return recency
    return train.weight if recency is None else recency * train.weight


def reference_positions(weights: np.ndarray, seed: int, rows: int = REFERENCE_SAMPLE_ROWS) -> np.ndarray:
    """Which training rows (positions, in the order drawn) make the reference sample: as pandas' `sample` with
    `random_state=seed` draws them, uniformly when every row stands for itself, else in proportion to the rows each
    stands for, so that the sample shows the days' real mix of fraud and genuine rows."""
    uniform = bool((weights == 1).all())
    return np.random.RandomState(seed).choice(len(weights), min(rows, len(weights)), replace=False,
                                              p=None if uniform else weights / weights.sum())


@dataclass(frozen=True)
class DaySample:
    """How a training day is read: every row, or, when it has more genuine rows than `cap`, its kept rows (fraud,
    or labeled by an analyst) followed by `cap` of its genuine rows (neither), each standing for genuine / cap rows.

    Genuine here means a label known to be 0 without an analyst: the training days' ground truth has matured, and a
    row an analyst labeled is kept whatever its label, so a row the analysts call fraud is never sampled away."""

    day: int
    rows: int
    genuine: int
    cap: int | None

    def __post_init__(self) -> None:
        if self.cap is not None and self.cap < 1:
            raise ValueError(f"max_genuine_rows_per_training_day must be at least 1 (or None: no sampling), "
                             f"got {self.cap}")

    @property
    def sampled(self) -> bool:
        return self.cap is not None and self.genuine > self.cap

    @property
    def rows_read(self) -> int:
        return self.rows - self.genuine + self.cap if self.sampled else self.rows

    def weights(self) -> np.ndarray:
        """The weight of each row read, in the order read (kept rows first on a sampled day)."""
        if not self.sampled:
            return np.ones(self.rows)
        return np.concatenate([np.ones(self.rows - self.genuine), np.full(self.cap, self.genuine / self.cap)])


def validation_rows(transactions: pd.DataFrame, labels: pd.DataFrame, window: TrainingWindow) -> np.ndarray:
    """Boolean mask of the rows a challenger is validated on: the window's validation days, labels known."""
    days = transactions["day"].to_numpy()
    return (labels["label"].notna().to_numpy() & (days >= window.first_validation_day)
            & (days <= window.last_validation_day))


def recency_weights(days: np.ndarray, newest_day: int, half_life_days: float | None) -> np.ndarray | None:
    """0.5 ** ((newest_day - day) / half_life_days) per row; None (equal weights) without a half-life."""
    if not half_life_days:
        return None
    return np.power(0.5, (newest_day - days) / half_life_days)


def auprc_on_rows(booster: xgb.Booster, rows: LabeledRows) -> float:
    """AUPRC of a booster on labeled rows (how the champion is scored on the challenger's validation rows)."""
    fraud = rows.label.astype(bool)
    if fraud.all() or not fraud.any():
        return float("nan")
    return float(average_precision_score(fraud, predict_scores(booster, rows.features)))


@dataclass(frozen=True)
class PromotionDecision:
    promote: bool
    reason: str


def decide_promotion(challenger_auprc: float, champion_auprc: float | None, min_gain: float, tolerance: float,
                     champion_failed_checks: Sequence[str] = ()) -> PromotionDecision:
    """Whether the challenger replaces the champion, both measured by AUPRC on the same validation rows.

    A new champion costs a new served model and a re-score, and a reseeded model alone moves AUPRC by a few
    hundredths: the challenger must beat the champion by at least `min_gain`. When the champion fails its checks
    (`champion_failed_checks`, named by the retraining sensor), keeping it is what costs, so a challenger not worse
    than it by more than `tolerance` wins. The first model always wins; an undefined challenger AUPRC never does.
    """
    if champion_auprc is None:
        return PromotionDecision(True, "first model: there is no champion yet")
    if np.isnan(challenger_auprc):
        return PromotionDecision(False,
                                 "the challenger's validation AUPRC is undefined (no fraud in the validation days)")
    if champion_failed_checks:
        return _decide_against_failing_champion(challenger_auprc, champion_auprc, tolerance, champion_failed_checks)
    if np.isnan(champion_auprc):
        return PromotionDecision(False, "the champion's AUPRC on the validation rows is undefined, so no gain can be "
                                        "shown, and it fails no check: it stays")
    gain = challenger_auprc - champion_auprc
    verdict = "at least" if gain >= min_gain else "less than"
    return PromotionDecision(
        gain >= min_gain, f"challenger AUPRC {challenger_auprc:.4f} vs the champion's {champion_auprc:.4f}: a gain of "
                          f"{gain:+.4f}, {verdict} the minimum gain {min_gain}")


def _decide_against_failing_champion(challenger_auprc: float, champion_auprc: float, tolerance: float,
                                     failed_checks: Sequence[str]) -> PromotionDecision:
    """A failing champion is replaced by any challenger not worse than it by more than `tolerance`."""
    failing = f"the champion fails {', '.join(failed_checks)}"
    if np.isnan(champion_auprc) or challenger_auprc >= champion_auprc - tolerance:
        return PromotionDecision(True, f"{failing}, and the challenger's AUPRC {challenger_auprc:.4f} is within "
                                       f"{tolerance} of its {champion_auprc:.4f} or better")
    return PromotionDecision(False, f"{failing}, but the challenger's AUPRC {challenger_auprc:.4f} is worse than its "
                                    f"{champion_auprc:.4f} by more than {tolerance}")


# The modules whose code shapes a trained model (features, labels, window, training, threshold, validation metrics).
MODEL_CODE_MODULES = ("fraud_assets.core.schema", "fraud_assets.ml.features", "fraud_assets.ml.label_maturity",
                      "fraud_assets.ml.training", "fraud_assets.ml.lifecycle", "fraud_assets.ml.thresholds",
                      "fraud_assets.ml.evaluation")


@functools.cache
def model_code_version() -> str:
    """A hash of the source of `MODEL_CODE_MODULES` and of the XGBoost version: the code part of a training
    fingerprint. Any edit of those files (a comment too) counts as new code; a stale fingerprint costs one training,
    a missed change would cost a model the code no longer makes."""
    digest = hashlib.sha256(f"xgboost {xgb.__version__}".encode())
    for name in MODEL_CODE_MODULES:
        digest.update(Path(importlib.util.find_spec(name).origin).read_bytes())
    return digest.hexdigest()[:16]


class RowsDigest:
    """A hash of rows added a part (a day) at a time, each with the labels known for it, whatever the order of the
    rows and of the parts: the warehouse returns rows in no guaranteed order, and the same rows in another order are
    the same data. Each part's strings can then be dropped, while the digest keeps 8 bytes a row."""

    def __init__(self) -> None:
        self._row_hashes: list[np.ndarray] = []
        self._columns: set[str] = set()

    def add(self, transactions: pd.DataFrame, labels: pd.DataFrame) -> None:
        """Add the rows of `transactions` (all their columns) and their `known_labels` (label and source)."""
        frames = (transactions, labels[["label", "label_source"]])
        row_hashes = np.zeros(len(transactions), dtype=np.uint64)
        for frame in frames:  # numpy's uint64 arithmetic wraps around, as a hash combination should
            # categorize=False: factorizing first is ten times slower on unique strings (ids): 2 s, not 25, for 3 M rows
            hashes = pd.util.hash_pandas_object(frame, index=False, categorize=False).to_numpy()
            row_hashes = row_hashes * np.uint64(0x100000001B3) ^ hashes
        self._row_hashes.append(row_hashes)
        self._columns.add(",".join(str(column) for frame in frames for column in frame.columns))

    def hexdigest(self) -> str:
        row_hashes = np.sort(np.concatenate(self._row_hashes)) if self._row_hashes else np.zeros(0, dtype=np.uint64)
        return hashlib.sha256(";".join(sorted(self._columns)).encode() + row_hashes.tobytes()).hexdigest()


def training_fingerprint(rows: RowsDigest, settings: Mapping[str, object]) -> str:
    """What a training would produce, named before fitting: the rows read from the window (a busy training day's
    sample, with the weight of each row) with the labels known for them (`known_labels`: ground truth once matured,
    analysts' labels), the settings that shape the model (JSON-able) and the model code's version. Training is
    deterministic in these (up to the order the warehouse returns the rows in), so an equal fingerprint means the
    model is already registered."""
    ingredients = {"rows": rows.hexdigest(), "settings": settings, "code": model_code_version()}
    return hashlib.sha256(json.dumps(ingredients, sort_keys=True).encode()).hexdigest()[:24]
