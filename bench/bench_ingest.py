"""Benchmark of the ingest backfill: raw_transactions and cleaned_transactions for the whole 31-day window.

Run by hand, never by CI (it prints a table; nothing in it is a timed assertion):

    .venv/bin/python bench/bench_ingest.py --scale 0.05 --job-repeats 1 --stage-repeats 1   # smoke test, ~1 min
    .venv/bin/python bench/bench_ingest.py                                                  # full scale, ~10 min

Target (the issue): the full PaySim-scale window (31 days, about 6.36 million rows, simulator scale 1.0) through
raw_transactions and cleaned_transactions as one backfill run in under 3 minutes on a 2-core machine, with peak
memory under 6 GB.

What it measures:
1. `run_job(Settings(data_dir=<fresh temp dir>, simulation_scale=scale), "daily_ingest_job", (day 0, day 30))` in a
   child process (this script with --child), once per repeat, each on a fresh data dir. Wall time of `run_job`
   (reported by the child), wall time of the whole child process (interpreter start and imports included), and peak
   memory: the child's own ru_maxrss, and the peak of the summed RSS of the child's process tree polled every 50 ms.
   The child also reads the run's event log and reports how long each step took, split into loading inputs,
   computing, and handling outputs (DuckDB writes plus per-partition materialization and check events).
2. The pure stages, in this process, at the same scale: simulate_days for the 31 days, prepare_raw_transactions,
   validate_transactions, and (for comparison with the IO manager) a plain DuckDB write and read-back of the cleaned
   rows. Their sum is the baseline the job time is compared with (same run, same machine).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
if str(PROJECT_ROOT) not in sys.path:
    sys.path.insert(0, str(PROJECT_ROOT))

NUM_DAYS = 31
TARGET_SECONDS = 180.0
TARGET_PEAK_GB = 6.0
POLL_SECONDS = 0.05


# ---------------------------------------------------------------------------------------------------------------
# Machine and formatting helpers
# ---------------------------------------------------------------------------------------------------------------
def machine_description() -> list[str]:
    """nproc, CPU model, memory, load, date and library versions, for the record next to the figures."""
    cpu_model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        total_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1e9
    except (ValueError, OSError):
        total_gb = float("nan")
    versions = []
    for module_name in ("numpy", "pandas", "xgboost", "dagster", "duckdb"):
        try:
            versions.append(f"{module_name} {__import__(module_name).__version__}")
        except ImportError:
            pass
    load = os.getloadavg()
    return [
        f"date        {datetime.now(timezone.utc):%Y-%m-%d %H:%M UTC}",
        f"nproc       {len(os.sched_getaffinity(0))} (os.cpu_count {os.cpu_count()})",
        f"cpu         {cpu_model}",
        f"memory      {total_gb:.1f} GB",
        f"load avg    {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} (1/5/15 min, at start)",
        f"python      {platform.python_version()}; {', '.join(versions)}",
    ]


def print_table(headers: list[str], rows: list[list[object]]) -> None:
    cells = [[str(cell) for cell in row] for row in rows]
    widths = [max(len(headers[i]), *(len(row[i]) for row in cells)) for i in range(len(headers))]
    print("  ".join(header.ljust(width) for header, width in zip(headers, widths)))
    print("  ".join("-" * width for width in widths))
    for row in cells:
        print("  ".join(cell.rjust(width) if i else cell.ljust(width) for i, (cell, width) in enumerate(zip(row, widths))))


def median_and_range(values: list[float], unit: str = "s", digits: int = 2) -> str:
    if len(values) == 1:
        return f"{values[0]:.{digits}f} {unit}"
    return f"{statistics.median(values):.{digits}f} {unit} [{min(values):.{digits}f}-{max(values):.{digits}f}]"


# ---------------------------------------------------------------------------------------------------------------
# Child: one backfill run through Dagster
# ---------------------------------------------------------------------------------------------------------------
def child_main(scale: float, data_dir: Path) -> None:
    import resource

    import dagster as dg
    import duckdb

    from fraud_assets.main_job import run_job
    from fraud_assets.partitions import partition_key_of_day
    from fraud_assets.settings import Settings

    settings = Settings(data_dir=data_dir, simulation_scale=scale, simulation_days=NUM_DAYS)
    keys = (partition_key_of_day(0), partition_key_of_day(NUM_DAYS - 1))
    wall_start = time.time()
    started = time.perf_counter()
    result = run_job(settings, "daily_ingest_job", keys)
    run_seconds = time.perf_counter() - started
    wall_end = time.time()
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

    with dg.DagsterInstance.get() as instance:
        logs = instance.all_logs(result.run_id)
    steps: dict[str, dict[str, float]] = {}
    events_by_type: dict[str, int] = {}
    for entry in logs:
        event = entry.dagster_event
        if event is None:
            continue
        kind = event.event_type_value
        events_by_type[kind] = events_by_type.get(kind, 0) + 1
        if event.step_key is None:
            continue
        step = steps.setdefault(event.step_key, {})
        if kind == "STEP_START":
            step["start"] = entry.timestamp
        elif kind == "STEP_INPUT":
            step["inputs_done"] = entry.timestamp
        elif kind == "STEP_OUTPUT":
            step.setdefault("first_output", entry.timestamp)
        elif kind in ("STEP_SUCCESS", "STEP_FAILURE"):
            step["end"] = entry.timestamp
    timeline = []
    for key, marks in steps.items():
        if "start" not in marks or "end" not in marks:
            continue
        start, end = marks["start"], marks["end"]
        inputs_done = marks.get("inputs_done", start)
        first_output = marks.get("first_output", end)
        timeline.append({
            "step": key,
            "start": start - wall_start,
            "total": end - start,
            "inputs": inputs_done - start,
            "compute": first_output - inputs_done,
            "outputs": end - first_output,
        })
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as connection:
        tables = {row[0] for row in connection.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'fraud'").fetchall()}
        counts = {  # the IO manager creates no table for an empty output (no rejected rows)
            table: connection.execute(f"SELECT count(*) FROM fraud.{table}").fetchone()[0] if table in tables else 0
            for table in ("raw_transactions", "cleaned_transactions", "rejected_transactions")
        }
        fraud_rows = connection.execute("SELECT sum(isFraud)::BIGINT FROM fraud.cleaned_transactions").fetchone()[0]
    warehouse_bytes = settings.warehouse_path.stat().st_size
    print("BENCH_RESULT " + json.dumps({
        "success": result.success,
        "run_seconds": run_seconds,
        "peak_rss_bytes": peak_kb * 1024,
        "before_first_step": min((step["start"] for step in timeline), default=run_seconds),
        "after_last_step": wall_end - max((marks["end"] for marks in steps.values() if "end" in marks), default=wall_end),
        "timeline": timeline,
        "events_by_type": events_by_type,
        "counts": counts,
        "fraud_rows": fraud_rows,
        "warehouse_bytes": warehouse_bytes,
    }), flush=True)


def run_child(scale: float) -> dict:
    """One backfill in a child process; returns its report plus process wall time and the polled tree RSS peak."""
    import psutil

    with tempfile.TemporaryDirectory(prefix="bench_ingest_") as data_dir:
        stdout_path, stderr_path = Path(data_dir) / "child.stdout", Path(data_dir) / "child.stderr"
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(PROJECT_ROOT), os.environ.get("PYTHONPATH")]))}
        env.pop("FRAUD_SIMULATION_DAYS", None)  # the partitions are built at import: keep the default 31 days
        started = time.perf_counter()
        process = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), "--child", "--scale", str(scale), "--data-dir", data_dir],
            # Dagster logs every event to stderr: files, not pipes, so a full pipe never blocks the child.
            cwd=str(PROJECT_ROOT), env=env, stdout=stdout_path.open("w"), stderr=stderr_path.open("w"),
        )
        parent = psutil.Process(process.pid)
        peak_tree_rss = 0
        while process.poll() is None:
            try:
                tree = [parent, *parent.children(recursive=True)]
                rss = 0
                for member in tree:
                    try:
                        rss += member.memory_info().rss
                    except psutil.Error:
                        pass
                peak_tree_rss = max(peak_tree_rss, rss)
            except psutil.Error:
                pass
            time.sleep(POLL_SECONDS)
        process_seconds = time.perf_counter() - started
        stdout, stderr = stdout_path.read_text(), stderr_path.read_text()
    reports = [line for line in stdout.splitlines() if line.startswith("BENCH_RESULT ")]
    if process.returncode != 0 or not reports:
        sys.stderr.write(stderr[-5000:])
        raise SystemExit(f"the child run failed (exit code {process.returncode}); its stderr is above")
    report = json.loads(reports[-1].removeprefix("BENCH_RESULT "))
    if not report["success"]:
        sys.stderr.write(stderr[-5000:])
        raise SystemExit("the daily_ingest_job run did not succeed; its log is above")
    report["process_seconds"] = process_seconds
    report["peak_tree_rss_bytes"] = peak_tree_rss
    return report


# ---------------------------------------------------------------------------------------------------------------
# In-process stages
# ---------------------------------------------------------------------------------------------------------------
def time_stages(scale: float, repeats: int) -> dict[str, list[float]]:
    import gc

    import duckdb

    from fraud_assets.partitions import simulation_epoch
    from fraud_assets.simulation import SimulationSettings, simulate_days
    from fraud_assets.transactions import prepare_raw_transactions, validate_transactions

    settings = SimulationSettings(seed=42, scale=scale, num_days=NUM_DAYS)
    times: dict[str, list[float]] = {name: [] for name in STAGES}
    rows = 0
    for _ in range(repeats):
        gc.collect()
        started = time.perf_counter()
        source = simulate_days(0, NUM_DAYS - 1, settings)
        times["simulate_days (31 days)"].append(time.perf_counter() - started)
        rows = len(source)

        started = time.perf_counter()
        raw = prepare_raw_transactions(source, simulation_epoch())
        times["prepare_raw_transactions"].append(time.perf_counter() - started)
        del source

        started = time.perf_counter()
        cleaned, rejected = validate_transactions(raw)
        times["validate_transactions"].append(time.perf_counter() - started)
        del raw, rejected

        with tempfile.TemporaryDirectory(prefix="bench_ingest_duckdb_") as folder:
            with duckdb.connect(str(Path(folder) / "w.duckdb")) as connection:
                started = time.perf_counter()
                connection.register("cleaned_frame", cleaned)
                connection.execute("CREATE TABLE cleaned AS SELECT * FROM cleaned_frame")
                connection.unregister("cleaned_frame")
                times["DuckDB write of cleaned rows"].append(time.perf_counter() - started)
                started = time.perf_counter()
                connection.execute("SELECT * FROM cleaned").fetchdf()
                times["DuckDB read-back to pandas"].append(time.perf_counter() - started)
        del cleaned
    times["rows"] = [rows]
    return times


STAGES = [
    "simulate_days (31 days)",
    "prepare_raw_transactions",
    "validate_transactions",
    "DuckDB write of cleaned rows",
    "DuckDB read-back to pandas",
]


# ---------------------------------------------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------------------------------------------
def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=1.0, help="simulator scale (1.0 = PaySim's 6.36M rows over 31 days)")
    parser.add_argument("--job-repeats", type=int, default=3, help="backfill runs, each in a fresh child and data dir")
    parser.add_argument("--stage-repeats", type=int, default=3, help="repetitions of the in-process stage timings")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--data-dir", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child_main(args.scale, args.data_dir)
        return 0

    print("# bench_ingest: daily_ingest_job over 31 days as one backfill run\n")
    print("\n".join(machine_description()))
    print(f"scale       {args.scale}  (job repeats {args.job_repeats}, stage repeats {args.stage_repeats})\n", flush=True)

    reports = []
    for repeat in range(args.job_repeats):
        report = run_child(args.scale)
        reports.append(report)
        print(f"run {repeat + 1}/{args.job_repeats}: run_job {report['run_seconds']:.1f} s, process {report['process_seconds']:.1f} s, "
              f"peak RSS {report['peak_rss_bytes'] / 1e9:.2f} GB (tree {report['peak_tree_rss_bytes'] / 1e9:.2f} GB)", flush=True)

    counts = reports[0]["counts"]
    raw_rows = counts["raw_transactions"]
    run_seconds = [r["run_seconds"] for r in reports]
    process_seconds = [r["process_seconds"] for r in reports]
    peak_gb = [max(r["peak_rss_bytes"], r["peak_tree_rss_bytes"]) / 1e9 for r in reports]
    median_run = statistics.median(run_seconds)

    print(f"\n## The backfill run ({raw_rows:,} raw rows, {counts['cleaned_transactions']:,} cleaned, "
          f"{counts['rejected_transactions']:,} rejected, {reports[0]['fraud_rows']:,} fraud; "
          f"warehouse file {reports[0]['warehouse_bytes'] / 1e9:.2f} GB)\n")
    print_table(
        ["measure", "median [min-max]", "target", "met"],
        [
            ["run_job wall time", median_and_range(run_seconds, "s", 1), f"< {TARGET_SECONDS:.0f} s",
             "yes" if median_run < TARGET_SECONDS else "NO"],
            ["child process wall time (with imports)", median_and_range(process_seconds, "s", 1), "", ""],
            ["throughput (raw rows / run_job time)", f"{raw_rows / median_run:,.0f} rows/s", "", ""],
            ["peak RSS of the run's process", median_and_range(peak_gb, "GB", 2), f"< {TARGET_PEAK_GB:.0f} GB",
             "yes" if max(peak_gb) < TARGET_PEAK_GB else "NO"],
        ],
    )

    print("\n## Where the run's time goes (event log of the median run; seconds)\n")
    median_report = sorted(reports, key=lambda r: r["run_seconds"])[len(reports) // 2]
    timeline = sorted(median_report["timeline"], key=lambda step: step["start"])
    rows = [["before the first step (definitions, instance, planning events)",
             f"{median_report['before_first_step']:.1f}", "", "", ""]]
    for step in timeline:
        rows.append([step["step"].replace("cleaned_transactions_cleaned_transactions_", "check: "),
                     f"{step['total']:.1f}", f"{step['inputs']:.1f}", f"{step['compute']:.1f}", f"{step['outputs']:.1f}"])
    gaps = median_report["run_seconds"] - median_report["before_first_step"] - median_report["after_last_step"] - sum(
        step["total"] for step in timeline)
    rows.append(["between steps", f"{gaps:.1f}", "", "", ""])
    rows.append(["after the last step (run end events)", f"{median_report['after_last_step']:.1f}", "", "", ""])
    print_table(["step", "total", "load inputs", "compute", "outputs (write + events)"], rows)
    events = median_report["events_by_type"]
    print(f"\n{sum(events.values())} Dagster events in the run: "
          + ", ".join(f"{kind} {count}" for kind, count in sorted(events.items(), key=lambda item: -item[1])[:6]))

    print(f"\n## The pure stages in one process, same scale (median [min-max] of {args.stage_repeats})\n", flush=True)
    stage_times = time_stages(args.scale, args.stage_repeats)
    stage_rows = stage_times.pop("rows")[0]
    stage_total = sum(statistics.median(stage_times[name]) for name in STAGES)
    print_table(
        ["stage", "time", "rows/s", "share of run_job"],
        [[name, median_and_range(stage_times[name]), f"{stage_rows / statistics.median(stage_times[name]):,.0f}",
          f"{statistics.median(stage_times[name]) / median_run:.0%}"] for name in STAGES]
        + [["sum of the stages (baseline)", f"{stage_total:.2f} s", f"{stage_rows / stage_total:,.0f}",
            f"{stage_total / median_run:.0%}"]],
    )
    print(f"\nrun_job / sum of the pure stages = {median_run / stage_total:.2f} "
          "(the rest is Dagster: IO manager writes and reads, per-partition events, metadata, checks)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
