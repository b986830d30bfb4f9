"""Benchmark of the ingest backfill: raw_transactions and cleaned_transactions for the whole 31-day window.

Run by hand, never by CI (it prints a table; nothing in it is a timed assertion):

    .venv/bin/python bench/bench_ingest.py --scale 0.05 --job-repeats 1 --stage-repeats 1   # smoke test, ~1 min
    .venv/bin/python bench/bench_ingest.py --profile    # full scale: 3 backfills + 3 stage passes, 15-30 min, ~9 GB

Target (the issue): the full PaySim-scale window (31 days, about 6.36 million rows, simulator scale 1.0) through
raw_transactions and cleaned_transactions as one backfill run in under 3 minutes on a 2-core machine, with peak
memory under 6 GB.

What it measures:
1. `run_job(Settings(data_dir=<fresh temp dir>, simulation=SimulationSettings(scale=scale)), "daily_ingest_job",
   (day 0, day 30))` in a child process (this script with --child), once per repeat, each on a fresh data dir. Wall
   time of `run_job` (reported by the child), wall time of the whole child process (interpreter start and imports
   included), and peak memory: the child's own ru_maxrss, and the peak of the summed RSS of the child's process tree
   polled every 50 ms. The child also reports its CPU time, and reads the run's event log for how long each step
   took, split into loading inputs, computing, and handling outputs (DuckDB writes plus per-partition
   materialization and check events); the parent adds the highest RSS polled while each step ran.
2. The pure stages, in this process, at the same scale: simulate_days for the 31 days, prepare_raw_transactions,
   validate_transactions, and (for comparison with the IO manager) a plain DuckDB write and read-back of the cleaned
   rows, with wall and CPU time and the peak RSS after each. Their sum is the baseline the job time is compared
   with (same run, same machine). --profile adds one cProfile pass of prepare_raw_transactions and
   validate_transactions.

On a shared, loaded machine the wall times stretch; the CPU times are the steadier figures.
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
        print("  ".join(cell.rjust(width) if i else cell.ljust(width)
                        for i, (cell, width) in enumerate(zip(row, widths))))


def share(part: float, whole: float) -> str:
    return f"{part / whole:.0%}" if whole == whole else "-"  # "-" when whole is NaN (no job run)


def median_and_range(values: list[float], unit: str = "s", digits: int = 2) -> str:
    if len(values) == 1:
        return f"{values[0]:.{digits}f} {unit}"
    return f"{statistics.median(values):.{digits}f} {unit} [{min(values):.{digits}f}-{max(values):.{digits}f}]"


def step_timeline(logs, origin: float) -> tuple[list[dict], dict[str, dict[str, float]], dict[str, int]]:
    """Per step of a run's event log: start (seconds after `origin`), total, loading inputs, computing, handling
    outputs; also the raw marks per step and the count of events by type."""
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
            "start": start - origin,
            "total": end - start,
            "inputs": inputs_done - start,
            "compute": first_output - inputs_done,
            "outputs": end - first_output,
        })
    return timeline, steps, events_by_type


# ---------------------------------------------------------------------------------------------------------------
# Child: one backfill run through Dagster
# ---------------------------------------------------------------------------------------------------------------
def child_main(scale: float, data_dir: Path) -> None:
    import resource

    import dagster as dg
    import duckdb

    from fraud_assets.cli.run_pipeline import run_job
    from fraud_assets.core.settings import Settings
    from fraud_assets.defs.partitions import partition_key_of_day
    from fraud_assets.simulation.settings import SimulationSettings

    settings = Settings(data_dir=data_dir, simulation=SimulationSettings(scale=scale, num_days=NUM_DAYS))
    keys = (partition_key_of_day(0), partition_key_of_day(NUM_DAYS - 1))
    wall_start = time.time()
    started = time.perf_counter()
    result = run_job(settings, "daily_ingest_job", keys)
    run_seconds = time.perf_counter() - started
    wall_end = time.time()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    peak_kb = usage.ru_maxrss

    with dg.DagsterInstance.get() as instance:
        logs = instance.all_logs(result.run_id)
    timeline, steps, events_by_type = step_timeline(logs, wall_start)
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
        "cpu_seconds": usage.ru_utime + usage.ru_stime,  # of the whole child process, imports included
        "wall_start": wall_start,
        "before_first_step": min((step["start"] for step in timeline), default=run_seconds),
        "after_last_step": wall_end - max((marks["end"] for marks in steps.values() if "end" in marks),
                                          default=wall_end),
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
        env = {**os.environ,
               "PYTHONPATH": os.pathsep.join(filter(None, [str(PROJECT_ROOT), os.environ.get("PYTHONPATH")]))}
        env.pop("FRAUD_SIMULATION_DAYS", None)  # the partitions are built at import: keep the default 31 days
        started = time.perf_counter()
        process = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), "--child", "--scale", str(scale), "--data-dir", data_dir],
            # Dagster logs every event to stderr: files, not pipes, so a full pipe never blocks the child.
            cwd=str(PROJECT_ROOT), env=env, stdout=stdout_path.open("w"), stderr=stderr_path.open("w"),
        )
        parent = psutil.Process(process.pid)
        peak_tree_rss = 0
        samples: list[tuple[float, int]] = []  # (epoch seconds, RSS of the tree)
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
                samples.append((time.time(), rss))
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
    for step in report["timeline"]:  # the highest polled RSS while each step ran
        start = report["wall_start"] + step["start"]
        inside = [rss for moment, rss in samples if start <= moment <= start + step["total"]]
        step["peak_rss_bytes"] = max(inside, default=0)
    return report


# ---------------------------------------------------------------------------------------------------------------
# In-process stages
# ---------------------------------------------------------------------------------------------------------------
def time_stages(scale: float, repeats: int, profile: bool) -> tuple[dict, dict, list[str]]:
    """Wall and CPU seconds of each stage (lists over repeats), the peak RSS after each stage (first repeat), and
    cProfile summaries of the two transaction functions (first repeat, when `profile`)."""
    import cProfile
    import gc
    import io
    import pstats

    import duckdb

    from fraud_assets.core.settings import simulation_epoch
    from fraud_assets.core.transactions import prepare_raw_transactions, validate_transactions
    from fraud_assets.simulation import SimulationSettings, simulate_days

    settings = SimulationSettings(seed=42, scale=scale, num_days=NUM_DAYS)
    wall: dict[str, list[float]] = {name: [] for name in STAGES}
    cpu: dict[str, list[float]] = {name: [] for name in STAGES}
    memory: dict[str, float] = {}
    profiles: list[str] = []

    def measure(name: str, first: bool, profiled: bool, function, *args):
        profiler = cProfile.Profile() if profiled else None
        wall_started, cpu_started = time.perf_counter(), time.process_time()
        if profiler:
            profiler.enable()
        value = function(*args)
        if profiler:
            profiler.disable()
        elapsed_wall, elapsed_cpu = time.perf_counter() - wall_started, time.process_time() - cpu_started
        if profiler:  # profiled calls run slower: they are reported, not timed
            out = io.StringIO()
            pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(10)
            profiles.append(f"### cProfile of {name} (by own time; profiled run, slower than timed)\n" + out.getvalue())
        else:
            wall[name].append(elapsed_wall)
            cpu[name].append(elapsed_cpu)
        if first:
            memory[name] = peak_rss_bytes()
        return value

    rows = 0
    for repeat in range(repeats + (1 if profile else 0)):
        first, profiled = repeat == 0, profile and repeat == repeats
        gc.collect()
        if profiled:  # the extra profiling pass: the source is only input there, not timed again
            source = simulate_days(0, NUM_DAYS - 1, settings)
        else:
            source = measure("simulate_days (31 days)", first, False, simulate_days, 0, NUM_DAYS - 1, settings)
        rows = len(source)
        raw = measure("prepare_raw_transactions", first, profiled, prepare_raw_transactions, source, simulation_epoch())
        del source
        cleaned, rejected = measure("validate_transactions", first, profiled, validate_transactions, raw)
        del raw, rejected
        if profiled:
            break
        with tempfile.TemporaryDirectory(prefix="bench_ingest_duckdb_") as folder:
            with duckdb.connect(str(Path(folder) / "w.duckdb")) as connection:
                measure("DuckDB write of cleaned rows", first, False, write_frame, connection, cleaned)
                measure("DuckDB read-back to pandas", first, False, read_frame, connection)
        del cleaned
    return {"wall": wall, "cpu": cpu, "rows": rows}, memory, profiles


def write_frame(connection, frame) -> None:
    """What the IO manager does with an output frame: CREATE TABLE ... AS SELECT * FROM the frame."""
    connection.register("cleaned_frame", frame)
    connection.execute("CREATE TABLE cleaned AS SELECT * FROM cleaned_frame")
    connection.unregister("cleaned_frame")


def read_frame(connection):
    return connection.execute("SELECT * FROM cleaned").fetchdf()


def peak_rss_bytes() -> int:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


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
    parser.add_argument("--scale", type=float, default=1.0,
                        help="simulator scale (1.0 = PaySim's 6.36M rows over 31 days)")
    parser.add_argument("--job-repeats", type=int, default=3, help="backfill runs, each in a fresh child and data dir")
    parser.add_argument("--stage-repeats", type=int, default=3, help="repetitions of the in-process stage timings")
    parser.add_argument("--profile", action="store_true",
                        help="also cProfile prepare_raw_transactions and validate_transactions once (an extra pass)")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--data-dir", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child_main(args.scale, args.data_dir)
        return 0

    print("# bench_ingest: daily_ingest_job over 31 days as one backfill run\n")
    print("\n".join(machine_description()))
    print(f"scale       {args.scale}  (job repeats {args.job_repeats}, stage repeats {args.stage_repeats})\n",
          flush=True)

    reports = []
    for repeat in range(args.job_repeats):
        report = run_child(args.scale)
        reports.append(report)
        print(f"run {repeat + 1}/{args.job_repeats}: run_job {report['run_seconds']:.1f} s, "
              f"process {report['process_seconds']:.1f} s "
              f"(CPU {report.get('cpu_seconds', float('nan')):.1f} s, load avg now {os.getloadavg()[0]:.1f}), "
              f"peak RSS {report['peak_rss_bytes'] / 1e9:.2f} GB (tree {report['peak_tree_rss_bytes'] / 1e9:.2f} GB)",
              flush=True)
    median_run = print_job_report(reports) if reports else float("nan")
    median_cpu = statistics.median(r.get("cpu_seconds", float("nan")) for r in reports) if reports else float("nan")

    print(f"\n## The pure stages in one process, same scale (median [min-max] of {args.stage_repeats})\n", flush=True)
    before_stages = peak_rss_bytes()
    stage_times, stage_memory, profiles = time_stages(args.scale, args.stage_repeats, args.profile)
    stage_rows = stage_times["rows"]
    wall = {name: statistics.median(stage_times["wall"][name]) for name in STAGES}
    cpu = {name: statistics.median(stage_times["cpu"][name]) for name in STAGES}
    stage_wall, stage_cpu = sum(wall.values()), sum(cpu.values())
    print_table(
        ["stage", "wall time", "CPU time", "rows/s (wall)", "share of run_job", "peak RSS after it (GB)"],
        [[name, median_and_range(stage_times["wall"][name]), f"{cpu[name]:.2f} s", f"{stage_rows / wall[name]:,.0f}",
          share(wall[name], median_run), f"{stage_memory[name] / 1e9:.2f}"] for name in STAGES]
        + [["sum of the stages (baseline)", f"{stage_wall:.2f} s", f"{stage_cpu:.2f} s",
            f"{stage_rows / stage_wall:,.0f}", share(stage_wall, median_run), ""]],
    )
    print(f"\n(peak RSS of this process before the stages: {before_stages / 1e9:.2f} GB; "
          "the stages hold what a run holds "
          "in turn: source, then raw, then cleaned + rejected, then DuckDB's copy; load avg now "
          f"{os.getloadavg()[0]:.1f})")
    if reports:
        print(f"\nrun_job / sum of the pure stages = {median_run / stage_wall:.2f} on wall time; child process CPU / "
              f"sum of the stages' CPU = {median_cpu / stage_cpu:.2f} (the rest is Dagster: the IO manager's DuckDB "
              "writes and reads, per-partition events, metadata, the checks re-reading the table)")
    for text in profiles:
        print("\n" + text)
    return 0


def print_job_report(reports: list[dict]) -> float:
    """The tables of the backfill runs; returns the median run_job time."""
    counts = reports[0]["counts"]
    raw_rows = counts["raw_transactions"]
    run_seconds = [r["run_seconds"] for r in reports]
    process_seconds = [r["process_seconds"] for r in reports]
    cpu_seconds = [r.get("cpu_seconds", float("nan")) for r in reports]
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
            ["child process CPU time (user + sys)", median_and_range(cpu_seconds, "s", 1), "", ""],
            ["throughput (raw rows / run_job time)", f"{raw_rows / median_run:,.0f} rows/s", "", ""],
            ["peak RSS of the run's process", median_and_range(peak_gb, "GB", 2), f"< {TARGET_PEAK_GB:.0f} GB",
             "yes" if max(peak_gb) < TARGET_PEAK_GB else "NO"],
        ],
    )

    print("\n## Where the run's time goes (event log of the median run; seconds)\n")
    median_report = sorted(reports, key=lambda r: r["run_seconds"])[len(reports) // 2]
    timeline = sorted(median_report["timeline"], key=lambda step: step["start"])
    rows = [["before the first step (definitions, instance, planning events)",
             f"{median_report['before_first_step']:.1f}", "", "", "", ""]]
    for step in timeline:
        rows.append([step["step"].replace("cleaned_transactions_cleaned_transactions_", "check: "),
                     f"{step['total']:.1f}", f"{step['inputs']:.1f}", f"{step['compute']:.1f}",
                     f"{step['outputs']:.1f}", f"{step['peak_rss_bytes'] / 1e9:.2f}"])
    gaps = median_report["run_seconds"] - median_report["before_first_step"] - median_report["after_last_step"] - sum(
        step["total"] for step in timeline)
    rows.append(["between steps", f"{gaps:.1f}", "", "", "", ""])
    rows.append(["after the last step (run end events)", f"{median_report['after_last_step']:.1f}", "", "", "", ""])
    print_table(["step", "total", "load inputs", "compute", "outputs (write + events)", "peak RSS GB"], rows)
    events = median_report["events_by_type"]
    print(f"\n{sum(events.values())} Dagster events in the run: "
          + ", ".join(f"{kind} {count}" for kind, count in sorted(events.items(), key=lambda item: -item[1])[:6]))

    return median_run


if __name__ == "__main__":
    sys.exit(main())
