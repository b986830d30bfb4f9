"""Benchmark of the whole asset graph at full PaySim scale: the main job, as a user runs it, over 31 days.

Run by hand, never by CI (it prints tables; nothing in it is a timed assertion):

    .venv/bin/python bench/bench_full_graph.py                 # scale 1.0: about 6.36 million rows, ~10 min
    .venv/bin/python bench/bench_full_graph.py --scale 0.02    # smoke test, ~2 min

Targets (issue 12, a pipeline whose memory is one day): at scale 1.0, 200 s or less end to end (median of 3 runs)
with a peak of 2.5 GB or less; at scale 5.0 (about 31.8 million rows), a peak of 3 GB or less in at most 5 times the
time of scale 1.0. (Issue 7's were 10 minutes and 8 GB at scale 1.0.)

What it measures: `python -m fraud_assets.cli.run_pipeline` in a child process on a fresh data folder, with
FRAUD_SIMULATION_SCALE set and nothing else changed. Its four runs (ingest backfill, first training, scoring
backfill with review export and drift report, per-day performance) are read back from the Dagster instance the job
wrote: each step's time, split into loading inputs, computing and handling outputs (bench_ingest.step_timeline).
Memory is the summed RSS of the child's process tree polled every 50 ms: the peak over the whole job and while each
step ran, and the child's own ru_maxrss as a cross-check. Rows per second divide each step's rows (from the warehouse
the job wrote) by the step's time.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil
from bench_ingest import machine_description, print_table, step_timeline

PROJECT_ROOT = Path(__file__).resolve().parents[1]
TARGET_SECONDS = {1.0: 200.0}  # scale 5.0: at most 5 times scale 1.0's, measured in the same session
TARGET_PEAK_GB = {1.0: 2.5, 5.0: 3.0}
POLL_SECONDS = 0.05
GB = 1e9


def run_main_job(scale: float, data_dir: Path) -> dict:
    """The main job in a child process; wall time, exit code, polled RSS samples and the stage lines it printed."""
    environment = {**os.environ, "FRAUD_DATA_DIR": str(data_dir), "FRAUD_SIMULATION_SCALE": str(scale),
                   "PYTHONPATH": str(PROJECT_ROOT)}
    for name in ("FRAUD_SIMULATION_DAYS", "FRAUD_DRIFT_SCENARIO", "FRAUD_SOURCE"):  # the embedded defaults
        environment.pop(name, None)
    stdout_path, stderr_path = data_dir / "main_job.stdout", data_dir / "main_job.stderr"
    data_dir.mkdir(parents=True, exist_ok=True)
    started_wall, started = time.time(), time.perf_counter()
    process = subprocess.Popen([sys.executable, "-m", "fraud_assets.cli.run_pipeline"], cwd=PROJECT_ROOT,
                               env=environment, stdout=stdout_path.open("w"), stderr=stderr_path.open("w"))
    parent = psutil.Process(process.pid)
    samples: list[tuple[float, int]] = []
    while process.poll() is None:
        rss = 0
        try:
            for member in [parent, *parent.children(recursive=True)]:
                try:
                    rss += member.memory_info().rss
                except psutil.Error:
                    pass
        except psutil.Error:
            pass
        samples.append((time.time(), rss))
        time.sleep(POLL_SECONDS)
    seconds = time.perf_counter() - started
    child_peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return {"seconds": seconds, "returncode": process.returncode, "samples": samples, "started": started_wall,
            "child_peak_bytes": child_peak_kb * 1024, "stdout": stdout_path.read_text(),
            "stderr_tail": stderr_path.read_text()[-4000:]}


def read_runs(data_dir: Path) -> list[dict]:
    """The job's runs, oldest first, with their step timelines (absolute epoch seconds)."""
    os.environ["DAGSTER_HOME"] = str(data_dir / "dagster_home")
    import dagster as dg

    with dg.DagsterInstance.get() as instance:
        runs = list(reversed(instance.get_runs()))
        report = []
        for run in runs:
            timeline, _, _ = step_timeline(instance.all_logs(run.run_id), 0.0)
            report.append({"job": run.job_name, "status": run.status.value, "steps": timeline})
    return report


def warehouse_rows(data_dir: Path) -> dict[str, int]:
    import duckdb

    with duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True) as connection:
        def count(sql: str) -> int:
            return int(connection.execute(sql).fetchone()[0])

        return {
            "raw_transactions": count("SELECT count(*) FROM fraud.raw_transactions"),
            "cleaned_transactions": count("SELECT count(*) FROM fraud.cleaned_transactions"),
            "rejected_transactions": count("SELECT count(*) FROM fraud.rejected_transactions"),
            "scored_predictions": count("SELECT count(*) FROM fraud.scored_predictions"),
            # the first model's training and validation days (run_pipeline.FIRST_MODEL_AS_OF_DAY = 15: days 0-14)
            "training_window": count("SELECT count(*) FROM fraud.cleaned_transactions WHERE day BETWEEN 0 AND 14"),
        }


def step_rows(step: str, rows: dict[str, int]) -> int | None:
    """How many transactions a step handled (None for steps whose work is not per transaction)."""
    if step in ("raw_transactions", "clean_transactions") or step.startswith("cleaned_transactions_"):
        return rows["raw_transactions"]
    if step == "fraud_model":
        return rows["training_window"]
    if step in ("scored_predictions", "drift_report", "model_performance") or step.startswith("scored_predictions_"):
        return rows["scored_predictions"]
    return None


def peak_between(samples: list[tuple[float, int]], start: float, end: float) -> int:
    return max((rss for moment, rss in samples if start <= moment <= end), default=0)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--keep", type=Path, help="use this data folder (kept) instead of a temporary one")
    arguments = parser.parse_args()
    print("\n".join(machine_description()))
    print(f"scale       {arguments.scale}\n")
    with tempfile.TemporaryDirectory(prefix="bench_full_graph_") as temporary:
        data_dir = arguments.keep or Path(temporary) / "data"
        job = run_main_job(arguments.scale, data_dir)
        if job["returncode"] != 0:
            print(job["stdout"][-3000:], job["stderr_tail"], sep="\n")
            print(f"the main job failed (exit code {job['returncode']})")
            return 1
        runs, rows = read_runs(data_dir), warehouse_rows(data_dir)
    samples = job["samples"]
    peak = max(rss for _, rss in samples)
    seconds_target, peak_target = TARGET_SECONDS.get(arguments.scale), TARGET_PEAK_GB.get(arguments.scale)
    print(f"main job: {job['seconds']:.1f} s end to end (target "
          f"{f'{seconds_target:.0f} s' if seconds_target else 'none at this scale'}), peak RSS of the process tree "
          f"{peak / GB:.2f} GB (target {f'{peak_target} GB' if peak_target else 'none at this scale'}; "
          f"ru_maxrss {job['child_peak_bytes'] / GB:.2f} GB)")
    print(f"rows: {rows}\n")
    print("Stages (Dagster runs) as the main job printed them:")
    print("\n".join(line for line in job["stdout"].splitlines() if line.startswith("[")))
    table = []
    for run in runs:
        for step in sorted(run["steps"], key=lambda step: step["start"]):
            count = step_rows(step["step"], rows)
            table.append([
                run["job"], step["step"], f"{step['total']:.1f}", f"{step['inputs']:.1f}", f"{step['compute']:.1f}",
                f"{step['outputs']:.1f}", f"{count / step['total']:,.0f}" if count and step["total"] > 0 else "-",
                f"{peak_between(samples, step['start'], step['start'] + step['total']) / GB:.2f}"])
    print()
    print_table(["run", "step", "seconds", "inputs", "compute", "outputs", "rows/s", "peak GB"], table)
    overhead = job["seconds"] - sum(step["total"] for run in runs for step in run["steps"])
    print(f"\noutside steps (interpreter start, imports, run setup, summary queries): {overhead:.1f} s")
    print("BENCH_RESULT " + json.dumps({"seconds": job["seconds"], "peak_bytes": peak, "rows": rows,
                                        "runs": runs, "load_at_end": os.getloadavg()}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
