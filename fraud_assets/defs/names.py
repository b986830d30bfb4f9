"""The names other parts refer to: asset keys, check keys and the warehouse's concurrency pool, in one place.

Sensors, schedules, the command-line tools and the tests name a check through these keys instead of repeating
its string; `cli/instance.py` limits the pool named here.
"""

from __future__ import annotations

import dagster as dg

WAREHOUSE_POOL = "duckdb_warehouse"  # every step that opens the warehouse file; limited to 1 in dagster.yaml

RAW_TRANSACTIONS = dg.AssetKey("raw_transactions")
CLEANED_TRANSACTIONS = dg.AssetKey("cleaned_transactions")
REJECTED_TRANSACTIONS = dg.AssetKey("rejected_transactions")
REVIEWED_LABELS = dg.AssetKey("reviewed_labels")
FRAUD_MODEL = dg.AssetKey("fraud_model")
SCORED_PREDICTIONS = dg.AssetKey("scored_predictions")
MODEL_PERFORMANCE = dg.AssetKey("model_performance")
REVIEW_EXPORT = dg.AssetKey("review_export")
DRIFT_REPORT = dg.AssetKey("drift_report")
STORE_RETENTION = dg.AssetKey("store_retention")
ARCHIVED_DECISIONS = dg.AssetKey("archived_decisions")

CONTRACT_CHECK = dg.AssetCheckKey(CLEANED_TRANSACTIONS, "cleaned_transactions_contract_check")
REJECTED_SHARE_CHECK = dg.AssetCheckKey(CLEANED_TRANSACTIONS, "cleaned_transactions_rejected_share_check")
ROW_COUNT_CHECK = dg.AssetCheckKey(CLEANED_TRANSACTIONS, "cleaned_transactions_row_count_check")
FEATURE_DRIFT_CHECK = dg.AssetCheckKey(DRIFT_REPORT, "drift_report_feature_drift_check")
SCORE_DRIFT_CHECK = dg.AssetCheckKey(SCORED_PREDICTIONS, "scored_predictions_score_drift_check")
RECALL_CHECK = dg.AssetCheckKey(SCORED_PREDICTIONS, "scored_predictions_recall_check")
# A warning, never a reason to retrain: the champion's high-score tail filled beyond chance (a fraud wave it catches).
FRAUD_WAVE_CHECK = dg.AssetCheckKey(SCORED_PREDICTIONS, "scored_predictions_fraud_wave_check")

# The checks whose failure after the champion's training window requests a retraining.
RETRAINING_CHECKS = (FEATURE_DRIFT_CHECK, SCORE_DRIFT_CHECK, RECALL_CHECK)
