"""The main job: backfill the whole simulation window through the real asset graph, as one run, on the
embedded defaults, then print what it produced and how to open the Dagster UI.

    python -m fraud_assets.main_job          (or `make run`, which also sets up the environment)
"""

from __future__ import annotations

import sys
import time

import dagster as dg
import duckdb
import pandas as pd
from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG

from fraud_assets.instance import prepare_dagster_home
from fraud_assets.settings import Settings


def run_backfill(settings: Settings, first_key: str, last_key: str) -> dg.ExecuteInProcessResult:
    """Materialize every daily asset for the partition range first_key..last_key in one run."""
    prepare_dagster_home(settings.dagster_home)
    from fraud_assets.definitions import build_definitions

    job = build_definitions(settings).resolve_job_def("daily_ingest_job")
    with dg.DagsterInstance.get() as instance:
        return job.execute_in_process(
            instance=instance,
            tags={ASSET_PARTITION_RANGE_START_TAG: first_key, ASSET_PARTITION_RANGE_END_TAG: last_key},
            raise_on_error=False,
        )


def warehouse_summary(settings: Settings) -> pd.DataFrame:
    """Rows, fraud rows and rejected rows per day, read back from the warehouse."""
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as connection:
        tables = {row[0] for row in connection.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'fraud'").fetchall()}
        rejected = (
            "(SELECT day, count(*) AS rejected_rows FROM fraud.rejected_transactions GROUP BY day)"
            if "rejected_transactions" in tables else "(SELECT NULL::INTEGER AS day, 0 AS rejected_rows LIMIT 0)"
        )
        return connection.execute(f"""
            SELECT c.day, count(*) AS rows, sum(c.isFraud)::BIGINT AS fraud_rows,
                   coalesce(any_value(r.rejected_rows), 0) AS rejected_rows
            FROM fraud.cleaned_transactions c LEFT JOIN {rejected} r USING (day)
            GROUP BY c.day ORDER BY c.day
        """).fetchdf()


def main() -> int:
    settings = Settings.from_env()
    from fraud_assets.partitions import simulation_day_partitions

    keys = simulation_day_partitions.get_partition_keys()
    print(f"Backfilling {len(keys)} simulation days ({keys[0]}..{keys[-1]}) from the {settings.source} source, "
          f"scale {settings.simulation_scale}, scenario {settings.drift_scenario!r}, into {settings.warehouse_path}")
    started = time.perf_counter()
    result = run_backfill(settings, keys[0], keys[-1])
    elapsed = time.perf_counter() - started
    if not result.success:
        failed = [event.step_key for event in result.all_events if event.is_step_failure]
        print(f"The run {result.run_id} failed in steps {failed}; the warehouse keeps its previous state. "
              f"Open the run in the Dagster UI (below) for the error.", file=sys.stderr)
        print_ui_hint(settings)
        return 1
    summary = warehouse_summary(settings)
    print(summary.to_string(index=False))
    print(f"\n{summary['rows'].sum():,} cleaned rows ({summary['fraud_rows'].sum():,} fraud, "
          f"{summary['rejected_rows'].sum():,} rejected) over {len(summary)} days in {elapsed:.1f} s; run {result.run_id}")
    print_ui_hint(settings)
    return 0


def print_ui_hint(settings: Settings) -> None:
    print(f"\nOpen the Dagster UI on this run history:  make dev   "
          f"(DAGSTER_HOME={settings.dagster_home} dagster dev, then http://127.0.0.1:3000)")


if __name__ == "__main__":
    sys.exit(main())
