"""How long one day's drift report takes at full PaySim scale (target: under 5 seconds a day).

    .venv/bin/python bench/bench_drift.py [--scale 1.0] [--repeats 5]

Times what the drift_report asset does for one day, outside Dagster: sample the day's rows and the reference,
score both with a model, build the monitored columns, run the Evidently report and save its HTML. The reference is
a 5,000-row training sample, as stored with a champion. Prints the median of the repeats per stage.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import tempfile
import time
from datetime import date
from pathlib import Path

import xgboost as xgb

from fraud_assets.ml.drift import measure_drift, monitored_frame, sample_rows
from fraud_assets.ml.features import build_features
from fraud_assets.ml.training import predict_scores
from fraud_assets.simulation import SimulationSettings, simulate_day, simulate_days

SAMPLE_ROWS = 20_000


def cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    settings = SimulationSettings(scale=args.scale)
    training = simulate_days(0, 2, settings)
    booster = xgb.train({"objective": "binary:logistic", "max_depth": 6, "nthread": 2},
                        xgb.DMatrix(build_features(training), label=training["isFraud"]), 200)
    reference = training.sample(5_000, random_state=0)
    day = simulate_day(20, settings)
    stages = {"sample + score + columns": [], "evidently report": [], "save html": [], "total": []}
    with tempfile.TemporaryDirectory() as scratch:
        for _ in range(args.repeats):
            started = time.perf_counter()
            current = sample_rows(day, SAMPLE_ROWS, 11)
            frames = [monitored_frame(rows, predict_scores(booster, build_features(rows)))
                      for rows in (current, reference)]
            prepared = time.perf_counter()
            result = measure_drift(frames[0], frames[1], 20)
            measured = time.perf_counter()
            result.snapshot.save_html(os.path.join(scratch, "report.html"))
            saved = time.perf_counter()
            for name, seconds in zip(stages,
                                     [prepared - started, measured - prepared, saved - measured, saved - started]):
                stages[name].append(seconds)
    print(f"{date.today()} {cpu_model()}, nproc {os.cpu_count()}; one day = {len(day):,} rows (scale {args.scale}), "
          f"sampled to {SAMPLE_ROWS:,}; {args.repeats} repeats; load average {os.getloadavg()[0]:.1f}")
    print("| stage | median s | min s |\n|---|---:|---:|")
    for name, values in stages.items():
        print(f"| {name} | {statistics.median(values):.2f} | {min(values):.2f} |")


if __name__ == "__main__":
    main()
