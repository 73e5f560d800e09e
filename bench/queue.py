"""Read latency with a million filings in PostgreSQL: department queue page, tracking look-up,
supervisor statistics.

ROWS filings (default 1,000,000) spread over the registry's departments, statuses and a year
of due dates, each with its history entries, are bulk-loaded with COPY (progress bar), then
ANALYZEd. The API runs in this process against that database; each read is sent REPEAT
times with a staff token and timed as the client sees it (in-process, no network):

- the department queue sorted by deadline (first page, then pages further on by cursor);
- the public tracking page of a random filing;
- the supervisor's satisfaction index.

    .venv/bin/python bench/queue.py [--rows 1000000] [--repeat 200]
"""

from __future__ import annotations

import argparse
import io
import random
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from support import configure, database, machine, percentile  # (see support.py: sys.path)

TARGET_P95_MS = 100.0
STATUSES = ["routed", "accepted", "mediating", "closed", "triage", "refused", "resolved"]


def load(rows: int) -> list[str]:
    """COPY the filings and their history; returns some tracking numbers to look up."""
    from sqlalchemy import text
    from sqlmodel import Session, select
    from tqdm import tqdm

    from core.db import get_engine
    from intake.tracking_number import damm_digit
    from schemas import Department

    engine = get_engine()
    with Session(engine) as session:
        departments = [d.id for d in session.exec(select(Department)).all() if not d.is_triage]
    rng = random.Random(12315)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    numbers: list[str] = []
    chunk = 50_000
    bar = tqdm(total=rows, desc="COPY", unit="filing")
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        for first in range(0, rows, chunk):
            complaints, events = io.StringIO(), io.StringIO()
            for n in range(first, min(rows, first + chunk)):
                filed = start + timedelta(seconds=n * 29)
                number = f"26{n:011d}"
                number += damm_digit(number)
                status = STATUSES[n % len(STATUSES)]
                due = (date(2026, 1, 10) + timedelta(days=rng.randrange(365))).isoformat()
                if n % 997 == 0:
                    numbers.append(number)
                words = f"某某超市卖的商品有质量问题，要求退货（第{n}号）"
                complaints.write(
                    f"{n + 1}\t{number}\tcomplaint\tweb\t{status}\t{words}"
                    f"\t+86139{n % 100_000_000:08d}\t太原市某某{n % 5000}号商店\t\\N\t\\N\t\\N"
                    f"\t{rng.choice(departments)}\t\\N\t山西省\t太原市\t小店区\t140105\tf\t{{}}"
                    f"\t\\N\t{due}\t2\t\\N\t{filed.isoformat()}\t{filed.isoformat()}\n"
                )
                events.write(
                    f"{2 * n + 1}\t{n + 1}\t{filed.isoformat()}\tcitizen\t\\N\t\\N\treceived\tfiled"
                    f"\t\\N\t{{}}\tt\n{2 * n + 2}\t{n + 1}\t{filed.isoformat()}\tsystem:router\t\\N"
                    f"\treceived\t{status}\trouted\t已分派\t{{}}\tt\n"
                )
            with cursor.copy(
                "COPY complaints (id, tracking_number, kind, channel, status, text, contact_phone,"
                " business_name, business_uscc, business_address, region, department_id,"
                " office_id, place_province, place_city, place_county, place_code,"
                " split_suggested, routing_hints, merged_into_id, deadline_due_on, version,"
                " personal_data_purged_on, created_at, updated_at) FROM STDIN"
            ) as copy:
                copy.write(complaints.getvalue())
            with cursor.copy(
                "COPY complaint_events (id, complaint_id, at, actor, actor_id, from_status,"
                " to_status, reason, public_note, payload, public) FROM STDIN"
            ) as copy:
                copy.write(events.getvalue())
            raw.commit()
            bar.update(min(chunk, rows - first))
        bar.close()
    finally:
        raw.close()
    with engine.connect() as connection:
        connection.execute(text(f"SELECT setval('complaints_id_seq', {rows})"))
        connection.execute(text(f"SELECT setval('complaint_events_id_seq', {2 * rows})"))
        connection.commit()
        connection.execution_options(isolation_level="AUTOCOMMIT").execute(text("ANALYZE"))
    return numbers


def timed(call: object, repeat: int) -> list[float]:
    seconds = []
    for _ in range(repeat):
        started = time.perf_counter()
        answer = call()  # type: ignore[operator]
        seconds.append(time.perf_counter() - started)
        assert answer.status_code == 200, answer.text
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=200)
    args = parser.parse_args()
    logs = Path(tempfile.mkdtemp(prefix="bench-queue-"))
    print(f"machine: {machine()}; {args.rows} filings in PostgreSQL; {args.repeat} reads each")
    with database("postgres") as url:
        configure(url, logs / "var", warm_up="false")
        started = time.perf_counter()
        numbers = load(args.rows)
        print(f"bulk load: {args.rows / (time.perf_counter() - started):.0f} filings/s")

        from fastapi.testclient import TestClient
        from sqlmodel import Session

        from accounts.service import create_user
        from core.db import get_engine
        from schemas.enums import Role
        from service.app import create_app

        with Session(get_engine()) as session:
            for username, role, code in (
                ("zj", Role.department, "quality"),
                ("boss", Role.supervisor, None),
            ):
                create_user(session, username=username, password="bench-password-1", role=role,
                            department_code=code, office_code=None)  # fmt: skip
            session.commit()
        with TestClient(create_app()) as client:

            def token(user: str) -> dict[str, str]:
                answer = client.post(
                    "/api/v1/auth/token", data={"username": user, "password": "bench-password-1"}
                )
                return {"Authorization": f"Bearer {answer.json()['access_token']}"}

            desk, boss = token("zj"), token("boss")
            first = client.get("/api/v1/queue", params={"sort": "deadline"}, headers=desk)
            cursors = [first.json().get("next_cursor")]
            for _ in range(20):
                page = client.get(
                    "/api/v1/queue",
                    params={"sort": "deadline", "cursor": cursors[-1]},
                    headers=desk,
                ).json()
                cursors.append(page.get("next_cursor"))
            rng = random.Random(1)
            figures = {
                "queue, first page by deadline": timed(
                    lambda: client.get("/api/v1/queue", params={"sort": "deadline"}, headers=desk),
                    args.repeat,
                ),
                "queue, a later page (cursor)": timed(
                    lambda: client.get(
                        "/api/v1/queue",
                        params={"sort": "deadline", "cursor": rng.choice(cursors[1:-1])},
                        headers=desk,
                    ),
                    args.repeat,
                ),
                "tracking look-up": timed(
                    lambda: client.get(f"/api/v1/track/{rng.choice(numbers)}"), args.repeat
                ),
                "supervisor: satisfaction index": timed(
                    lambda: client.get("/api/v1/stats/satisfaction", headers=boss),
                    max(10, args.repeat // 10),
                ),
                "supervisor: statistics, one month": timed(
                    lambda: client.get(
                        "/api/v1/stats",
                        params={"since": "2026-03-01", "until": "2026-03-31"},
                        headers=boss,
                    ),
                    max(10, args.repeat // 10),
                ),
            }
    for name, seconds in figures.items():
        p50, p95 = percentile(seconds, 50) * 1000, percentile(seconds, 95) * 1000
        verdict = "meets" if p95 <= TARGET_P95_MS else "misses"
        print(f"{name:34} p50 {p50:7.1f} ms  p95 {p95:7.1f} ms  ({verdict} p95 ≤ 100 ms)")


if __name__ == "__main__":
    main()
