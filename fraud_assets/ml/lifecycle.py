"""Training a challenger on a time window and deciding whether it replaces the champion (pure functions)."""

from __future__ import annotations

from dataclasses import dataclass

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
    valid_rows = known & (days >= window.first_validation_day) & (days <= window.last_validation_day)
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


def decide_promotion(challenger_auprc: float, champion_auprc: float | None, tolerance: float) -> PromotionDecision:
    """The challenger becomes champion unless its AUPRC is worse than the champion's by more than `tolerance`."""
    if champion_auprc is None:
        return PromotionDecision(True, "first model: there is no champion yet")
    if np.isnan(challenger_auprc):
        return PromotionDecision(False,
                                 "the challenger's validation AUPRC is undefined (no fraud in the validation days)")
    if np.isnan(champion_auprc) or challenger_auprc >= champion_auprc - tolerance:
        return PromotionDecision(
            True, f"challenger AUPRC {challenger_auprc:.4f} is within {tolerance} of the champion's "
                  f"{champion_auprc:.4f} or better")
    return PromotionDecision(
        False, f"challenger AUPRC {challenger_auprc:.4f} is worse than the champion's {champion_auprc:.4f} "
               f"by more than {tolerance}")
