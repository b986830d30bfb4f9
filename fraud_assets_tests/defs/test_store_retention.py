"""The retention job through Dagster, on the embedded and on the team deployment: every store is pruned to its
setting, what a later step needs survives, and the materialization says what was freed."""

from __future__ import annotations

import dataclasses
import sqlite3
from contextlib import closing
from datetime import datetime, timedelta, timezone

import dagster as dg
import pandas as pd
from mlflow.tracking import MlflowClient

from fraud_assets.cli.rollback import list_versions
from fraud_assets.core.database import DATABASE_URL_ENV, DatabaseUrl
from fraud_assets.core.decision_log import append_decisions, connect_postgres_decision_log
from fraud_assets.core.online_db import ONLINE_SCHEMA
from fraud_assets.core.retention import RetentionPolicy, maintain_lake
from fraud_assets.core.served_models import (
    MODEL_NAME,
    complete_served_entries,
    connect_champion_promotions,
    load_served_model,
    newest_champion_promotion,
    publish_champion,
)
from fraud_assets.core.settings import Settings
from fraud_assets.core.warehouse_engine import LAKE_ALIAS, open_warehouse
from fraud_assets.defs import build_definitions
from fraud_assets.defs.names import ARCHIVED_DECISIONS, CLEANED_TRANSACTIONS, STORE_RETENTION
from fraud_assets.defs.partitions import partition_key_of_day
from fraud_assets.defs.resources.model_registry import ARCHIVED_TAG, ModelRegistry
from fraud_assets.defs.resources.warehouse import replace_day, stored_rows_per_day
from fraud_assets_tests.core.test_retention import decision_rows, promote, tiny_model, write_day_files

__all__ = ["tiny_model"]  # the module fixture, shared with the core tests

TODAY = 59  # the newest cleaned day of these tests
POLICY = RetentionPolicy(decision_log_days=30, export_days=10, report_days=20, served_models_kept=3,
                         registry_versions_kept=1)


def clock_reached(instance: dg.DagsterInstance, day: int) -> None:
    """Record that the simulation clock's cleaned transactions reached `day` (what the job reads as today)."""
    instance.report_runless_asset_event(dg.AssetMaterialization(CLEANED_TRANSACTIONS,
                                                                partition=partition_key_of_day(day)))


def register_versions(settings: Settings, count: int, champion: str) -> None:
    """Registered versions 1..count of the model (no files needed to archive them) and the champion alias."""
    client = MlflowClient(settings.tracking_uri)
    client.create_registered_model(MODEL_NAME)
    for _ in range(count):
        client.create_model_version(MODEL_NAME, source=str(settings.data_dir / "no_model"))
    client.set_registered_model_alias(MODEL_NAME, "champion", champion)


def archived_versions(settings: Settings) -> set[str]:
    versions = MlflowClient(settings.tracking_uri).search_model_versions(f"name = '{MODEL_NAME}'")
    return {str(version.version) for version in versions if ARCHIVED_TAG in version.tags}


def run_retention(settings: Settings, instance: dg.DagsterInstance) -> tuple[dict, dict]:
    """The metadata of store_retention and of archived_decisions."""
    result = build_definitions(settings).resolve_job_def("retention_job").execute_in_process(instance=instance)
    assert result.success
    metadata = {event.materialization.asset_key: {key: value.value
                                                  for key, value in event.materialization.metadata.items()}
                for event in result.get_asset_materialization_events()}
    assert set(metadata) == {STORE_RETENTION, ARCHIVED_DECISIONS}
    return metadata[STORE_RETENTION], metadata[ARCHIVED_DECISIONS]


def old_and_new_decisions() -> list[tuple]:
    now = datetime.now(timezone.utc)
    return (decision_rows(now - timedelta(days=45), 300, timedelta(hours=1), "old")  # 45 to 32.5 days old
            + decision_rows(now - timedelta(days=2), 200, timedelta(minutes=5), "new"))


def archived_request_ids(connection) -> list[tuple]:
    return connection.execute("SELECT request_id, count(*) FROM fraud.archived_decisions GROUP BY request_id "
                              "ORDER BY request_id").fetchall()


OLD_REQUESTS = sorted((f"old-{index}", 10) for index in range(30))  # 300 old decisions, 10 per request


def test_the_nightly_job_prunes_every_embedded_store_and_keeps_what_later_steps_need(tmp_path, tiny_model):
    settings = Settings(data_dir=tmp_path / "data", retention=POLICY, review_window_days=15)
    write_day_files(settings.exports_dir, settings.reports_dir, range(TODAY + 1))
    append_decisions(settings.decision_log_path, old_and_new_decisions())
    tags = [promote(settings.model_store_home, tiny_model, str(version)) for version in range(1, 7)]
    register_versions(settings, 6, champion="2")  # version 2 is champion again after a rollback
    instance = dg.DagsterInstance.ephemeral()
    clock_reached(instance, TODAY)

    metadata, archived = run_retention(settings, instance)

    # The review window (15 days) is longer than the exports' retention (10): the window wins.
    first_review = sorted(path.name for path in (settings.exports_dir / "review").iterdir())[0]
    assert first_review == f"day={TODAY - 14:03d}.parquet"
    assert len(list((settings.exports_dir / "summary").iterdir())) == 15
    assert sorted(path.name for path in settings.reports_dir.iterdir())[0] == f"drift_report_day_{TODAY - 19:03d}.html"
    # The decision log's old days moved into the warehouse, whole; the last two days stayed.
    assert archived["rows_removed_from_log"] == archived["rows_archived"] == archived["archive_rows"] == 300
    assert archived["policy"] == "archive" and archived["days_moved"] == archived["archive_days"] >= 13
    with closing(sqlite3.connect(settings.decision_log_path)) as connection:
        assert connection.execute("SELECT count(*), min(request_id) FROM decisions").fetchone() == (200, "new-0")
    with open_warehouse(settings.warehouse_location, read_only=True) as connection:
        assert archived_request_ids(connection) == OLD_REQUESTS
    assert [str(entry.tag) for entry in complete_served_entries(settings.model_store_home, MODEL_NAME)] == tags[-3:]
    assert metadata["removed/served models"] == 3
    assert metadata["bytes_freed"] > 0 and "served models" in metadata["stores"]

    # Registry: the newest version, the champion and the served versions (4, 5, 6) stay; 1 and 3 are archived.
    assert archived_versions(settings) == {"1", "3"} and metadata["removed/registry versions"] == 2
    assert "(archived" in "\n".join(line for line in list_versions(ModelRegistry.from_settings(settings))
                                    if line.startswith("version 1 "))

    again, archived_again = run_retention(settings, instance)  # nothing left to prune
    assert again["bytes_freed"] == 0 and archived_again["days_moved"] == 0 and archived_again["archive_rows"] == 300
    assert again["removed/registry versions"] == 0 and archived_versions(settings) == {"1", "3"}


def test_before_the_first_day_only_the_clock_free_stores_are_pruned(tmp_path, tiny_model):
    settings = Settings(data_dir=tmp_path / "data", retention=POLICY)
    write_day_files(settings.exports_dir, settings.reports_dir, range(3))
    metadata, _ = run_retention(settings, dg.DagsterInstance.ephemeral())
    assert metadata["as_of_day"] == -1 and "removed/exports/review" not in metadata
    assert len(list((settings.exports_dir / "review").iterdir())) == 3


def day_rows(day: int, rows: int, version: int) -> pd.DataFrame:
    return pd.DataFrame({"day": [day] * rows, "transaction_id": [f"{day}-{index}" for index in range(rows)],
                         "version": [version] * rows})


def test_the_lake_expires_old_snapshots_and_deletes_the_files_only_they_needed(postgres_database, tmp_path):
    location = Settings(data_dir=tmp_path, database=DatabaseUrl.parse(postgres_database)).warehouse_location
    with open_warehouse(location) as connection:
        for version in range(4):  # each re-run of a day leaves its old file to the old snapshots
            for day in range(3):
                replace_day(connection, day, {"transactions": day_rows(day, 100, version)})
        files_before = len(list(location.lake_data_path.rglob("*.parquet")))
        freed = maintain_lake(connection, LAKE_ALIAS, snapshot_days=0, data_path=location.lake_data_path)
        by_store = {item.store: item for item in freed}
        assert by_store["lake: snapshots"].removed > 0
        assert by_store["lake: files"].removed > 0 and by_store["lake: files"].bytes > 0
        assert len(list(location.lake_data_path.rglob("*.parquet"))) < files_before
        assert stored_rows_per_day(connection, "transactions", 0, 2) == {0: 100, 1: 100, 2: 100}
        versions = connection.execute("SELECT DISTINCT version FROM fraud.transactions").fetchall()
        assert versions == [(3,)]


def test_the_team_deployment_prunes_its_database_tables_and_the_lake(postgres_database, tmp_path, tiny_model,
                                                                       monkeypatch):
    monkeypatch.setenv(DATABASE_URL_ENV, postgres_database)
    database = DatabaseUrl.parse(postgres_database)
    settings = Settings(data_dir=tmp_path / "data", database=database, retention=POLICY, review_window_days=5)
    append_decisions(database, old_and_new_decisions())
    booster, sample = tiny_model
    card_source = tmp_path / "card_home"
    promote(card_source, tiny_model, "1")
    card = load_served_model(card_source, MODEL_NAME).card
    promotions = [publish_champion(database, MODEL_NAME, booster, dataclasses.replace(card, version=str(version)),
                                   sample) for version in range(1, 6)]
    with open_warehouse(settings.warehouse_location) as connection:
        for version in range(2):
            replace_day(connection, 0, {"transactions": day_rows(0, 50, version)})
    instance = dg.DagsterInstance.ephemeral()
    clock_reached(instance, TODAY)

    metadata, archived = run_retention(settings, instance)

    assert archived["rows_removed_from_log"] == archived["rows_archived"] == 300
    with closing(connect_postgres_decision_log(database)) as connection, connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*), min(request_id) FROM {ONLINE_SCHEMA}.decisions")
        assert cursor.fetchone() == (200, "new-0")
    assert metadata["removed/champion promotions"] == 2
    with closing(connect_champion_promotions(database)) as connection, connection.cursor() as cursor:
        cursor.execute(f"SELECT promotion_id FROM {ONLINE_SCHEMA}.champion_promotions ORDER BY promotion_id")
        assert [row[0] for row in cursor.fetchall()] == promotions[-3:]
    assert newest_champion_promotion(database, MODEL_NAME).version == "5"
    assert {"removed/lake: snapshots", "removed/lake: files"} <= set(metadata)  # recent snapshots: kept
    # No tracking server answers here: the registry waits for the next night, the other stores do not.
    assert metadata["registry"].startswith("not reached: ConnectionError")
    with open_warehouse(settings.warehouse_location, read_only=True) as connection:
        assert stored_rows_per_day(connection, "transactions", 0, 0) == {0: 50}
        assert archived_request_ids(connection) == OLD_REQUESTS  # the lake holds the old days


def test_with_the_delete_policy_the_old_days_leave_the_log_and_the_warehouse_gets_nothing(tmp_path):
    settings = Settings(data_dir=tmp_path / "data", retention=dataclasses.replace(POLICY, old_decisions="delete"))
    append_decisions(settings.decision_log_path, old_and_new_decisions())
    _, archived = run_retention(settings, dg.DagsterInstance.ephemeral())
    assert archived["policy"] == "delete" and archived["rows_removed_from_log"] == 300
    assert archived["rows_archived"] == archived["archive_rows"] == 0
    with closing(sqlite3.connect(settings.decision_log_path)) as connection:
        assert connection.execute("SELECT count(*) FROM decisions").fetchone() == (200,)

