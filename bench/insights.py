"""How long the supervisor's statistics, the surge run and the credit refresh take.

A fresh SQLite database (or --database-url) with the default registry gets --filings
generated filings spread over three months (tests/insights/dataset.py: channels, kinds,
sectors, departments, counties, history events, clocks and ratings). Then each is timed a
few times and the median printed: the full statistics report with no filter and with a
place filter, its CSV, the surge run over every business, sector and county, and the credit
refresh.

    .venv/bin/python bench/insights.py [--filings 20000] [--repeat 3] [--database-url URL]
"""

from __future__ import annotations

import argparse
import os
import statistics as stats
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

import support  # noqa: F401  (puts the repository first on sys.path, this folder last)


def _median_ms(run: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append((time.perf_counter() - start) * 1000)
    return stats.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--filings", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="bench-insights-"))
    os.environ["COMPLAINTS_DATA_DIR"] = str(workdir)
    os.environ["COMPLAINTS_DATABASE_URL"] = (
        args.database_url or f"sqlite:///{workdir / 'complaints.db'}"
    )

    from sqlmodel import Session

    import schemas  # noqa: F401
    from core import migrate
    from core.db import get_engine
    from insights.credit import refresh
    from insights.detection import detect_surges
    from insights.report_csv import to_csv
    from insights.statistics import report
    from routing.registry import DEFAULT_REGISTRY, load_registry, parse_registry
    from schemas.statistics import StatsFilter
    from tests.insights import dataset

    migrate.upgrade()
    with Session(get_engine()) as session:
        load_registry(session, parse_registry(DEFAULT_REGISTRY))
        session.commit()
        start = time.perf_counter()
        dataset.store(session, dataset.generate(n=args.filings))
        print(f"stored {args.filings} filings in {time.perf_counter() - start:.1f} s")

        everything = StatsFilter(bucket="week")
        taiyuan = StatsFilter(place="1401", since=date(2026, 2, 1), until=date(2026, 2, 28))
        full = report(session, chosen=everything)
        figures = {
            "statistics report, no filter (ms)": _median_ms(
                lambda: report(session, chosen=everything), args.repeat
            ),
            "statistics report, one city, one month (ms)": _median_ms(
                lambda: report(session, chosen=taiyuan), args.repeat
            ),
            "CSV of the full report (ms)": _median_ms(lambda: to_csv(full), args.repeat),
            "surge run over every subject (ms)": _median_ms(
                lambda: detect_surges(session, today=date(2026, 3, 31)), args.repeat
            ),
            "credit refresh (ms)": _median_ms(
                lambda: refresh(session, today=date(2026, 3, 31)), args.repeat
            ),
        }
        session.rollback()
    for name, value in figures.items():
        print(f"{name:<48} {value:10.1f}")
    print(f"rows in the full report: {len(full.filings) + len(full.totals)} counts")


if __name__ == "__main__":
    main()
