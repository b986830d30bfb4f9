"""Benchmark of the BentoML service over loopback HTTP, against in-process XGBoost on the same rows.

Run by hand, never by CI (bounded: at most a few thousand requests per phase and a time limit on each):

    .venv/bin/python bench/bench_service.py                      # ~3 min: trains a bench champion, then measures
    .venv/bin/python bench/bench_service.py --workers 2 --rate 400    # FRAUD_SERVICE_WORKERS=2 at 400 requests/s
    .venv/bin/python bench/bench_service.py --bentoml-home data/bentoml   # the champion promoted by `make run`

It starts `bentoml serve bento.service:FraudScoring` on 127.0.0.1 (a free port, FRAUD_SERVICE_WORKERS=--workers),
with a temporary data folder (the decision log is on, as in production), waits for /readyz, warms up, then measures:

1. GET /livez paced at `--rate` requests/s: BentoML's own per-request path (uvicorn, Starlette, its middlewares)
   with no work behind it, the floor every endpoint pays;
2. single transactions (POST /score, a list of one) paced at `--rate` requests/s (open loop, `--paced-seconds`), on
   the freshly started server: latency from each request's scheduled start (so a stalled server cannot hide its
   queue), errors;
3. a burst: single transactions from `--concurrency` concurrent clients, closed loop, `--requests` requests;
4. the paced phase again, after the burst;
5. the same three phases on POST /score/batched (BentoML's adaptive batching): what batching buys under the burst,
   and what it costs before and after it;
6. batches of `--batch-size` transactions (POST /predict), `--batch-requests` sequential requests: median latency
   and rows/s;
7. in the same run, in this process: `booster.inplace_predict` on the same rows' precomputed features (the
   ceiling), and build_features + inplace_predict, per batch of `--batch-size` rows, with one XGBoost thread;
8. where the server's CPU goes: each step of a request (validation, decide, response, the decision log's rows and
   inserts) replayed in this process on the same payloads; the rest of the measured server CPU is BentoML's path.
Every HTTP phase also reports the server's CPU milliseconds per request (its process tree, through psutil), a figure
that depends much less than latency on what else the machine runs.

Targets (the issue, on a 2-core machine, one worker at 200 requests/s or two at 400): single-transaction p99 of
20 ms or less (50 ms with two workers at 400/s) on a fresh server and after the burst, without errors; 2 ms of server
CPU or less per single transaction; batches of 1,000: median 20 ms or less, 20 ms of server CPU or less, and at least
40% of the in-process build_features + inplace_predict throughput.

The client is aiohttp in one process on the same machine: it takes CPU from the server, as a co-located load
balancer would. Without --bentoml-home a champion of the pipeline's shape is trained (200 trees of depth 6, like
bench_model.py's fixed booster), with its threshold set for about 1% alerts, so that explanations are part of the cost.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
if str(PROJECT_ROOT) not in sys.path:
    sys.path.insert(0, str(PROJECT_ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from bench_ingest import machine_description, print_table  # noqa: E402

REQUEST_COLUMNS = ["step", "type", "amount", "nameOrig", "oldbalanceOrg", "newbalanceOrig", "nameDest",
                   "oldbalanceDest", "newbalanceDest"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def train_bench_champion(home: Path) -> None:
    """Save a champion of the pipeline's shape in `home`: 200 trees of depth 6 (the project's parameters, no early
    stopping, as bench_model.py's fixed booster) trained on 6 simulated days, threshold for about 1% alerts."""
    import xgboost as xgb

    from fraud_assets.core.model_card import ModelCard
    from fraud_assets.core.served_models import save_served_model
    from fraud_assets.ml.features import FEATURE_COLUMNS, build_features
    from fraud_assets.simulation import SimulationSettings, simulate_days

    days = simulate_days(0, 5, SimulationSettings(seed=5, scale=0.05))
    features = build_features(days)
    labels = days["isFraud"].to_numpy()
    params = {"objective": "binary:logistic", "tree_method": "hist", "max_depth": 6, "eta": 0.1, "subsample": 0.9,
              "colsample_bytree": 0.9, "nthread": 2, "seed": 1,
              "scale_pos_weight": float((len(labels) - labels.sum()) / max(labels.sum(), 1))}
    started = time.perf_counter()
    booster = xgb.train(params, xgb.QuantileDMatrix(features, label=labels, nthread=2), num_boost_round=200)
    threshold = float(np.quantile(booster.inplace_predict(features), 0.99))
    print(f"bench champion: 200 trees of depth 6 trained on {len(days):,} rows in "
          f"{time.perf_counter() - started:.1f} s; threshold {threshold:.4f} (about 1% alerts)")
    # The service needs the threshold and the feature columns; a bench model has no validation days: the rest are
    # placeholders.
    card = ModelCard(threshold=threshold, threshold_strategy="bench", expected_precision=0.0, expected_recall=0.0,
                     expected_alerts_per_day=0.0, alert_budget_per_day=0.0,
                     high_score_level=threshold, alerts_per_1000_transactions=10.0,
                     feature_columns=list(FEATURE_COLUMNS),
                     training_window={"first_train_day": 0, "last_train_day": 5}, label_delay_days=0, metrics={},
                     n_analyst_labels=0, best_iteration=199, version="bench", promoted_at="bench",
                     mlflow_run_id="bench")
    save_served_model(home, "fraud_model", booster, card, features.sample(1000, random_state=0))


def request_rows(frame: pd.DataFrame) -> list[dict]:
    return [{column: (value.item() if hasattr(value, "item") else value) for column, value in row.items()}
            for row in frame[REQUEST_COLUMNS].to_dict(orient="records")]


def start_server(home: Path, data_dir: Path, port: int, workers: int, log_path: Path) -> subprocess.Popen:
    env = {**os.environ, "BENTOML_HOME": str(home), "FRAUD_DATA_DIR": str(data_dir), "BENTOML_DO_NOT_TRACK": "True",
           "FRAUD_SERVICE_WORKERS": str(workers)}
    bentoml = Path(sys.executable).with_name("bentoml")
    return subprocess.Popen(
        [str(bentoml), "serve", "bento.service:FraudScoring", "--host", "127.0.0.1", "--port", str(port)],
        cwd=PROJECT_ROOT, env=env, stdout=log_path.open("w"), stderr=subprocess.STDOUT)


def wait_ready(url: str, server: subprocess.Popen, timeout: float) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if server.poll() is not None:
            raise RuntimeError(f"bentoml serve exited with code {server.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/readyz", timeout=2) as response:
                if response.status == 200:
                    return time.monotonic() - started
        except OSError:
            pass
        time.sleep(0.25)
    raise TimeoutError(f"{url}/readyz not ready after {timeout} s")


def stop_server(server: subprocess.Popen) -> None:
    """SIGINT (bentoml serve stops its workers gracefully); after 30 s, SIGKILL to it and every process under it."""
    from fraud_assets.core.processes import kill_processes, process_tree

    if server.poll() is None:
        processes = process_tree(server.pid)  # before the SIGINT: workers orphaned by the parent leave its tree
        os.kill(server.pid, signal.SIGINT)
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            kill_processes(processes)
            server.wait(10)


def server_cpu_seconds(server: subprocess.Popen) -> float:
    """User + system CPU seconds used so far by `bentoml serve` and its workers."""
    import psutil

    total = 0.0
    root = psutil.Process(server.pid)
    for process in [root, *root.children(recursive=True)]:
        try:
            times = process.cpu_times()
            total += times.user + times.system
        except psutil.NoSuchProcess:
            pass
    return total


def measured(server: subprocess.Popen, phase) -> dict:
    """Run a phase (a coroutine) and add the server's CPU milliseconds per request to its figures: a figure that,
    unlike latency, does not depend on what else the machine runs."""
    before = server_cpu_seconds(server)
    figures = asyncio.run(phase)
    figures["server_cpu_ms_per_request"] = (server_cpu_seconds(server) - before) * 1000 / figures["requests"]
    return figures


def worker_memory_mb(server: subprocess.Popen) -> list[float]:
    """Resident memory of each service worker (the processes of the server tree that loaded the model)."""
    import psutil

    processes = psutil.Process(server.pid).children(recursive=True)
    return sorted(process.memory_info().rss / 1e6 for process in processes
                  if "_bentoml_impl.worker" in " ".join(process.cmdline()))


def percentiles(latencies: list[float]) -> dict[str, float]:
    if not latencies:
        return {"p50_ms": float("nan"), "p95_ms": float("nan"), "p99_ms": float("nan"), "max_ms": float("nan")}
    values = np.asarray(latencies) * 1000
    return {"p50_ms": float(np.percentile(values, 50)), "p95_ms": float(np.percentile(values, 95)),
            "p99_ms": float(np.percentile(values, 99)), "max_ms": float(values.max())}


async def post(session, url: str, payload: bytes | None) -> bool:
    """POST `payload` as JSON (GET without a payload); True on a 200."""
    if payload is None:
        request = session.get(url)
    else:
        request = session.post(url, data=payload, headers={"content-type": "application/json"})
    async with request as response:
        await response.read()
        return response.status == 200


async def closed_loop(url: str, payloads: list[bytes], concurrency: int, total: int, time_limit: float) -> dict:
    import aiohttp

    latencies: list[float] = []
    errors = 0
    issued = 0
    deadline = time.monotonic() + time_limit

    async def client(session) -> None:
        nonlocal issued, errors
        while issued < total and time.monotonic() < deadline:
            payload = payloads[issued % len(payloads)]
            issued += 1
            started = time.perf_counter()
            try:
                ok = await post(session, url, payload)
            except (OSError, TimeoutError, aiohttp.ClientError):
                ok = False
            latencies.append(time.perf_counter() - started)
            errors += not ok

    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:
        started = time.perf_counter()
        await asyncio.gather(*(client(session) for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    return {"requests": len(latencies), "errors": errors, "seconds": elapsed,
            "throughput_rps": len(latencies) / elapsed, **percentiles(latencies)}


async def paced(url: str, payloads: list[bytes | None], rate: float, seconds: float) -> dict:
    import aiohttp

    total = int(rate * seconds)
    latencies: list[float] = []
    errors = 0

    async def one(index: int, scheduled: float, session) -> None:
        nonlocal errors
        try:
            ok = await post(session, url, payloads[index % len(payloads)])
        except (OSError, TimeoutError, aiohttp.ClientError):
            ok = False
        latencies.append(time.perf_counter() - scheduled)
        errors += not ok

    connector = aiohttp.TCPConnector(limit=256)
    async with aiohttp.ClientSession(connector=connector) as session:
        tasks = []
        start = time.perf_counter() + 0.1
        for index in range(total):
            scheduled = start + index / rate
            delay = scheduled - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(index, scheduled, session)))
        await asyncio.gather(*tasks)
        elapsed = time.perf_counter() - start
    return {"requests": len(latencies), "errors": errors, "seconds": elapsed,
            "achieved_rps": len(latencies) / elapsed, **percentiles(latencies)}


async def batches(url: str, payloads: list[bytes], count: int, rows_per_batch: int) -> dict:
    import aiohttp

    latencies: list[float] = []
    errors = 0
    async with aiohttp.ClientSession() as session:
        for index in range(count):
            started = time.perf_counter()
            ok = await post(session, url, payloads[index % len(payloads)])
            latencies.append(time.perf_counter() - started)
            errors += not ok
    median = statistics.median(latencies)
    return {"requests": count, "errors": errors, "median_ms": median * 1000, **percentiles(latencies),
            "rows_per_s": rows_per_batch / median}


SERVICE_PARTS = ("validate", "decide", "respond", "log rows", "log insert")


def service_path_breakdown(home: Path, payloads: list[bytes], scratch: Path, repeats: int,
                           requests_per_flush: int) -> dict[str, float]:
    """Median CPU milliseconds of each step the service runs for a request, replayed in this process on `payloads`:
    the request's validation (the pydantic model BentoML validates the body with), `decide` (features, the model,
    reasons for alerts), the response (orjson), and the decision log's two steps (building its rows, inserting
    them into SQLite), which the service runs in its writer thread, here one insert per `requests_per_flush`
    requests as the writer groups them (0.5 s of traffic, or 5,000 rows). The rest of a request's server CPU is
    BentoML's HTTP path, measured on its own by the bare GET /livez phase."""
    import orjson
    from pydantic import BaseModel

    from bento.contract import Transaction
    from bento.decisions import BOOSTER_THREADS, decide
    from fraud_assets.core.decision_log import connect_decision_log, insert_decisions
    from fraud_assets.core.served_models import load_served_model

    class ScoringInput(BaseModel):  # what BentoML builds from the endpoint's signature
        transactions: list[Transaction]

    champion = load_served_model(home, "fraud_model")
    champion.booster.set_param({"nthread": BOOSTER_THREADS})
    connection = connect_decision_log(scratch / f"breakdown_{len(payloads[0])}.sqlite")
    timings: dict[str, list[float]] = {part: [] for part in SERVICE_PARTS}

    def timed(part: str, step):
        started = time.process_time()
        result = step()
        timings[part].append(time.process_time() - started)
        return result

    pending: list[tuple] = []
    try:
        for _ in range(repeats):
            for index, payload in enumerate(payloads, start=1):
                transactions = timed("validate", lambda: ScoringInput.model_validate_json(payload).transactions)
                decisions, batch = timed("decide", lambda: decide(champion, transactions))
                timed("respond", lambda: orjson.dumps(decisions))
                pending += timed("log rows", batch.rows)
                if index % requests_per_flush == 0:
                    timed("log insert", lambda: insert_decisions(connection, pending))
                    timings["log insert"][-1] /= requests_per_flush
                    pending = []
    finally:
        connection.close()
    return {part: statistics.median(values) * 1000 for part, values in timings.items()}


def in_process_ceiling(home: Path, frames: list[pd.DataFrame], repeats: int) -> dict:
    """Per `--batch-size` batch, in this process, with one XGBoost thread as in the service: `inplace_predict` on the
    rows' precomputed features (the ceiling), and build_features + inplace_predict; wall and CPU milliseconds."""
    from fraud_assets.core.served_models import load_served_model
    from fraud_assets.ml.features import build_features

    booster = load_served_model(home, "fraud_model").booster
    booster.set_param({"nthread": 1})
    matrices = [np.ascontiguousarray(build_features(frame).to_numpy()) for frame in frames]
    timings: dict[str, list[tuple[float, float]]] = {"predict": [], "features_and_predict": []}
    for _ in range(repeats):
        for frame, matrix in zip(frames, matrices):
            calls = {"predict": lambda matrix=matrix: booster.inplace_predict(matrix),
                     "features_and_predict": lambda frame=frame: booster.inplace_predict(build_features(frame))}
            for name, call in calls.items():
                wall, cpu = time.perf_counter(), time.process_time()
                call()
                timings[name].append((time.perf_counter() - wall, time.process_time() - cpu))
    rows = len(frames[0])
    figures: dict[str, float] = {"trees": booster.num_boosted_rounds()}
    for name, pairs in timings.items():
        wall = statistics.median(pair[0] for pair in pairs)
        figures[f"{name}_ms"] = wall * 1000
        figures[f"{name}_cpu_ms"] = statistics.median(pair[1] for pair in pairs) * 1000
        figures[f"{name}_rows_per_s"] = rows / wall
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bentoml-home", type=Path, help="serve this store's champion instead of a bench one")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--requests", type=int, default=5000)
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--paced-seconds", type=float, default=15.0)
    parser.add_argument("--batch-size", type=int, default=1000)
    parser.add_argument("--batch-requests", type=int, default=50)
    parser.add_argument("--time-limit", type=float, default=90.0, help="seconds per closed-loop phase")
    parser.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    args = parser.parse_args()

    from fraud_assets.simulation import SimulationSettings, simulate_days

    print("\n".join(machine_description()))
    with tempfile.TemporaryDirectory(prefix="bench_service_") as scratch_name:
        scratch = Path(scratch_name)
        home = args.bentoml_home
        if home is None:
            home = scratch / "bentoml"
            train_bench_champion(home)
        day = simulate_days(20, 20, SimulationSettings(seed=99, scale=0.1))
        rows = request_rows(day)
        singles = [json.dumps({"transactions": [row]}).encode() for row in rows[:5000]]
        batch_frames = [day.iloc[start:start + args.batch_size].reset_index(drop=True)
                        for start in range(0, len(day) - args.batch_size + 1, args.batch_size)][:10]
        batch_payloads = [json.dumps({"transactions": request_rows(frame)}).encode() for frame in batch_frames]
        # The client's own garbage collector would pause its event loop for tens of ms now and then (its heap holds
        # the simulated day and the payloads), and those pauses would count as server latency: keep it out of them.
        gc.collect()
        gc.freeze()

        port = free_port()
        url = f"http://127.0.0.1:{port}"
        server = start_server(home, scratch / "data", port, args.workers, scratch / "serve.log")
        results: dict = {"workers": args.workers, "rate": args.rate}

        def paced_phase(path: str, payloads: list[bytes | None]) -> dict:
            return measured(server, paced(f"{url}{path}", payloads, args.rate, args.paced_seconds))

        def burst_phase(path: str) -> dict:
            return measured(server, closed_loop(f"{url}{path}", singles, args.concurrency, args.requests,
                                                args.time_limit))

        try:
            results["startup_s"] = wait_ready(url, server, timeout=180)
            for path in ("/score", "/score/batched"):  # warm-up; also trains the batcher of /score/batched
                asyncio.run(closed_loop(f"{url}{path}", singles, 8, 300, 30))
            asyncio.run(batches(f"{url}/predict", batch_payloads, 3, args.batch_size))
            results["bare_paced"] = paced_phase("/livez", [None])
            results["single_paced"] = paced_phase("/score", singles)
            results["single_closed_loop"] = burst_phase("/score")
            results["single_paced_after_burst"] = paced_phase("/score", singles)
            results["batched_paced"] = paced_phase("/score/batched", singles)
            results["batched_closed_loop"] = burst_phase("/score/batched")
            results["batched_paced_after_burst"] = paced_phase("/score/batched", singles)
            results["batch"] = measured(server, batches(
                f"{url}/predict", batch_payloads, args.batch_requests, args.batch_size))
            results["worker_rss_mb"] = worker_memory_mb(server)
        finally:
            stop_server(server)
        results["ceiling"] = in_process_ceiling(home, batch_frames, repeats=5)
        results["breakdown_single"] = service_path_breakdown(home, singles[:2000], scratch, repeats=1,
                                                             requests_per_flush=int(args.rate / 2 / args.workers))
        results["breakdown_batch"] = service_path_breakdown(home, batch_payloads, scratch, repeats=5,
                                                            requests_per_flush=5_000 // args.batch_size or 1)
        if server.returncode not in (0, None):
            print(f"note: bentoml serve exited with code {server.returncode}")
    report(results, args)


def report(results: dict, args: argparse.Namespace) -> None:
    """Print the phases, the in-process ceiling and the targets; write the JSON when asked."""
    batch, ceiling = results["batch"], results["ceiling"]
    print(f"\nstartup to /readyz: {results['startup_s']:.1f} s; workers: {args.workers} "
          f"(resident memory {', '.join(f'{mb:.0f} MB' for mb in results['worker_rss_mb'])}); champion: "
          f"{ceiling['trees']} trees\n")

    def row(label: str, run: dict, throughput: str) -> list[str]:
        return [label, run["requests"], run["errors"], throughput, *(f"{run[key]:.1f}" for key in
                ("p50_ms", "p95_ms", "p99_ms", "max_ms")), f"{run['server_cpu_ms_per_request']:.2f}"]

    def paced_row(label: str, key: str) -> list[str]:
        return row(f"{label}, paced {args.rate:g} req/s", results[key], f"{results[key]['achieved_rps']:.0f} req/s")

    def burst_row(label: str, key: str) -> list[str]:
        return row(f"{label}, {args.concurrency} clients closed loop", results[key],
                   f"{results[key]['throughput_rps']:.0f} req/s")

    print_table(
        ["phase", "requests", "errors", "throughput", "p50 ms", "p95 ms", "p99 ms", "max ms", "server CPU ms/req"],
        [paced_row("GET /livez (BentoML alone)", "bare_paced"),
         paced_row("/score x1 (fresh)", "single_paced"),
         burst_row("/score x1", "single_closed_loop"),
         paced_row("/score x1 (after the burst)", "single_paced_after_burst"),
         paced_row("/score/batched x1", "batched_paced"),
         burst_row("/score/batched x1", "batched_closed_loop"),
         paced_row("/score/batched x1 (after its burst)", "batched_paced_after_burst"),
         row(f"/predict x{args.batch_size}, sequential", batch, f"{batch['rows_per_s']:,.0f} rows/s")])
    share_predict = batch["rows_per_s"] / ceiling["predict_rows_per_s"]
    share_pipeline = batch["rows_per_s"] / ceiling["features_and_predict_rows_per_s"]
    print(f"\nin-process, {args.batch_size}-row batches, 1 thread: inplace_predict {ceiling['predict_ms']:.2f} ms "
          f"({ceiling['predict_rows_per_s']:,.0f} rows/s, {ceiling['predict_cpu_ms']:.2f} ms CPU); build_features + "
          f"inplace_predict {ceiling['features_and_predict_ms']:.2f} ms "
          f"({ceiling['features_and_predict_rows_per_s']:,.0f} rows/s, "
          f"{ceiling['features_and_predict_cpu_ms']:.2f} ms CPU)")
    print(f"service batches: {share_pipeline:.0%} of build_features + inplace_predict, {share_predict:.0%} of "
          "inplace_predict alone")

    print("\nwhere a request's server CPU goes (ms; the steps replayed in this process, medians; \"BentoML's path\" is "
          "the measured server CPU per request minus the steps):")
    rows = []
    for label, parts, measured_key in (("/score x1 (after the burst)", results["breakdown_single"],
                                         "single_paced_after_burst"),
                                        (f"/predict x{args.batch_size}", results["breakdown_batch"], "batch")):
        server_cpu = results[measured_key]["server_cpu_ms_per_request"]
        rows.append([label, *(f"{parts[part]:.3f}" for part in SERVICE_PARTS),
                     f"{server_cpu - sum(parts.values()):.2f}", f"{server_cpu:.2f}"])
    rows.append(["GET /livez (BentoML alone)", *("" for _ in SERVICE_PARTS), "",
                 f"{results['bare_paced']['server_cpu_ms_per_request']:.2f}"])
    print_table(["request", *SERVICE_PARTS, "BentoML's path", "server CPU"], rows)

    p99_target = 20.0 if args.workers == 1 else 50.0
    single_cpu = max(results[key]["server_cpu_ms_per_request"] for key in ("single_paced", "single_paced_after_burst"))
    targets = [
        *((f"/score p99 <= {p99_target:g} ms at {args.rate:g} req/s with {args.workers} worker(s), no errors "
           f"({label})", f"{results[key]['p99_ms']:.1f} ms, {results[key]['errors']} errors",
           results[key]["p99_ms"] <= p99_target and not results[key]["errors"])
          for label, key in (("fresh", "single_paced"), ("after the burst", "single_paced_after_burst"))),
        ("/score server CPU <= 2 ms per request (paced phases)", f"{single_cpu:.2f} ms", single_cpu <= 2.0),
        (f"/predict x{args.batch_size} median <= 20 ms", f"{batch['median_ms']:.1f} ms", batch["median_ms"] <= 20),
        (f"/predict x{args.batch_size} server CPU <= 20 ms per request", f"{batch['server_cpu_ms_per_request']:.1f} ms",
         batch["server_cpu_ms_per_request"] <= 20),
        (">= 40% of in-process build_features + inplace_predict throughput", f"{share_pipeline:.0%}",
         share_pipeline >= 0.4),
    ]
    print("\ntargets:")
    for label, figure, met in targets:
        print(f"  {label}: {figure} -> {'met' if met else 'MISSED'}")
    results["share_of_inplace_predict"] = share_predict
    results["share_of_features_and_predict"] = share_pipeline
    results["targets"] = [{"target": label, "measured": figure, "met": met} for label, figure, met in targets]
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
