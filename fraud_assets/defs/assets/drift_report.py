"""drift_report: an Evidently drift report per day against the champion's training sample."""

import dagster as dg
import numpy as np
import pandas as pd

from fraud_assets.core.progress import DayProgress
from fraud_assets.core.settings import simulation_epoch
from fraud_assets.defs.partitions import daily_asset_args, days_of_context, newest_cleaned_day
from fraud_assets.defs.resources.model_registry import ModelRegistry
from fraud_assets.defs.resources.review_policy import ReviewPolicy
from fraud_assets.defs.resources.stores import DriftReports
from fraud_assets.ml.drift import measure_drift, monitored_frame, sample_rows
from fraud_assets.ml.features import build_features
from fraud_assets.ml.training import predict_scores

DRIFT_INPUT_COLUMNS = ["day", "step", "type", "amount", "oldbalanceOrg", "newbalanceOrig", "nameDest",
                       "oldbalanceDest", "newbalanceDest", "isFraud"]
NO_CHAMPION_REFERENCE_DAYS = 7


class DriftReportConfig(dg.Config):
    sample_rows: int = 20_000  # both frames are sampled to at most this many rows
    seed: int = 11


def drift_report(
    context: dg.AssetExecutionContext,
    config: DriftReportConfig,
    cleaned_transactions: pd.DataFrame,
    model_registry: ModelRegistry,
    drift_reports: DriftReports,
    review_policy: ReviewPolicy,
) -> dg.Output[pd.DataFrame]:
    champion = model_registry.load_champion()
    newest_day = newest_cleaned_day(context.instance)
    tables, summaries = [], []
    days = days_of_context(context)
    progress = DayProgress(context.log, "drift_report: compared", len(days))
    for day in days:
        day_rows = cleaned_transactions[cleaned_transactions["day"] == day]
        current = sample_rows(day_rows, config.sample_rows, config.seed)
        if champion is not None:
            reference, reference_kind = champion.reference_sample, f"champion v{champion.version} training sample"
        else:
            previous = cleaned_transactions["day"].between(day - NO_CHAMPION_REFERENCE_DAYS, day - 1)
            reference, reference_kind = (cleaned_transactions[previous],
                                         f"days {day - NO_CHAMPION_REFERENCE_DAYS}..{day - 1}")
        if current.empty or reference.empty:
            context.log.warning(f"day {day}: no {'rows' if current.empty else 'reference'} to compare; no drift report")
            continue
        reference = sample_rows(reference, config.sample_rows, config.seed)
        scores = ((lambda rows: predict_scores(champion.booster, build_features(rows))) if champion
                  else (lambda rows: None))
        result = measure_drift(monitored_frame(current, scores(current)), monitored_frame(reference, scores(reference)),
                               day)
        report_path = drift_reports.save(result.snapshot, day)
        matured = day <= newest_day - review_policy.label_delay_days
        fraud_rate = float(current["isFraud"].mean()) if matured else np.nan
        tables.append(result.table.assign(
            day_start=simulation_epoch() + pd.Timedelta(days=day), share_drifted=result.share_drifted,
            reference=reference_kind, reference_rows=len(reference), current_rows=len(current),
            fraud_rate_matured=fraud_rate, report_path=str(report_path)))
        drifted = result.table[result.table["drifted"]]
        summaries.append(f"day {day}: {result.share_drifted:.0%} of features drifted "
                         f"({', '.join(drifted['column']) or 'none'}) vs {reference_kind}; report {report_path}")
        progress.day_done(day, len(day_rows))
    table = pd.concat(tables, ignore_index=True) if tables else pd.DataFrame()
    last = table[table["day"] == table["day"].max()] if len(table) else table
    return dg.Output(table, metadata={
        "days": "\n".join(summaries) or "no report",
        **progress.metadata(),
        "share_drifted": float(last["share_drifted"].iloc[0]) if len(last) else float("nan"),
        "report": dg.MetadataValue.path(str(last["report_path"].iloc[0])) if len(last) else "none",
        "drift_table": dg.MetadataValue.md(
            last[["column", "kind", "method", "score", "threshold", "drifted"]].to_markdown(index=False, floatfmt=".4f")
            if len(last) else "no report"),
    })


def build_drift_report(partitions: dg.PartitionsDefinition) -> dg.AssetsDefinition:
    return dg.asset(
        **daily_asset_args(partitions),
        ins={"cleaned_transactions": dg.AssetIn(
            metadata={"columns": DRIFT_INPUT_COLUMNS},
            partition_mapping=dg.TimeWindowPartitionMapping(start_offset=-NO_CHAMPION_REFERENCE_DAYS, end_offset=0,
                                                            allow_nonexistent_upstream_partitions=True),
        )},
        metadata={"partition_expr": "day_start"},
        group_name="monitoring",
        kinds={"evidently", "duckdb"},
        description="Per monitored column: drift method, score, threshold and verdict against the champion's "
                    "training sample.",
    )(drift_report)
