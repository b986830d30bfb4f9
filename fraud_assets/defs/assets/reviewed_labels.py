"""reviewed_labels: analysts' labels brought into the warehouse, for training and for model performance."""

import hashlib

import dagster as dg
import pandas as pd

from fraud_assets.defs.names import WAREHOUSE_POOL
from fraud_assets.defs.resources.stores import LabelStore


@dg.asset(
    group_name="labels",
    kinds={"sqlite", "duckdb"},
    pool=WAREHOUSE_POOL,
    description="The latest analyst label per transaction (with its count of label events), from the label store.",
)
def reviewed_labels(label_store: LabelStore) -> dg.Output[pd.DataFrame]:
    labels = label_store.latest_labels()
    return dg.Output(labels, data_version=labels_data_version(labels), metadata={
        "row_count": len(labels),
        "fraud_labels": int((labels["label"] == 1).sum()),
        "legit_labels": int((labels["label"] == 0).sum()),
        "relabeled_transactions": int((labels["event_count"] > 1).sum()),
        "reviewers": int(labels["reviewer"].nunique()),
    })


def labels_data_version(labels: pd.DataFrame) -> dg.DataVersion:
    """A fingerprint of the labels' content: the same labels give the same version, so re-reading an unchanged
    label store (every `model_performance_job` does) does not mark the model trained on them as out of date."""
    row_hashes = pd.util.hash_pandas_object(labels, index=False).to_numpy()
    columns = ",".join(labels.columns).encode()
    return dg.DataVersion(hashlib.sha256(columns + row_hashes.tobytes()).hexdigest()[:24])
