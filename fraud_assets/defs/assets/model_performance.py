"""model_performance: per day and model version, the champion's quality on the labels known so far."""

import dagster as dg
import pandas as pd
from dagster_duckdb import DuckDBResource

from fraud_assets.defs.names import CLEANED_TRANSACTIONS, SCORED_PREDICTIONS, WAREHOUSE_POOL
from fraud_assets.defs.resources.review_policy import ReviewPolicy
from fraud_assets.defs.resources.warehouse import WAREHOUSE_SCHEMA
from fraud_assets.ml.evaluation import PER_DAY_COLUMNS, per_day_performance, per_day_table_for_people
from fraud_assets.ml.label_maturity import known_labels

SCORED_DAYS_SQL = f"SELECT DISTINCT day FROM {WAREHOUSE_SCHEMA}.scored_predictions ORDER BY day"
NEWEST_CLEANED_DAY_SQL = f"SELECT max(day) FROM {WAREHOUSE_SCHEMA}.cleaned_transactions"
# A day's predictions with what the labels need: two numbers, an id and a version per transaction.
DAY_PREDICTIONS_SQL = f"""
    SELECT p.transaction_id, p.day, p.amount, p.score, p.is_alert, p.model_version, c.isFraud
    FROM {WAREHOUSE_SCHEMA}.scored_predictions p JOIN {WAREHOUSE_SCHEMA}.cleaned_transactions c USING (transaction_id)
    WHERE p.day = ? AND c.day = ?"""


@dg.asset(
    deps=[SCORED_PREDICTIONS, CLEANED_TRANSACTIONS],
    group_name="scoring",
    kinds={"pandas", "duckdb"},
    pool=WAREHOUSE_POOL,
    description="Per day and model version: precision, recall, AUPRC and recall at the alert budget on the labels "
                "known so far.",
)
def model_performance(
    review_policy: ReviewPolicy, warehouse: DuckDBResource, reviewed_labels: pd.DataFrame
) -> dg.Output[pd.DataFrame]:
    """Computed a scored day at a time (the day's predictions joined with its ground truth in the warehouse)."""
    tables = []
    with warehouse.get_connection() as connection:
        (as_of_day,) = connection.execute(NEWEST_CLEANED_DAY_SQL).fetchone()
        for (day,) in connection.execute(SCORED_DAYS_SQL).fetchall():
            rows = connection.execute(DAY_PREDICTIONS_SQL, [day, day]).fetchdf()
            labels = known_labels(rows, int(as_of_day), review_policy.label_delay_days, reviewed_labels)
            labeled = rows.assign(label=labels["label"].to_numpy()).dropna(subset=["label"])
            if len(labeled):
                tables.append(per_day_performance(labeled, review_policy.alerts_per_1000_transactions))
    table = pd.concat(tables, ignore_index=True) if tables else pd.DataFrame(columns=PER_DAY_COLUMNS)
    return dg.Output(table, metadata={
        "as_of_day": int(as_of_day) if as_of_day is not None else -1,
        "days_with_matured_labels": int(table["day"].nunique()),
        "table": dg.MetadataValue.md(per_day_table_for_people(
            table, review_policy.alerts_per_1000_transactions).to_markdown(index=False)),
    })
