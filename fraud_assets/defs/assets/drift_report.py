"""drift_report: an Evidently drift report per day against the champion's training sample."""

import multiprocessing
from concurrent.futures import Executor, Future, ProcessPoolExecutor

import dagster as dg
import numpy as np
import pandas as pd
from dagster_duckdb import DuckDBResource

from fraud_assets.core.progress import DayProgress
from fraud_assets.core.served_models import ChampionModel
from fraud_assets.defs.assets.metadata import stored_table
from fraud_assets.defs.names import CLEANED_TRANSACTIONS, DRIFT_REPORT
from fraud_assets.defs.partitions import daily_asset_args, days_of_context, newest_cleaned_day
from fraud_assets.defs.resources.model_registry import ModelRegistry
from fraud_assets.defs.resources.review_policy import ReviewPolicy
from fraud_assets.defs.resources.stores import DriftReports
from fraud_assets.defs.resources.warehouse import WAREHOUSE_SCHEMA, delete_day, replace_day
from fraud_assets.ml.drift import SavedDrift, measure_and_save_drift, monitored_frame, sample_rows
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
    summaries, last_table = [], pd.DataFrame()
    with warehouse.get_connection() as connection, drift_executor(config, len(days)) as executor:
        pending: list[tuple[int, str, int, pd.DataFrame, Future[SavedDrift]]] = []
        for day in days:
            current = connection.execute(SAMPLE_SQL, [day, day, str(config.seed), config.sample_rows]).fetchdf()
            reference, reference_kind = reference_rows(connection, champion, day, config)
            if current.empty or reference.empty:
                context.log.warning(f"day {day}: no {'rows' if current.empty else 'reference'} to compare; "
                                    "no drift report")
                delete_day(connection, day, TABLE)
                continue
            pending.append((day, reference_kind, len(reference), current, executor.submit(
                measure_and_save_drift, monitored(current, champion), monitored(reference, champion), day,
                drift_reports.reports_dir)))
        for day, reference_kind, reference_count, current, future in pending:
            saved = future.result()
            fraud_rate = float(current["isFraud"].mean()) if day <= matured_through else np.nan
            last_table = saved.table.assign(
                share_drifted=saved.share_drifted, reference=reference_kind, reference_rows=reference_count,
                current_rows=len(current), fraud_rate_matured=fraud_rate, report_path=str(saved.report_path))
            replace_day(connection, day, {TABLE: last_table})
            drifted = saved.table[saved.table["drifted"]]
            summaries.append(f"day {day}: {saved.share_drifted:.0%} of features drifted "
                             f"({', '.join(drifted['column']) or 'none'}) vs {reference_kind}; report "
                             f"{saved.report_path}")
            progress.day_done(day, len(current))
    return dg.MaterializeResult(metadata={
        "days": "\n".join(summaries) or "no report",
        **progress.metadata(),
        "share_drifted": float(last_table["share_drifted"].iloc[0]) if len(last_table) else float("nan"),
        "report": dg.MetadataValue.path(str(last_table["report_path"].iloc[0])) if len(last_table) else "none",
        "drift_table": dg.MetadataValue.md(
            last_table[["column", "kind", "method", "score", "threshold", "drifted"]].to_markdown(
                index=False, floatfmt=".4f") if len(last_table) else "no report"),
        **stored_table(TABLE),
    })


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
