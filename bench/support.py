"""What the benches share: a throwaway platform (database, Redis, processes) and percentiles.

Each bench measures the platform against a reference run in the same process on the same
machine, so the ratio means something on a shared, noisy machine where seconds do not.
"""

from __future__ import annotations

import atexit
import csv
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
HERE = str(Path(__file__).resolve().parent)
# The benches' names are those the issue gives them, and two are taken: bench/queue.py is
# the standard library's `queue` (redis and psycopg import it), bench/routing.py the
# platform's `routing`. So this folder is searched last, after the project and the library.
sys.path[:] = [str(REPO)] + [p for p in sys.path if p not in {HERE, str(REPO)}] + [HERE]
PG_ADMIN = os.environ.get("BENCH_PG_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/13")
TEXTS = [
    "我家小区的电梯上个月困人两次，物业一直不修，电梯年检标志也过期了，请质监部门检查。",
    "在太原市小店区某某超市买的电热水壶用了三天就漏电，要求退货退款，超市不同意。",
    "举报某某食品厂用过期原料生产月饼，仓库在小店区，请依法查处。",
    "咨询一下网购的衣服七天无理由退货运费由谁承担？商家说要我自己出。",
    "某某驾校收了学费以后迟迟不安排练车，要求退费被拒绝，教练态度恶劣。",
    "药店出售处方药不要处方，还夸大宣传保健品能治病，请食药监部门查处。",
    "在某某医院做体检被重复收费，医院不给解释，要求退还多收的费用。",
    "加油站的加油机计量不准，加了四十升油箱才半箱，怀疑作弊，请计量部门检查。",
]


# A complaint of about 100 characters, as the load generators send it.
BODY = {
    "kind": "complaint",
    "text": "我在太原市小店区某某超市买的电热水壶用了三天就漏电，差点引起火灾，要求退货退款并赔偿，"
    "超市不同意，说是我自己用坏的，请市场监督管理部门处理。",
    "contact_phone": "13812345678",
    "complainant_name": "李秀英",  # a complaint is made under a real name (SAMR Order 121)
    "business_name": "太原市某某超市有限公司",
    "business_address": "山西省太原市小店区某某路1号",
}


def need(tool: str) -> str:
    found = shutil.which(tool)
    if not found:
        sys.exit(f"error: `{tool}` is not installed; run scripts/bench-tools")
    return found


def hey(url: str, seconds: int, rate: int, logs: Path, connections: int = 20) -> dict[str, Any]:
    """POST BODY at `rate` requests/s for `seconds` over `connections` connections, the
    arrivals spread evenly; latency percentiles, answered rate and status codes.

    One `hey -c 20 -q 10` fires all its connections at once every 100 ms: 200 requests/s
    offered as bursts of 20, which measures how a burst drains, not a steady rate. So each
    connection is a `hey -c 1` of its own, started 1/rate seconds after the previous one,
    and the per-request CSVs are read together.
    """
    body = logs / "body.json"
    body.write_text(json.dumps(BODY, ensure_ascii=False), encoding="utf-8")
    command = [need("hey"), "-z", f"{seconds}s", "-c", "1", "-q", str(rate / connections)]
    command += ["-m", "POST", "-T", "application/json", "-D", str(body), "-o", "csv", url]
    runs = []
    for i in range(connections):
        out = (logs / f"hey-{i}.csv").open("w")
        runs.append((subprocess.Popen(command, stdout=out), out))
        time.sleep(1 / rate)
    latencies: list[float] = []
    codes: dict[str, int] = {}
    for process, out in runs:
        process.wait()
        out.close()
        with open(out.name, encoding="utf-8") as rows:
            for row in csv.DictReader(rows):
                latencies.append(float(row["response-time"]) * 1000)
                codes[row["status-code"]] = codes.get(row["status-code"], 0) + 1
    return {
        "p50": percentile(latencies, 50) if latencies else float("nan"),
        "p99": percentile(latencies, 99) if latencies else float("nan"),
        "rps": len(latencies) / seconds,
        "codes": codes,
        "non201": sum(n for code, n in codes.items() if code != "201"),
    }


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def machine() -> str:
    return f"{os.cpu_count()} cores, Python {sys.version.split()[0]}"


def _stat_fields(pid: int) -> list[str] | None:
    """/proc/<pid>/stat after the command's name (which may hold spaces); None if gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text[text.rindex(")") + 2 :].split()


def cpu_seconds(pids: Sequence[int]) -> float:
    """User and system CPU the processes have used so far (Linux /proc)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        fields = _stat_fields(pid)
        if fields is not None:  # utime and stime: the stat file's 14th and 15th fields
            total += int(fields[11]) + int(fields[12])
    return total / ticks


def process_tree(pid: int) -> list[int]:
    """`pid` and every process below it (a served app: uvicorn's parent and its workers)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (fields := _stat_fields(int(entry.name))) is not None:
            parents[int(entry.name)] = int(fields[1])
    tree, frontier = [pid], [pid]
    while frontier:
        frontier = [child for child, parent in parents.items() if parent in frontier]
        tree += frontier
    return tree


def processes_named(name: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and (entry / "comm").read_text().strip() == name:
                found.append(int(entry.name))
        except OSError:
            continue
    return found


@contextmanager
def database(kind: str) -> Iterator[str]:
    """A new, empty database: a SQLite file, or a PostgreSQL database dropped afterwards."""
    if kind == "sqlite":
        folder = tempfile.mkdtemp(prefix="bench-")
        try:
            yield f"sqlite:///{folder}/bench.db"
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        return
    import psycopg

    name = f"complaints_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://")
    try:
        yield f"{base}/{name}"
    finally:
        from core.db import dispose_engines

        dispose_engines()
        with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def configure(database_url: str, data_dir: Path, **extra: str) -> dict[str, str]:
    """Point this process (and the children it starts) at the bench's stores; migrate."""
    from redis import Redis

    env = {k: v for k, v in os.environ.items() if not k.startswith("COMPLAINTS_")}
    env |= {
        "COMPLAINTS_DATA_DIR": str(data_dir),
        "COMPLAINTS_DATABASE_URL": database_url,
        "COMPLAINTS_REDIS_URL": REDIS,
        "COMPLAINTS_SECRET_KEY": "bench-secret-key-" + "x" * 32,
        "COMPLAINTS_RATE_LIMIT_FILINGS_PER_IP_PER_HOUR": "100000000",
        "COMPLAINTS_RATE_LIMIT_FILINGS_PER_PHONE_PER_DAY": "100000000",
        "COMPLAINTS_LOG_LEVEL": "WARNING",
        "OMP_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
    }
    env |= {f"COMPLAINTS_{k.upper()}": v for k, v in extra.items()}
    os.environ.clear()
    os.environ.update(env)
    from core.settings import get_settings

    get_settings.cache_clear()
    Redis.from_url(REDIS).flushdb()
    from core import migrate
    from core.db import dispose_engines
    from core.redis import reset_redis

    dispose_engines()
    reset_redis()
    migrate.upgrade()
    from sqlmodel import Session

    import schemas  # noqa: F401
    from core.db import get_engine
    from routing.registry import DEFAULT_REGISTRY, load_registry, parse_registry

    with Session(get_engine()) as session:
        load_registry(session, parse_registry(DEFAULT_REGISTRY))
        session.commit()
    return env


@dataclass
class Children:
    env: dict[str, str]
    logs: Path
    running: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def __post_init__(self) -> None:
        # Stopped however the bench ends (a wait_for that gave up, Ctrl-C): a worker left
        # running on the bench's Redis would take the next run's jobs to its own database.
        atexit.register(self.stop)

    def start(self, name: str, *args: str) -> subprocess.Popen[bytes]:
        log = (self.logs / f"{name}.log").open("ab")
        process = subprocess.Popen(
            args,
            env=self.env,
            cwd=REPO,  # not bench/: bench/routing.py would shadow the routing package
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.running.append(process)
        return process

    def complaints(self, name: str, *args: str) -> subprocess.Popen[bytes]:
        return self.start(name, sys.executable, "-m", "service", *args)

    def stop(self) -> None:
        for process in self.running:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.running:
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
        self.running.clear()


def wait_for(what: str, check: Callable[[], bool], *, timeout: float, every: float = 0.05) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(every)
    raise SystemExit(f"{what}: not within {timeout:.0f}s")


def answers(url: str) -> bool:
    import httpx

    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.TransportError:
        return False


def file_filings(count: int, *, per_transaction: int = 500, progress: bool = True) -> list[int]:
    """File `count` complaints as intake does (row, event, outbox rows in one transaction)."""
    from tqdm import tqdm

    from cases.lifecycle import Actor
    from core.db import session_scope
    from intake.service import FilingDraft, create_filing
    from schemas.enums import Channel, Kind

    ids: list[int] = []
    bar = tqdm(total=count, desc="filing", unit="filing", disable=not progress, leave=False)
    while len(ids) < count:
        chunk = min(per_transaction, count - len(ids))
        with session_scope() as session:
            for _ in range(chunk):
                n = len(ids)
                complaint = create_filing(
                    session,
                    draft=FilingDraft(
                        kind=Kind.complaint,
                        text=f"{TEXTS[n % len(TEXTS)]}（第{n}号）",
                        contact_phone=f"+86139{n % 100_000_000:08d}",
                        complainant_name="李秀英",
                        business_name=f"太原市某某{n % 997}号商店",
                        business_address="山西省太原市小店区某某路1号",
                    ),
                    channel=Channel.web,
                    actor=Actor.system("bench"),
                )
                assert complaint.id is not None
                ids.append(complaint.id)
            session.commit()
        bar.update(chunk)
    bar.close()
    return ids
