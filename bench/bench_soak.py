"""Benchmark: a soak of the scoring service, `bentoml serve` at a steady rate for a long time (issue 24).

Starts `bentoml serve bento.service:FraudScoring` as bench_service.py does (a bench champion of the pipeline's shape,
or `--bentoml-home`; the decision log on, as in production), warms it up, then sends single transactions (POST
/score) paced at `--rate` requests/s for `--minutes` (open loop: each latency counts from the request's scheduled
start, so a server that falls behind cannot hide its queue). Every 10 s it samples the resident memory of the server's
process tree. It reports, per window of `--window-minutes`: requests, errors, p50/p99 latency and the memory at the
window's end; then the targets: memory growth from the end of the first window to the end (under 10%) and the last
window's p99 against the first's (1.2x or less).

    .venv/bin/python bench/bench_soak.py --minutes 30 --rate 200
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import sys
import tempfile
import time
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_ingest import machine_description, print_table  # noqa: E402
from bench_service import (  # noqa: E402
    free_port,
    percentiles,
    post,
    request_rows,
    start_server,
    stop_server,
    train_bench_champion,
    wait_ready,
)

MEMORY_SAMPLE_SECONDS = 10.0


def tree_rss_bytes(pid: int) -> int:
    """Resident memory of a process and every process under it."""
    root = psutil.Process(pid)
    total = 0
    for process in [root, *root.children(recursive=True)]:
        try:
            total += process.memory_info().rss
        except psutil.NoSuchProcess:
            continue
    return total


async def soak(url: str, payloads: list[bytes], rate: float, seconds: float, server_pid: int) -> dict:
    """(offset, latency, ok) of every request and (offset, rss) every MEMORY_SAMPLE_SECONDS, offsets from the start."""
    import aiohttp

    results: list[tuple[float, float, bool]] = []
    memory: list[tuple[float, int]] = []
    start = time.perf_counter() + 0.1

    async def one(index: int, scheduled: float, session) -> None:
        try:
            ok = await post(session, url, payloads[index % len(payloads)])
        except (OSError, TimeoutError, aiohttp.ClientError):
            ok = False
        results.append((scheduled - start, time.perf_counter() - scheduled, ok))

    async def sample_memory() -> None:
        while time.perf_counter() - start < seconds:
            memory.append((time.perf_counter() - start, tree_rss_bytes(server_pid)))
            await asyncio.sleep(MEMORY_SAMPLE_SECONDS)
        memory.append((time.perf_counter() - start, tree_rss_bytes(server_pid)))

    connector = aiohttp.TCPConnector(limit=256)
    async with aiohttp.ClientSession(connector=connector) as session:
        sampler = asyncio.create_task(sample_memory())
        pending: set[asyncio.Task] = set()
        for index in range(int(rate * seconds)):
            scheduled = start + index / rate
            delay = scheduled - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            task = asyncio.create_task(one(index, scheduled, session))
            pending.add(task)
            task.add_done_callback(pending.discard)
        await asyncio.gather(*pending)
        await sampler
    return {"requests": results, "memory": memory}


def windows(figures: dict, window_seconds: float) -> list[dict]:
    requests, memory = figures["requests"], figures["memory"]
    count = max(1, int(round(max(offset for offset, _, _ in requests) / window_seconds)))
    rows = []
    for index in range(count):
        low, high = index * window_seconds, (index + 1) * window_seconds
        inside = [(latency, ok) for offset, latency, ok in requests if low <= offset < high or
                  (index == count - 1 and offset >= high)]
        rss = [value for offset, value in memory if offset <= high] or [memory[0][1]]
        rows.append({"window": f"{low / 60:g}-{high / 60:g} min", "requests": len(inside),
                     "errors": sum(not ok for _, ok in inside),
                     **percentiles([latency for latency, _ in inside]), "rss_mb": rss[-1] / 1e6})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bentoml-home", type=Path, help="serve this store's champion instead of a bench one")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--window-minutes", type=float, default=5.0)
    parser.add_argument("--json", type=Path, help="also write the per-window figures to this JSON file")
    args = parser.parse_args()

    from fraud_assets.simulation import SimulationSettings, simulate_days

    print("\n".join(machine_description()))
    with tempfile.TemporaryDirectory(prefix="bench_soak_") as scratch_name:
        scratch = Path(scratch_name)
        home = args.bentoml_home or scratch / "bentoml"
        if args.bentoml_home is None:
            train_bench_champion(home)
        rows = request_rows(simulate_days(20, 20, SimulationSettings(seed=99, scale=0.1)))
        singles = [json.dumps({"transactions": [row]}).encode() for row in rows[:20_000]]
        gc.collect()
        gc.freeze()  # the client's collector would pause its event loop, and the pauses would count as latency
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        server = start_server(home, scratch / "data", port, args.workers, scratch / "serve.log")
        try:
            wait_ready(url, server, timeout=180)
            asyncio.run(soak(f"{url}/score", singles, args.rate, 20, server.pid))  # warm-up, not reported
            figures = asyncio.run(soak(f"{url}/score", singles, args.rate, args.minutes * 60, server.pid))
        finally:
            stop_server(server)
    table = windows(figures, args.window_minutes * 60)
    print(f"\n/score paced at {args.rate:g} requests/s for {args.minutes:g} minutes, {args.workers} worker(s):")
    print_table(["window", "requests", "errors", "p50 ms", "p99 ms", "max ms", "server RSS MB"],
                [[row["window"], f"{row['requests']:,}", str(row["errors"]), f"{row['p50_ms']:.1f}",
                  f"{row['p99_ms']:.1f}", f"{row['max_ms']:.0f}", f"{row['rss_mb']:.0f}"] for row in table])
    first, last = table[0], table[-1]
    print(f"memory: {first['rss_mb']:.0f} MB after the first window, {last['rss_mb']:.0f} MB at the end "
          f"({last['rss_mb'] / first['rss_mb'] - 1:+.1%}; target under +10%)")
    print(f"p99: first window {first['p99_ms']:.1f} ms, last {last['p99_ms']:.1f} ms "
          f"({last['p99_ms'] / first['p99_ms']:.2f}x; target 1.2x or less); "
          f"errors {sum(row['errors'] for row in table)}")
    if args.json:
        args.json.write_text(json.dumps(table, indent=2))


if __name__ == "__main__":
    main()
