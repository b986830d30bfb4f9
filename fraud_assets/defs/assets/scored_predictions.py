"""scored_predictions: every cleaned transaction of a day scored by the champion, with alerts and reasons."""

from datetime import datetime, timezone

import dagster as dg
import pandas as pd

from fraud_assets.core.progress import DayProgress
from fraud_assets.defs.names import FRAUD_MODEL
from fraud_assets.defs.partitions import PARTITION_COLUMN_METADATA, daily_asset_args
from fraud_assets.defs.resources.model_registry import ModelRegistry
from fraud_assets.defs.resources.review_policy import ReviewPolicy
from fraud_assets.ml.batch_scoring import score_days, score_histogram
from fraud_assets.ml.evaluation import alerts_against_budget, describe_alert_quality


def scored_predictions(
    context: dg.AssetExecutionContext,
    cleaned_transactions: pd.DataFrame,
    model_registry: ModelRegistry,
    review_policy: ReviewPolicy,
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
    budget = alerts_against_budget(predictions["day"].to_numpy(), predictions["is_alert"].to_numpy(),
                                   review_policy.alerts_per_1000_transactions)
    over = budget[budget["over_budget"] > 0]
    context.log.info(f"scored_predictions: {len(over)} of {len(budget)} days over the alert budget"
                     + (f", by {int(over['over_budget'].max())} alerts at most (the threshold is the validation "
                        "days'; the model card says whether a tied top group exceeds the budget)" if len(over) else ""))
    fraud = int(labeled["label"].sum())
    return dg.Output(predictions, metadata={
        "model_version": champion.version,
        "threshold": champion.threshold,
        "row_count": len(predictions),
        **progress.metadata(),
        "alert_count": int(predictions["is_alert"].sum()),
        "alerts_over_budget": int(budget["over_budget"].sum()),
        "alerts_per_day": dg.MetadataValue.md(budget.to_markdown(index=False)),
        "score_histogram": dg.MetadataValue.md(
            score_histogram(predictions["score"].to_numpy()).to_markdown(index=False)),
        "at_threshold_ground_truth": describe_alert_quality(
            float(alerts["label"].mean()) if len(alerts) else float("nan"),
            int(alerts["label"].sum()) / fraud if fraud else float("nan"), len(alerts)),
        "preview": dg.MetadataValue.md(alerts.drop(columns="label").head(10).to_markdown(index=False)),
    })


def build_scored_predictions(partitions: dg.PartitionsDefinition) -> dg.AssetsDefinition:
    return dg.asset(
        **daily_asset_args(partitions),
        deps=[FRAUD_MODEL],
        metadata=PARTITION_COLUMN_METADATA,
        group_name="scoring",
        kinds={"xgboost", "duckdb"},
        description="Every cleaned transaction of the day scored by the current champion, with alerts and reasons.",
    )(scored_predictions)
