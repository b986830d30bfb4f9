"""The scoring service on the team deployment (champion and decision log in PostgreSQL) against the embedded one
(BentoML store, SQLite decision log), same champion, same requests (issue 14).

Run by hand, never by CI; it starts its own throwaway PostgreSQL cluster (fraud_assets.cli.local_postgres, as the
postgres user when root) in a temporary folder and stops it at the end:

    .venv/bin/python bench/bench_team_online.py                 # ~6 min on 2 cores
    .venv/bin/python bench/bench_team_online.py --repeats 1 --paced-seconds 5    # smoke test

For each repeat, one `bentoml serve` (one worker) embedded, then one on the team deployment (its own data folder, the
champion published to `fraud_online.champion_promotions`), each measured the same way:
1. single transactions (POST /score) paced at `--rate` requests/s for `--paced-seconds`: latency percentiles from
   each request's scheduled start, and the server's CPU ms per request (bench_service.py's phases);
2. `--batch-requests` sequential batches of 1,000 transactions (POST /predict): median latency, server CPU per batch;
3. after a graceful stop, the decisions in the store against the decisions answered (every one must be there once).
The decision log's writes happen off the request path, in the worker's writer thread; what they cost the requests is
the interpreter lock they hold while they build and send the rows. Quote the medians and the team/embedded ratios.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import sqlite3
import statistics
import sys
import tempfile
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_ingest import machine_description, print_table  # noqa: E402
from bench_service import (  # noqa: E402
    batches,
    free_port,
    measured,
    paced,
    request_rows,
    start_server,
    stop_server,
    train_bench_champion,
    wait_ready,
)
from bench_team_deployment import fresh_database  # noqa: E402

from fraud_assets.cli.local_postgres import blocking_ancestor, start_cluster, stop_cluster  # noqa: E402


def publish_bench_champion(home: Path, database_url: str) -> None:
    """Publish the store's champion to the team database, as a promotion does."""
    from fraud_assets.core.database import DatabaseUrl
    from fraud_assets.core.served_models import MODEL_NAME, load_served_model, publish_champion

    champion = load_served_model(home, MODEL_NAME)
    publish_champion(DatabaseUrl.parse(database_url), MODEL_NAME, champion.booster, champion.card,
                     champion.reference_sample)


def stored_decisions(data_dir: Path, database_url: str | None) -> tuple[int, int]:
    """(decisions, distinct (request id, position)) in the decision log the server wrote."""
    sql = "SELECT count(*), count(DISTINCT (request_id, item_index)) FROM {table}"
    if database_url is None:
        with sqlite3.connect(data_dir / "decisions.sqlite") as connection:
            total = connection.execute("SELECT count(*) FROM decisions").fetchone()[0]
            distinct = connection.execute(
                "SELECT count(*) FROM (SELECT DISTINCT request_id, item_index FROM decisions)").fetchone()[0]
        return total, distinct
    import psycopg2

    with psycopg2.connect(database_url) as connection, connection.cursor() as cursor:
        cursor.execute(sql.format(table="fraud_online.decisions"))
        total, distinct = cursor.fetchone()
    connection.close()
    return int(total), int(distinct)


def measure_server(mode: str, home: Path, data_dir: Path, database_url: str | None, singles: list[bytes],
                   batch_payloads: list[bytes], args: argparse.Namespace) -> dict:
    """One server's phases; the decisions it answered and stored."""
    if database_url:
        os.environ["FRAUD_DATABASE_URL"] = database_url
    else:
        os.environ.pop("FRAUD_DATABASE_URL", None)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    data_dir.mkdir(parents=True)
    server = start_server(home, data_dir, port, 1, data_dir / "serve.log")
    try:
        figures = {"startup_s": wait_ready(url, server, timeout=180)}
        warm_up = asyncio.run(paced(f"{url}/score", singles, 50, 2))
        figures["single"] = measured(server, paced(f"{url}/score", singles, args.rate, args.paced_seconds))
        figures["batch"] = measured(server, batches(f"{url}/predict", batch_payloads, args.batch_requests, 1_000))
    finally:
        stop_server(server)
    figures["answered"] = sum(phase["requests"] - phase["errors"] for phase in (warm_up, figures["single"])) + \
        1_000 * (figures["batch"]["requests"] - figures["batch"]["errors"])
    figures["stored"], figures["distinct"] = stored_decisions(data_dir, database_url)
    print(f"{mode}: {json.dumps(figures)}", flush=True)
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--paced-seconds", type=float, default=20.0)
    parser.add_argument("--batch-requests", type=int, default=40)
    args = parser.parse_args()
    print("\n".join(machine_description()))
    for name in [name for name in os.environ if name.startswith("FRAUD_")]:
        del os.environ[name]
    from fraud_assets.simulation import SimulationSettings, simulate_days

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # `kill` stops the cluster too (the finally below)
    scratch = Path(tempfile.mkdtemp(prefix="bench_team_online_"))
    scratch.chmod(0o755)  # the postgres OS user enters it when we are root
    assert blocking_ancestor(scratch / "cluster") is None, f"the postgres user cannot reach {scratch}"
    cluster = start_cluster(scratch / "cluster")
    results: dict[str, list[dict]] = {"embedded": [], "team": []}
    try:
        home = scratch / "bentoml"
        train_bench_champion(home)
        day = simulate_days(20, 20, SimulationSettings(seed=99, scale=0.1))
        rows = request_rows(day)
        singles = [json.dumps({"transactions": [row]}).encode() for row in rows[:5000]]
        batch_payloads = [json.dumps({"transactions": rows[start:start + 1_000]}).encode()
                          for start in range(0, 10_000, 1_000)]
        for repeat in range(args.repeats):
            results["embedded"].append(measure_server("embedded", home, scratch / f"embedded_{repeat}", None,
                                                      singles, batch_payloads, args))
            # A database of its own per repeat: this process creates a store's tables once per URL (online_db).
            url = fresh_database(cluster, f"bench_online_{repeat}")
            publish_bench_champion(home, url)
            # The replica's own folder: an empty BentoML home, so the champion can only come from the database.
            results["team"].append(measure_server("team", scratch / f"team_home_{repeat}", scratch / f"team_{repeat}",
                                                  url, singles, batch_payloads, args))
    finally:
        stop_cluster(scratch / "cluster")
        shutil.rmtree(scratch, ignore_errors=True)
    report(results)
    return 0


def report(results: dict[str, list[dict]]) -> None:
    def median(mode: str, phase: str, key: str) -> float:
        return statistics.median(run[phase][key] for run in results[mode])

    rows = []
    for phase, key, label in [("single", "p50_ms", "/score p50 ms"), ("single", "p99_ms", "/score p99 ms"),
                              ("single", "server_cpu_ms_per_request", "/score server CPU ms per request"),
                              ("batch", "median_ms", "/predict 1,000 rows, median ms"),
                              ("batch", "server_cpu_ms_per_request", "/predict 1,000 rows, server CPU ms")]:
        embedded, team = median("embedded", phase, key), median("team", phase, key)
        rows.append([label, f"{embedded:.2f}", f"{team:.2f}", f"{team / embedded:.2f}x"])
    print()
    print_table(["figure (median of runs)", "embedded", "team", "team / embedded"], rows)
    for mode, runs in results.items():
        print(f"{mode}: errors {sum(run['single']['errors'] + run['batch']['errors'] for run in runs)}; decisions "
              f"answered {[run['answered'] for run in runs]}, stored {[run['stored'] for run in runs]}, distinct "
              f"{[run['distinct'] for run in runs]}")
    print("BENCH_RESULT " + json.dumps(results))


if __name__ == "__main__":
    sys.exit(main())
