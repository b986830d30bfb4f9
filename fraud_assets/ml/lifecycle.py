"""Training a challenger on a time window, fingerprinting what it is trained on, and deciding whether it replaces the
champion (pure functions)."""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import xgboost as xgb
from sklearn.metrics import average_precision_score

from fraud_assets.core.schema import PAYSIM_COLUMNS
from fraud_assets.ml.evaluation import evaluate
from fraud_assets.ml.features import FEATURE_COLUMNS, build_features
from fraud_assets.ml.label_maturity import TrainingWindow
from fraud_assets.ml.thresholds import ThresholdChoice, choose_threshold, high_precision_level
from fraud_assets.ml.training import TrainedModel, XGBoostParams, predict_scores, train_xgboost

REFERENCE_SAMPLE_ROWS = 5_000


@dataclass(frozen=True)
class ThresholdPolicy:
    strategy: str  # "alert_budget" or "net_value"
    alerts_per_1000: float  # the analysts' budget: alerts per 1,000 transactions of a day
    review_cost_per_alert: float


@dataclass
class Challenger:
    trained: TrainedModel
    threshold: ThresholdChoice
    validation_metrics: dict[str, float]
    validation: pd.DataFrame  # the labeled validation rows (day, label, amount) with the challenger's score
    validation_rows: np.ndarray  # boolean mask over the input transactions
    reference_sample: pd.DataFrame
    n_analyst_labels: int

    @property
    def high_score_level(self) -> float:
        """Where validation scores become nearly all fraud (precision 0.9), or the threshold if they never do."""
        level = high_precision_level(self.validation["score"].to_numpy(), self.validation["label"].to_numpy(), 0.9)
        return self.threshold.threshold if np.isnan(level) else level

    @property
    def expected_high_score_rate(self) -> float:
        """Share of validation rows scoring at or above `high_score_level` (the score-drift check's reference)."""
        return float((self.validation["score"] >= self.high_score_level).mean())

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

    `transactions` holds cleaned rows; `labels` comes from `known_labels` (same index). With
    `recency_half_life_days`, a training row's weight halves for every that many days it is older than the newest
    training day, so that a recent change in fraud outweighs the many older days that do not show it yet.
    """
    days = transactions["day"].to_numpy()
    known = labels["label"].notna().to_numpy()
    train_rows = known & (days >= window.first_train_day) & (days <= window.last_train_day)
    valid_rows = validation_rows(transactions, labels, window)
    features = build_features(transactions)
    label_values = labels["label"].to_numpy()
    weights = recency_weights(days[train_rows], window.last_train_day, recency_half_life_days)
    trained = train_xgboost(
        features[train_rows], label_values[train_rows], features[valid_rows], label_values[valid_rows], params, seed,
        train_weight=weights,
    )
    validation = pd.DataFrame({
        "day": days[valid_rows],
        "label": label_values[valid_rows].astype(np.int8),
        "amount": transactions["amount"].to_numpy()[valid_rows],
        "score": predict_scores(trained.booster, features[valid_rows]),
    })
    threshold = choose_threshold(
        policy.strategy, validation["score"].to_numpy(), validation["label"].to_numpy(),
        validation["amount"].to_numpy(), validation["day"].to_numpy(), policy.alerts_per_1000,
        policy.review_cost_per_alert,
    )
    metrics = evaluate(
        validation["label"].to_numpy(), validation["score"].to_numpy(), threshold.threshold,
        validation["amount"].to_numpy(), validation["day"].to_numpy(), policy.alerts_per_1000,
    )
    sample = transactions.loc[train_rows, ["day", *PAYSIM_COLUMNS]]
    sample = sample.sample(min(REFERENCE_SAMPLE_ROWS, len(sample)), random_state=seed)
    sample = sample.assign(score=predict_scores(trained.booster, build_features(sample))).reset_index(drop=True)
    n_analyst = int(((labels["label_source"] == "analyst").to_numpy() & (train_rows | valid_rows)).sum())
    return Challenger(trained, threshold, metrics, validation, valid_rows, sample, n_analyst)


def validation_rows(transactions: pd.DataFrame, labels: pd.DataFrame, window: TrainingWindow) -> np.ndarray:
    """Boolean mask of the rows a challenger is validated on (and the champion compared on): the window's validation
    days, labels known."""
    days = transactions["day"].to_numpy()
    return (labels["label"].notna().to_numpy() & (days >= window.first_validation_day)
            & (days <= window.last_validation_day))


def recency_weights(days: np.ndarray, newest_day: int, half_life_days: float | None) -> np.ndarray | None:
    """0.5 ** ((newest_day - day) / half_life_days) per row; None (equal weights) without a half-life."""
    if not half_life_days:
        return None
    return np.power(0.5, (newest_day - days) / half_life_days)


def auprc_on_rows(booster: xgb.Booster, transactions: pd.DataFrame, rows: np.ndarray, labels: np.ndarray) -> float:
    """AUPRC of a booster on the selected rows (how the champion is scored on the challenger's validation days)."""
    fraud = labels[rows].astype(bool)
    if fraud.all() or not fraud.any():
        return float("nan")
    return float(average_precision_score(fraud, predict_scores(booster, build_features(transactions[rows]))))


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


def rows_digest(*frames: pd.DataFrame) -> str:
    """A hash of the rows of aligned frames (same length, row i of each describes the same row), whatever their order:
    the warehouse returns a window's rows in no guaranteed order, and the same rows in another order are the same
    data."""
    row_hashes = np.zeros(len(frames[0]), dtype=np.uint64)
    for frame in frames:  # numpy's uint64 arithmetic wraps around, as a hash combination should
        # categorize=False: factorizing first is ten times slower on unique strings (ids): 2 s, not 25, for 3 M rows
        hashes = pd.util.hash_pandas_object(frame, index=False, categorize=False).to_numpy()
        row_hashes = row_hashes * np.uint64(0x100000001B3) ^ hashes
    columns = ",".join(str(column) for frame in frames for column in frame.columns)
    return hashlib.sha256(columns.encode() + np.sort(row_hashes).tobytes()).hexdigest()


def training_fingerprint(transactions: pd.DataFrame, labels: pd.DataFrame, settings: Mapping[str, object]) -> str:
    """What a training would produce, named before fitting: the window's rows with the labels known for them
    (`known_labels`: ground truth once matured, analysts' labels), the settings that shape the model (JSON-able) and
    the model code's version. Training is deterministic in these (up to the order the warehouse returns the rows in),
    so an equal fingerprint means the model is already registered."""
    ingredients = {"rows": rows_digest(transactions, labels[["label", "label_source"]]), "settings": settings,
                   "code": model_code_version()}
    return hashlib.sha256(json.dumps(ingredients, sort_keys=True).encode()).hexdigest()[:24]
