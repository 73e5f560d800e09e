"""Durable filings per second through the real app, against a bare FastAPI app's ceiling.

Both run under uvicorn with 2 worker processes, served the same way (service.http_server, as
`complaints api --workers 2` runs: uvloop, httptools, TCP_NODELAY on), started by this
script, and take the same request body (a complaint of about 100 characters) from wrk
(2 threads, 32 connections; Debian's `wrk`, installed by scripts/bench-tools). The real app files
each one as production does: validation, rate limits and Idempotency-free intake, the
filing's rows (filing, history, outbox rows) in a transaction it shares with the filings
that arrived meanwhile (group commit, intake.group_commit), the after-commit hand-off to
Redis. "Durable" is counted in the database afterwards, not from wrk's answers. The same
platform with a transaction per filing (COMPLAINTS_FILING_GROUP_SIZE=1) shows what the
group commit gains, in the same run. Between the ceiling and the platform, the platform's
own app with the filing's storage taken out (bench/floor_app.py) shows how much of the gap
is the framework's (middleware, routing, validation) and how much the filing's. And the bare
app plus the filing's row alone, group committed on the platform's engine
(bench/minimal_durable_app.py), shows what the row itself costs: the rest is the platform's
other work. Then the
p50/p99 latency of each app at 200 requests/s offered by `hey` over 20 connections, the
arrivals spread evenly (bench/support.py: one `hey -c 20` would send them in bursts of 20
every 100 ms). While wrk floods the platform, the CPU each part of the machine used (the API
processes, the PostgreSQL server, Redis, wrk; from /proc) is divided by the filings
stored, beside what the cores had per filing: where a filing's cost goes, and how much of
the machine sat idle.

Every app is warmed by a short wrk run first (an app that answers may still be settling, and
the others starting beside it take the cores meanwhile). Then the ceiling, the platform
storing nothing, the row alone and the platform are measured in turn, `--rounds` times, so
that a slow spell of the machine falls on a round's ceiling and apps alike. Each app's
figure is its share of its own round's ceiling, from the round where that share is the
median; the platform's share in every round is printed too.

    .venv/bin/python bench/intake.py [--seconds 20] [--rounds 3] [--database sqlite,postgres]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from support import (
    BODY,
    Children,
    answers,
    configure,
    cpu_seconds,
    database,
    free_port,
    hey,
    machine,
    need,
    process_tree,
    processes_named,
    wait_for,
)

TARGET_SHARE, TARGET_P99_MS = 0.5, 100.0
WARM_UP_SECONDS = 3

Run = tuple[float, dict[str, float]]  # an app's rate in one round, and wrk's (or durable's) figures


def median_share(rounds: list[dict[str, Run]], app: str) -> tuple[float, Run, Run]:
    """`app`'s share of the ceiling measured in the same round, in the round where that share
    is the median (the lower one of an even count); with that round's run and ceiling, kept
    together."""
    shares = sorted(
        ((r[app][0] / r["bare"][0], r[app], r["bare"]) for r in rounds), key=lambda x: x[0]
    )
    return shares[(len(shares) - 1) // 2]


def reachable(floor_share: float, row_share: float) -> float:
    """The share of the ceiling a platform reaches if it does the floor's work (its framework,
    storing nothing) and the row-alone app's durable row, and nothing else: the cores are
    busy, so a request's cost is the inverse of the rate, and the row adds to the ceiling's
    cost what it adds to the floor's (1/floor + 1/row - 1, in ceiling requests)."""
    return 1.0 / (1.0 / floor_share + 1.0 / row_share - 1.0)


def wrk(url: str, seconds: int, logs: Path) -> dict[str, float]:
    script = logs / "post.lua"
    script.write_text(LUA.format(body=json.dumps(BODY, ensure_ascii=False)), encoding="utf-8")
    out = subprocess.run(
        [need("wrk"), "-t2", "-c32", f"-d{seconds}s", "--latency", "-s", str(script), url],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    codes = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),  # type: ignore[union-attr]
        "requests": float(re.search(r"(\d+) requests in", out).group(1)),  # type: ignore[union-attr]
        "errors": float(codes.group(1)) if codes else 0.0,
    }


LUA = """wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = [[{body}]]
"""


def durable_filings() -> int:
    from sqlalchemy import func, select
    from sqlmodel import Session

    from core.db import get_engine
    from schemas import Complaint

    with Session(get_engine(read_only=True)) as session:
        return int(session.execute(select(func.count()).select_from(Complaint)).scalar_one())


def durable(
    url: str, args: argparse.Namespace, logs: Path, app: subprocess.Popen[bytes]
) -> tuple[float, dict[str, float]]:
    """Filings stored per second while wrk floods `url`, counted in the database; and the
    CPU seconds each part of the machine used meanwhile (`cpu: …` keys)."""
    parts = {
        "the API processes": lambda: process_tree(app.pid),
        "the database server": lambda: processes_named("postgres"),
        "Redis": lambda: processes_named("redis-server"),
    }
    before = durable_filings()
    cpu_before = {part: cpu_seconds(pids()) for part, pids in parts.items()}
    wrk_before = _children_cpu()
    started = time.perf_counter()
    result = wrk(url, args.seconds, logs)
    elapsed = time.perf_counter() - started
    used = {f"cpu: {part}": cpu_seconds(pids()) - cpu_before[part] for part, pids in parts.items()}
    used["cpu: wrk"] = _children_cpu() - wrk_before
    stored = durable_filings() - before
    return stored / elapsed, result | used | {"stored": float(stored), "seconds": elapsed}


def _children_cpu() -> float:
    """CPU of this script's finished children (wrk, once it has been waited for)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def cpu_line(kind: str, result: dict[str, float]) -> str:
    """Where a durable filing's CPU went, in µs, against what the cores had per filing."""
    stored = max(result["stored"], 1.0)
    shares = ", ".join(
        f"{key.removeprefix('cpu: ')} {1e6 * seconds / stored:.0f}"
        for key, seconds in result.items()
        if key.startswith("cpu: ")
    )
    available = 1e6 * (os.cpu_count() or 1) * result["seconds"] / stored
    return (
        f"[{kind}] CPU per durable filing, µs: {shares}; the cores had {available:.0f} "
        "(the rest: the kernel's own work, other processes, idle)"
    )


def serve_bench_app(
    children: Children, name: str, factory: str, port: int
) -> subprocess.Popen[bytes]:
    """A bench app served as the platform is (service.http_server: 2 workers, TCP_NODELAY)."""
    code = (
        "from service.http_server import serve; "
        f"serve({factory!r}, host='127.0.0.1', port={port}, workers=2, "
        "log_level='warning', access_log=False)"
    )
    return children.start(name, sys.executable, "-c", code)


def serve_platform(children: Children, name: str, port: int) -> subprocess.Popen[bytes]:
    """The platform as production runs it: `complaints api --workers 2`."""
    return children.complaints(
        name, "api", "--host", "127.0.0.1", "--port", str(port), "--workers", "2"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--database", default="sqlite,postgres")
    parser.add_argument(
        "--rounds",
        type=int,
        default=3,
        help="every app measured once a round, this many rounds; each app's median round counts",
    )
    args = parser.parse_args()
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    logs = Path(tempfile.mkdtemp(prefix="bench-intake-"))
    # Imported here, after support has put bench/ last on the path: uvicorn imports the
    # standard library's queue, which bench/queue.py would shadow.
    import httptools
    import uvicorn
    import uvloop

    print(
        f"machine: {machine()}; wrk -t2 -c32 -d{args.seconds}s; every app served by uvicorn "
        f"{uvicorn.__version__} on uvloop {uvloop.__version__} with httptools "
        f"{httptools.__version__}; logs in {logs}"
    )
    failed: list[str] = []  # the runs with answers other than 201: errors, not work
    for kind in args.database.split(","):
        with database(kind) as url:
            env = configure(url, logs / f"var-{kind}", warm_up="false")
            children = Children(env, logs)
            # The same platform with every filing in a transaction of its own (no group
            # commit, intake.group_commit), for the group's gain measured in this run.
            alone = Children(env | {"COMPLAINTS_FILING_GROUP_SIZE": "1"}, logs)
            bare, floor, real, single = free_port(), free_port(), free_port(), free_port()
            least = free_port()
            serve_bench_app(children, "bare", "bench.bare_app:create_app", bare)
            serve_bench_app(children, f"floor-{kind}", "bench.floor_app:create_app", floor)
            minimal = serve_bench_app(
                children, f"least-{kind}", "bench.minimal_durable_app:create_app", least
            )
            platform = serve_platform(children, f"app-{kind}", real)
            platform_alone = serve_platform(alone, f"app-{kind}-alone", single)
            for port in (bare, floor, least, real, single):
                wait_for("up", lambda p=port: answers(f"http://127.0.0.1:{p}/docs"), timeout=120)
            for port in (bare, floor, least, real, single):
                # Up is not settled: a process answers while those started beside it are
                # still importing. Measured first, unwarmed, the ceiling once came out at
                # 4,745 requests/s, and at 7,284-7,647 in the next rounds of the same run.
                wrk(f"http://127.0.0.1:{port}/api/v1/complaints", WARM_UP_SECONDS, logs)
            one_each, one_each_result = durable(
                f"http://127.0.0.1:{single}/api/v1/complaints", args, logs, platform_alone
            )
            alone.stop()
            # Every app once a round, the ceiling first: a slow spell of the machine falls
            # on a round's ceiling and apps alike, and each app's figure is its share of
            # its own round's ceiling, in the round where that share is the median.
            rounds: list[dict[str, Run]] = []
            for _ in range(args.rounds):
                measured: dict[str, Run] = {}
                for name, port in (("bare", bare), ("floor", floor)):
                    run = wrk(f"http://127.0.0.1:{port}/api/v1/complaints", args.seconds, logs)
                    measured[name] = (run["rps"], run)
                for name, port, app in (("least", least, minimal), ("platform", real, platform)):
                    measured[name] = durable(
                        f"http://127.0.0.1:{port}/api/v1/complaints", args, logs, app
                    )
                rounds.append(measured)
            share, (durable_rate, result), (_, ceiling) = median_share(rounds, "platform")
            floor_share, (floor_rate, framework), _ = median_share(rounds, "floor")
            least_share, (least_rate, least_result), _ = median_share(rounds, "least")
            print(
                f"[{kind}] rounds, ceiling requests/s → platform durable filings/s: "
                + "; ".join(
                    f"{r['bare'][0]:.0f} → {r['platform'][0]:.0f} "
                    f"({r['platform'][0] / r['bare'][0]:.0%})"
                    for r in rounds
                )
            )
            print(f"[{kind}] bare FastAPI ceiling: {ceiling['rps']:7.0f} requests/s")
            print(
                f"[{kind}] the platform storing nothing: {floor_rate:7.0f} answers/s "
                f"({framework['errors']:.0f} not 201) = {floor_share:.0%} "
                "of its round's ceiling: the most a handler that cost nothing would reach"
            )
            print(
                f"[{kind}] bare FastAPI + its row alone: {least_rate:7.0f} durable filings/s "
                f"({least_result['errors']:.0f} not 201) = {least_share:.0%} of its round's "
                "ceiling: a durable row costs no more than that; the rest of the gap is the "
                "platform's other work (history, outbox, limits, Redis, ORM, middleware)"
            )
            print(cpu_line(f"{kind}, its row alone", least_result))
            most = reachable(floor_share, least_share)
            print(
                f"[{kind}] both of those at once: at most {most:.0%} "
                "of the ceiling, for a platform whose only work beyond its framework's were "
                "the durable row (a request's CPU is the floor's plus what the row adds to the "
                "ceiling's)"
            )
            print(
                f"[{kind}] the platform, a transaction per filing: {one_each:7.0f} durable "
                f"filings/s = {one_each / ceiling['rps']:.0%} of the reported round's ceiling "
                "(measured once, before the rounds)"
            )
            print(
                f"[{kind}] the platform:         {durable_rate:7.0f} durable filings/s "
                f"({result['stored']:.0f} stored; {result['errors']:.0f} answers not 201) = "
                f"{share:.0%} of its round's ceiling (target ≥ {TARGET_SHARE:.0%}); group commit "
                f"{durable_rate / one_each:.2f}× a transaction per filing"
            )
            print(cpu_line(kind, result))
            fixed_bare = hey(f"http://127.0.0.1:{bare}/api/v1/complaints", 15, 200, logs)
            fixed = hey(f"http://127.0.0.1:{real}/api/v1/complaints", 15, 200, logs)
            print(
                f"[{kind}] at 200 requests/s offered: platform p50 {fixed['p50']:.1f} ms, "
                f"p99 {fixed['p99']:.1f} ms (target ≤ {TARGET_P99_MS:.0f}), "
                f"{fixed['rps']:.0f} answered/s, {fixed['non201']:.0f} not 201; "
                f"bare p99 {fixed_bare['p99']:.1f} ms"
            )
            children.stop()
            runs = {
                name: sum(r[app][1]["errors"] for r in rounds)
                for name, app in (
                    ("bare", "bare"),
                    ("storing nothing", "floor"),
                    ("its row alone", "least"),
                    ("the platform", "platform"),
                )
            }
            runs["a transaction per filing"] = one_each_result["errors"]
            runs["at 200 requests/s"] = fixed["non201"]
            failed += [f"{kind} {name} ({n:.0f})" for name, n in runs.items() if n]
    if failed:
        sys.exit(
            "error: answers not 201 in " + ", ".join(failed) + ": their figures measure "
            "errors, not filings (the servers' logs: " + str(logs) + ")"
        )


if __name__ == "__main__":
    main()
