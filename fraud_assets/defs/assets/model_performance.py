"""model_performance: per day and model version, the champion's quality on the labels known so far."""

import dagster as dg
import pandas as pd

from fraud_assets.defs.names import WAREHOUSE_POOL
from fraud_assets.defs.resources.review_policy import ReviewPolicy
from fraud_assets.ml.evaluation import per_day_performance, per_day_table_for_people
from fraud_assets.ml.label_maturity import known_labels


@dg.asset(
    ins={
        "scored_predictions": dg.AssetIn(
            metadata={"columns": ["transaction_id", "day", "amount", "score", "is_alert", "model_version"]}),
        "cleaned_transactions": dg.AssetIn(metadata={"columns": ["transaction_id", "day", "isFraud"]}),
    },
    group_name="scoring",
    kinds={"pandas", "duckdb"},
    pool=WAREHOUSE_POOL,
    description="Per day and model version: precision, recall, AUPRC and recall at the alert budget on the labels "
                "known so far.",
)
def model_performance(
    review_policy: ReviewPolicy, scored_predictions: pd.DataFrame, cleaned_transactions: pd.DataFrame,
    reviewed_labels: pd.DataFrame
) -> dg.Output[pd.DataFrame]:
    as_of_day = int(cleaned_transactions["day"].max())
    labels = known_labels(cleaned_transactions, as_of_day, review_policy.label_delay_days, reviewed_labels)
    truth = cleaned_transactions[["transaction_id"]].assign(label=labels["label"].to_numpy())
    joined = scored_predictions.merge(truth, on="transaction_id", how="inner").dropna(subset=["label"])
    table = per_day_performance(joined, review_policy.alerts_per_1000_transactions)
    return dg.Output(table, metadata={
        "as_of_day": as_of_day,
        "days_with_matured_labels": int(table["day"].nunique()),
        "table": dg.MetadataValue.md(per_day_table_for_people(
            table, review_policy.alerts_per_1000_transactions).to_markdown(index=False)),
    })
