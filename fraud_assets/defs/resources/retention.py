"""What each growing store keeps (fraud_assets/core/retention.py), as a typed resource of the retention job."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import dagster as dg
from pydantic import Field

from fraud_assets.core.database import DATABASE_URL_ENV, DatabaseUrl
from fraud_assets.core.retention import RetentionPolicy
from fraud_assets.core.settings import Settings


class StoreRetention(dg.ConfigurableResource):
    """The retention of every store, and where the stores the pipeline does not otherwise open are."""

    decision_log_days: int = Field(description="Wall-clock days of online decisions kept in the decision log.")
    export_days: int = Field(description="Simulation days of review exports kept (never fewer than the review "
                                         "window's).")
    report_days: int = Field(description="Simulation days of drift reports' HTML kept.")
    served_models_kept: int = Field(description="Newest entries kept in the served-model store (at least 2: the "
                                                "champion and the previous one).")
    lake_snapshot_days: int = Field(description="Days of DuckLake snapshots (time travel) kept; their files after.")
    registry_versions_kept: int = Field(description="Newest MLflow versions left unarchived (the champion and the "
                                                    "served versions never are archived).")
    old_decisions: str = Field(description="The decision log's days past retention: 'archive' "
                               "(moved into the warehouse's archived_decisions) or 'delete'.")
    review_window_days: int = Field(description="The label app's window: exports inside it are always kept.")
    decision_log_path: str = Field(description="The embedded decision log (SQLite); unused with a database.")
    database_url: Optional[str] = Field(
        default=None, description="The team database (postgresql://...; give it as an EnvVar): the decision log and "
                                  "the champion promotions are its tables.")

    @classmethod
    def from_settings(cls, settings: Settings) -> StoreRetention:
        policy = settings.retention
        return cls(decision_log_days=policy.decision_log_days, export_days=policy.export_days,
                   report_days=policy.report_days, served_models_kept=policy.served_models_kept,
                   lake_snapshot_days=policy.lake_snapshot_days,
                   registry_versions_kept=policy.registry_versions_kept, old_decisions=policy.old_decisions,
                   review_window_days=settings.review_window_days,
                   decision_log_path=str(settings.decision_log_path),
                   database_url=None if settings.database is None else dg.EnvVar(DATABASE_URL_ENV))

    @property
    def policy(self) -> RetentionPolicy:
        return RetentionPolicy(decision_log_days=self.decision_log_days, export_days=self.export_days,
                               report_days=self.report_days, served_models_kept=self.served_models_kept,
                               lake_snapshot_days=self.lake_snapshot_days,
                               registry_versions_kept=self.registry_versions_kept, old_decisions=self.old_decisions)

    @property
    def database(self) -> DatabaseUrl | None:
        return DatabaseUrl.parse(self.database_url) if self.database_url else None

    @property
    def decision_log(self) -> Path | DatabaseUrl:
        return self.database or Path(self.decision_log_path)
