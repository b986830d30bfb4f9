"""Time-based splitting, XGBoost training and scoring.

The project validates by time only: the newest days are the validation set, older days train.
`train_xgboost` stops early on the validation AUPRC and returns the booster *sliced to its best
iteration*: the returned booster holds only the kept trees, so every prediction made with it (here,
in the BentoML service, or after a save to JSON and a load) uses exactly the model that was validated,
without any `iteration_range` bookkeeping.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import xgboost as xgb


@dataclass(frozen=True)
class XGBoostParams:
    """Hyper-parameters of `train_xgboost`; `scale_pos_weight=None` means training negatives / positives."""

    n_estimators: int = 400
    max_depth: int = 6
    learning_rate: float = 0.1
    subsample: float = 0.9
    colsample_bytree: float = 0.9
    min_child_weight: float = 1.0
    early_stopping_rounds: int = 30
    nthread: int = 2
    scale_pos_weight: float | None = None


@dataclass
class TrainedModel:
    """A booster sliced to its best iteration, with the figures of the data it was trained on."""

    booster: xgb.Booster
    feature_columns: list[str]
    best_iteration: int
    scale_pos_weight: float
    n_train: int
    n_train_fraud: int
    n_valid: int
    n_valid_fraud: int


def time_split(days: pd.Series | np.ndarray, validation_days: int) -> tuple[np.ndarray, np.ndarray]:
    """Boolean masks (train, validation): the newest `validation_days` distinct days validate, older days train.

    Raises ValueError unless there are at least `validation_days + 1` distinct days.
    """
    if validation_days < 1:
        raise ValueError(f"validation_days must be at least 1, got {validation_days}")
    day_values = np.asarray(days)
    distinct_days = np.unique(day_values)
    if len(distinct_days) < validation_days + 1:
        raise ValueError(
            f"A time split with {validation_days} validation day(s) needs at least {validation_days + 1} "
            f"distinct days, but the data holds {len(distinct_days)}: {distinct_days.tolist()}. "
            "Widen the training window or lower validation_days."
        )
    first_validation_day = distinct_days[-validation_days]
    validation = day_values >= first_validation_day
    return ~validation, validation


def train_xgboost(
    train_X: pd.DataFrame,
    train_y: pd.Series | np.ndarray,
    valid_X: pd.DataFrame,
    valid_y: pd.Series | np.ndarray,
    params: XGBoostParams,
    seed: int,
    train_weight: np.ndarray | None = None,
) -> TrainedModel:
    """Train a binary XGBoost classifier (hist trees) with early stopping on the validation AUPRC.

    Deterministic for the same inputs, parameters and seed. Both the training and the validation
    labels must hold fraud and genuine rows (early stopping on AUPRC needs both); otherwise ValueError.
    `train_weight` (optional, one per training row) weighs rows, e.g. newer days more.
    """
    if list(train_X.columns) != list(valid_X.columns):
        raise ValueError(f"Training and validation columns differ: {list(train_X.columns)} vs {list(valid_X.columns)}")
    train_labels = _binary_labels(train_y, "training")
    valid_labels = _binary_labels(valid_y, "validation")
    n_train_fraud = int(train_labels.sum())
    scale_pos_weight = params.scale_pos_weight
    if scale_pos_weight is None:
        scale_pos_weight = (len(train_labels) - n_train_fraud) / n_train_fraud

    dtrain = xgb.QuantileDMatrix(train_X, label=train_labels, weight=train_weight, nthread=params.nthread)
    dvalid = xgb.QuantileDMatrix(valid_X, label=valid_labels, ref=dtrain, nthread=params.nthread)
    booster = xgb.train(
        _booster_params(params, scale_pos_weight, seed),
        dtrain,
        num_boost_round=params.n_estimators,
        evals=[(dvalid, "valid")],
        early_stopping_rounds=params.early_stopping_rounds,
        verbose_eval=False,
    )
    best_iteration = booster.best_iteration
    return TrainedModel(
        booster=booster[: best_iteration + 1],
        feature_columns=list(train_X.columns),
        best_iteration=best_iteration,
        scale_pos_weight=float(scale_pos_weight),
        n_train=len(train_labels),
        n_train_fraud=n_train_fraud,
        n_valid=len(valid_labels),
        n_valid_fraud=int(valid_labels.sum()),
    )


def predict_scores(booster: xgb.Booster, features: pd.DataFrame) -> np.ndarray:
    """Fraud probabilities (float64) of feature rows, with all the trees of the booster.

    Boosters from `train_xgboost` are already sliced to their best iteration, so all trees is the best iteration.
    Columns are reordered to the booster's feature names when it has them; the booster then gets a plain float32
    matrix, which XGBoost predicts from markedly faster than from a DataFrame.
    """
    if booster.feature_names is not None and list(features.columns) != booster.feature_names:
        features = features[booster.feature_names]
    return predict_matrix(booster, features.to_numpy(dtype=np.float32))


def predict_matrix(booster: xgb.Booster, features: np.ndarray) -> np.ndarray:
    """`predict_scores` of a float32 matrix whose columns are the booster's features, in its order."""
    return np.asarray(booster.inplace_predict(features), dtype=np.float64)


def _binary_labels(labels: pd.Series | np.ndarray, role: str) -> np.ndarray:
    """Labels as an int8 array, checked to hold both classes (role names the set in the error message)."""
    values = np.asarray(labels).astype(np.int8)
    n_fraud = int(values.sum())
    if n_fraud == 0 or n_fraud == len(values):
        raise ValueError(
            f"The {role} set has {len(values)} rows of which {n_fraud} are fraud: it needs both fraud and "
            f"genuine rows. Widen the training window or change validation_days."
        )
    return values


def _booster_params(params: XGBoostParams, scale_pos_weight: float, seed: int) -> dict[str, object]:
    """The xgb.train parameter dict."""
    return {
        "objective": "binary:logistic",
        "eval_metric": "aucpr",
        "tree_method": "hist",
        "max_depth": params.max_depth,
        "eta": params.learning_rate,
        "subsample": params.subsample,
        "colsample_bytree": params.colsample_bytree,
        "min_child_weight": params.min_child_weight,
        "scale_pos_weight": scale_pos_weight,
        "nthread": params.nthread,
        "seed": seed,
    }
