"""drift_report: an Evidently drift report per day against the champion's training sample."""

import multiprocessing
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import numpy as np
import pandas as pd
from dagster_duckdb import DuckDBResource

from fraud_assets.core.progress import DayProgress
from fraud_assets.core.served_models import ChampionModel
from fraud_assets.defs.assets.metadata import describe_days, stored_table
from fraud_assets.defs.names import CLEANED_TRANSACTIONS, DRIFT_REPORT
from fraud_assets.defs.partitions import daily_asset_args, days_of_context, newest_cleaned_day
from fraud_assets.defs.resources.model_registry import ModelRegistry
from fraud_assets.defs.resources.review_policy import ReviewPolicy
from fraud_assets.defs.resources.stores import DriftReports
from fraud_assets.defs.resources.warehouse import (
    WAREHOUSE_SCHEMA,
    delete_day,
    read_stored_days,
    replace_day,
    table_columns,
)
from fraud_assets.ml.drift import (
    DRIFT_TABLE_COLUMNS,
    SavedDrift,
    measure_and_save_drift,
    monitored_frame,
    sample_rows,
)
from fraud_assets.ml.features import build_features
from fraud_assets.ml.training import predict_scores

TABLE = DRIFT_REPORT.path[-1]
DRIFT_INPUT_COLUMNS = ["day", "step", "type", "amount", "oldbalanceOrg", "newbalanceOrig", "nameDest",
                       "oldbalanceDest", "newbalanceDest", "isFraud"]
NO_CHAMPION_REFERENCE_DAYS = 7
# A repeatable sample of the cleaned rows of a day range, drawn in the warehouse: a hash of each row's id and the
# seed orders the rows, so the same days and seed give the same sample, and only the sample leaves the warehouse.
SAMPLE_SQL = f"""
    SELECT {", ".join(DRIFT_INPUT_COLUMNS)} FROM {WAREHOUSE_SCHEMA}.cleaned_transactions
    WHERE day BETWEEN ? AND ? ORDER BY hash(transaction_id || ?) LIMIT ?"""
# What a range of cleaned days holds, in two numbers (its count and the xor of its ids' hashes): a day whose stored
# report was measured on the same fingerprint is not measured again.
ROWS_FINGERPRINT_SQL = (f"SELECT count(*), bit_xor(hash(transaction_id)) FROM {WAREHOUSE_SCHEMA}.cleaned_transactions "
                        "WHERE day BETWEEN ? AND ?")


class DriftReportConfig(dg.Config):
    sample_rows: int = 20_000  # both frames are sampled to at most this many rows
    seed: int = 11
    max_workers: int = 2  # days measured at once in worker processes (1: in the run's process)


def drift_report(
    context: dg.AssetExecutionContext,
    config: DriftReportConfig,
    warehouse: DuckDBResource,
    model_registry: ModelRegistry,
    drift_reports: DriftReports,
    review_policy: ReviewPolicy,
) -> dg.MaterializeResult:
    """Each day's sample is drawn in the warehouse and measured by Evidently, several days at once in worker
    processes; each day's rows are replaced in the warehouse as its report comes back."""
    champion = model_registry.load_champion()
    days = days_of_context(context)
    newest_day = newest_cleaned_day(context.instance)
    matured_through = (newest_day if newest_day is not None else max(days)) - review_policy.label_delay_days
    progress = DayProgress(context.log, "drift_report: compared", len(days))
    summaries, last_table, kept = [], pd.DataFrame(), []
    with warehouse.get_connection() as connection, drift_executor(config, len(days)) as executor:
        pending: list[PendingDay] = []
        for day in days:
            current = connection.execute(SAMPLE_SQL, [day, day, str(config.seed), config.sample_rows]).fetchdf()
            fingerprint = drift_fingerprint(connection, day, champion, config)
            stored = stored_report(connection, day, fingerprint)
            if stored is not None:
                kept.append(day)
                pending.append(PendingDay(day, current, fingerprint, stored))
                continue
            reference, reference_kind = reference_rows(connection, champion, day, config)
            if current.empty or reference.empty:
                context.log.warning(f"day {day}: no {'rows' if current.empty else 'reference'} to compare; "
                                    "no drift report")
                delete_day(connection, day, TABLE)
                continue
            pending.append(PendingDay(day, current, fingerprint, executor.submit(
                measure_and_save_drift, monitored(current, champion), monitored(reference, champion), day,
                drift_reports.reports_dir, reference_kind, len(reference))))
        for item in pending:
            saved = item.report.result() if isinstance(item.report, Future) else item.report
            last_table = saved.as_stored().assign(
                current_rows=len(item.current), data_fingerprint=item.fingerprint,
                fraud_rate_matured=float(item.current["isFraud"].mean()) if item.day <= matured_through else np.nan)
            replace_day(connection, item.day, {TABLE: last_table})
            drifted = saved.table[saved.table["drifted"] & (saved.table["kind"] != "score")]
            summaries.append(f"day {item.day}: {saved.share_drifted:.0%} of features past the distance threshold "
                             f"({', '.join(drifted['column']) or 'none'}) vs {saved.reference}; report "
                             f"{saved.report_path}")
            progress.day_done(item.day, len(item.current))
    if kept:
        context.log.info(f"drift_report: days {describe_days(kept)} have the same rows and reference as their "
                         "stored reports; kept them")
    return dg.MaterializeResult(metadata={
        "days": "\n".join(summaries) or "no report",
        "days_measured": describe_days(sorted(set(days) - set(kept))),
        "days_kept": describe_days(kept),
        **progress.metadata(),
        "share_drifted": float(last_table["share_drifted"].iloc[0]) if len(last_table) else float("nan"),
        "report": dg.MetadataValue.path(str(last_table["report_path"].iloc[0])) if len(last_table) else "none",
        "drift_table": dg.MetadataValue.md(
            last_table[["column", "kind", "method", "score", "threshold", "drifted"]].to_markdown(
                index=False, floatfmt=".4f") if len(last_table) else "no report"),
        **stored_table(TABLE),
    })


@dataclass(frozen=True)
class PendingDay:
    day: int
    current: pd.DataFrame  # the day's sample
    fingerprint: str
    report: Future[SavedDrift] | SavedDrift  # being measured, or kept from the warehouse


def drift_fingerprint(connection, day: int, champion: ChampionModel | None, config: DriftReportConfig) -> str:
    """What a day's report depends on: the day's rows (their count and ids), the reference (the champion's version,
    or the rows of the days before it), and the sample's size and seed."""
    reference = (f"champion v{champion.version}" if champion is not None else
                 "days " + rows_fingerprint(connection, day - NO_CHAMPION_REFERENCE_DAYS, day - 1))
    return f"rows {rows_fingerprint(connection, day, day)}; {reference}; sample {config.sample_rows}/{config.seed}"


def rows_fingerprint(connection, first_day: int, last_day: int) -> str:
    count, ids = connection.execute(ROWS_FINGERPRINT_SQL, [first_day, last_day]).fetchone()
    return f"{count}:{ids or 0:x}"


def stored_report(connection, day: int, fingerprint: str) -> SavedDrift | None:
    """The day's stored report when it was measured on what `fingerprint` names, with its two-sample tests, and its HTML
    is still there."""
    if not {"data_fingerprint", "p_value"} <= table_columns(connection, TABLE):
        return None
    stored = read_stored_days(connection, TABLE, day, day)
    if stored.empty or set(stored["data_fingerprint"]) != {fingerprint} or stored["p_value"].isna().any():
        return None  # measured on other rows, or before the two-sample tests
    first = stored.iloc[0]
    if not Path(first["report_path"]).exists():
        return None
    return SavedDrift(stored[DRIFT_TABLE_COLUMNS], float(first["share_drifted"]), Path(first["report_path"]),
                      str(first["reference"]), int(first["reference_rows"]))


def reference_rows(connection, champion: ChampionModel | None, day: int,
                   config: DriftReportConfig) -> tuple[pd.DataFrame, str]:
    """What a day is compared with: the champion's training sample, or before there is a champion, a sample of the
    `NO_CHAMPION_REFERENCE_DAYS` days before it."""
    if champion is not None:
        return (sample_rows(champion.reference_sample, config.sample_rows, config.seed),
                f"champion v{champion.version} training sample")
    first = day - NO_CHAMPION_REFERENCE_DAYS
    rows = connection.execute(SAMPLE_SQL, [first, day - 1, str(config.seed), config.sample_rows]).fetchdf()
    return rows, f"days {first}..{day - 1}"


def monitored(rows: pd.DataFrame, champion: ChampionModel | None) -> pd.DataFrame:
    """The monitored columns of sampled rows, with the champion's scores when there is one."""
    return monitored_frame(rows, predict_scores(champion.booster, build_features(rows)) if champion else None)


def drift_executor(config: DriftReportConfig, day_count: int) -> Executor:
    """Worker processes for the days' Evidently reports (each imports Evidently once), or this process when one
    worker is all the run can use."""
    workers = min(config.max_workers, day_count, multiprocessing.cpu_count())
    if workers <= 1:
        return InlineExecutor()
    return ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"))


class InlineExecutor(Executor):
    """An executor that runs each call at once in this process."""

    def submit(self, fn, /, *args, **kwargs) -> Future:
        future: Future = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as error:  # noqa: BLE001 - handed to the caller through the future, as a pool would
            future.set_exception(error)
        return future


def build_drift_report(partitions: dg.PartitionsDefinition) -> dg.AssetsDefinition:
    return dg.asset(
        **daily_asset_args(partitions),
        deps=[dg.AssetDep(CLEANED_TRANSACTIONS, partition_mapping=dg.TimeWindowPartitionMapping(
            start_offset=-NO_CHAMPION_REFERENCE_DAYS, end_offset=0, allow_nonexistent_upstream_partitions=True))],
        group_name="monitoring",
        kinds={"evidently", "duckdb"},
        description="Per monitored column: drift method, score, threshold and verdict against the champion's "
                    "training sample.",
    )(drift_report)
