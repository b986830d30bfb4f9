"""The main job's command: run the whole asset graph over the simulation window on the embedded defaults, then
print what it produced and how to open the Dagster UI.

    python -m fraud_assets.cli.run_pipeline          (or `make run`, which also sets up the environment)

Four runs, in order, each in a fresh process, on the project's Dagster instance (so they show in the UI): ingest
every day as one single-run backfill; train the first model as of day `FIRST_MODEL_AS_OF_DAY` (it becomes
champion); score every day as one run; compute per-day model performance. The days after the training window are
the out-of-time test.

Training logs to MLflow: embedded, its SQLite file under the data folder; in the team deployment, a tracking server
(FRAUD_MLFLOW_TRACKING_URI, or one this job starts for its duration, see `tracking_for_the_stages`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import multiprocessing
import sys
import time
import warnings
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

import dagster as dg
import pandas as pd

from fraud_assets.cli.instance import prepare_dagster_home
from fraud_assets.cli.mlflow_server import TrackingServerError, check_tracking_server, running_tracking_server
from fraud_assets.cli.run_recovery import in_process_run_tags, recover_dead_runs
from fraud_assets.core.database import DatabaseUnreachable
from fraud_assets.core.settings import MLFLOW_SCHEMA, Settings
from fraud_assets.core.tracking_server import answers, is_tracking_server
from fraud_assets.core.warehouse_engine import open_warehouse
from fraud_assets.defs.dagster_compat import keep_sigterm_deliverable, partition_range_tags
from fraud_assets.defs.names import FRAUD_MODEL
from fraud_assets.defs.partitions import partition_key_of_day
from fraud_assets.defs.resources.model_registry import ModelRegistry
from fraud_assets.ml.evaluation import (
    alerts_against_budget,
    describe_alert_quality,
    evaluate,
    per_day_table_for_people,
)
from fraud_assets.ml.thresholds import describe_budget_use

FIRST_MODEL_AS_OF_DAY = 15  # trains on days 0-11, validates on 12-14 (labels one day late); days 16+ are unseen
# The console shows the steps' progress lines and warnings; every event, DEBUG included, is in the run's log in the UI.
CONSOLE_LOG_LEVEL = "INFO"


def run_job(settings: Settings, job_name: str, partition_keys: tuple[str, str] | None = None,
            run_config: dict | None = None) -> dg.ExecuteInProcessResult:
    """Execute one job of the code location in this process, on the instance under DAGSTER_HOME.

    Runs left unfinished by a dead process are failed first (their pool slots would make this run wait forever),
    and this run is tagged with this process, so that a later start can tell if it dies (see run_recovery)."""
    keep_sigterm_deliverable()
    prepare_dagster_home(settings.dagster_home)
    from fraud_assets.defs import build_definitions

    job = build_definitions(settings).resolve_job_def(job_name)
    tags = {**(partition_range_tags(*partition_keys) if partition_keys else {}), **in_process_run_tags()}
    run_config = {**(run_config or {}), "loggers": {"console": {"config": {"log_level": CONSOLE_LOG_LEVEL}}}}
    with dg.DagsterInstance.get() as instance:
        recover_dead_runs(instance)
        return job.execute_in_process(instance=instance, tags=tags, run_config=run_config, raise_on_error=False)


@dataclass(frozen=True)
class RunOutcome:
    success: bool
    run_id: str
    failed_steps: list[str]


def quiet_dagster_warnings() -> None:
    for category in (dg.BetaWarning, dg.PreviewWarning):  # about Dagster APIs the project chose; not for the user
        warnings.filterwarnings("ignore", category=category)


def _run_job_outcome(settings: Settings, job_name: str, partition_keys: tuple[str, str] | None,
                     run_config: dict | None) -> RunOutcome:
    quiet_dagster_warnings()
    result = run_job(settings, job_name, partition_keys, run_config)
    return RunOutcome(result.success, result.run_id,
                      [event.step_key for event in result.all_events if event.is_step_failure])


def run_job_in_child(settings: Settings, job_name: str, partition_keys: tuple[str, str] | None = None,
                     run_config: dict | None = None) -> RunOutcome:
    """`run_job` in a fresh process, as Dagster's run launcher runs each run: what a run held in memory goes back to
    the system when it ends (in one long process, the allocator keeps the peak of every earlier run)."""
    with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as child:
        return child.submit(_run_job_outcome, settings, job_name, partition_keys, run_config).result()


def warehouse_frame(settings: Settings, sql: str) -> pd.DataFrame:
    """A query's rows; DuckDB's memory bounded as in the runs (the summary's join of the unseen days' predictions
    with their labels spills to disk past it instead of holding millions of ids)."""
    with open_warehouse(settings.warehouse_location, {"memory_limit": settings.warehouse_memory_limit},
                        read_only=True) as connection:
        return connection.execute(sql).fetchdf()


def out_of_time_rows(settings: Settings, first_day: int) -> pd.DataFrame:
    """The scored predictions of days >= first_day with their ground truth."""
    return warehouse_frame(settings, f"""
        SELECT p.day, p.score, p.threshold, p.amount, p.is_alert, c.isFraud
        FROM fraud.scored_predictions p JOIN fraud.cleaned_transactions c USING (transaction_id)
        WHERE p.day >= {first_day}""")


def out_of_time_quality(settings: Settings, rows: pd.DataFrame) -> dict[str, float]:
    """Quality of the scored predictions of `out_of_time_rows` against ground truth."""
    return evaluate(rows["isFraud"].to_numpy(), rows["score"].to_numpy(), float(rows["threshold"].iloc[0]),
                    rows["amount"].to_numpy(), rows["day"].to_numpy(), settings.alerts_per_1000_transactions)


@contextlib.contextmanager
def tracking_for_the_stages(settings: Settings) -> Iterator[Settings]:
    """The settings the stages run with. A tracking server named by FRAUD_MLFLOW_TRACKING_URI must answer first
    (TrackingServerError otherwise). In the team deployment without one, training logs to a tracking server this
    job starts for its duration (on FRAUD_MLFLOW_PORT when free) and stops at the end, whatever happens, unless one
    (`make up`'s) already answers on that port. Embedded, MLflow's SQLite file."""
    if is_tracking_server(settings.mlflow_tracking_uri):
        check_tracking_server(settings.mlflow_tracking_uri)
        yield settings
    elif settings.database is not None and not settings.mlflow_tracking_uri and answers(settings.tracking_uri) is None:
        print(f"MLflow tracking server: {settings.tracking_uri}, already running on this machine", flush=True)
        yield dataclasses.replace(settings, mlflow_tracking_uri=settings.tracking_uri)
    elif settings.database is not None and not settings.mlflow_tracking_uri:
        with running_tracking_server(settings) as tracking_uri:
            print(f"MLflow tracking server for this job: {tracking_uri} (log in {settings.data_dir / 'logs'})",
                  flush=True)
            yield dataclasses.replace(settings, mlflow_tracking_uri=tracking_uri)
    else:
        yield settings


def run_stages(settings: Settings) -> bool:
    """The four runs in order, each in a fresh process; False (after saying which failed) at the first that fails."""
    model_config = {"ops": {FRAUD_MODEL.path[-1]: {"config": {"as_of_day": FIRST_MODEL_AS_OF_DAY}}}}
    window = (partition_key_of_day(0), partition_key_of_day(settings.simulation_days - 1))
    stages = [
        ("ingest every day (one backfill run)", "daily_ingest_job", window, None),
        (f"train the first model as of day {FIRST_MODEL_AS_OF_DAY}", "train_model_job", None, model_config),
        ("score every day with the champion (one backfill run)", "daily_scoring_job", window, None),
        ("per-day model performance", "model_performance_job", None, None),
    ]
    for number, (title, job_name, partition_keys, run_config) in enumerate(stages, start=1):
        print(f"[{number}/{len(stages)}] {title} ...", flush=True)
        started = time.perf_counter()
        result = run_job_in_child(settings, job_name, partition_keys, run_config)
        print(f"[{number}/{len(stages)}] {title}: {'done' if result.success else 'FAILED'} "
              f"in {time.perf_counter() - started:.1f} s (run {result.run_id})", flush=True)
        if not result.success:
            print(f"The run failed in steps {result.failed_steps}; "
                  "what it would have replaced keeps its previous state. "
                  "Open the run in the Dagster UI (below) for the error.", file=sys.stderr)
            return False
    return True


def main() -> int:
    quiet_dagster_warnings()
    settings = Settings.from_env()
    try:
        prepare_dagster_home(settings.dagster_home)  # also checks FRAUD_DATABASE_URL's server, before the first stage
    except (DatabaseUnreachable, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(f"Running the asset graph over {settings.simulation_days} simulation days "
          f"({partition_key_of_day(0)}..{partition_key_of_day(settings.simulation_days - 1)}) from "
          f"the {settings.source} source, scale {settings.simulation.scale}, "
          f"scenario {settings.simulation.scenario!r}; "
          f"data in {settings.data_dir}")
    try:
        with tracking_for_the_stages(settings) as stage_settings:
            if not run_stages(stage_settings):
                print_ui_hint(settings)
                return 1
            print_summary(stage_settings)
    except (TrackingServerError, DatabaseUnreachable) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(describe_mlflow(settings))
    print_ui_hint(settings)
    return 0


def describe_mlflow(settings: Settings) -> str:
    """Where the runs and registered versions are, and which server shows them."""
    ui = f"http://127.0.0.1:{settings.mlflow_port}"
    if is_tracking_server(settings.mlflow_tracking_uri):
        return f"MLflow: runs and registered versions on the tracking server {settings.mlflow_tracking_uri} (its UI)"
    if settings.database is not None and not settings.mlflow_tracking_uri:
        return (f"MLflow: runs and registered versions in schema {MLFLOW_SCHEMA} of {settings.database.masked_url}, "
                f"their artifacts in {settings.mlflow_artifacts_dir}; this job's tracking server stopped with it, "
                f"`make up` serves them at {ui}")
    return (f"MLflow: runs and registered versions in {settings.tracking_uri}, their artifacts in "
            f"{settings.mlflow_artifacts_dir}; `make up` (or `make mlflow-ui`) shows them at {ui}")


def print_summary(settings: Settings) -> None:
    ingest = warehouse_frame(settings,
                             "SELECT count(*) AS rows, sum(isFraud)::BIGINT AS fraud FROM fraud.cleaned_transactions")
    print(f"\nWarehouse {settings.warehouse_location.describe()}: {int(ingest['rows'][0]):,} cleaned transactions, "
          f"{int(ingest['fraud'][0]):,} fraud")
    first_unseen = FIRST_MODEL_AS_OF_DAY + 1
    rows = out_of_time_rows(settings, first_unseen)
    quality = out_of_time_quality(settings, rows)
    print(f"Champion on days {first_unseen}+ (never seen in training): AUPRC {quality['auprc']:.3f}, "
          f"ROC AUC {quality['roc_auc']:.4f}, recall at the alert budget "
          f"({settings.alerts_per_1000_transactions:g} per 1,000 transactions) {quality['recall_at_budget']:.3f} "
          f"(precision {quality['precision_at_budget']:.3f}), at its threshold: "
          + describe_alert_quality(quality["precision"], quality["recall"], int(quality["n_alerts"])))
    print(describe_alerts_against_budget(settings, rows, first_unseen))
    performance = warehouse_frame(settings, "SELECT * FROM fraud.model_performance ORDER BY day")
    print("\nPer day (model_performance):")
    print(per_day_table_for_people(performance, settings.alerts_per_1000_transactions).to_string(index=False))


def describe_alerts_against_budget(settings: Settings, rows: pd.DataFrame, first_day: int) -> str:
    """The champion's alerts in `out_of_time_rows` against each day's budget (within it, or over it by how much),
    and its threshold's alerts against the budget on its validation days (over it only for a tied top group)."""
    days = alerts_against_budget(rows["day"].to_numpy(), rows["is_alert"].to_numpy(),
                                 settings.alerts_per_1000_transactions)
    text = (f"Alerts on days {first_day}+: {int(days['alerts'].sum()):,} against a budget of "
            f"{int(days['budget'].sum()):,} ({days['budget'].mean():.0f} a day on average)")
    over = days[days["over_budget"] > 0]
    if over.empty:
        text += ": within the budget every day"
    else:
        text += (f": over the budget on {len(over)} of {len(days)} days, by {int(over['over_budget'].sum()):,} "
                 f"alerts in all ({int(over['over_budget'].max()):,} at most on a day)")
    card = ModelRegistry.from_settings(settings).load_champion().card
    return f"{text}. The champion's threshold: {describe_budget_use(card)}"


def print_ui_hint(settings: Settings) -> None:
    print(f"""
Next: `make up` starts every service on this data ({settings.data_dir}); Ctrl-C stops them all:
  Dagster UI       http://127.0.0.1:3000   asset graph, backfills, asset checks; the daemon runs the sensors
  Scoring service  http://127.0.0.1:3001   POST /predict with the champion (BENTOML_HOME={settings.model_store_home})
  Label app        http://127.0.0.1:7860   review and label the alerts (demo login analyst / analyst)
  MLflow UI        http://127.0.0.1:5000   experiments and the model registry (the team deployment's tracking server)
One at a time: make dev, make serve, make label-app, make mlflow-ui.""")


if __name__ == "__main__":
    sys.exit(main())
