"""The fraud model: a challenger trained on a time window, promoted when it is not worse than the champion."""

import tempfile
from pathlib import Path

import dagster as dg
import pandas as pd
from dagster_duckdb import DuckDBResource

from fraud_assets.core.model_card import ModelCard
from fraud_assets.defs.names import CLEANED_TRANSACTIONS, WAREHOUSE_POOL
from fraud_assets.defs.partitions import newest_cleaned_day
from fraud_assets.defs.resources.mlflow_tracking import MlflowRunLogger
from fraud_assets.defs.resources.model_registry import MODEL_CARD_ARTIFACT, REFERENCE_SAMPLE_FILE, ModelRegistry
from fraud_assets.defs.resources.review_policy import ReviewPolicy
from fraud_assets.defs.resources.warehouse import read_stored_days
from fraud_assets.ml.evaluation import precision_recall_curve_figure
from fraud_assets.ml.features import FEATURE_COLUMNS
from fraud_assets.ml.label_maturity import TrainingWindow, known_labels, training_window
from fraud_assets.ml.lifecycle import Challenger, ThresholdPolicy, auprc_on_rows, decide_promotion, fit_challenger
from fraud_assets.ml.thresholds import describe_budget_use
from fraud_assets.ml.training import XGBoostParams

XGBOOST_DEFAULTS = XGBoostParams()

TRAINING_COLUMNS = ["transaction_id", "day", "step", "type", "amount", "nameOrig", "oldbalanceOrg", "newbalanceOrig",
                    "nameDest", "oldbalanceDest", "newbalanceDest", "isFraud", "isFlaggedFraud"]


class FraudModelConfig(dg.Config):
    """How the challenger is trained, thresholded and compared with the champion (the label delay and the alert
    budget come from the `review_policy` resource)."""

    as_of_day: int | None = None  # "today"; None = the newest day in cleaned_transactions
    training_days: int = 12
    validation_days: int = 3
    seed: int = 7
    n_estimators: int = XGBOOST_DEFAULTS.n_estimators
    max_depth: int = XGBOOST_DEFAULTS.max_depth
    learning_rate: float = XGBOOST_DEFAULTS.learning_rate
    early_stopping_rounds: int = XGBOOST_DEFAULTS.early_stopping_rounds
    # a training row's weight halves every this many days of age; None = equal
    recency_half_life_days: float | None = 3.0
    threshold_strategy: str = "alert_budget"  # or "net_value"
    review_cost_per_alert: float = 200.0
    promotion_tolerance: float = 0.005

    def xgboost_params(self) -> XGBoostParams:
        return XGBoostParams(n_estimators=self.n_estimators, max_depth=self.max_depth, learning_rate=self.learning_rate,
                             early_stopping_rounds=self.early_stopping_rounds)

    def threshold_policy(self, alerts_per_1000: float) -> ThresholdPolicy:
        return ThresholdPolicy(self.threshold_strategy, alerts_per_1000, self.review_cost_per_alert)


@dg.asset(
    deps=[CLEANED_TRANSACTIONS],
    group_name="model",
    kinds={"xgboost", "mlflow"},
    pool=WAREHOUSE_POOL,
    description="An XGBoost challenger trained on a time window, logged to MLflow, promoted to champion by the "
                "AUPRC rule.",
)
def fraud_model(
    context: dg.AssetExecutionContext,
    config: FraudModelConfig,
    warehouse: DuckDBResource,
    model_registry: ModelRegistry,
    review_policy: ReviewPolicy,
    reviewed_labels: pd.DataFrame,
    mlflow: dg.ResourceParam[MlflowRunLogger],
) -> dg.MaterializeResult:
    window, transactions = read_training_window(warehouse, config, review_policy.label_delay_days,
                                                newest_cleaned_day(context.instance))
    labels = known_labels(transactions, window.as_of_day, review_policy.label_delay_days, reviewed_labels)
    challenger = fit_challenger(transactions, labels, window, config.xgboost_params(),
                                config.threshold_policy(review_policy.alerts_per_1000_transactions), config.seed,
                                config.recency_half_life_days)

    champion = model_registry.load_champion()
    champion_auprc = (
        auprc_on_rows(champion.booster, transactions, challenger.validation_rows, labels["label"].to_numpy())
        if champion else None
    )
    decision = decide_promotion(challenger.validation_metrics["auprc"], champion_auprc, config.promotion_tolerance)
    card = model_card(challenger, window, review_policy)
    version, run_id = log_to_mlflow(mlflow, model_registry, config, challenger, card,
                                    champion_auprc, decision.promote)
    if decision.promote:
        model_registry.promote(version)
    context.log.info(f"challenger v{version}: {decision.reason}")
    budget_text = describe_budget_use(challenger.threshold)
    if challenger.threshold.alerts_over_budget_per_day > 0:
        context.log.warning(f"challenger v{version}: {budget_text}")
    metrics = challenger.validation_metrics
    return dg.MaterializeResult(metadata={
        "model_version": version,
        "mlflow_run_id": run_id,
        "promoted": decision.promote,
        "promotion_reason": decision.reason,
        "challenger_auprc": metrics["auprc"],
        "champion_auprc": champion_auprc if champion_auprc is not None else float("nan"),
        "champion_version_before": champion.version if champion else "none",
        "validation_roc_auc": metrics["roc_auc"],
        "validation_recall_at_budget": metrics["recall_at_budget"],
        "validation_precision_at_budget": metrics["precision_at_budget"],
        "threshold": challenger.threshold.threshold,
        "expected_precision": challenger.threshold.expected_precision,
        "expected_recall": challenger.threshold.expected_recall,
        "expected_alerts_per_day": challenger.threshold.expected_alerts_per_day,
        "alert_budget_per_day": challenger.threshold.alert_budget_per_day,
        "alerts_over_budget_per_day": challenger.threshold.alerts_over_budget_per_day,
        "alert_budget_use": budget_text,
        "training_window": window.describe(),
        "train_rows": challenger.trained.n_train,
        "train_fraud": challenger.trained.n_train_fraud,
        "validation_rows": challenger.trained.n_valid,
        "validation_fraud": challenger.trained.n_valid_fraud,
        "analyst_labels_used": challenger.n_analyst_labels,
        "feature_importance": dg.MetadataValue.md(
            pd.Series(challenger.feature_importance()).sort_values(ascending=False).rename("total_gain")
            .to_frame().to_markdown()),
    })


def model_card(challenger: Challenger, window: TrainingWindow, review_policy: ReviewPolicy) -> ModelCard:
    """The challenger's card: its threshold and what it promised on the validation days."""
    return ModelCard(
        threshold=challenger.threshold.threshold,
        threshold_strategy=challenger.threshold.strategy,
        expected_precision=challenger.threshold.expected_precision,
        expected_recall=challenger.threshold.expected_recall,
        expected_alerts_per_day=challenger.threshold.expected_alerts_per_day,
        alert_budget_per_day=challenger.threshold.alert_budget_per_day,
        high_score_level=challenger.high_score_level,
        expected_high_score_rate=challenger.expected_high_score_rate,
        alerts_per_1000_transactions=review_policy.alerts_per_1000_transactions,
        feature_columns=list(FEATURE_COLUMNS),
        training_window=window.as_dict(),
        label_delay_days=review_policy.label_delay_days,
        metrics=challenger.validation_metrics,
        n_analyst_labels=challenger.n_analyst_labels,
        best_iteration=challenger.trained.best_iteration,
    )


def read_training_window(warehouse: DuckDBResource, config: FraudModelConfig, label_delay_days: int,
                         newest_day: int | None) -> tuple[TrainingWindow, pd.DataFrame]:
    """The training window as of `config.as_of_day` (default: `newest_day`, the newest cleaned day) and its cleaned
    transactions, read from the warehouse for the window's days only."""
    as_of_day = config.as_of_day if config.as_of_day is not None else newest_day
    if as_of_day is None:
        raise dg.Failure("cleaned_transactions has no materialized day yet: run daily_ingest_job over some days first.")
    window = training_window(as_of_day, config.training_days, config.validation_days, label_delay_days)
    with warehouse.get_connection() as connection:
        transactions = read_stored_days(connection, "cleaned_transactions", window.first_train_day,
                                        window.last_validation_day, TRAINING_COLUMNS)
    return window, transactions


def log_to_mlflow(mlflow: MlflowRunLogger, registry: ModelRegistry, config: FraudModelConfig, challenger: Challenger,
                  card: ModelCard, champion_auprc: float | None, promoted: bool) -> tuple[str, str]:
    """Log the challenger's parameters, metrics, plots, card and model; register it. Returns (version, run id)."""
    mlflow.log_params({**config.model_dump(), "alerts_per_1000_transactions": card.alerts_per_1000_transactions,
                       "label_delay_days": card.label_delay_days,
                       "scale_pos_weight": challenger.trained.scale_pos_weight,
                       **{f"window_{key}": value for key, value in card.training_window.items()}})
    mlflow.log_metrics({f"validation_{key}": value for key, value in challenger.validation_metrics.items()
                        if value == value})
    mlflow.log_metrics({"champion_auprc": champion_auprc if champion_auprc is not None else -1.0,
                        "promoted": float(promoted)})
    mlflow.log_figure(precision_recall_curve_figure(challenger.validation["label"].to_numpy(),
                                                    challenger.validation["score"].to_numpy(),
                                                    challenger.threshold.threshold), "pr_curve.png")
    mlflow.log_dict(challenger.feature_importance(), "feature_importance.json")
    mlflow.log_dict(card.to_dict(), MODEL_CARD_ARTIFACT)
    with tempfile.TemporaryDirectory() as scratch:
        sample_path = Path(scratch) / REFERENCE_SAMPLE_FILE
        challenger.reference_sample.to_parquet(sample_path, index=False)
        mlflow.log_artifact(str(sample_path))
    info = mlflow.xgboost.log_model(challenger.trained.booster, name="model",
                                    registered_model_name=registry.registered_model_name)
    run_id = mlflow.active_run().info.run_id
    mlflow.end_run()
    return str(info.registered_model_version), run_id
