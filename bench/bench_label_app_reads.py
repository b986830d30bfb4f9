"""The label app's reads after a year of running: a request reads the review window, not the deployment's age.

Run by hand, never by CI. Fills a temporary data folder like a year at scale 0.1 and times the real
`label_app.review_service.ReviewService` (what the Gradio app calls; no HTTP) opening the queue, a case and the
history page:

    .venv/bin/python bench/bench_label_app_reads.py                          # the year: ~10 min on 2 cores
    .venv/bin/python bench/bench_label_app_reads.py --decisions 1000000 --label-events 100000 --repeats 5  # smoke

What it stores:
- `--days` export days (review: `--alerts-per-day` alerts plus `--missed-per-day` missed frauds; summary: one row);
- `--label-events` label events in labels.sqlite: one or two for every exported case, the rest on transactions of
  the full-scale stream (ids not exported here) spread over the year, so the store is as big as a year's;
- `--decisions` logged decisions in decisions.sqlite, `--alert-rate` of them alerts, decided_at spread evenly over
  the `--days` days up to now (the service's ISO 8601 UTC format), inserted in the order the service writes them.
Both stores are written with executemany in big transactions through the project's own connections (schema and
indexes included). Prints the median, min and max of each read over `--repeats`, after one cold call each.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from contextlib import closing
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pandas as pd

PROJECT_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_ROOT))

from fraud_assets.core.decision_log import DECISION_COLUMNS, connect_decision_log  # noqa: E402
from fraud_assets.core.label_store import connect_label_store  # noqa: E402
from fraud_assets.core.review_export import (  # noqa: E402
    REVIEW_COLUMNS,
    SUMMARY_COLUMNS,
    day_file,
    write_parquet_atomically,
)
from label_app.review_service import ReviewService  # noqa: E402
from label_app.settings import LabelAppSettings  # noqa: E402

INSERT_ROWS = 500_000  # rows per executemany transaction
LABEL_DELAY_DAYS = 7
REASONS = json.dumps([{"feature": "drains_origin", "value": 1.0, "contribution": 2.5,
                       "description": "The amount is exactly the paying account's whole balance."}])


def write_exports(exports: Path, days: int, alerts: int, missed: int, rng: np.random.Generator) -> list[str]:
    """The review and summary files of `days` days; returns the exported transaction ids."""
    ids = []
    for day in range(days):
        n = alerts + missed
        is_alert = np.arange(n) < alerts
        scores = np.where(is_alert, rng.uniform(0.5, 1.0, n), rng.uniform(0.0, 0.5, n))
        amount = rng.lognormal(10, 1, n).round(2)
        transaction_ids = [f"x{day:04d}{index:04d}" for index in range(n)]
        ids += transaction_ids
        review = pd.DataFrame({
            "transaction_id": transaction_ids, "day": np.int32(day), "step": day * 24 + 5,
            "event_ts": pd.Timestamp("2025-01-01") + pd.Timedelta(days=day), "type": np.where(
                rng.random(n) < 0.5, "TRANSFER", "CASH_OUT"), "amount": amount, "nameOrig": "C1",
            "oldbalanceOrg": amount, "newbalanceOrig": 0.0, "nameDest": "C2", "oldbalanceDest": 0.0,
            "newbalanceDest": 0.0, "score": scores, "is_alert": is_alert, "threshold": 0.5,
            "model_version": f"v{1 + day // 30}", "scored_at": pd.Timestamp("2025-01-01") + pd.Timedelta(days=day),
            "reasons": np.where(is_alert, REASONS, ""), "isFraud": (rng.random(n) < 0.3) | ~is_alert,
            "label_matures_on_day": np.int32(day + LABEL_DELAY_DAYS),
        })[REVIEW_COLUMNS].astype({"isFraud": "int8"})
        bins = rng.multinomial(63_000, np.full(20, 1 / 20)).tolist()
        summary = pd.DataFrame([[day, f"v{1 + day // 30}", 0.5, 63_000, alerts, alerts, *bins]],
                               columns=SUMMARY_COLUMNS)
        write_parquet_atomically(review, day_file(exports, "review", day))
        write_parquet_atomically(summary, day_file(exports, "summary", day))
    return ids


def fill_label_events(path: Path, exported_ids: list[str], total: int, days: int, rng: np.random.Generator) -> None:
    """`total` label events: one or two per exported case, the rest on the year's other transactions."""
    start = datetime.now(timezone.utc) - timedelta(days=days)
    with closing(connect_label_store(path)) as connection:
        connection.execute("PRAGMA synchronous=OFF")
        written = 0
        reviewers = [f"analyst{index:02d}" for index in range(20)]

        def rows(count: int, offset: int):
            for index in range(count):
                number = offset + index
                if number < 2 * len(exported_ids):
                    transaction_id = exported_ids[number % len(exported_ids)]
                else:
                    transaction_id = f"y{number:08d}"
                moment = start + timedelta(seconds=number * days * 86_400 / total)
                yield (transaction_id, number % 2, None, reviewers[number % len(reviewers)], "",
                       moment.isoformat(timespec="milliseconds"))

        while written < total:
            count = min(INSERT_ROWS, total - written)
            connection.execute("BEGIN")
            connection.executemany("INSERT INTO label_events (transaction_id, label, previous_label, reviewer, note, "
                                   "labeled_at) VALUES (?, ?, ?, ?, ?, ?)", rows(count, written))
            connection.execute("COMMIT")
            written += count


def fill_decisions(path: Path, total: int, alert_rate: float, days: int, rng: np.random.Generator) -> int:
    """`total` decisions over `days` days up to now, `alert_rate` of them alerts; returns the alerts written."""
    now = datetime.now(timezone.utc)
    start = now - timedelta(days=days)
    seconds_per_row = days * 86_400 / total
    alerts = 0
    placeholders = ", ".join("?" * len(DECISION_COLUMNS))
    with closing(connect_decision_log(path)) as connection:
        connection.execute("PRAGMA synchronous=OFF")
        written = 0
        while written < total:
            count = min(INSERT_ROWS, total - written)
            is_alert = rng.random(count) < alert_rate
            scores = np.where(is_alert, rng.uniform(0.5, 1.0, count), rng.uniform(0.0, 0.5, count))
            alerts += int(is_alert.sum())
            rows = []
            for index in range(count):
                number = written + index
                day = int(number * days / total)
                decided_at = (start + timedelta(seconds=number * seconds_per_row)).isoformat(timespec="milliseconds")
                transaction = (f'{{"step": {day * 24 + 7}, "type": "TRANSFER", "amount": {1000 + number % 997}.0, '
                               f'"nameOrig": "C{number % 100_000}", "nameDest": "C{number % 77_777}"}}')
                rows.append((f"r{number // 8:09d}", number % 8, f"o{number:09d}", decided_at, f"v{1 + day // 30}",
                             float(scores[index]), int(is_alert[index]), 0.5, transaction,
                             REASONS if is_alert[index] else "[]"))
            connection.execute("BEGIN")
            connection.executemany(f"INSERT INTO decisions ({', '.join(DECISION_COLUMNS)}) VALUES ({placeholders})",
                                   rows)
            connection.execute("COMMIT")
            written += count
    return alerts


def timed(call, repeats: int) -> dict:
    """One cold call, then `repeats` timed calls: their median, min and max in ms."""
    started = time.perf_counter()
    call()
    cold = (time.perf_counter() - started) * 1000
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    return {"cold_ms": cold, "median_ms": statistics.median(times), "min_ms": min(times), "max_ms": max(times)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--alerts-per-day", type=int, default=60)
    parser.add_argument("--missed-per-day", type=int, default=4)
    parser.add_argument("--label-events", type=int, default=1_000_000)
    parser.add_argument("--decisions", type=int, default=10_000_000)
    parser.add_argument("--alert-rate", type=float, default=0.003)
    parser.add_argument("--window", type=int, default=30, help="review window in days (FRAUD_REVIEW_WINDOW_DAYS)")
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--data-dir", type=Path, default=None, help="fill here and keep it (default: a temporary "
                        "folder, removed at the end); an existing filled folder is reused as it is")
    arguments = parser.parse_args()
    rng = np.random.default_rng(7)
    data = arguments.data_dir or Path(tempfile.mkdtemp(prefix="bench_label_app_"))
    exports, labels, decisions = data / "exports", data / "labels.sqlite", data / "decisions.sqlite"
    try:
        if not (data / "filled").exists():
            started = time.perf_counter()
            exported = write_exports(exports, arguments.days, arguments.alerts_per_day, arguments.missed_per_day, rng)
            print(f"exports: {arguments.days} days, {len(exported):,} cases in "
                  f"{time.perf_counter() - started:.1f} s", flush=True)
            started = time.perf_counter()
            fill_label_events(labels, exported, arguments.label_events, arguments.days, rng)
            print(f"label events: {arguments.label_events:,} in {time.perf_counter() - started:.1f} s", flush=True)
            started = time.perf_counter()
            alerts = fill_decisions(decisions, arguments.decisions, arguments.alert_rate, arguments.days, rng)
            print(f"decisions: {arguments.decisions:,} ({alerts:,} alerts) in {time.perf_counter() - started:.1f} s",
                  flush=True)
            (data / "filled").write_text("")
        with sqlite3.connect(decisions) as connection:
            cutoff = (datetime.now(timezone.utc) - timedelta(days=arguments.window)).isoformat(timespec="milliseconds")
            window_alerts = connection.execute("SELECT count(*) FROM decisions WHERE is_alert = 1 AND decided_at >= ?",
                                               (cutoff,)).fetchone()[0]
        service = ReviewService(LabelAppSettings(exports_dir=exports, label_store=labels, decision_log=decisions,
                                                 review_window_days=arguments.window))
        snapshot = service.snapshot()
        print(f"window {arguments.window} days: today {snapshot.today}, {len(snapshot.cases):,} cases "
              f"({window_alerts:,} online alerts), {len(snapshot.events):,} of the store's label events read",
              flush=True)
        case_id = service.queue(limit=1)["alerts"][0]["transaction_id"]
        reads = {
            "queue (50 alerts)": lambda: service.queue(limit=50),
            f"case {case_id}": lambda: service.case(case_id),
            "history page 1 (100 events)": lambda: service.history(limit=100),
            "history page 50 (100 events)": lambda: service.history(limit=100, page=50),
            "history of one reviewer, page 2": lambda: service.history(reviewer="analyst03", limit=100, page=2),
            "daily stats": service.daily_stats,
        }
        print(f"\n{'read':<34} {'cold ms':>9} {'median ms':>10} {'min ms':>8} {'max ms':>8}"
              f"  ({arguments.repeats} runs)")
        for name, call in reads.items():
            result = timed(call, arguments.repeats)
            print(f"{name:<34} {result['cold_ms']:9.1f} {result['median_ms']:10.1f} {result['min_ms']:8.1f} "
                  f"{result['max_ms']:8.1f}", flush=True)
    finally:
        if arguments.data_dir is None:
            shutil.rmtree(data, ignore_errors=True)


if __name__ == "__main__":
    main()
