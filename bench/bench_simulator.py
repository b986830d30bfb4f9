"""Benchmark: rows per second of ``simulate_day`` on one core.

Run by hand from the repository root: ``python bench/bench_simulator.py [--scale 1.0] [--days 0 1 2] [--repeats 5]``.
Pins the process to one CPU and numerical libraries to one thread, generates each day ``repeats`` times after a
warm-up, and prints per day the median wall time and rows/s, the median CPU time of the process and the rows per
CPU-second (the better figure on a shared machine, where other processes steal the core), and the share of the
time spent building the id strings.
"""

from __future__ import annotations

import os

for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ[_variable] = "1"

import argparse  # noqa: E402
import datetime  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a plain checkout too

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from fraud_assets.simulation import SimulationSettings, simulate_day  # noqa: E402
from fraud_assets.simulation.account_ids import format_account_ids  # noqa: E402


def pin_to_one_cpu() -> str:
    """Restrict the process to its first allowed CPU (Linux); describe the result."""
    if not hasattr(os, "sched_setaffinity"):
        return "not pinned (no sched_setaffinity)"
    cpu = min(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {cpu})
    return f"pinned to CPU {cpu}"


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def median_seconds(function, repeats: int) -> tuple[float, float]:
    """Median wall time and median CPU time of this process over `repeats` calls."""
    wall, cpu = [], []
    for _ in range(repeats):
        wall_start, cpu_start = time.perf_counter(), time.process_time()
        function()
        wall.append(time.perf_counter() - wall_start)
        cpu.append(time.process_time() - cpu_start)
    return statistics.median(wall), statistics.median(cpu)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--days", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--repeats", type=int, default=5)
    arguments = parser.parse_args()

    pinning = pin_to_one_cpu()
    settings = SimulationSettings(scale=arguments.scale)
    simulate_day(arguments.days[0], settings)  # warm-up: imports, cached tables

    print(f"date {datetime.datetime.now().isoformat(timespec='minutes')}; nproc {os.cpu_count()}; CPU {cpu_model()}")
    print(f"python {platform.python_version()}, numpy {np.__version__}, pandas {pd.__version__}; {pinning}")
    print(f"scale {arguments.scale}, median of {arguments.repeats} runs per day\n")
    print(f"{'day':>4} {'rows':>9} {'wall s':>7} {'rows/s':>10} {'CPU s':>7} {'rows/CPU-s':>11} {'id strings':>11}")
    wall_rates, cpu_rates = [], []
    for day in arguments.days:
        rows = len(simulate_day(day, settings))
        wall, cpu = median_seconds(lambda: simulate_day(day, settings), arguments.repeats)
        ids = np.random.default_rng(day).integers(10**8, 2**31, 2 * rows)
        prefixes = np.full(ids.size, ord("C"), dtype=np.uint8)
        _, id_cpu = median_seconds(lambda: format_account_ids(prefixes, ids), arguments.repeats)
        wall_rates.append(rows / wall)
        cpu_rates.append(rows / cpu)
        print(
            f"{day:>4} {rows:>9,} {wall:>7.3f} {rows / wall:>10,.0f} {cpu:>7.3f} {rows / cpu:>11,.0f} "
            f"{id_cpu / cpu:>10.0%}"
        )
    print(
        f"\nmedian over days: {statistics.median(wall_rates):,.0f} rows/s (wall), "
        f"{statistics.median(cpu_rates):,.0f} rows per CPU-second"
    )


if __name__ == "__main__":
    main()
