"""The team deployment (FRAUD_DATABASE_URL: Dagster's instance on PostgreSQL, the warehouse a DuckLake) against the
embedded one (SQLite instance, DuckDB file), at full PaySim scale (issue 13).

Run by hand, never by CI; it starts its own throwaway PostgreSQL cluster (fraud_assets.cli.local_postgres, as the
postgres user when root) in a temporary folder and stops it at the end:

    .venv/bin/python bench/bench_team_deployment.py                  # scale 1.0: ~25 min on 2 cores
    .venv/bin/python bench/bench_team_deployment.py --scale 0.05     # smoke test, ~5 min

1. The main job (`python -m fraud_assets.cli.run_pipeline`, as bench_full_graph.py runs it) on a fresh data folder,
   embedded and then on the team deployment (a fresh database): wall time, peak RSS of the job's process tree (the
   PostgreSQL server's own processes are not in it: their RSS is sampled separately), the out-of-time AUPRC each
   printed, and the warehouse's size on disk.
2. The month ingested (`daily_ingest_job`: raw, cleaned and rejected transactions with their checks, 31 days):
   as one run over the month, and as two runs of half a month each launched at the same moment, each in its own
   process as two backfills' runs are. Embedded, the second run's warehouse steps wait for the pool's one slot;
   on the team deployment both write at once. Wall time from the launch to the end of the last run.

Quote the medians of repeated runs (--repeats); the machine is shared and noisy.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import re
import shutil
import signal
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psutil
from bench_full_graph import GB, run_main_job
from bench_ingest import machine_description, print_table

PROJECT_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_ROOT))

from fraud_assets.cli.local_postgres import (  # noqa: E402
    blocking_ancestor,
    postmaster_pid,
    run_sql,
    start_cluster,
    stop_cluster,
)
from fraud_assets.core.processes import process_tree  # noqa: E402


def fresh_database(cluster, name: str) -> str:
    """A new empty database owned by the cluster's role; its URL."""
    run_sql(cluster, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE);\nCREATE DATABASE "{name}";')
    return dataclasses.replace(cluster, database=name).url


def folder_bytes(path: Path) -> int:
    return sum(item.stat().st_size for item in path.rglob("*") if item.is_file()) if path.exists() else 0


def postgres_rss(cluster_folder: Path) -> int:
    """Summed RSS of the cluster's server processes (the postmaster and its backends; shared memory is counted in
    each process that touched it, so this overstates the server's own use)."""
    pid = postmaster_pid(cluster_folder / "data")
    total = 0
    for process in process_tree(pid) if pid else []:
        try:
            total += process.memory_info().rss
        except psutil.Error:
            pass
    return total


class PeakSampler:
    """The peak of a function of nothing, sampled every 50 ms in a thread while the `with` block runs."""

    def __init__(self, measure):
        self.measure, self.peak, self.stop = measure, 0, threading.Event()

    def __enter__(self):
        def sample():
            while not self.stop.is_set():
                self.peak = max(self.peak, self.measure())
                time.sleep(0.05)
        self.thread = threading.Thread(target=sample, daemon=True)
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join()


def main_job(scale: float, data_dir: Path, database_url: str | None, cluster_folder: Path) -> dict:
    if database_url:
        os.environ["FRAUD_DATABASE_URL"] = database_url
    else:
        os.environ.pop("FRAUD_DATABASE_URL", None)
    with PeakSampler(lambda: postgres_rss(cluster_folder)) as server:
        job = run_main_job(scale, data_dir)
    os.environ.pop("FRAUD_DATABASE_URL", None)
    if job["returncode"] != 0:
        raise RuntimeError(f"the main job failed:\n{job['stdout'][-3000:]}\n{job['stderr_tail']}")
    auprc = re.search(r"never seen in training\): AUPRC ([0-9.]+)", job["stdout"])
    warehouse = data_dir / ("warehouse_lake" if database_url else "warehouse.duckdb")
    return {"seconds": job["seconds"], "peak": max(rss for _, rss in job["samples"]), "server_peak": server.peak,
            "auprc": float(auprc.group(1)) if auprc else float("nan"),
            "warehouse_bytes": folder_bytes(warehouse) if warehouse.is_dir() else warehouse.stat().st_size}


def ingest_runs(scale: float, data_dir: Path, database_url: str | None, ranges: list[tuple[int, int]]) -> dict:
    """`daily_ingest_job` over each range, all launched at once, each in a child process; wall seconds."""
    os.environ.update(FRAUD_DATA_DIR=str(data_dir), FRAUD_SIMULATION_SCALE=str(scale))
    if database_url:
        os.environ["FRAUD_DATABASE_URL"] = database_url
    else:
        os.environ.pop("FRAUD_DATABASE_URL", None)
    from fraud_assets.cli.instance import prepare_dagster_home
    from fraud_assets.cli.run_pipeline import run_job_in_child
    from fraud_assets.core.settings import Settings
    from fraud_assets.defs.partitions import partition_key_of_day

    settings = Settings.from_env()
    prepare_dagster_home(settings.dagster_home)
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=len(ranges)) as pool:
        outcomes = list(pool.map(lambda days: run_job_in_child(
            settings, "daily_ingest_job", (partition_key_of_day(days[0]), partition_key_of_day(days[1]))), ranges))
    seconds = time.perf_counter() - started
    os.environ.pop("FRAUD_DATABASE_URL", None)
    if not all(outcome.success for outcome in outcomes):
        raise RuntimeError(f"an ingest run failed: {outcomes}")
    return {"seconds": seconds}


def planned_measurements(arguments: argparse.Namespace, cluster_folder: Path):
    """(name, mode, measure(data_dir, database_url or None)) of every measurement, repeats included, in order."""
    scale = arguments.scale
    for _ in range(arguments.repeats):
        for mode in () if arguments.skip_main_job else ("embedded", "team"):
            yield (f"main job, {mode}", mode,
                   lambda data_dir, url: main_job(scale, data_dir, url, cluster_folder))
        for mode in ("embedded", "team"):
            for label, ranges in (("one run, 31 days", [(0, 30)]),
                                  ("two runs at once, 16 + 15 days", [(0, 15), (16, 30)])):
                yield (f"month ingest, {mode}, {label}", mode,
                       lambda data_dir, url, ranges=ranges: ingest_runs(scale, data_dir, url, ranges))


def median(values: list[float]) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--repeats", type=int, default=1, help="times each measurement is repeated (medians)")
    parser.add_argument("--skip-main-job", action="store_true", help="only the month's ingest")
    arguments = parser.parse_args()
    print("\n".join(machine_description()))
    print(f"scale       {arguments.scale}\n")
    for name in [name for name in os.environ if name.startswith("FRAUD_") or name == "DAGSTER_HOME"]:
        del os.environ[name]

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # `kill` stops the cluster too (the finally below)
    scratch = Path(tempfile.mkdtemp(prefix="bench_team_"))
    scratch.chmod(0o755)  # the postgres OS user enters it when we are root
    assert blocking_ancestor(scratch / "cluster") is None, f"the postgres user cannot reach {scratch}"
    cluster_folder = scratch / "cluster"
    cluster = start_cluster(cluster_folder)
    results: dict[str, list[dict]] = {}
    try:
        for name, mode, measure in planned_measurements(arguments, cluster_folder):
            url = fresh_database(cluster, "bench_team") if mode == "team" else None
            data_dir = scratch / "data"
            outcome = measure(data_dir, url)
            results.setdefault(name, []).append(outcome)
            print(f"{name}: {json.dumps(outcome)}", flush=True)
            shutil.rmtree(data_dir, ignore_errors=True)
    finally:
        stop_cluster(cluster_folder)
        shutil.rmtree(scratch, ignore_errors=True)

    print()
    rows = []
    for name, outcomes in results.items():
        seconds = median([outcome["seconds"] for outcome in outcomes])
        if name.startswith("main job"):
            rows.append([name, f"{seconds:.1f}", f"{median([o['peak'] for o in outcomes]) / GB:.2f}",
                         f"{median([o['server_peak'] for o in outcomes]) / GB:.2f}",
                         f"{median([o['auprc'] for o in outcomes]):.3f}",
                         f"{median([o['warehouse_bytes'] for o in outcomes]) / GB:.2f}"])
        else:
            rows.append([name, f"{seconds:.1f}", "-", "-", "-", "-"])
    print_table(["measurement", "seconds (median)", "peak GB (job)", "peak GB (server)", "AUPRC", "warehouse GB"],
                rows)
    for mode in ("embedded", "team"):
        one = results.get(f"month ingest, {mode}, one run, 31 days")
        two = results.get(f"month ingest, {mode}, two runs at once, 16 + 15 days")
        if one and two:
            ratio = median([o["seconds"] for o in two]) / median([o["seconds"] for o in one])
            print(f"{mode}: two concurrent runs take {ratio:.2f}x the time of one run over the month")
    embedded, team = results.get("main job, embedded"), results.get("main job, team")
    if embedded and team:
        print(f"main job: team / embedded = "
              f"{median([o['seconds'] for o in team]) / median([o['seconds'] for o in embedded]):.2f}x time")
    print("BENCH_RESULT " + json.dumps(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
