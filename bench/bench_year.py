"""Benchmark: a year of operation through the real daemon, with analysts labeling every day.

Prepares the first champion (`replay --prepare-only`: days 0-15), starts `make up`'s Dagster UI and daemon
(`fraud_assets.cli.up --only dagster-ui,dagster-daemon`), starts `simulation_clock_sensor` with a tick of seconds,
and lets the daemon run every day after: the clock's day runs, the checks, the retraining and re-scoring sensors and
the nightly retention job (here every few minutes). A drift episode starts in the middle. After each day's run,
simulated analysts label the day's queue (every alert, with its ground truth) through the label store, and the
label app's queue is read through `label_app.review_service.ReviewService`, as the app reads it.

Per day it writes a CSV row: the day run's time and its worker's peak resident memory, each step's time, the queue
read's time, the disk used by each store, and the runs failed so far. At the end it prints the targets: day 300's
(or the last window's) times against day 30's, disk at the end against day 100, runs failed, retraining runs.

    .venv/bin/python bench/bench_year.py --days 365 --scale 0.02 --out /tmp/year.csv
"""

from __future__ import annotations

import argparse
import csv
import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import dagster as dg
import pandas as pd
import psutil

from fraud_assets.cli.run_recovery import run_worker
from fraud_assets.core.label_store import append_label_event
from fraud_assets.core.retention import tree_bytes
from fraud_assets.core.review_export import day_file
from fraud_assets.core.settings import Settings
from fraud_assets.defs.partitions import day_of_partition_key

REPOSITORY_ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
ENDED = {dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED}


def store_sizes(settings: Settings) -> dict[str, int]:
    """Bytes on disk of each store of the embedded deployment."""
    paths = {"warehouse": [settings.warehouse_path, Path(f"{settings.warehouse_path}.wal")],
             "dagster_home": [settings.dagster_home], "mlflow": [settings.data_dir / "mlflow.db",
                                                                 settings.mlflow_artifacts_dir],
             "bentoml": [settings.model_store_home], "exports": [settings.exports_dir],
             "reports": [settings.reports_dir], "labels": [settings.label_store_path],
             "decisions": [settings.decision_log_path], "logs": [settings.data_dir / "logs"]}
    return {store: sum(tree_bytes(path) for path in group) for store, group in paths.items()}


def run_worker_rss(instance: dg.DagsterInstance, run: dg.DagsterRun) -> int:
    """Resident memory now of the run's worker process and the processes it started (the drift report's workers);
    0 before the worker has logged its pid."""
    worker = run_worker(instance, run)
    if worker is None:
        return 0
    try:
        root = psutil.Process(worker.pid)
        return sum(process.memory_info().rss for process in [root, *root.children(recursive=True)])
    except psutil.Error:  # ended between the two reads
        return 0


def label_the_day(settings: Settings, day: int) -> int:
    """Simulated analysts: every alert of the day's review export labeled with its ground truth."""
    path = day_file(settings.exports_dir, "review", day)
    if not path.exists():
        return 0
    review = pd.read_parquet(path, columns=["transaction_id", "is_alert", "isFraud"])
    alerts = review[review["is_alert"].astype(bool)]
    for index, row in enumerate(alerts.itertuples(index=False)):
        append_label_event(settings.label_store, str(row.transaction_id), int(row.isFraud),
                           reviewer=f"analyst-{index % 4}")
    return len(alerts)


def queue_read_seconds() -> float:
    """The median of three reads of the label app's queue, through the service object the app uses."""
    from label_app.review_service import ReviewService
    from label_app.settings import LabelAppSettings

    service = ReviewService(LabelAppSettings.from_env())
    times = []
    for _ in range(3):
        started = time.perf_counter()
        service.queue()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def start_services(environment: dict[str, str], port: int) -> subprocess.Popen:
    command = [sys.executable, "-m", "fraud_assets.cli.up", "--only", "dagster-ui,dagster-daemon",
               "--dagster-port", str(port)]
    up = subprocess.Popen(command, cwd=REPOSITORY_ROOT, env=environment, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, start_new_session=True)
    for line in up.stdout:
        print(f"  up | {line.rstrip()}", flush=True)
        if line.startswith("Up:"):
            return up
    raise RuntimeError(f"`up` exited ({up.wait()}) before its services were ready")


def stop_services(up: subprocess.Popen) -> None:
    try:
        os.killpg(up.pid, signal.SIGINT)
        up.wait(timeout=60)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        os.killpg(up.pid, signal.SIGKILL)


def window_median(rows: list[dict], around: int, key: str, half_width: int = 3) -> float | None:
    values = [row[key] for row in rows if abs(row["day"] - around) <= half_width and row[key] is not None]
    return statistics.median(values) if values else None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--scale", type=float, default=0.02)
    parser.add_argument("--tick-seconds", type=int, default=2)
    parser.add_argument("--scenario", default="fraud_pattern_shift")
    parser.add_argument("--drift-start-day", type=int, default=None, help="default: the middle of the days")
    parser.add_argument("--port", type=int, default=3300)
    parser.add_argument("--data-dir", type=Path, default=None, help="default: a temporary folder, removed after")
    parser.add_argument("--out", type=Path, default=Path(tempfile.gettempdir()) / "bench_year.csv")
    parser.add_argument("--max-minutes", type=float, default=600.0)
    args = parser.parse_args()
    scratch = None if args.data_dir else tempfile.TemporaryDirectory(prefix="bench_year_")
    data_dir = (args.data_dir or Path(scratch.name)).resolve()
    drift_start = args.drift_start_day if args.drift_start_day is not None else args.days // 2
    environment = {**os.environ, "FRAUD_DATA_DIR": str(data_dir), "FRAUD_SIMULATION_DAYS": str(args.days),
                   "FRAUD_SIMULATION_SCALE": str(args.scale), "FRAUD_DRIFT_SCENARIO": args.scenario,
                   "FRAUD_DRIFT_START_DAY": str(drift_start), "FRAUD_CLOCK_TICK_SECONDS": str(args.tick_seconds),
                   "FRAUD_RETRAIN_COOLDOWN_SECONDS": "60", "FRAUD_RETENTION_CRON": "*/5 * * * *",
                   "DAGSTER_HOME": str(data_dir / "dagster_home"), "PYTHONUNBUFFERED": "1"}
    os.environ.update(environment)  # this process reads the same stores (label store, exports, instance)
    settings = Settings.from_env()
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores; data in {data_dir}")
    subprocess.run([sys.executable, "-m", "fraud_assets.cli.replay", "--scenario", args.scenario, "--start-day",
                    str(drift_start), "--prepare-only"], cwd=REPOSITORY_ROOT, env=environment, check=True)
    up = start_services(environment, args.port)
    rows: list[dict] = []
    try:
        subprocess.run([str(BIN / "dagster"), "sensor", "start", "simulation_clock_sensor", "-w",
                        str(REPOSITORY_ROOT / "workspace.yaml")], cwd=REPOSITORY_ROOT, env=environment, check=True)
        rows = follow_the_clock(settings, args, up)
    finally:
        stop_services(up)
        if scratch is not None:
            scratch.cleanup()
    report(rows, args)
    return 0


def follow_the_clock(settings: Settings, args, up: subprocess.Popen) -> list[dict]:
    """Poll the instance until the last day's run ended; one CSV row per clock day."""
    instance = dg.DagsterInstance.get()
    seen: set[str] = set()
    peaks: dict[str, int] = {}
    rows: list[dict] = []
    failed = 0
    deadline = time.monotonic() + args.max_minutes * 60
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with args.out.open("w", newline="") as out:
        writer = None
        while time.monotonic() < deadline and up.poll() is None:
            records = instance.get_run_records(dg.RunsFilter(), limit=50)
            running = [record for record in records if record.dagster_run.status == dg.DagsterRunStatus.STARTED]
            for record in running:
                run_id = record.dagster_run.run_id
                peaks[run_id] = max(peaks.get(run_id, 0), run_worker_rss(instance, record.dagster_run))
            for record in sorted(records, key=lambda item: item.create_timestamp):
                run = record.dagster_run
                if run.run_id in seen or run.status not in ENDED:
                    continue
                seen.add(run.run_id)
                failed += run.status != dg.DagsterRunStatus.SUCCESS
                partition = run.tags.get("dagster/partition")
                if run.job_name != "simulation_day_job" or partition is None or run.asset_selection == frozenset():
                    continue  # a training, a re-score, a recall check alone (no assets), the retention job
                day = day_of_partition_key(partition)
                steps = {stat.step_key: round(stat.end_time - stat.start_time, 2)
                         for stat in instance.get_run_step_stats(run.run_id) if stat.end_time and stat.start_time}
                labeled = label_the_day(settings, day)
                row = {"day": day, "status": run.status.value,
                       "run_seconds": round(record.end_time - record.start_time, 2)
                       if record.end_time and record.start_time else None,
                       "peak_rss_mb": round(peaks.get(run.run_id, 0) / 1e6, 1), "labels": labeled,
                       "queue_read_s": round(queue_read_seconds(), 4), "runs_failed": failed,
                       **{f"step:{key}": value for key, value in sorted(steps.items())},
                       **{f"disk:{store}": size for store, size in store_sizes(settings).items()}}
                rows.append(row)
                if writer is None:
                    writer = csv.DictWriter(out, fieldnames=list(row), extrasaction="ignore")
                    writer.writeheader()
                writer.writerow(row)
                out.flush()
                print(f"day {day}: {row['run_seconds']} s, peak {row['peak_rss_mb']} MB, queue "
                      f"{row['queue_read_s'] * 1000:.0f} ms, {labeled} labels, {failed} runs failed", flush=True)
            if rows and rows[-1]["day"] >= args.days - 1:
                break
            time.sleep(0.5)
    trainings = instance.get_run_records(dg.RunsFilter(job_name="train_model_job"), limit=1000)
    retrainings = [record for record in trainings if "fraud/reason" in record.dagster_run.tags]
    print(f"retraining runs: {len(retrainings)} "
          f"({', '.join(record.dagster_run.tags.get('fraud/reason', '')[:80] for record in retrainings)})")
    return rows


def report(rows: list[dict], args) -> None:
    if not rows:
        print("no day ran")
        return
    last = rows[-1]["day"]
    late = min(300, last)
    for key in ("run_seconds", "peak_rss_mb", "queue_read_s"):
        early, later = window_median(rows, 30, key), window_median(rows, late, key)
        if early and later:
            print(f"{key}: day 30 {early:g}, day {late} {later:g} ({later / early:.2f}x; target 1.2x)")
    disk = {row["day"]: sum(value for name, value in row.items() if name.startswith("disk:")) for row in rows}
    reference_day = min(100, last)
    print(f"disk: day {reference_day} {disk[min(disk, key=lambda d: abs(d - reference_day))] / 1e6:.0f} MB, "
          f"day {last} {disk[last] / 1e6:.0f} MB "
          f"({disk[last] / disk[min(disk, key=lambda d: abs(d - reference_day))]:.2f}x; target 1.5x at day 365)")
    print(f"runs failed: {rows[-1]['runs_failed']}; per-day rows in {args.out}")


if __name__ == "__main__":
    sys.exit(main())
