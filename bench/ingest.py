"""Capture through HTTP, end to end: a real server, many concurrent clients, durable acks.

Starts ``hedgerow serve`` (:class:`hedgerow.testing.LiveServer`) on a temp data dir,
bootstraps a project, then drives it on loopback from separate load-generator processes (so
they do not share the server's GIL), each holding keep-alive connections that post
pre-built requests as fast as the answers come back:

1. ``/batch/`` requests of 100 events (posthog-python's envelope, ~1.2 KB events with 35+
   properties, the distinct-id mix of :mod:`harness.workload`);
2. single events posted to ``/e/`` and ``/i/v0/e/`` (posthog-js's shape).

For each it prints events/s, requests/s and the ack latency p50/p99, with the CPU seconds the
server and the load generators used. Then it SIGKILLs the server and checks, on the DuckDB
file, that every acknowledged event is stored exactly once (and nothing that was never
sent). Last, in the same run, the raw engine baseline: a DuckDB Arrow bulk insert of the same
stored rows, and the ratio of the HTTP figure to it.

    .venv/bin/python bench/ingest.py [--batches 3000] [--singles 30000] [--connections 64]
        [--clients 2] [--gzip] [--profile DIR [--py-spy-args=--gil]] [--engine duckdb|chdb]
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import multiprocessing as mp
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness.baseline import bulk_insert_rate  # noqa: E402
from harness.workload import Workload  # noqa: E402
from hedgerow.store.events.duckdb import DuckDBEventStore  # noqa: E402
from hedgerow.testing import LiveServer  # noqa: E402

SINGLE_PATHS = ("/e/", "/i/v0/e/")


# -- the load generator (runs in child processes) -------------------------------------------


@dataclass
class Plan:
    """What one load-generator process sends."""

    kind: str  # "batch" | "single"
    requests: int
    connections: int
    seed: int
    prefix: str
    token: str
    port: int
    per_request: int = 100
    gzip: bool = False


@dataclass
class Outcome:
    """What one load-generator process saw."""

    acked: list[str] = field(default_factory=list)
    unacked: list[str] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    acked_at: list[float] = field(default_factory=list)
    statuses: Counter = field(default_factory=Counter)
    started: float = 0.0
    finished: float = 0.0
    cpu_seconds: float = 0.0


def build_requests(plan: Plan) -> list[tuple[bytes, list[str]]]:
    """Raw HTTP/1.1 requests (keep-alive) and the uuids each carries."""
    workload = Workload(plan.token, seed=plan.seed, prefix=plan.prefix)
    out = []
    for i in range(plan.requests):
        if plan.kind == "batch":
            path = "/batch/"
            body, uuids = workload.batch_body(plan.per_request)
        else:
            path = SINGLE_PATHS[i % len(SINGLE_PATHS)]
            body, uuids = workload.single_body()
        content_type = "application/json"
        if plan.gzip:  # as posthog-js sends it: gzip as text/plain, no header
            body, content_type = gzip.compress(body, 6), "text/plain"
        head = (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{plan.port}\r\n"
                f"Content-Type: {content_type}\r\nContent-Length: {len(body)}\r\n\r\n")  # fmt: skip
        out.append((head.encode() + body, uuids))
    return out


async def _connection(port: int, work: deque, outcome: Outcome) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port, limit=1 << 20)
    try:
        while work:
            request, uuids = work.popleft()
            t0 = time.perf_counter()
            writer.write(request)
            try:
                status = int((await reader.readline()).split(b" ", 2)[1])
                length = 0
                while (line := await reader.readline()) not in (b"\r\n", b""):
                    if line[:15].lower() == b"content-length:":
                        length = int(line[15:])
                await reader.readexactly(length)
            except (ConnectionError, asyncio.IncompleteReadError, IndexError, ValueError):
                outcome.statuses["connection error"] += 1
                outcome.unacked.extend(uuids)
                return
            outcome.latencies.append(time.perf_counter() - t0)
            if status == 200:
                outcome.acked_at.append(time.monotonic())
            outcome.statuses[status] += 1
            (outcome.acked if status == 200 else outcome.unacked).extend(uuids)
    finally:
        writer.close()


async def _drive(plan: Plan, requests: list[tuple[bytes, list[str]]], outcome: Outcome) -> None:
    work = deque(requests)
    outcome.started = time.monotonic()
    cpu = time.process_time()
    await asyncio.gather(*(_connection(plan.port, work, outcome) for _ in range(plan.connections)))
    outcome.finished = time.monotonic()
    outcome.cpu_seconds = time.process_time() - cpu
    for request, uuids in work:  # left over after connection errors: never sent
        outcome.unacked.extend(uuids)


def load_generator(plan: Plan, ready: mp.Barrier, results: mp.Queue) -> None:
    """Child process: build the requests, wait for the others, send, report."""
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    requests = build_requests(plan)
    outcome = Outcome()
    ready.wait()
    asyncio.run(_drive(plan, requests, outcome))
    results.put(outcome)


# -- the parent -----------------------------------------------------------------------------


@dataclass
class Phase:
    name: str
    events: int
    requests: int
    seconds: float
    latencies: list[float]
    statuses: Counter
    server_cpu: float
    client_cpu: float
    machine_cpu: float
    tenths: list[float]
    """Acknowledged events/s in each tenth of the phase (shows a slow-down as tables grow)."""

    def report(self) -> str:
        lat = sorted(self.latencies)
        p50 = statistics.median(lat) * 1000 if lat else float("nan")
        p99 = lat[max(0, int(len(lat) * 0.99) - 1)] * 1000 if lat else float("nan")
        bad = {k: v for k, v in self.statuses.items() if k != 200}
        other = max(0.0, self.machine_cpu - self.server_cpu - self.client_cpu)
        return (
            f"{self.name}: {self.events / self.seconds:,.0f} events/s, "
            f"{self.requests / self.seconds:,.0f} requests/s, ack p50 {p50:.1f} ms, "
            f"p99 {p99:.1f} ms ({self.events:,} events in {self.seconds:.1f} s"
            + (f"; NOT 200: {bad}" if bad else "") + ")\n"
            f"  CPU: server {self.server_cpu / self.seconds:.0%} of a core, "
            f"load generators {self.client_cpu / self.seconds:.0%}, "
            f"anything else {other / self.seconds:.0%}; events/s by tenth of the run: "
            + " ".join(f"{r / 1000:.1f}k" for r in self.tenths)
        )

    @property
    def rate(self) -> float:
        return self.events / self.seconds


def process_cpu(pid: int) -> float:
    """User + system CPU seconds of a process (Linux ``/proc``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_busy() -> float:
    """CPU seconds all processes on the machine have used (``/proc/stat``, all CPUs)."""
    fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    user, nice, system, idle, iowait, irq, softirq, steal = (int(x) for x in fields[:8])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def run_phase(name: str, plans: list[Plan], server_pid: int, acked: list[str],
              sent: list[str], profiler: Profiler | None) -> Phase:  # fmt: skip
    ctx = mp.get_context("spawn")
    ready = ctx.Barrier(len(plans) + 1)
    results: mp.Queue = ctx.Queue()
    procs = [ctx.Process(target=load_generator, args=(p, ready, results)) for p in plans]
    for p in procs:
        p.start()
    ready.wait()
    spy = profiler.start(name, server_pid) if profiler else None
    cpu0, busy0 = process_cpu(server_pid), machine_busy()
    outcomes = [results.get() for _ in procs]
    cpu1, busy1 = process_cpu(server_pid), machine_busy()
    if spy is not None:
        spy.send_signal(signal.SIGINT)
        spy.wait(60)
    for p in procs:
        p.join()
    per_request = plans[0].per_request if plans[0].kind == "batch" else 1
    latencies = [x for o in outcomes for x in o.latencies]
    statuses: Counter = sum((o.statuses for o in outcomes), Counter())
    for o in outcomes:
        acked.extend(o.acked)
        sent.extend(o.acked)
        sent.extend(o.unacked)
    started = min(o.started for o in outcomes)
    seconds = max(o.finished for o in outcomes) - started
    acks = sorted(t for o in outcomes for t in o.acked_at)
    tenths = [0.0] * 10
    for t in acks:
        tenths[min(9, int((t - started) / seconds * 10))] += per_request / (seconds / 10)
    return Phase(name, statuses[200] * per_request, sum(statuses.values()), seconds, latencies,
                 statuses, cpu1 - cpu0, sum(o.cpu_seconds for o in outcomes), busy1 - busy0,
                 tenths)  # fmt: skip


@dataclass
class Profiler:
    """py-spy on the server during each phase (``--profile DIR``; raw collapsed stacks)."""

    directory: Path
    extra: list[str]
    """More py-spy arguments, e.g. ``--gil`` (only the GIL holder) or ``--idle``."""

    def start(self, name: str, pid: int) -> subprocess.Popen | None:
        exe = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
        if not Path(exe).exists():
            print("  (py-spy not installed: pip install py-spy)")
            return None
        self.directory.mkdir(parents=True, exist_ok=True)
        out = self.directory / f"{name}.txt"
        print(f"  profiling the server into {out}")
        command = [exe, "record", "--pid", str(pid), "--rate", "100", "--threads", "--nonblocking",
                   *self.extra, "--format", "raw", "--output", str(out)]  # fmt: skip
        return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def plans_for(kind: str, total: int, args: argparse.Namespace, token: str, port: int,
              seed: int) -> list[Plan]:  # fmt: skip
    clients = max(1, args.clients)
    per_conn = max(1, args.connections // clients)
    return [
        Plan(kind, total // clients + (1 if i < total % clients else 0), per_conn, seed + i,
             f"{kind}{seed}c{i}", token, port, gzip=getattr(args, "gzip", False))  # fmt: skip
        for i in range(clients)
    ]


def stored_uuids_chdb(path: Path) -> list[str]:
    """Every stored event uuid (repeats included) of a chdb events directory."""
    from hedgerow.store.events.clickhouse_connection import ChdbConnection

    connection = ChdbConnection(str(path))
    try:
        return [row[0] for row in connection.query("SELECT toString(uuid) FROM hedgerow.events").rows]
    finally:
        connection.close()


def verify_uuids(stored: list[str], acked: list[str], sent: list[str]) -> tuple[int, bool]:
    """The same checks as :func:`verify`, on a list of stored uuids."""
    total, distinct = len(stored), len(set(stored))
    missing = len(set(acked) - set(stored))
    stray = len(set(stored) - set(sent))
    ok = total == distinct and missing == 0 and stray == 0
    print(f"after SIGKILL: {total:,} events stored, {len(acked):,} acknowledged, "
          f"{total - distinct} stored twice, {missing} acknowledged but missing, "
          f"{stray} never sent -> {'OK' if ok else 'FAILED'}")  # fmt: skip
    return total, ok


def verify(db_path: Path, acked: list[str], sent: list[str]) -> tuple[int, bool]:
    """Every acked event stored exactly once, nothing stored that was never sent."""
    store = DuckDBEventStore(db_path)
    try:
        cur = store.cursor()
        cur.register("acked_in", pa.table({"uuid": pa.array(acked, pa.string())}))
        cur.register("sent_in", pa.table({"uuid": pa.array(sent, pa.string())}))
        total, distinct = cur.execute("SELECT count(*), count(DISTINCT uuid) FROM events").fetchone()
        missing = cur.execute(
            "SELECT count(*) FROM acked_in a ANTI JOIN events e ON e.uuid = CAST(a.uuid AS UUID)"
        ).fetchone()[0]
        stray = cur.execute(
            "SELECT count(*) FROM events e ANTI JOIN sent_in s ON e.uuid = CAST(s.uuid AS UUID)"
        ).fetchone()[0]
    finally:
        store.close()
    ok = total == distinct and missing == 0 and stray == 0
    print(f"after SIGKILL: {total:,} events stored, {len(acked):,} acknowledged, "
          f"{total - distinct} stored twice, {missing} acknowledged but missing, "
          f"{stray} never sent -> {'OK' if ok else 'FAILED'}")  # fmt: skip
    return total, ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batches", type=int, default=3000, help="/batch/ requests")
    parser.add_argument("--per-request", type=int, default=100)
    parser.add_argument("--singles", type=int, default=30000, help="single-event requests")
    parser.add_argument("--connections", type=int, default=64, help="concurrent clients")
    parser.add_argument("--clients", type=int, default=2, help="load-generator processes")
    parser.add_argument("--gzip", action="store_true", help="gzip the bodies, as posthog-js does")
    parser.add_argument("--profile", type=Path, help="write py-spy profiles of the server here")
    parser.add_argument("--py-spy-args", default="", help="more py-spy arguments, e.g. '--gil'")
    parser.add_argument("--keep", type=Path, help="parent directory for the data dir")
    parser.add_argument("--engine", choices=("duckdb", "chdb"), default="duckdb",
                        help="events engine of the server (chdb: the embedded ClickHouse)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(dir=args.keep) as tmp:
        data = Path(tmp) / "data"
        chdb_dir = Path(tmp) / "events.chdb"
        env = {"HEDGEROW_EVENTS_URL": f"chdb:///{chdb_dir}"} if args.engine == "chdb" else {}
        server = LiveServer(data, env=env).start()
        try:
            token = server.bootstrap()["project_api_key"]
            assert server.process is not None
            pid = server.process.pid
            acked: list[str] = []
            sent: list[str] = []
            profiler = Profiler(args.profile, args.py_spy_args.split()) if args.profile else None
            print(f"server pid {pid} on {server.url} ({args.engine}); {os.cpu_count()} CPUs; "
                  f"{args.connections} connections from {args.clients} processes")  # fmt: skip
            run_phase("warm-up", plans_for("batch", 40, args, token, server.port, 900),
                      pid, acked, sent, None)  # fmt: skip
            phases = []
            if args.batches:
                plans = plans_for("batch", args.batches, args, token, server.port, 100)
                for p in plans:
                    p.per_request = args.per_request
                phases.append(run_phase("batch", plans, pid, acked, sent, profiler))
                print(phases[-1].report().replace("batch:", f"/batch/ ({args.per_request} events):"))
            if args.singles:
                plans = plans_for("single", args.singles, args, token, server.port, 200)
                phases.append(run_phase("single", plans, pid, acked, sent, profiler))
                print(phases[-1].report().replace("single:", "single events (/e/, /i/v0/e/):"))
        finally:
            server.kill()
        if args.engine == "chdb":
            stored, ok = verify_uuids(stored_uuids_chdb(chdb_dir), acked, sent)
        else:
            stored, ok = verify(data / "events.duckdb", acked, sent)
        if args.engine == "duckdb" and phases and phases[0].name == "batch":
            for per_txn in (1000, 5000):
                raw = bulk_insert_rate(data / "events.duckdb", per_txn, Path(tmp))
                print(f"raw DuckDB Arrow insert of the same {stored:,} rows, {per_txn:,} rows/txn: "
                      f"{raw:,.0f} rows/s (HTTP /batch/ = {phases[0].rate / raw:.2f}x)")  # fmt: skip
        if not ok:
            sys.exit(1)


if __name__ == "__main__":
    main()
