"""What the scheduler runs, and how often: the one list `complaints scheduler` works from."""

from __future__ import annotations

from core.settings import Settings
from workers.scheduler import Periodic


def periodic_jobs(settings: Settings) -> list[Periodic]:
    """Deadline warnings and escalations; purges of expired keys and unclaimed uploads;
    erasure of personal data past the policy's retention period; surge alerts and credit
    grades."""
    import schemas  # noqa: F401  (every table, before the first query)
    from cases.tasks import retention, sweep
    from insights import tasks as insights_tasks
    from intake.tasks import purge_expired

    return [
        Periodic("deadline sweep", settings.sweep_interval_seconds, sweep),
        Periodic("purge", settings.purge_interval_seconds, purge_expired),
        Periodic("retention", settings.purge_interval_seconds, retention),
        Periodic("surges", settings.surge_interval_seconds, insights_tasks.surges),
        Periodic("credit", settings.credit_interval_seconds, insights_tasks.credit),
    ]
