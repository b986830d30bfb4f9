"""The assets, a module each (named after the asset or multi-asset); the daily ones are built for the partitions
given."""

import dagster as dg

from fraud_assets.defs.assets.archived_decisions import archived_decisions
from fraud_assets.defs.assets.clean_transactions import build_clean_transactions
from fraud_assets.defs.assets.drift_report import build_drift_report
from fraud_assets.defs.assets.fraud_model import fraud_model
from fraud_assets.defs.assets.model_performance import model_performance
from fraud_assets.defs.assets.raw_transactions import build_raw_transactions
from fraud_assets.defs.assets.review_export import build_review_export
from fraud_assets.defs.assets.reviewed_labels import reviewed_labels
from fraud_assets.defs.assets.scored_predictions import build_scored_predictions
from fraud_assets.defs.assets.store_retention import store_retention


def build_assets(partitions: dg.PartitionsDefinition) -> list[dg.AssetsDefinition]:
    """Every asset of the graph, the daily ones over `partitions`."""
    return [
        build_raw_transactions(partitions),
        build_clean_transactions(partitions),
        reviewed_labels,
        fraud_model,
        build_scored_predictions(partitions),
        model_performance,
        build_review_export(partitions),
        build_drift_report(partitions),
        store_retention,
        archived_decisions,
    ]
