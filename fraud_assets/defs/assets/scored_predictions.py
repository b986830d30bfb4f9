"""scored_predictions: every cleaned transaction of a day scored by the champion, with alerts and reasons."""

from dataclasses import dataclass
from datetime import datetime, timezone

import dagster as dg
import numpy as np
import pandas as pd
from dagster_duckdb import DuckDBResource

from fraud_assets.core.progress import DayProgress
from fraud_assets.defs.assets.metadata import describe_days, preview_table, stored_table
from fraud_assets.defs.names import CLEANED_TRANSACTIONS, FRAUD_MODEL, SCORED_PREDICTIONS
from fraud_assets.defs.partitions import daily_asset_args, days_of_context
from fraud_assets.defs.resources.model_registry import ModelRegistry
from fraud_assets.defs.resources.review_policy import ReviewPolicy
from fraud_assets.defs.resources.warehouse import WAREHOUSE_SCHEMA, read_stored_days, replace_day, table_exists
from fraud_assets.ml.batch_scoring import score_histogram, score_transactions
from fraud_assets.ml.evaluation import alerts_against_budget, describe_alert_quality

TABLE = SCORED_PREDICTIONS.path[-1]
SCORING_INPUT_COLUMNS = ["transaction_id", "event_ts", "day", "step", "type", "amount", "nameOrig", "oldbalanceOrg",
                         "newbalanceOrig", "nameDest", "oldbalanceDest", "newbalanceDest"]
# Cleaned rows of the day that lack a prediction by this version at this threshold: none means the day is already
# scored as asked, and a re-run leaves it alone.
UNSCORED_ROWS_SQL = f"""
    SELECT count(*) FROM {WAREHOUSE_SCHEMA}.cleaned_transactions c
    LEFT JOIN (SELECT transaction_id, model_version, threshold FROM {WAREHOUSE_SCHEMA}.{TABLE} WHERE day = ?) p
        USING (transaction_id)
    WHERE c.day = ? AND (p.transaction_id IS NULL OR p.model_version <> ? OR p.threshold <> ?)"""
DAY_OUTCOMES_SQL = f"""
    SELECT p.day, p.score, p.is_alert, c.isFraud AS label
    FROM {WAREHOUSE_SCHEMA}.{TABLE} p JOIN {WAREHOUSE_SCHEMA}.cleaned_transactions c USING (transaction_id)
    WHERE p.day = ? AND c.day = ?"""


def scored_predictions(
    context: dg.AssetExecutionContext,
    warehouse: DuckDBResource,
    model_registry: ModelRegistry,
    review_policy: ReviewPolicy,
) -> dg.MaterializeResult:
    """Score a day at a time; a day whose every cleaned row already has the champion's prediction at its threshold
    is left as it is (a re-run on unchanged data re-scores nothing)."""
    champion = model_registry.load_champion()
    if champion is None:
        raise dg.Failure("There is no champion model yet: materialize fraud_model first (the main job does it).")
    days = days_of_context(context)
    progress = DayProgress(context.log, f"scored_predictions: scored by v{champion.version}", len(days))
    scored_at, rescored, kept, outcomes, alerts = datetime.now(timezone.utc), [], [], [], []
    with warehouse.get_connection() as connection:
        for day in days:
            if day_already_scored(connection, day, champion.version, champion.threshold):
                kept.append(day)
            else:
                transactions = read_stored_days(connection, CLEANED_TRANSACTIONS.path[-1], day, day,
                                                SCORING_INPUT_COLUMNS)
                predictions = score_transactions(transactions, champion.booster, champion.threshold,
                                                 champion.version, scored_at)
                replace_day(connection, day, {TABLE: predictions})
                rescored.append(day)
                if len(alerts) < 10:
                    alerts.append(predictions[predictions["is_alert"]].head(10))
            outcome = connection.execute(DAY_OUTCOMES_SQL, [day, day]).fetchdf()
            outcomes.append(DayOutcome.of(outcome, review_policy.alerts_per_1000_transactions))
            progress.day_done(day, len(outcome))
    if kept:
        context.log.info(f"scored_predictions: days {describe_days(kept)} already scored by v{champion.version} at "
                         f"threshold {champion.threshold:.4f}; left as they are")
    return dg.MaterializeResult(metadata={
        "model_version": champion.version,
        "threshold": champion.threshold,
        "days_scored": describe_days(rescored),
        "days_already_scored": describe_days(kept),
        **progress.metadata(),
        **outcome_metadata(context, outcomes),
        "preview": preview_table(pd.concat(alerts, ignore_index=True) if alerts else pd.DataFrame()),
        **stored_table(TABLE),
    })


def day_already_scored(connection, day: int, model_version: str, threshold: float) -> bool:
    if not table_exists(connection, TABLE):
        return False
    (stored,) = connection.execute(f"SELECT count(*) FROM {WAREHOUSE_SCHEMA}.{TABLE} WHERE day = ?", [day]).fetchone()
    (unscored,) = connection.execute(UNSCORED_ROWS_SQL, [day, day, model_version, threshold]).fetchone()
    return stored > 0 and unscored == 0


@dataclass(frozen=True)
class DayOutcome:
    """What a scored day's metadata needs, from its stored (score, is_alert, label) rows."""

    budget: pd.DataFrame  # one row of alerts_against_budget
    histogram: np.ndarray
    fraud: int
    alerted_fraud: int

    @classmethod
    def of(cls, rows: pd.DataFrame, alerts_per_1000: float) -> "DayOutcome":
        return cls(alerts_against_budget(rows["day"].to_numpy(), rows["is_alert"].to_numpy(), alerts_per_1000),
                   score_histogram(rows["score"].to_numpy())["rows"].to_numpy(), int(rows["label"].sum()),
                   int(rows.loc[rows["is_alert"], "label"].sum()))


def outcome_metadata(context: dg.AssetExecutionContext, outcomes: list[DayOutcome]) -> dict:
    """The run's alerts against each day's budget, the score histogram and the alerts' ground truth."""
    budget = pd.concat([outcome.budget for outcome in outcomes], ignore_index=True)
    over = budget[budget["over_budget"] > 0]
    context.log.info(f"scored_predictions: {len(over)} of {len(budget)} days over the alert budget"
                     + (f", by {int(over['over_budget'].max())} alerts at most (the threshold is the validation "
                        "days'; the model card says whether a tied top group exceeds the budget)" if len(over) else ""))
    histogram = score_histogram(np.array([]))
    histogram["rows"] = np.sum([outcome.histogram for outcome in outcomes], axis=0)
    alerts, fraud = int(budget["alerts"].sum()), sum(outcome.fraud for outcome in outcomes)
    alerted_fraud = sum(outcome.alerted_fraud for outcome in outcomes)
    return {
        "row_count": int(budget["transactions"].sum()),
        "alert_count": alerts,
        "alerts_over_budget": int(budget["over_budget"].sum()),
        "alerts_per_day": dg.MetadataValue.md(budget.to_markdown(index=False)),
        "score_histogram": dg.MetadataValue.md(histogram.to_markdown(index=False)),
        "at_threshold_ground_truth": describe_alert_quality(
            alerted_fraud / alerts if alerts else float("nan"), alerted_fraud / fraud if fraud else float("nan"),
            alerts),
    }


def build_scored_predictions(partitions: dg.PartitionsDefinition) -> dg.AssetsDefinition:
    return dg.asset(
        **daily_asset_args(partitions),
        deps=[CLEANED_TRANSACTIONS, FRAUD_MODEL],
        group_name="scoring",
        kinds={"xgboost", "duckdb"},
        description="Every cleaned transaction of the day scored by the current champion, with alerts and reasons.",
    )(scored_predictions)
