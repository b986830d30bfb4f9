"""Batch scoring: every cleaned transaction of a day scored by the champion, and daily model performance."""


from datetime import datetime, timezone

import dagster as dg
import pandas as pd

from fraud_assets.assets.ingest import DAILY_ASSET_ARGS, PARTITION_COLUMN, WAREHOUSE_POOL
from fraud_assets.ml.evaluation import per_day_performance
from fraud_assets.ml.labels import known_labels
from fraud_assets.ml.scoring import score_days, score_histogram
from fraud_assets.model_registry import ModelRegistry
from fraud_assets.progress import DayProgress


class ScoringConfig(dg.Config):
    label_delay_days: int = 1
    alert_budget_per_day: int = 60


@dg.asset(
    **DAILY_ASSET_ARGS,
    deps=["fraud_model"],
    metadata=PARTITION_COLUMN,
    group_name="scoring",
    kinds={"xgboost", "duckdb"},
    description="Every cleaned transaction of the day scored by the current champion, with alerts and reasons.",
)
def scored_predictions(
    context: dg.AssetExecutionContext,
    config: ScoringConfig,
    cleaned_transactions: pd.DataFrame,
    model_registry: ModelRegistry,
) -> dg.Output[pd.DataFrame]:
    champion = model_registry.load_champion()
    if champion is None:
        raise dg.Failure("There is no champion model yet: materialize fraud_model first (the main job does it).")
    progress = DayProgress(context.log, f"scored_predictions: scored by v{champion.version}",
                           int(cleaned_transactions["day"].nunique()))
    predictions = score_days(cleaned_transactions, champion.booster, champion.threshold, champion.version,
                             datetime.now(timezone.utc), progress.day_done)
    labeled = predictions.assign(label=cleaned_transactions["isFraud"].to_numpy())
    alerts = labeled[labeled["is_alert"]]
    return dg.Output(predictions, metadata={
        "model_version": champion.version,
        "threshold": champion.threshold,
        "row_count": len(predictions),
        **progress.metadata(),
        "alert_count": int(predictions["is_alert"].sum()),
        "alerts_per_day": dg.MetadataValue.md(
            predictions.groupby("day")["is_alert"].sum().rename("alerts").to_frame().to_markdown()),
        "score_histogram": dg.MetadataValue.md(score_histogram(predictions["score"].to_numpy()).to_markdown(index=False)),
        "precision_at_threshold_ground_truth": float(alerts["label"].mean()) if len(alerts) else float("nan"),
        "recall_at_threshold_ground_truth": (
            float(alerts["label"].sum() / labeled["label"].sum()) if labeled["label"].sum() else float("nan")),
        "preview": dg.MetadataValue.md(alerts.drop(columns="label").head(10).to_markdown(index=False)),
    })


@dg.asset(
    ins={
        "scored_predictions": dg.AssetIn(metadata={"columns": ["transaction_id", "day", "amount", "score", "is_alert", "model_version"]}),
        "cleaned_transactions": dg.AssetIn(metadata={"columns": ["transaction_id", "day", "isFraud"]}),
    },
    group_name="scoring",
    kinds={"pandas", "duckdb"},
    pool=WAREHOUSE_POOL,
    description="Per day and model version: precision, recall, AUPRC and recall at the alert budget on the labels known so far.",
)
def model_performance(
    config: ScoringConfig, scored_predictions: pd.DataFrame, cleaned_transactions: pd.DataFrame, reviewed_labels: pd.DataFrame
) -> dg.Output[pd.DataFrame]:
    as_of_day = int(cleaned_transactions["day"].max())
    labels = known_labels(cleaned_transactions, as_of_day, config.label_delay_days, reviewed_labels)
    truth = cleaned_transactions[["transaction_id"]].assign(label=labels["label"].to_numpy())
    joined = scored_predictions.merge(truth, on="transaction_id", how="inner").dropna(subset=["label"])
    table = per_day_performance(joined, config.alert_budget_per_day)
    return dg.Output(table, metadata={
        "as_of_day": as_of_day,
        "days_with_matured_labels": int(table["day"].nunique()),
        "table": dg.MetadataValue.md(table.to_markdown(index=False, floatfmt=".3f")),
    })
