"""archived_decisions: the decision log's days past its retention, moved into the warehouse a whole UTC day at a time
(or deleted, with FRAUD_OLD_DECISIONS=delete), so analysts and monitoring still query every decision the service
made: `fraud.archived_decisions` (one row per decision, `decided_on` its day) and `fraud.archived_decision_days`
(one row per day moved). The rules are fraud_assets/core/decision_archive.py; the retention job runs this nightly.
"""


from functools import partial

import dagster as dg
import pandas as pd

from fraud_assets.core.decision_archive import MovedDay, first_kept_decision_day, move_old_decisions
from fraud_assets.defs.names import WAREHOUSE_POOL
from fraud_assets.defs.resources.retention import StoreRetention
from fraud_assets.defs.resources.warehouse import (
    ARCHIVED_DECISIONS_TABLE,
    WAREHOUSE_SCHEMA,
    Warehouse,
    archive_decision_day,
    archived_decision_days,
)


@dg.asset(
    group_name="maintenance",
    kinds={"duckdb"},
    pool=WAREHOUSE_POOL,
    description="The decision log's days past its retention, moved into the warehouse (fraud.archived_decisions) "
                "a whole UTC day at a time, or deleted by policy (FRAUD_OLD_DECISIONS); the metadata lists the days.",
)
def archived_decisions(context: dg.AssetExecutionContext, store_retention: StoreRetention,
                       warehouse: Warehouse) -> dg.MaterializeResult:
    policy = store_retention.policy
    keep_from_day = first_kept_decision_day(policy.decision_log_days)

    def report(day: MovedDay) -> None:
        context.log.info(f"decision log: {day.day} left the log ({day.removed:,} rows; {day.archived:,} archived)")

    with warehouse.get_connection() as connection:
        archive = partial(archive_decision_day, connection) if policy.old_decisions == "archive" else None
        moved = move_old_decisions(store_retention.decision_log, keep_from_day, archive, on_day=report)
        stored = archived_decision_days(connection)
    return dg.MaterializeResult(metadata={
        "policy": policy.old_decisions,
        "log_keeps_from_day": keep_from_day,
        "days_moved": len(moved),
        "rows_removed_from_log": sum(day.removed for day in moved),
        "rows_archived": sum(day.archived for day in moved),
        "archive_table": f"{WAREHOUSE_SCHEMA}.{ARCHIVED_DECISIONS_TABLE}",
        "archive_days": len(stored),
        "archive_rows": int(stored["decisions"].sum()) if len(stored) else 0,
        "archive_span": (f"{stored['decided_on'].iloc[0]:%Y-%m-%d} to {stored['decided_on'].iloc[-1]:%Y-%m-%d}"
                         if len(stored) else "empty"),
        "days": dg.MetadataValue.md(pd.DataFrame([vars(day) for day in moved]).to_markdown(index=False)
                                    if moved else "no day past the retention"),
    })
