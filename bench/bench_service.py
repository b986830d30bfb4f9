"""Benchmark of the BentoML service over loopback HTTP, against in-process XGBoost on the same rows.

Run by hand, never by CI (bounded: at most a few thousand requests per phase and a time limit on each):

    .venv/bin/python bench/bench_service.py                      # ~2-3 min: trains a bench champion, then measures
    .venv/bin/python bench/bench_service.py --bentoml-home data/bentoml   # the champion promoted by `make run`

It starts `bentoml serve bento.service:FraudScoring` on 127.0.0.1 (a free port, FRAUD_SERVICE_WORKERS=--workers),
with a temporary data folder (decision log), waits for /readyz, warms up, then measures:

1. single transactions (POST /score, a list of one; adaptive batching) paced at `--rate` requests/s (open loop,
   `--paced-seconds`), on the freshly started server: latency from each request's scheduled start (so a stalled
   server cannot hide its queue), errors;
2. single transactions from `--concurrency` concurrent clients, closed loop, `--requests` requests (a burst):
   throughput, p50/p95/p99 latency, errors;
3. the paced phase again, after the burst (BentoML's adaptive batching keeps what it learned in the burst);
4. batches of `--batch-size` transactions (POST /predict), `--batch-requests` sequential requests: median latency
   and rows/s;
5. in the same run, in this process: `booster.inplace_predict` on the same rows' precomputed features (the
   ceiling), and build_features + inplace_predict, per batch of `--batch-size` rows, with one XGBoost thread.
Every HTTP phase also reports the server's CPU milliseconds per request (its process tree, through psutil), a figure
that does not depend on what else the machine runs, unlike latency.

Targets (the issue, on a 2-core machine): single-transaction p99 < 25 ms at 200 requests/s without errors;
batches of 1,000 under 40 ms median; batched throughput >= 30% of the in-process ceiling.

The client is aiohttp in one process on the same machine: it takes CPU from the server, as a co-located load
balancer would. Without --bentoml-home a champion of the pipeline's shape is trained (200 trees of depth 6, like
bench_model.py's fixed booster), with its threshold set for about 1% alerts, so that explanations are part of the cost.
"""

from __future__ import annotations

import argparse
import asyncio
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
                     high_score_level=threshold, expected_high_score_rate=0.0, alerts_per_1000_transactions=10.0,
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
    import psutil

    if server.poll() is None:
        processes = [psutil.Process(server.pid), *psutil.Process(server.pid).children(recursive=True)]
        os.kill(server.pid, signal.SIGINT)
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            for process in processes:
                try:
                    process.kill()
                except psutil.NoSuchProcess:
                    pass
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


async def post(session, url: str, payload: bytes) -> bool:
    async with session.post(url, data=payload, headers={"content-type": "application/json"}) as response:
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


async def paced(url: str, payloads: list[bytes], rate: float, seconds: float) -> dict:
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

        port = free_port()
        url = f"http://127.0.0.1:{port}"
        server = start_server(home, scratch / "data", port, args.workers, scratch / "serve.log")
        results: dict = {"workers": args.workers}
        try:
            results["startup_s"] = wait_ready(url, server, timeout=180)
            asyncio.run(closed_loop(f"{url}/score", singles, 8, 300, 30))  # warm-up, also trains the batcher
            asyncio.run(batches(f"{url}/predict", batch_payloads, 3, args.batch_size))
            results["single_paced"] = measured(server, paced(f"{url}/score", singles, args.rate, args.paced_seconds))
            results["single_closed_loop"] = measured(server, closed_loop(
                f"{url}/score", singles, args.concurrency, args.requests, args.time_limit))
            results["single_paced_after_burst"] = measured(
                server, paced(f"{url}/score", singles, args.rate, args.paced_seconds))
            results["batch"] = measured(server, batches(
                f"{url}/predict", batch_payloads, args.batch_requests, args.batch_size))
            results["worker_rss_mb"] = worker_memory_mb(server)
        finally:
            stop_server(server)
        results["ceiling"] = in_process_ceiling(home, batch_frames, repeats=5)
        if server.returncode not in (0, None):
            print(f"note: bentoml serve exited with code {server.returncode}")

    closed, paced_run, after_burst, batch, ceiling = (
        results["single_closed_loop"], results["single_paced"], results["single_paced_after_burst"], results["batch"],
        results["ceiling"])
    print(f"\nstartup to /readyz: {results['startup_s']:.1f} s; workers: {args.workers} "
          f"(resident memory {', '.join(f'{mb:.0f} MB' for mb in results['worker_rss_mb'])}); champion: "
          f"{ceiling['trees']} trees\n")

    def row(label: str, run: dict, throughput: str) -> list[str]:
        return [label, run["requests"], run["errors"], throughput, *(f"{run[key]:.1f}" for key in
                ("p50_ms", "p95_ms", "p99_ms", "max_ms")), f"{run['server_cpu_ms_per_request']:.2f}"]

    print_table(
        ["phase", "requests", "errors", "throughput", "p50 ms", "p95 ms", "p99 ms", "max ms", "server CPU ms/req"],
        [row(f"/score x1, paced {args.rate:g} req/s (fresh)", paced_run, f"{paced_run['achieved_rps']:.0f} req/s"),
         row(f"/score x1, {args.concurrency} clients closed loop", closed, f"{closed['throughput_rps']:.0f} req/s"),
         row(f"/score x1, paced {args.rate:g} req/s (after it)", after_burst,
             f"{after_burst['achieved_rps']:.0f} req/s"),
         row(f"/predict x{args.batch_size}, sequential", batch, f"{batch['rows_per_s']:,.0f} rows/s")])
    share_predict = batch["rows_per_s"] / ceiling["predict_rows_per_s"]
    share_pipeline = batch["rows_per_s"] / ceiling["features_and_predict_rows_per_s"]
    share_cpu = ceiling["predict_cpu_ms"] / batch["server_cpu_ms_per_request"]
    print(f"\nin-process, {args.batch_size}-row batches, 1 thread: inplace_predict {ceiling['predict_ms']:.2f} ms "
          f"({ceiling['predict_rows_per_s']:,.0f} rows/s, {ceiling['predict_cpu_ms']:.2f} ms CPU); build_features + "
          f"inplace_predict {ceiling['features_and_predict_ms']:.2f} ms "
          f"({ceiling['features_and_predict_rows_per_s']:,.0f} rows/s, "
          f"{ceiling['features_and_predict_cpu_ms']:.2f} ms CPU)")
    print(f"service batches: {share_predict:.0%} of the inplace_predict ceiling ({share_cpu:.0%} in CPU time), "
          f"{share_pipeline:.0%} of build_features + inplace_predict")
    print("\ntargets:")
    for label, run in (("fresh", paced_run), ("after the closed loop", after_burst)):
        print(f"  p99 at {args.rate:g} req/s < 25 ms, no errors ({label}): {run['p99_ms']:.1f} ms, "
              f"{run['errors']} errors -> {'met' if run['p99_ms'] < 25 and not run['errors'] else 'MISSED'}")
    print(f"  batch of {args.batch_size} median < 40 ms: {batch['median_ms']:.1f} ms "
          f"-> {'met' if batch['median_ms'] < 40 else 'MISSED'}")
    print(f"  batched throughput >= 30% of the in-process ceiling: {share_predict:.0%} "
          f"-> {'met' if share_predict >= 0.3 else 'MISSED'}")
    results["share_of_inplace_predict"] = share_predict
    results["share_of_inplace_predict_cpu"] = share_cpu
    results["share_of_features_and_predict"] = share_pipeline
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
