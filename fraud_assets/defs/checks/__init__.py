"""Asset checks per area (ingest, drift, performance), each evaluated per simulation day (see daily_results.py)."""

import dagster as dg

from fraud_assets.defs.checks.drift import build_drift_checks
from fraud_assets.defs.checks.ingest import build_ingest_checks
from fraud_assets.defs.checks.performance import build_performance_checks


def build_checks(partitions: dg.PartitionsDefinition) -> list[dg.AssetChecksDefinition]:
    """Every check of the graph, evaluated per day of `partitions`."""
    return [*build_ingest_checks(partitions), *build_drift_checks(partitions), *build_performance_checks(partitions)]
