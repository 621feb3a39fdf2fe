"""A load of API clients, as a separate process so that its CPU is not counted as the
engine's: ``--rate`` requests a second of mixed reads (round robin over the routes below, one
random host each time) and ``--subscribers`` live-stream WebSockets held open all along.

    uv run python bench/api_load.py --url http://127.0.0.1:PORT --token TOKEN \\
        --hosts web1,web2 --seconds 300 [--rate 20] [--subscribers 5] [--json out.json]

Requests are sent on a fixed schedule (not one after another), so a slow answer does not
lower the rate. Prints (and writes with ``--json``) the answers by status, their latency
(p50, p99, max) per route and the live messages each subscriber received.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import httpx
import websockets

ROUTES = (
    "/api/v1/hosts",
    "/api/v1/hosts/{host}",
    "/api/v1/hosts/{host}/containers",
    "/api/v1/hosts/{host}/history?metric=cpu.percent",
    "/api/v1/incidents?open=true",
    "/api/v1/events?limit=100",
    "/metrics",
)


async def _request(
    client: httpx.AsyncClient, route: str, host: str, statuses: Counter[str], latency: Any
) -> None:
    path = route.format(host=host)
    began = time.perf_counter()
    try:
        answer = await client.get(path)
        statuses[f"{route} {answer.status_code}"] += 1
    except httpx.HTTPError as exc:
        statuses[f"{route} {type(exc).__name__}"] += 1
    latency[route].append((time.perf_counter() - began) * 1000)


async def _subscriber(url: str, token: str, until: float, received: list[int], i: int) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    while time.monotonic() < until:
        try:
            async with websockets.connect(url, additional_headers=headers) as ws:
                while time.monotonic() < until:
                    try:
                        await asyncio.wait_for(
                            ws.recv(), timeout=max(until - time.monotonic(), 0.1)
                        )
                    except TimeoutError:
                        break
                    received[i] += 1
        except (OSError, websockets.WebSocketException):
            await asyncio.sleep(1)


async def run(args: argparse.Namespace) -> dict[str, Any]:
    hosts = args.hosts.split(",")
    statuses: Counter[str] = Counter()
    latency: dict[str, list[float]] = defaultdict(list)
    received = [0] * args.subscribers
    until = time.monotonic() + args.seconds
    ws_url = args.url.replace("http", "ws", 1) + "/api/v1/live"
    subscribers = [
        asyncio.create_task(_subscriber(ws_url, args.token, until, received, i))
        for i in range(args.subscribers)
    ]
    pending: set[asyncio.Task[None]] = set()
    headers = {"Authorization": f"Bearer {args.token}"}
    async with httpx.AsyncClient(base_url=args.url, headers=headers, timeout=30) as client:
        start = time.monotonic()
        n = 0
        while (due := start + n / args.rate) < until:
            await asyncio.sleep(max(due - time.monotonic(), 0))
            route = ROUTES[n % len(ROUTES)]
            task = asyncio.create_task(
                _request(client, route, random.choice(hosts), statuses, latency)
            )
            pending.add(task)
            task.add_done_callback(pending.discard)
            n += 1
        await asyncio.gather(*pending)
    await asyncio.gather(*subscribers)
    seconds = time.monotonic() - start
    return {
        "requests": n,
        "requests_per_second": round(n / seconds, 2),
        "statuses": dict(sorted(statuses.items())),
        "latency_ms": {
            route: {
                "p50": round(statistics.median(values), 1),
                "p99": round(sorted(values)[int(0.99 * (len(values) - 1))], 1),
                "max": round(max(values), 1),
            }
            for route, values in sorted(latency.items())
        },
        "live_messages_per_subscriber": received,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--url", required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--hosts", required=True, help="comma-separated host names")
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--rate", type=float, default=20.0, help="requests per second")
    parser.add_argument("--subscribers", type=int, default=5)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    report = asyncio.run(run(args))
    text = json.dumps(report, indent=1)
    print(text)
    if args.json is not None:
        args.json.write_text(text)


if __name__ == "__main__":
    main()
