"""The detection table: false retrainings in a world without drift, and the day each drift scenario is detected, at
each volume (issue "checks that hold at every volume").

    .venv/bin/python bench/bench_detection.py [--scales 0.005 0.01 0.02 0.1 1.0] [--none-days 120]

For each scale: days 0-15 are simulated and cleaned, and a champion is trained on them as `fraud_model` trains it
(12 training days, 3 validation days, a day's label delay, the default alert budget). Then each later day is
scored by that champion and judged by the three watched checks' own verdicts (`fraud_assets.ml.evidence`, the
functions the Dagster checks call, fed the per-day figures their SQL computes): the score-drift check (the tail's
fraud events), the feature-drift check (an Evidently report of the day against the champion's training sample, with
the two-sample tests), and the recall check on the matured day before. A day with a failure after the champion's
window is a retraining request; each day is evidence once, as the sensor counts it.

- "none": `--none-days` days (31 at scale 1.0, `--full-scale-days`): every request is a false retraining. The
  champion is kept (a real deployment would retrain, and the next champion would be judged afresh).
- each drift scenario from day 20: the first request on or after day 20, in days after the start (0 = its first day),
  up to `--drift-days` days; "not detected" past that.

Outside Dagster, so that 120 days at five scales run in minutes; the Dagster path of the same verdicts is tested in
fraud_assets_tests (the replay at scale 0.1 and 0.02) and by `python -m fraud_assets.cli.replay`.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd

from fraud_assets.core.settings import DEFAULT_ALERTS_PER_1000_TRANSACTIONS, DEFAULT_LABEL_DELAY_DAYS
from fraud_assets.core.transactions import prepare_raw_transactions, validate_transactions
from fraud_assets.ml.drift import measure_drift, monitored_frame, sample_rows
from fraud_assets.ml.evidence import (
    TOO_LITTLE_EVIDENCE,
    EvidenceBudget,
    RecallDays,
    TailDays,
    TailReference,
    feature_drift_verdict,
    recall_verdict,
    split_tail_days,
    tail_shift_verdict,
)
from fraud_assets.ml.features import build_features
from fraud_assets.ml.label_maturity import known_labels, training_window
from fraud_assets.ml.lifecycle import Challenger, ThresholdPolicy, fit_challenger
from fraud_assets.ml.thresholds import daily_alert_budget
from fraud_assets.ml.training import XGBoostParams, predict_scores
from fraud_assets.simulation import SimulationSettings, simulate_day

FIRST_MODEL_AS_OF = 15
DRIFT_START = 20
SCENARIOS = ("fraud_pattern_shift", "amount_inflation", "type_mix_shift")
EPOCH = datetime(2026, 1, 1)
# The checks' defaults (fraud_assets/defs/checks): score drift, feature drift, recall.
MIN_RATIO, SCORE_SCAN_DAYS, LIVE_REFERENCE_DAYS = 0.5, 3, 7
MAX_SHARE_DRIFTED = 0.3
RECALL_FLOOR, RECALL_SCAN_DAYS = 0.6, 7
DRIFT_SAMPLE_ROWS, DRIFT_SEED = 20_000, 11
CHECKS = ("score_drift", "feature_drift", "recall")


def cleaned_day(day: int, settings: SimulationSettings) -> pd.DataFrame:
    cleaned, _ = validate_transactions(prepare_raw_transactions(simulate_day(day, settings), EPOCH))
    return cleaned


def train_champion(settings: SimulationSettings) -> Challenger:
    """The first champion, as `fraud_model` trains it as of day 15 (pure functions, every row)."""
    days = pd.concat([cleaned_day(day, settings) for day in range(FIRST_MODEL_AS_OF + 1)], ignore_index=True)
    labels = known_labels(days, FIRST_MODEL_AS_OF, DEFAULT_LABEL_DELAY_DAYS,
                          pd.DataFrame(columns=["transaction_id", "label"]))
    window = training_window(FIRST_MODEL_AS_OF, 12, 3, DEFAULT_LABEL_DELAY_DAYS)
    policy = ThresholdPolicy("alert_budget", DEFAULT_ALERTS_PER_1000_TRANSACTIONS, 200.0)
    return fit_challenger(days, labels, window, XGBoostParams(), policy, seed=7, recency_half_life_days=3.0)


@dataclass
class DayFigures:
    """What the checks' SQL computes for a day: rows, tail events, fraud events and those caught at the budget."""

    day: int
    rows: int
    tail_rows: int
    tail_events: int
    fraud_events: int
    caught_events: int
    drift_table: pd.DataFrame


def day_figures(day: int, rows: pd.DataFrame, champion: Challenger) -> DayFigures:
    scores = predict_scores(champion.trained.booster, build_features(rows))
    tail = scores >= champion.high_score_level
    budget = daily_alert_budget(len(rows), DEFAULT_ALERTS_PER_1000_TRANSACTIONS)
    alerted = np.zeros(len(rows), dtype=bool)
    alerted[np.argsort(-scores, kind="stable")[:budget]] = True
    fraud = rows["isFraud"].to_numpy() == 1
    amount = rows["amount"]
    sample = sample_rows(rows, DRIFT_SAMPLE_ROWS, DRIFT_SEED)
    current = monitored_frame(sample, pd.Series(scores, index=rows.index).loc[sample.index].to_numpy())
    reference = champion.reference_sample
    reference_frame = monitored_frame(reference, reference["score"].to_numpy())
    drift = measure_drift(current, reference_frame, day)
    return DayFigures(day, len(rows), int(tail.sum()), int(amount[tail].nunique()), int(amount[fraud].nunique()),
                      int(amount[fraud & alerted].nunique()), drift.table)


@dataclass
class WorldResult:
    requests: list[tuple[int, list[str], str]] = field(default_factory=list)  # (day, checks failed, their evidence)
    tail_rows: list[int] = field(default_factory=list)  # per judged day, for the count's dispersion
    tail_events: list[int] = field(default_factory=list)
    too_little: dict[str, int] = field(default_factory=lambda: dict.fromkeys(CHECKS, 0))
    judged_days: int = 0


def judge_world(settings: SimulationSettings, champion: Challenger, last_day: int, level: float,
                count_from: int, stop_at_first: bool) -> WorldResult:
    """Each day's three verdicts from the first day after the champion's window, as the daily run and the clock's
    matured recall check give them; requests counted from day `count_from`."""
    reference = TailReference.of_card(champion.high_score_reference)
    first_after_window = champion_window_end(champion) + 1
    figures: dict[int, DayFigures] = {}
    result = WorldResult()
    for day in range(first_after_window, last_day + 1):
        figures[day] = day_figures(day, cleaned_day(day, settings), champion)
        failed: dict[str, str] = {}
        scored = [figures[d] for d in range(first_after_window, day + 1)]
        with_live_days, window = split_tail_days(
            TailDays([f.day for f in scored], [f.rows for f in scored], [f.tail_events for f in scored]), reference,
            day, first_after_window - 1, LIVE_REFERENCE_DAYS, SCORE_SCAN_DAYS)
        verdicts = {
            "score_drift": tail_shift_verdict(window, with_live_days, level, MIN_RATIO, "drop"),
            "feature_drift": feature_drift_verdict(figures[day].drift_table, MAX_SHARE_DRIFTED, level),
        }
        matured = day - DEFAULT_LABEL_DELAY_DAYS
        if matured in figures:
            days = [figures[d] for d in range(max(matured - RECALL_SCAN_DAYS + 1, first_after_window), matured + 1)]
            verdicts["recall"] = recall_verdict(RecallDays([f.day for f in days], [f.fraud_events for f in days],
                                                           [f.caught_events for f in days]), RECALL_FLOOR, level)
        if day < count_from:
            continue
        for name, verdict in verdicts.items():
            if verdict.status == TOO_LITTLE_EVIDENCE:
                result.too_little[name] += 1
            if not verdict.passed:
                failed[name] = verdict.evidence
        result.judged_days += 1
        result.tail_rows.append(figures[day].tail_rows)
        result.tail_events.append(figures[day].tail_events)
        if failed:
            result.requests.append((day, list(failed), " | ".join(f"{k}: {v}" for k, v in failed.items())))
            if stop_at_first:
                break
    return result


def champion_window_end(champion: Challenger) -> int:
    return int(champion.validation["day"].max())


def machine() -> str:
    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), platform.processor())
    return f"{os.cpu_count()} CPUs, {model}, Python {platform.python_version()}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scales", type=float, nargs="+", default=[0.005, 0.01, 0.02, 0.1, 1.0])
    parser.add_argument("--none-days", type=int, default=120)
    parser.add_argument("--full-scale-days", type=int, default=31, help="days of `none` at scale 1.0 and above")
    parser.add_argument("--drift-days", type=int, default=8)
    parser.add_argument("--false-retrainings-per-year", type=float, default=1.0)
    args = parser.parse_args()
    level = EvidenceBudget(args.false_retrainings_per_year).level_per_check_day
    print(f"{machine()}; level per check and day {level:.3g}")
    rows = []
    for scale in args.scales:
        started = time.perf_counter()
        none_days = args.full_scale_days if scale >= 1.0 else args.none_days
        base = SimulationSettings(scale=scale, num_days=max(none_days, DRIFT_START + args.drift_days))
        champion = train_champion(base)
        stationary = judge_world(base, champion, none_days - 1, level, count_from=0, stop_at_first=False)
        for day, _, evidence in stationary.requests:
            print(f"  scale {scale} none: false request on day {day}: {evidence}")
        row = {"scale": scale, "frauds a day": round(float(champion.validation["label"].sum()) / 3, 1),
               "none days": stationary.judged_days, "false retrainings": len(stationary.requests),
               **{f"too little evidence ({name})": stationary.too_little[name] for name in CHECKS},
               # the tail's count from day to day: rows come in pairs (a transfer and its cash-out), events do not
               "tail rows mean/var": f"{np.mean(stationary.tail_rows):.1f}/{np.var(stationary.tail_rows, ddof=1):.1f}",
               "tail events mean/var": (f"{np.mean(stationary.tail_events):.1f}/"
                                        f"{np.var(stationary.tail_events, ddof=1):.1f}")}
        for scenario in SCENARIOS:
            drifted = SimulationSettings(scale=scale, num_days=DRIFT_START + args.drift_days, scenario=scenario,
                                         drift_start_day=DRIFT_START)
            result = judge_world(drifted, champion, DRIFT_START + args.drift_days - 1, level, count_from=DRIFT_START,
                                 stop_at_first=True)
            if result.requests:
                day, checks, evidence = result.requests[0]
                row[scenario] = f"day +{day - DRIFT_START} ({', '.join(checks)})"
                print(f"  scale {scale} {scenario}: detected on day {day}: {evidence}")
            else:
                row[scenario] = f"not in {args.drift_days} days"
        row["seconds"] = round(time.perf_counter() - started, 1)
        rows.append(row)
        print(pd.DataFrame([row]).to_string(index=False), flush=True)
    print(pd.DataFrame(rows).to_markdown(index=False))


if __name__ == "__main__":
    main()
