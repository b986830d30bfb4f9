"""store_retention: the nightly pruning of every store that grows with the deployment's age.

The decision log has a room of its own (`archived_decisions`: its old days move into the warehouse); what each other
store keeps is one setting (`StoreRetention`, from FRAUD_*_RETENTION_DAYS and FRAUD_SERVED_MODELS_KEPT);
the rules are the pure functions of fraud_assets/core/retention.py. Nothing a later step needs goes: exports inside
the label app's review window stay, the served-model store keeps the champion and the one before it, the lake keeps
its recent snapshots. The materialization's metadata says what each store freed.
"""


from pathlib import Path

import dagster as dg
import pandas as pd

from fraud_assets.core.retention import (
    Freed,
    first_kept_day,
    maintain_lake,
    prune_champion_promotions,
    prune_exports,
    prune_reports,
    prune_served_entries,
)
from fraud_assets.core.served_models import MODEL_NAME
from fraud_assets.core.tracking_server import answers, is_tracking_server
from fraud_assets.core.warehouse_engine import LAKE_ALIAS
from fraud_assets.defs.partitions import newest_cleaned_day
from fraud_assets.defs.resources.model_registry import ModelRegistry
from fraud_assets.defs.resources.retention import StoreRetention
from fraud_assets.defs.resources.stores import AppExports, DriftReports
from fraud_assets.defs.resources.warehouse import Warehouse


@dg.asset(
    group_name="maintenance",
    kinds={"python"},
    description="Prune every growing store to its retention (review exports, drift reports, served models, the "
                "lake's old snapshots and files; MLflow versions archived); the metadata says what each freed.",
)
def store_retention(context: dg.AssetExecutionContext, store_retention: StoreRetention, app_exports: AppExports,
                    drift_reports: DriftReports, model_registry: ModelRegistry,
                    warehouse: Warehouse) -> dg.MaterializeResult:
    policy = store_retention.policy
    freed: list[Freed] = []
    today = newest_cleaned_day(context.instance)
    if today is not None:  # the simulation clock's stores: judged against the newest day
        freed += prune_exports(app_exports.path,
                               first_kept_day(today, policy.export_days, store_retention.review_window_days))
        freed.append(prune_reports(Path(drift_reports.reports_dir), first_kept_day(today, policy.report_days)))
    freed.append(prune_served_entries(model_registry.bentoml_home, MODEL_NAME, policy.served_models_kept))
    if store_retention.database is not None:
        freed.append(prune_champion_promotions(store_retention.database, MODEL_NAME, policy.served_models_kept))
    location = warehouse.location
    if location.lake_catalog is not None:
        with warehouse.get_connection() as connection:
            freed += maintain_lake(connection, LAKE_ALIAS, policy.lake_snapshot_days, location.lake_data_path)
    unreachable = answers(model_registry.tracking_uri) if is_tracking_server(model_registry.tracking_uri) else None
    if unreachable is None:
        archived, kept_versions = model_registry.archive_versions(policy.registry_versions_kept)
        freed.append(Freed("registry versions", len(archived), "versions archived", None,
                           f"versions {', '.join(kept_versions) or 'none'} unarchived (the newest "
                           f"{policy.registry_versions_kept}, the champion, the served ones)"))
    else:  # a few versions a year: the next night archives them
        context.log.warning(f"registry versions not archived: the tracking server {model_registry.tracking_uri} "
                            f"does not answer ({unreachable}); the next run tries again")
    table = pd.DataFrame([{"store": item.store, **item.as_metadata()} for item in freed])
    for item in freed:
        context.log.info(f"{item.store}: {item.removed:,} {item.unit} removed; kept {item.kept}")
    return dg.MaterializeResult(metadata={
        "as_of_day": today if today is not None else -1,
        "registry": "archived" if unreachable is None else f"not reached: {unreachable}"[:300],
        "bytes_freed": int(sum(item.bytes or 0 for item in freed)),
        "stores": dg.MetadataValue.md(table.to_markdown(index=False)),
        **{f"removed/{item.store}": item.removed for item in freed},
    })
