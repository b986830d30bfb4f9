"""Warehouse engines that take several writers at once, measured before choosing one (issue 13).

Today's warehouse is one DuckDB file: one writer process at a time. Candidates, each written to the way the
warehouse resource writes a day (`replace_day`: one transaction that deletes the day and inserts its rows) and read
the way the assets read (one day into pandas; a per-day aggregate over every day):

- `duckdb-file`: today's engine, the baseline (a DuckDB file in a temporary folder);
- `ducklake`: DuckDB with its DuckLake extension, the catalog in PostgreSQL and the Parquet files under a data path
  (a local folder here; object storage in a deployment);
- `postgres`: PostgreSQL tables, written and read through DuckDB's postgres extension (the same DuckDB SQL, so the
  resource's interface would not change).

Then two processes write disjoint days of the same table at the same time (two backfills): both must succeed; the
time of a day written while the other process writes is compared with one process alone (the wall time of the pair
also counts starting two Python processes and generating their rows).

The extensions come as PyPI wheels tied to one DuckDB version (1.5.5, which the project pins for them), so this runs in
the project's environment, with a PostgreSQL server and two databases its user owns (a throwaway cluster:
`python -m fraud_assets.cli.local_postgres start`, then `CREATE DATABASE lake; CREATE DATABASE wh;`):

    .venv/bin/python bench/bench_warehouse_engines.py \\
        --lake-url "postgresql://fraud:secret@127.0.0.1:55432/lake" \\
        --warehouse-url "postgresql://fraud:secret@127.0.0.1:55432/wh"

Rows are synthetic, in the PaySim schema with PaySim's sizes (205,000 a day at scale 1.0: strings for the type and the
two account ids, floats for amounts and balances, ints for step and labels).
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from fraud_assets.core.database import DatabaseUrl
from fraud_assets.core.warehouse_engine import load_lake_extensions, sql_literal

ROWS_PER_DAY_AT_SCALE_1 = 205_000
TABLE = "raw_transactions"
TYPES = np.array(["CASH_IN", "CASH_OUT", "DEBIT", "PAYMENT", "TRANSFER"], dtype=object)


def paysim_day(day: int, rows: int) -> pd.DataFrame:
    """Synthetic rows of one simulated day in the PaySim schema (deterministic per day)."""
    rng = np.random.default_rng(day)
    old_orig = np.round(rng.lognormal(9, 2, rows), 2)
    amount = np.round(rng.lognormal(9, 2, rows), 2)
    old_dest = np.round(rng.lognormal(10, 2, rows), 2)
    return pd.DataFrame({
        "day": np.full(rows, day, dtype=np.int32),
        "step": (day * 24 + rng.integers(0, 24, rows)).astype(np.int32),
        "type": TYPES[rng.integers(0, 5, rows)],
        "amount": amount,
        "nameOrig": np.char.add("C", rng.integers(10**8, 10**10, rows).astype(str)).astype(object),
        "oldbalanceOrg": old_orig,
        "newbalanceOrig": np.maximum(old_orig - amount, 0.0),
        "nameDest": np.char.add(np.where(rng.random(rows) < 0.3, "M", "C"),
                                rng.integers(10**8, 10**10, rows).astype(str)).astype(object),
        "oldbalanceDest": old_dest,
        "newbalanceDest": old_dest + amount,
        "isFraud": (rng.random(rows) < 0.0013).astype(np.int8),
    })


def connect(engine: str, args: argparse.Namespace, scratch: Path) -> tuple[duckdb.DuckDBPyConnection, str]:
    """A connection to `engine` and the qualified name of the table in it."""
    if engine == "duckdb-file":
        return duckdb.connect(str(scratch / "warehouse.duckdb")), TABLE
    connection = duckdb.connect()
    load_lake_extensions(connection)
    if engine == "ducklake":
        catalog = sql_literal("ducklake:postgres:" + DatabaseUrl.parse(args.lake_url).libpq_conninfo)
        connection.execute(f"ATTACH {catalog} AS lake (DATA_PATH '{scratch / 'lake_files'}/')")
        return connection, f"lake.{TABLE}"
    connection.execute(f"ATTACH {sql_literal(DatabaseUrl.parse(args.warehouse_url).libpq_conninfo)} AS wh "
                       "(TYPE postgres)")
    return connection, f"wh.{TABLE}"


def replace_day(connection: duckdb.DuckDBPyConnection, table: str, day: int, rows: pd.DataFrame) -> None:
    """The warehouse's way of writing a day: one transaction, the day deleted and its rows inserted."""
    connection.register("day_rows", rows)
    try:
        connection.execute("BEGIN")
        connection.execute(f"CREATE TABLE IF NOT EXISTS {table} AS SELECT * FROM day_rows LIMIT 0")
        connection.execute(f"DELETE FROM {table} WHERE day = ?", [day])
        connection.execute(f"INSERT INTO {table} SELECT * FROM day_rows")
        connection.execute("COMMIT")
    except BaseException:
        connection.execute("ROLLBACK")
        raise
    finally:
        connection.unregister("day_rows")


def drop_table(engine: str, args: argparse.Namespace, scratch: Path) -> None:
    connection, table = connect(engine, args, scratch)
    connection.execute(f"DROP TABLE IF EXISTS {table}")
    connection.close()


def write_days(engine: str, args: argparse.Namespace, scratch: Path, days: list[int]) -> dict:
    """Write `days` in one process; seconds per day (replace_day only, rows made beforehand) and conflicts."""
    connection, table = connect(engine, args, scratch)
    seconds, retries = [], 0
    for day in days:
        rows = paysim_day(day, args.rows_per_day)
        started = time.perf_counter()
        for attempt in range(args.retries + 1):
            try:
                replace_day(connection, table, day, rows)
                break
            except duckdb.Error as error:  # DuckLake reports a concurrent commit on the same table as a conflict
                if attempt == args.retries:
                    raise
                retries += 1
                print(f"  {engine} day {day}: retry after {type(error).__name__}: {str(error)[:160]}", flush=True)
        seconds.append(time.perf_counter() - started)
    connection.close()
    return {"seconds": seconds, "retries": retries}


def _writer(engine: str, args: argparse.Namespace, scratch: Path, days: list[int], queue) -> None:
    try:
        queue.put(("ok", write_days(engine, args, scratch, days)))
    except Exception as error:  # reported to the parent, which prints it
        queue.put(("error", f"{type(error).__name__}: {error}"))


def concurrent_writes(engine: str, args: argparse.Namespace, scratch: Path, first: list[int],
                      second: list[int]) -> dict:
    """Two processes writing disjoint days at once: wall seconds, each one's outcome."""
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    processes = [context.Process(target=_writer, args=(engine, args, scratch, days, queue)) for days in (first, second)]
    started = time.perf_counter()
    for process in processes:
        process.start()
    outcomes = [queue.get() for _ in processes]
    for process in processes:
        process.join()
    return {"wall": time.perf_counter() - started, "outcomes": outcomes}


def read_figures(engine: str, args: argparse.Namespace, scratch: Path, days: list[int]) -> dict:
    connection, table = connect(engine, args, scratch)
    day_reads = []
    for day in days:
        started = time.perf_counter()
        frame = connection.execute(f"SELECT * FROM {table} WHERE day = ?", [day]).df()
        day_reads.append(time.perf_counter() - started)
        assert len(frame) == args.rows_per_day, (engine, day, len(frame))
    started = time.perf_counter()
    per_day = connection.execute(
        f"SELECT day, count(*), sum(isFraud) FROM {table} GROUP BY day ORDER BY day").fetchall()
    aggregate = time.perf_counter() - started
    connection.close()
    return {"day_read": statistics.median(day_reads) if day_reads else float("nan"), "aggregate": aggregate,
            "days_stored": len(per_day), "rows_stored": sum(row[1] for row in per_day)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lake-url", required=True,
                        help="an empty PostgreSQL database for DuckLake's catalog (it remembers its data path)")
    parser.add_argument("--warehouse-url", required=True, help="PostgreSQL database for the postgres engine")
    parser.add_argument("--scale", type=float, default=1.0, help="1.0 = PaySim's 205,000 rows a day")
    parser.add_argument("--days", type=int, default=6, help="days written by one process, then by two at once")
    parser.add_argument("--retries", type=int, default=3, help="retries of a day whose commit conflicted")
    parser.add_argument("--engines", default="duckdb-file,ducklake,postgres")
    args = parser.parse_args()
    args.rows_per_day = int(ROWS_PER_DAY_AT_SCALE_1 * args.scale)

    print(f"duckdb {duckdb.__version__}; python {platform.python_version()}; {os.cpu_count()} CPUs; "
          f"load average {os.getloadavg()[0]:.2f}; {args.rows_per_day:,} rows a day")
    with tempfile.TemporaryDirectory(prefix="bench_engines_") as scratch_name:
        scratch = Path(scratch_name)
        (scratch / "lake_files").mkdir()
        for engine in args.engines.split(","):
            drop_table(engine, args, scratch)
            sequential = write_days(engine, args, scratch, list(range(args.days)))
            rewrite = write_days(engine, args, scratch, [0, 1])  # the same days again: delete + insert
            reads = read_figures(engine, args, scratch, list(range(args.days)))
            if engine == "duckdb-file":
                together = {"wall": float("nan"), "outcomes": [("skipped", "one writer process at a time")]}
            else:
                days = list(range(args.days, 3 * args.days))
                together = concurrent_writes(engine, args, scratch, days[0::2], days[1::2])
            after = read_figures(engine, args, scratch, []) if engine != "duckdb-file" else reads
            print(f"\n{engine}: write a new day {statistics.median(sequential['seconds']):.2f} s (median of "
                  f"{args.days}), rewrite a day {statistics.median(rewrite['seconds']):.2f} s, read a day "
                  f"{reads['day_read']:.2f} s, per-day aggregate over {reads['days_stored']} days "
                  f"{reads['aggregate']:.3f} s")
            if engine != "duckdb-file":
                one_process = statistics.median(sequential["seconds"]) * 2 * args.days
                outcomes = [status if status != "ok" else f"ok, {len(outcome['seconds'])} days, {outcome['retries']} "
                            f"retries" for status, outcome in together["outcomes"]]
                failures = [outcome for status, outcome in together["outcomes"] if status != "ok"]
                concurrent_days = [seconds for status, outcome in together["outcomes"] if status == "ok"
                                   for seconds in outcome["seconds"]]
                if concurrent_days:
                    print(f"  a day written while the other process writes too: "
                          f"{statistics.median(concurrent_days):.2f} s (median of {len(concurrent_days)})")
                print(f"  two processes x {args.days} days at once: {together['wall']:.1f} s wall (one process, "
                      f"from its per-day median: {one_process:.1f} s); outcomes: {outcomes} {failures}; "
                      f"stored afterwards: {after['days_stored']} days, {after['rows_stored']:,} rows "
                      f"(expected {3 * args.days} days, {3 * args.days * args.rows_per_day:,})")
        for engine in args.engines.split(","):
            drop_table(engine, args, scratch)


if __name__ == "__main__":
    main()
