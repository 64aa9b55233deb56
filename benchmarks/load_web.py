"""Load test of the dashboard's JSON API on loopback: 50 concurrent clients for 30 s.

1. Builds a warehouse holding a SYNTHETIC release of 1M people (``icetrack synth`` then ``icetrack ingest``,
   about a minute) or reuses one (``--reuse DIR``: DIR/warehouse.duckdb, built there if missing).
2. Starts uvicorn (``--workers N`` processes, each with its own read-only connection and cache) on
   127.0.0.1.
3. Uncached: the first request to each main endpoint, one at a time (each worker computes on its first
   request; with several workers this measures the one that answered).
4. Cached: ``--clients`` concurrent keep-alive connections (asyncio, one process, a minimal HTTP/1.1 client)
   request the main endpoints round robin for ``--duration`` seconds; per endpoint: requests, errors,
   p50/p95/p99 latency.

    uv run python benchmarks/load_web.py [--reuse DIR] [--people 1000000] [--workers 1]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

MAIN_ENDPOINTS = [
    "/api/charts/arrests",
    "/api/charts/book_ins",
    "/api/charts/book_outs",
    "/api/charts/detained",
    "/api/charts/funnel",
    "/api/charts/cif",
    "/api/charts/km",
    "/api/charts/capacity",
    "/api/targets",
    "/api/series/book_ins?agency=ICE",
    "/api/detention/removal_share",
    "/api/outcomes/funnel?breakdown=criminality",
    "/api/outcomes/survival?curve=km",
    "/api/sources",
    "/arrests",
    "/outcomes",
]


def run(*args: str, env: dict[str, str]) -> None:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "icetrack.cli", *args], check=True, env=env)
    print(f"  {' '.join(args[2:4])}: {time.perf_counter() - started:.0f} s", flush=True)


def build_warehouse(folder: Path, people: int) -> Path:
    warehouse = folder / "warehouse.duckdb"
    if warehouse.exists():
        print(f"reusing {warehouse}", flush=True)
        return warehouse
    folder.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    print(f"building {warehouse} with a SYNTHETIC release of {people:,} people", flush=True)
    release = folder / "release"
    run("--warehouse", str(warehouse), "synth", "--people", str(people), "--seed", "1", "--out", str(release), env=env)
    run("--warehouse", str(warehouse), "ingest", str(release), env=env)
    return warehouse


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(warehouse: Path, port: int, workers: int) -> subprocess.Popen:
    env = dict(os.environ, ICETRACK_WAREHOUSE=str(warehouse))
    server = subprocess.Popen([sys.executable, "-m", "uvicorn", "--factory", "icetrack.web.app:app_from_environment",
                               "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers),
                               "--log-level", "warning", "--no-access-log"], env=env)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/measures", timeout=5).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        if server.poll() is not None:
            raise SystemExit(f"uvicorn exited with status {server.returncode}")
        time.sleep(0.5)
    server.terminate()
    raise SystemExit("uvicorn did not answer within 120 s")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]


class Connection:
    """A minimal HTTP/1.1 keep-alive client connection (GET, Content-Length bodies).

    httpx costs several times more CPU per request than the server does per cached response; on two
    shared cores that time would be measured as server latency. This client only writes the request and
    reads the status line, the headers and Content-Length bytes.
    """

    def __init__(self, host: str, port: int):
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def get(self, path: str) -> tuple[int, int]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        self.writer.write(f"GET {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n\r\n".encode())
        await self.writer.drain()
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        headers = dict(line.split(": ", 1) for line in lines[1:] if ": " in line)
        length = int({k.lower(): v for k, v in headers.items()}["content-length"])
        await self.reader.readexactly(length)
        return status, length

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


async def load(port: int, clients: int, duration: float) -> dict[str, dict[str, list]]:
    results: dict[str, dict[str, list]] = {e: {"latencies": [], "errors": []} for e in MAIN_ENDPOINTS}
    stop = time.perf_counter() + duration

    async def one_client(k: int) -> None:
        connection = Connection("127.0.0.1", port)
        i = k
        while time.perf_counter() < stop:
            endpoint = MAIN_ENDPOINTS[i % len(MAIN_ENDPOINTS)]
            i += 1
            started = time.perf_counter()
            try:
                status, _ = await connection.get(endpoint)
                error = None if status == 200 else status
            except (OSError, asyncio.IncompleteReadError, ValueError, KeyError) as e:
                error = type(e).__name__
                connection.close()
                connection = Connection("127.0.0.1", port)
            elapsed = time.perf_counter() - started
            results[endpoint]["latencies" if error is None else "errors"].append(elapsed if error is None else error)
        connection.close()

    await asyncio.gather(*(one_client(k) for k in range(clients)))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description="Load test of the dashboard's JSON API on loopback.")
    parser.add_argument("--reuse", type=Path, help="folder holding (or to hold) warehouse.duckdb")
    parser.add_argument("--people", type=int, default=1_000_000)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--duration", type=float, default=30.0)
    args = parser.parse_args()

    folder = args.reuse or Path(tempfile.mkdtemp(prefix="icetrack-load-"))
    warehouse = build_warehouse(folder, args.people)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = start_server(warehouse, port, args.workers)
    try:
        print(f"\nuvicorn: {args.workers} worker(s) on {base}; warehouse {warehouse} "
              f"({warehouse.stat().st_size / 2**20:,.0f} MiB)", flush=True)
        uncached = {}
        # a new connection per request, so that with several workers each one gets requests (and warms its
        # own cache) before the cached latency is measured
        with httpx.Client(base_url=base, timeout=600, limits=httpx.Limits(max_keepalive_connections=0)) as client:
            for endpoint in MAIN_ENDPOINTS:
                started = time.perf_counter()
                r = client.get(endpoint)
                uncached[endpoint] = (time.perf_counter() - started, r.status_code, len(r.content))
            for _ in range(4 * args.workers):
                for endpoint in MAIN_ENDPOINTS:
                    client.get(endpoint)
        print(f"\n{args.clients} clients for {args.duration:.0f} s ...", flush=True)
        results = asyncio.run(load(port, args.clients, args.duration))
    finally:
        server.terminate()
        server.wait(timeout=30)

    header = (f"{'endpoint':44} {'status':>6} {'bytes':>9} {'uncached ms':>12} {'requests':>9} {'errors':>7} "
              f"{'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'uncached/p50':>13}")
    print("\n" + header + "\n" + "-" * len(header))
    total = errors = 0
    for endpoint in MAIN_ENDPOINTS:
        lat, errs = results[endpoint]["latencies"], results[endpoint]["errors"]
        total += len(lat) + len(errs)
        errors += len(errs)
        cold, status, size = uncached[endpoint]
        if lat:
            p50, p95, p99 = (percentile(lat, q) * 1000 for q in (50, 95, 99))
            print(f"{endpoint:44} {status:>6} {size:>9,} {cold * 1000:>12,.0f} {len(lat) + len(errs):>9,} "
                  f"{len(errs):>7} {p50:>8.1f} {p95:>8.1f} {p99:>8.1f} {cold * 1000 / p50:>12,.0f}x")
        else:
            print(f"{endpoint:44} {status:>6} {size:>9,} {cold * 1000:>12,.0f} {0:>9} {len(errs):>7}  (no success)")
        if errs:
            print(f"    errors: {sorted(set(map(str, errs)))[:5]}")
    every = [x for r in results.values() for x in r["latencies"]]
    print(f"\nall: {total:,} requests in {args.duration:.0f} s ({total / args.duration:,.0f}/s), {errors} errors; "
          f"p50 {statistics.median(every) * 1000:.1f} ms, p95 {percentile(every, 95) * 1000:.1f} ms, "
          f"p99 {percentile(every, 99) * 1000:.1f} ms")


if __name__ == "__main__":
    main()
