"""`complaints open311 …`, `complaints opendata export` and `complaints insights …`."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path
from typing import Annotated

import typer

open311_app = typer.Typer(no_args_is_help=True, help="Open311 API keys of client systems.")
opendata_app = typer.Typer(no_args_is_help=True, help="The anonymised open-data export.")
insights_app = typer.Typer(no_args_is_help=True, help="Surge alerts and business credit.")


@open311_app.command("add-key")
def add_key(name: Annotated[str, typer.Option(help="the client system's name")]) -> None:
    """Make an API key for POST /open311/v2/requests; it is printed once, only its hash kept."""
    import schemas  # noqa: F401
    from core.db import session_scope
    from opendata.api_keys import create_key

    with session_scope() as session:
        raw = create_key(session, name=name)
        session.commit()
    typer.echo(raw)


@open311_app.command("revoke-key")
def revoke(name: Annotated[str, typer.Option(help="the client system's name")]) -> None:
    """Revoke a client system's key at once."""
    import schemas  # noqa: F401
    from core.db import session_scope
    from opendata.api_keys import revoke_key

    with session_scope() as session:
        revoke_key(session, name=name)
        session.commit()
    typer.echo(f"revoked the key of {name.strip()}")


@opendata_app.command("export")
def export_complaints(
    out: Annotated[Path | None, typer.Option(help="file to write; default standard output")] = None,
    format: Annotated[str, typer.Option(help="csv or json")] = "csv",
    since: Annotated[str | None, typer.Option(help="received on or after, YYYY-MM-DD")] = None,
    until: Annotated[str | None, typer.Option(help="received on or before, YYYY-MM-DD")] = None,
) -> None:
    """Write the anonymised export of public complaints (no tip-offs, no personal data)."""
    import schemas  # noqa: F401
    from core.db import session_scope
    from core.errors import InvalidInput
    from core.timeutil import check_period
    from opendata import export

    if format not in {"csv", "json"}:
        raise InvalidInput("--format must be csv or json")
    first, last = _day(since, "--since"), _day(until, "--until")
    check_period(first, last, names=("--since", "--until"))
    with session_scope() as session:
        rows = export.records(session, since=first, until=last)
        chunks = export.to_json(rows) if format == "json" else export.to_csv(rows)
        if out is None:
            for chunk in chunks:
                sys.stdout.write(chunk)
            return
        partial = out.with_name(out.name + ".partial")
        try:
            with partial.open("w", encoding="utf-8", newline="") as handle:
                for chunk in chunks:
                    handle.write(chunk)
            partial.replace(out)  # a failed export leaves no half file under the name asked for
        except OSError as exc:  # a missing folder, a folder given as the file, no permission
            partial.unlink(missing_ok=True)
            raise InvalidInput(f"--out: cannot write {out}: {exc.strerror or exc}") from None
    typer.echo(f"wrote {out}", err=True)


def _day(value: str | None, option: str) -> date | None:
    from core.errors import InvalidInput

    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise InvalidInput(f"{option} must be a date YYYY-MM-DD, got {value!r}") from exc


@insights_app.command("surges")
def run_surges() -> None:
    """Test for surges now (the scheduler does it every COMPLAINTS_SURGE_INTERVAL_SECONDS)."""
    import schemas  # noqa: F401
    from insights.tasks import surges

    result = surges()
    typer.echo(f"{result['raised']} new alerts, {result['continued']} surges going on")


@insights_app.command("credit")
def run_credit() -> None:
    """Recompute business credit grades now (the scheduler does it on its interval)."""
    import schemas  # noqa: F401
    from insights.tasks import credit

    result = credit()
    typer.echo(f"{result['businesses']} businesses graded, {result['changed']} grades changed")
