"""Materialize the ingest assets through Dagster, on an ephemeral instance and a temporary DuckDB file."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import duckdb
import pytest

from fraud_assets.core.schema import PAYSIM_COLUMNS
from fraud_assets.core.settings import Settings
from fraud_assets.defs import build_definitions
from fraud_assets.defs.names import CONTRACT_CHECK
from fraud_assets.defs.partitions import day_range_tags, partition_key_of_day
from fraud_assets.simulation.settings import SimulationSettings

SMALL_SCALE = 0.005  # about 1,000 rows a day


def run_days(settings: Settings, instance: dg.DagsterInstance, first_day: int,
             last_day: int) -> dg.ExecuteInProcessResult:
    job = build_definitions(settings).resolve_job_def("daily_ingest_job")
    return job.execute_in_process(instance=instance, tags=day_range_tags(first_day, last_day), raise_on_error=False)


def query(settings: Settings, sql: str):
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as connection:
        return connection.execute(sql).fetchall()


def check_evaluations(result: dg.ExecuteInProcessResult) -> dict[tuple[str, str | None], bool]:
    return {(e.check_name, e.partition): e.passed for e in result.get_asset_check_evaluations()}


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path, simulation=SimulationSettings(scale=SMALL_SCALE))


CLEANED_CHECKS = ["cleaned_transactions_contract_check", "cleaned_transactions_rejected_share_check",
                  "cleaned_transactions_row_count_check"]


def current_check_statuses(instance: dg.DagsterInstance) -> dict[tuple[str, str], str]:
    """(check, day) -> status of the day's newest evaluation, for the days whose evaluation judged the day's newest
    materialization (Dagster shows the others as missing)."""
    keys = [dg.AssetCheckKey(dg.AssetKey("cleaned_transactions"), name) for name in CLEANED_CHECKS]
    return {(info.check_key.name, info.partition_key): info.latest_execution_status.value
            for info in instance.event_log_storage.get_asset_check_partition_info(keys) if info.is_current}


def test_one_day_materializes_and_rerunning_it_replaces_it(settings):
    instance = dg.DagsterInstance.ephemeral()
    first = run_days(settings, instance, 3, 3)
    assert first.success
    day_key = partition_key_of_day(3)
    materialized = {
        (e.materialization.asset_key.to_user_string(), e.materialization.partition)
        for e in first.get_asset_materialization_events()
    }
    assert ("raw_transactions", day_key) in materialized and ("cleaned_transactions", day_key) in materialized
    counts = query(settings, "SELECT count(*), count(DISTINCT transaction_id), min(day), max(day) "
                             "FROM fraud.cleaned_transactions")
    rows, distinct_ids, min_day, max_day = counts[0]
    assert rows > 500 and distinct_ids == rows and min_day == max_day == 3
    ids_before = query(settings, "SELECT transaction_id FROM fraud.cleaned_transactions ORDER BY transaction_id")

    assert run_days(settings, instance, 3, 3).success
    assert query(settings, "SELECT count(*) FROM fraud.cleaned_transactions")[0][0] == rows
    assert query(settings,
                 "SELECT transaction_id FROM fraud.cleaned_transactions ORDER BY transaction_id") == ids_before
    evaluations = check_evaluations(first)
    assert evaluations[("cleaned_transactions_contract_check", day_key)] is True
    assert evaluations[("cleaned_transactions_row_count_check", day_key)] is True
    assert evaluations[("cleaned_transactions_rejected_share_check", day_key)] is True


def test_a_range_of_days_is_one_run_with_one_check_evaluation_per_day(settings):
    instance = dg.DagsterInstance.ephemeral()
    result = run_days(settings, instance, 0, 4)
    assert result.success
    assert len(instance.get_runs()) == 1
    day_keys = [partition_key_of_day(day) for day in range(5)]
    partitions = {e.materialization.partition for e in result.get_asset_materialization_events()
                  if e.materialization.asset_key.to_user_string() == "cleaned_transactions"}
    assert partitions == set(day_keys)
    evaluations = check_evaluations(result)
    for key in day_keys:
        assert evaluations[("cleaned_transactions_row_count_check", key)] is True
    # What the check's Partitions tab reads: each day's newest evaluation passed and judged its newest materialization.
    assert current_check_statuses(instance) == {(name, key): "SUCCEEDED" for name in CLEANED_CHECKS for key in day_keys}
    per_day = dict(query(settings, "SELECT day, count(*) FROM fraud.cleaned_transactions GROUP BY day"))
    assert sorted(per_day) == [0, 1, 2, 3, 4] and min(per_day.values()) > 500
    # a day re-run on its own after the range keeps the other days and does not double its own
    assert run_days(settings, instance, 2, 2).success
    assert dict(query(settings, "SELECT day, count(*) FROM fraud.cleaned_transactions GROUP BY day")) == per_day
    assert current_check_statuses(instance) == {(name, key): "SUCCEEDED" for name in CLEANED_CHECKS for key in day_keys}


def test_bad_rows_land_in_rejected_transactions_with_reasons_and_fail_the_share_check(tmp_path):
    csv = tmp_path / "paysim.csv"
    good = [f"{1 + i % 24},PAYMENT,{100 + i}.5,C{1000 + i},500.0,{399 - i}.5,M{2000 + i},0,0,0,0" for i in range(40)]
    bad = [
        "2,REFUND,10,C1,10,0,C2,0,10,0,0",
        "3,PAYMENT,-5,C3,10,15,M4,0,0,0,0",
        "4,PAYMENT,abc,C5,10,0,M6,0,0,0,0",
        "5,CASH_IN,5,,10,15,C8,0,0,0,0",
        good[0],
    ]
    csv.write_text(",".join(PAYSIM_COLUMNS) + "\n" + "\n".join(good + bad) + "\n")
    settings = Settings(data_dir=tmp_path / "data", source="paysim_csv", paysim_csv_path=str(csv))
    result = run_days(settings, dg.DagsterInstance.ephemeral(), 0, 0)
    assert result.success
    assert query(settings, "SELECT count(*) FROM fraud.cleaned_transactions")[0][0] == 40
    reasons = [row[0] for row in query(settings,
                                       "SELECT rejection_reason FROM fraud.rejected_transactions ORDER BY step")]
    assert len(reasons) == 5
    assert any("unknown type 'REFUND'" in r for r in reasons)
    assert "amount is negative" in reasons and "amount is missing or not a number" in reasons
    assert "nameOrig (account) is missing" in reasons
    assert "duplicate transaction_id: an exact repeat of an earlier row" in reasons
    evaluations = check_evaluations(result)
    assert evaluations[("cleaned_transactions_rejected_share_check", partition_key_of_day(0))] is False


def test_the_contract_check_reads_the_stored_days_and_fails_on_a_broken_one(settings):
    """Materialize two days, break day 1 in the warehouse, re-run the check alone: day 1 fails naming why, day 0
    passes."""
    instance = dg.DagsterInstance.ephemeral()
    assert run_days(settings, instance, 0, 1).success
    with duckdb.connect(str(settings.warehouse_path)) as connection:
        connection.execute("UPDATE fraud.cleaned_transactions SET step = step + 48 WHERE day = 1 AND step % 2 = 0")
        moved = connection.execute(
            "SELECT count(*) FROM fraud.cleaned_transactions WHERE day = 1 AND step > 48").fetchone()[0]
    definitions = build_definitions(settings)
    check_job = dg.define_asset_job("contract_check_only", partitions_def=definitions.resolve_job_def(
        "daily_ingest_job").partitions_def, selection=dg.AssetSelection.checks(CONTRACT_CHECK))
    job = dg.Definitions(assets=definitions.assets, asset_checks=definitions.asset_checks, jobs=[check_job],
                         resources=definitions.resources).resolve_job_def("contract_check_only")
    result = job.execute_in_process(instance=instance, raise_on_error=False, tags=day_range_tags(0, 1))
    contract = {e.partition: e for e in result.get_asset_check_evaluations()}
    assert contract[partition_key_of_day(0)].passed is True
    assert contract[partition_key_of_day(1)].passed is False
    assert (contract[partition_key_of_day(1)].metadata["violations"].value
            == f"{moved} rows have a step outside their day")
    assert moved > 0
