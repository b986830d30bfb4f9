"""scored_predictions: every cleaned transaction of a day scored by the champion, with alerts and reasons."""

from dataclasses import dataclass
from datetime import datetime, timezone

import dagster as dg
import numpy as np
import pandas as pd
from dagster_duckdb import DuckDBResource

from fraud_assets.core.progress import DayProgress
from fraud_assets.core.served_models import ChampionModel
from fraud_assets.defs.assets.metadata import describe_days, preview_table, stored_table
from fraud_assets.defs.names import CLEANED_TRANSACTIONS, FRAUD_MODEL, SCORED_PREDICTIONS
from fraud_assets.defs.partitions import daily_asset_args, days_of_context
from fraud_assets.defs.resources.model_registry import ModelRegistry
from fraud_assets.defs.resources.review_policy import ReviewPolicy
from fraud_assets.defs.resources.warehouse import WAREHOUSE_SCHEMA, RowsInWarehouse, replace_day, table_exists
from fraud_assets.ml.batch_scoring import empty_predictions_frame, score_histogram, score_rows
from fraud_assets.ml.evaluation import alerts_against_budget, describe_alert_quality
from fraud_assets.ml.features import REQUIRED_COLUMNS

TABLE = SCORED_PREDICTIONS.path[-1]
# A cleaned day, with each row's position in the table: the model's columns come back to the warehouse keyed by it,
# and the warehouse copies the transaction's own columns (four of them strings) instead of pandas.
CLEANED_DAY_SQL = (f"SELECT rowid AS cleaned_rowid, step, {', '.join(REQUIRED_COLUMNS)} "
                   f"FROM {WAREHOUSE_SCHEMA}.cleaned_transactions WHERE day = ?")
PREDICTIONS_SQL = f"""
    SELECT c.transaction_id, c.event_ts, c.day, c.step, c.type, c.amount, c.nameOrig, c.nameDest,
           s.score, s.is_alert, ?::DOUBLE AS threshold, ?::VARCHAR AS model_version, ?::TIMESTAMP_NS AS scored_at,
           coalesce(r.reasons, '') AS reasons
    FROM {WAREHOUSE_SCHEMA}.cleaned_transactions c
    JOIN day_scores s ON c.rowid = s.cleaned_rowid
    LEFT JOIN alert_reasons r ON c.rowid = r.cleaned_rowid
    WHERE c.day = ?
    ORDER BY c.rowid"""
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
                alerts.append(score_day(connection, day, champion, scored_at))
                rescored.append(day)
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
        "preview": preview_table(pd.concat(alerts, ignore_index=True).head(10) if alerts else pd.DataFrame()),
        **stored_table(TABLE),
    })


def score_day(connection, day: int, champion: ChampionModel, scored_at: datetime) -> pd.DataFrame:
    """Score a cleaned day and replace its predictions; the day's first alerts come back, for the preview."""
    transactions = connection.execute(CLEANED_DAY_SQL, [day]).fetchdf()
    scored = score_rows(transactions, champion.booster, champion.threshold)
    rowids = transactions["cleaned_rowid"].to_numpy()
    replace_day(connection, day, {TABLE: RowsInWarehouse(
        PREDICTIONS_SQL, [champion.threshold, champion.version, scored_at.replace(tzinfo=None), day],
        empty_predictions_frame(), {
            "day_scores": pd.DataFrame({"cleaned_rowid": rowids, "score": scored.scores,
                                        "is_alert": scored.is_alert}),
            "alert_reasons": pd.DataFrame({"cleaned_rowid": rowids[scored.is_alert],
                                           "reasons": pd.Series(scored.alert_reasons, dtype=object)}),
        })})
    alerted = transactions[scored.is_alert].head(10)
    return alerted.assign(score=scored.scores[scored.is_alert][:10]).drop(columns="cleaned_rowid")


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
