"""How far brute force on receipt codes gets: the throttle against the unthrottled check.

Files one tip-off into a temporary SQLite database, then makes wrong guesses through
`rewards.receipts.verify` against real Redis, first for one global window with the throttle
as configured, then measures what an unthrottled attacker would pay per guess (one Argon2
check). Prints the ratio and the expected time to find one code.

    .venv/bin/python bench/receipts.py [--redis redis://127.0.0.1:6379/14] [--guesses 10000]
"""

from __future__ import annotations

import argparse
import os
import random
import tempfile
import time
from pathlib import Path

import support  # noqa: F401  (puts the repository first on sys.path, this folder last)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/14")
    parser.add_argument("--guesses", type=int, default=10_000)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="bench-receipts-"))
    os.environ.update(
        COMPLAINTS_DATA_DIR=str(workdir),
        COMPLAINTS_DATABASE_URL=f"sqlite:///{workdir / 'bench.db'}",
        COMPLAINTS_REDIS_URL=args.redis,
        COMPLAINTS_WARM_UP="false",
    )
    from redis import Redis
    from sqlmodel import Session

    import schemas  # noqa: F401
    from core import migrate
    from core.db import get_engine
    from core.errors import NotFound
    from core.settings import get_settings
    from intake.limits import TooManyRequests
    from intake.service import FilingDraft, file_tip
    from rewards import receipts
    from schemas.enums import Channel, Kind
    from schemas.reporter import ReporterIdentityIn

    Redis.from_url(args.redis).flushdb()
    migrate.upgrade()
    settings = get_settings()
    with Session(get_engine()) as session:
        from cases.lifecycle import CITIZEN

        filed = file_tip(
            session,
            draft=FilingDraft(kind=Kind.tip, text="举报某厂无证生产电动车充电器，请依法查处。"),
            reporter=ReporterIdentityIn(),
            channel=Channel.web,
            actor=CITIZEN,
        )
        session.commit()
        code = filed.receipt_code
        assert code is not None
        rng = random.Random(1)
        checked = throttled = hits = 0
        started = time.perf_counter()
        for i in range(args.guesses):
            guess = code[:8] + "".join(rng.choice("0123456789") for _ in range(16))
            if i % 2:
                guess = "".join(rng.choice("0123456789") for _ in range(24))
            try:
                receipts.verify(session, guess)
                hits += 1
            except TooManyRequests:
                throttled += 1
            except NotFound:
                checked += 1
        elapsed = time.perf_counter() - started
        argon_started = time.perf_counter()
        for _ in range(20):
            receipts._matches(None, "0" * 24)
        per_check = (time.perf_counter() - argon_started) / 20
    Redis.from_url(args.redis).flushdb()
    window = settings.receipt_global_window_seconds
    allowed_per_second = settings.receipt_global_max_failures / window
    unthrottled_per_second = 1 / per_check
    space = 10**receipts.SECRET_DIGITS
    print(f"cores: {os.cpu_count()}")
    print(
        f"guesses: {args.guesses} in {elapsed:.2f} s: {hits} hits, {checked} checked, "
        f"{throttled} refused by the throttle"
    )
    print(
        f"Argon2 check: {per_check * 1000:.1f} ms → unthrottled {unthrottled_per_second:.1f} "
        f"guesses/s per core"
    )
    print(
        f"throttle: at most {settings.receipt_global_max_failures} checked per {window} s "
        f"= {allowed_per_second:.2f} guesses/s over all codes"
    )
    print(
        f"ratio throttled/unthrottled guess rate: {allowed_per_second / unthrottled_per_second:.4f}"
    )
    years = space / 2 / allowed_per_second / (365 * 24 * 3600)
    print(f"expected time to find one code's secret ({space:.0e} possibilities): {years:.2e} years")


if __name__ == "__main__":
    main()
