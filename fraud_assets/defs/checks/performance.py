"""Performance check: recall at the daily alert budget on matured ground truth, judged by the evidence it has."""

from dataclasses import dataclass

import dagster as dg
import pandas as pd
from dagster_duckdb import DuckDBResource

from fraud_assets.defs.checks.daily_results import DailyResult, daily_check, report_daily_results
from fraud_assets.defs.names import CLEANED_TRANSACTIONS, RECALL_CHECK
from fraud_assets.defs.partitions import day_of_partition_key, newest_cleaned_day
from fraud_assets.defs.resources.model_registry import ModelRegistry
from fraud_assets.defs.resources.retrain_policy import RetrainPolicy
from fraud_assets.defs.resources.review_policy import ReviewPolicy
from fraud_assets.defs.resources.warehouse import WAREHOUSE_SCHEMA
from fraud_assets.ml.evidence import RecallDays, recall_verdict

DAY_SCORES_AND_LABELS_SQL = f"""
    SELECT p.score, p.amount, p.model_version, c.isFraud
    FROM {WAREHOUSE_SCHEMA}.scored_predictions p JOIN {WAREHOUSE_SCHEMA}.cleaned_transactions c USING (transaction_id)
    WHERE p.day = ? AND c.day = ?"""


class RecallCheckConfig(dg.Config):
    recall_floor: float = 0.6  # fails when recall at the day's alert budget is below this, beyond chance
    scan_days: int = 7  # the trailing matured days judged together with the day (scored by the same model)


def scored_predictions_recall_check(
    context: dg.AssetCheckExecutionContext,
    config: RecallCheckConfig,
    warehouse: DuckDBResource,
    review_policy: ReviewPolicy,
    model_registry: ModelRegistry,
    retrain_policy: RetrainPolicy,
) -> dg.AssetCheckResult | None:
    """Recall at the day's alert budget (its highest scores, as many as the analysts review for its volume), on the
    day's matured labels, is not below a floor: an exact binomial test of the fraud events caught, on the day and on
    the trailing days before it that the same model scored after its training window, up to `scan_days`
    (`evidence.recall_verdict`). A day with a few frauds says it has too little evidence instead of passing or
    failing by chance.

    Joins a day's scores with its ground truth in the warehouse, one day at a time, each day of the judged days and
    their windows once."""
    newest_day = newest_cleaned_day(context.instance)
    champion = model_registry.load_champion()
    results = {}
    with warehouse.get_connection() as connection:
        days = MaturedDays(connection, review_policy)
        for key in context.partition_keys:
            day = day_of_partition_key(key)
            if day > newest_day - review_policy.label_delay_days:
                results[key] = DailyResult(True, {
                    "status": f"labels mature on day {day + review_policy.label_delay_days}; not judged yet",
                    "recall_floor": config.recall_floor})
                continue
            judged = days.of(day)
            if judged is None:
                results[key] = DailyResult(True, {"status": "no scored rows", "recall_floor": config.recall_floor})
                continue
            first = day
            if champion is not None and champion.version == judged.model_version:
                first = min(day, max(day - config.scan_days + 1, champion.card.last_validation_day + 1))
            window = [found for found in map(days.of, range(first, day + 1))
                      if found is not None and found.model_version == judged.model_version]
            recall_days = RecallDays([item.day for item in window], [item.fraud_events for item in window],
                                     [item.caught_events for item in window])
            verdict = recall_verdict(recall_days, config.recall_floor, retrain_policy.level_per_check_day)
            results[key] = DailyResult(verdict.passed, {**verdict.metadata, "model_version": judged.model_version,
                                                        "alert_budget": judged.alert_budget})
    return report_daily_results(context, RECALL_CHECK, results)


@dataclass(frozen=True)
class DayRecall:
    day: int
    model_version: str  # the version that scored the day (the first, if several did)
    alert_budget: int
    fraud_events: int
    caught_events: int


class MaturedDays:
    """Each day's fraud events and those caught at its budget, read from the warehouse once per check run."""

    def __init__(self, connection, review_policy: ReviewPolicy):
        self.connection = connection
        self.review_policy = review_policy
        self.days: dict[int, DayRecall | None] = {}

    def of(self, day: int) -> DayRecall | None:
        if day not in self.days:
            rows = self.connection.execute(DAY_SCORES_AND_LABELS_SQL, [day, day]).fetchdf()
            budget = self.review_policy.daily_alert_budget(len(rows))
            self.days[day] = (DayRecall(day, str(rows["model_version"].iloc[0]), budget,
                                        *day_recall_events(rows, budget)) if len(rows) else None)
        return self.days[day]


def day_recall_events(rows: pd.DataFrame, budget: int) -> tuple[int, int]:
    """(fraud events, fraud events with a row alerted at the budget) of a day's (score, amount, isFraud) rows; a fraud
    event is a distinct amount among the day's fraud rows (a transfer and its cash-out)."""
    fraud = rows[rows["isFraud"] == 1]
    alerted = rows.nlargest(budget, "score")
    return int(fraud["amount"].nunique()), int(alerted.loc[alerted["isFraud"] == 1, "amount"].nunique())


def build_performance_checks(partitions: dg.PartitionsDefinition) -> list[dg.AssetChecksDefinition]:
    """The checks of this area, evaluated per day of `partitions`."""
    return [
        daily_check(RECALL_CHECK, partitions, scored_predictions_recall_check, additional_deps=[CLEANED_TRANSACTIONS]),
    ]
