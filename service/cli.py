"""The `complaints` command: serve, run one process kind, or do an administrative chore."""

from __future__ import annotations

import getpass
import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from core.errors import PlatformError
from core.settings import get_settings
from schemas.enums import Role
from service.classifier_cli import app as classifier_app
from service.insights_cli import insights_app, open311_app, opendata_app
from service.logs import configure_logging, logging_config
from service.vault_cli import retention_app, vault_app

app = typer.Typer(
    no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False, help=__doc__
)
db_app = typer.Typer(no_args_is_help=True, help="The database schema.")
departments_app = typer.Typer(no_args_is_help=True, help="The department registry.")
users_app = typer.Typer(no_args_is_help=True, help="Staff accounts.")
odr_app = typer.Typer(
    no_args_is_help=True,
    help="Businesses in online dispute resolution (their complaints go to them first).",
)
app.add_typer(db_app, name="db")
app.add_typer(departments_app, name="departments")
app.add_typer(users_app, name="users")
app.add_typer(odr_app, name="odr")
app.add_typer(classifier_app, name="classifier")
app.add_typer(vault_app, name="vault")
app.add_typer(retention_app, name="retention")
app.add_typer(open311_app, name="open311")
app.add_typer(opendata_app, name="opendata")
app.add_typer(insights_app, name="insights")

Host = Annotated[str, typer.Option(help="address to listen on")]
Port = Annotated[int, typer.Option(min=1, max=65535, help="TCP port")]


def _setup(process: str) -> None:
    settings = get_settings()
    configure_logging(settings.log_level, process, settings.log_format)


def _check_policy() -> None:
    """A bad policy file stops start-up here, naming the field at fault."""
    from cases.policy import current_policy

    current_policy()


def _check_start() -> None:
    """A bad policy file or a Redis that evicts keys stops start-up here, saying why."""
    from redis.exceptions import RedisError

    from core.redis import EvictingRedis, get_redis, require_noeviction

    _check_policy()
    try:
        require_noeviction(get_redis())
    except EvictingRedis as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    except RedisError as exc:
        # Not fatal: intake keeps taking filings without Redis; checked again by /readyz.
        typer.echo(f"warning: Redis does not answer at start ({type(exc).__name__})", err=True)


@app.command()
def serve(host: Host = "127.0.0.1", port: Port = 8000) -> None:
    """Run the whole platform: embedded Redis, API, one worker and the relay."""
    from service.supervisor import serve as run_serve

    _setup("serve")
    _check_policy()  # Redis is checked by each child, once the embedded one is up
    run_serve(host, port)


@app.command()
def api(
    host: Host = "127.0.0.1",
    port: Port = 8000,
    workers: Annotated[int, typer.Option(min=1, max=64, help="uvicorn worker processes")] = 1,
    migrate: Annotated[bool, typer.Option(help="apply migrations before serving")] = False,
) -> None:
    """Run the HTTP API (uvicorn)."""
    from service.http_server import serve

    _setup("api")
    _check_start()
    if migrate:
        from core import migrate as migrations

        migrations.upgrade()
    serve(
        "service.app:create_served_app",
        host=host,
        port=port,
        workers=workers,
        log_level=get_settings().log_level.lower(),
        # Each uvicorn worker process configures logging afresh: with this, in our format.
        log_config=logging_config(get_settings().log_level, "api", fmt=get_settings().log_format),
        access_log=False,  # it records client addresses; service.request_log does not
    )


@app.command()
def worker(
    burst: Annotated[bool, typer.Option(help="exit when the queues are empty")] = False,
) -> None:
    """Run one RQ worker on the platform's queues."""
    import schemas  # noqa: F401
    from core import heap
    from routing.tasks import warm_up
    from workers.worker import run_worker

    _setup("worker")
    _check_start()
    # After the models are loaded: what they hold is frozen, never scanned again (core.heap).
    ok = run_worker(warm_up=[warm_up, heap.settle], burst=burst)
    raise typer.Exit(0 if ok else 1)


@app.command()
def relay() -> None:
    """Run the outbox relay: send to Redis the jobs that missed it at commit time."""
    import schemas  # noqa: F401
    from workers.relay import run_relay

    _setup("relay")
    _check_start()
    run_relay()


@app.command()
def scheduler() -> None:
    """Run the scheduler: deadlines, purges, retention, surge alerts and credit grades."""
    from service.schedule import periodic_jobs
    from workers.scheduler import run_scheduler

    _setup("scheduler")
    _check_start()
    run_scheduler(periodic_jobs(get_settings()))


@app.command("sms-gateway")
def sms_gateway(
    host: Host = "127.0.0.1",
    port: Port = 8025,
    inbox: Annotated[Path, typer.Option(help="JSON-lines file of received messages")] = Path(
        "var/sms-loopback.jsonl"
    ),
) -> None:
    """Run the loopback SMS gateway alone (POST/GET /messages), for development and tests."""
    import uvicorn

    from notify.loopback import LoopbackInbox, loopback_app

    _setup("sms-gateway")
    uvicorn.run(loopback_app(LoopbackInbox(inbox)), host=host, port=port)


@db_app.command("upgrade")
def db_upgrade(
    revision: Annotated[str, typer.Option(help="target revision")] = "head",
) -> None:
    """Apply migrations up to REVISION (default: the newest)."""
    from core import migrate

    _setup("db")
    migrate.upgrade(revision=revision)
    typer.echo(f"database at {revision}")


@departments_app.command("load")
def departments_load(
    file: Annotated[Path, typer.Argument(help="registry YAML file")],
    migrate: Annotated[bool, typer.Option(help="apply migrations first")] = False,
) -> None:
    """Load a department registry file; departments it no longer lists are deactivated."""
    import schemas  # noqa: F401  (every table on the metadata)
    from core.db import session_scope
    from products.risk import hand_over
    from routing.registry import load_registry, parse_registry

    _setup("departments")
    parsed = parse_registry(file)
    if migrate:
        from core import migrate as migrations

        migrations.upgrade()
    with session_scope() as session:
        summary = load_registry(session, parsed)
        handed = hand_over(session)  # in the same transaction: all or nothing
        session.commit()
    typer.echo(
        f"registry {summary.version} loaded: {len(summary.added)} added, "
        f"{len(summary.updated)} updated, {len(summary.deactivated)} deactivated"
        + (f" ({', '.join(summary.deactivated)})" if summary.deactivated else "")
    )
    if summary.requeued or summary.reassigned:
        typer.echo(
            f"filings not yet taken on: {summary.requeued} back to triage (department gone), "
            f"{summary.reassigned} to the office now in charge (office gone)"
        )
    for code, count in handed.items():
        typer.echo(f"{count} product-risk case{'s' if count != 1 else ''} handed to {code}")


@departments_app.command("list")
def departments_list() -> None:
    """List the active departments."""
    from core.db import session_scope
    from routing.repository import active_departments

    with session_scope() as session:
        for dept in active_departments(session):
            marker = "  [triage]" if dept.is_triage else ""
            typer.echo(f"{dept.code:<16} {dept.name}{marker}")


# Asked for without echo when not given: a password on the command line stays in the shell's
# history and shows in the process list while the command runs.
NewPassword = Annotated[
    str,
    typer.Option(
        help="at least 10 characters besides spaces; asked for (not echoed) if left out",
        prompt=True,
        hide_input=True,
        confirmation_prompt=True,
    ),
]


@users_app.command("create")
def users_create(
    username: Annotated[str, typer.Option(help="sign-in name")],
    role: Annotated[Role, typer.Option(help="what the account may do")],
    password: NewPassword,
    department: Annotated[
        str | None, typer.Option(help="department code (role department only)")
    ] = None,
    office: Annotated[
        str | None,
        typer.Option(help="office code, e.g. quality-140105: the user sees that area only"),
    ] = None,
) -> None:
    """Create a staff account."""
    from accounts.service import create_user
    from core.db import session_scope

    with session_scope() as session:
        user = create_user(
            session,
            username=username,
            password=password,
            role=role,
            department_code=department,
            office_code=office,
        )
        _audit_account(
            session, user, "create", role=role.value, department=department, office=office
        )
        session.commit()
    typer.echo(
        f"created {user.role.value} {user.username}" + (f" of {department}" if department else "")
    )


Username = Annotated[str, typer.Option(help="the account's sign-in name")]


def _audit_account(session: Any, user: Any, action: str, **detail: str | None) -> None:
    """The audit trail names the operating-system user who ran the command: there is no
    staff account behind a command line."""
    from accounts.service import record_account_change

    try:
        who = getpass.getuser()
    except (KeyError, OSError):  # no name for this uid (a bare container)
        who = f"uid {os.getuid()}"
    record_account_change(session, account=user, action=action, by=f"cli:{who}", detail=detail)


@users_app.command("disable")
def users_disable(username: Username) -> None:
    """Shut an account out at once: its tokens and page sessions stop working."""
    _set_active(username, active=False)


@users_app.command("enable")
def users_enable(username: Username) -> None:
    """Let a disabled account sign in again."""
    _set_active(username, active=True)


def _set_active(username: str, *, active: bool) -> None:
    from accounts.service import set_active
    from core.db import session_scope

    change = "enable" if active else "disable"
    with session_scope() as session:
        user = set_active(session, username=username, active=active)
        _audit_account(session, user, change)
        session.commit()
        typer.echo(f"{change}d {user.username}")


@users_app.command("set-password")
def users_set_password(
    username: Username,
    password: NewPassword,
) -> None:
    """Give an account a new password: its tokens and page sessions stop working at once."""
    from accounts.service import set_password
    from core.db import session_scope

    with session_scope() as session:
        user = set_password(session, username=username, password=password)
        _audit_account(session, user, "set_password")
        session.commit()
        typer.echo(f"new password for {user.username}; signed-in sessions ended")


@users_app.command("set-role")
def users_set_role(
    username: Username,
    role: Annotated[Role, typer.Option(help="what the account may do from now on")],
    department: Annotated[
        str | None, typer.Option(help="department code (role department only)")
    ] = None,
    office: Annotated[
        str | None,
        typer.Option(help="office code, e.g. quality-140105: the user sees that area only"),
    ] = None,
) -> None:
    """Move an account to another role, department or office: its tokens and page sessions
    stop working at once."""
    from accounts.service import set_role
    from core.db import session_scope

    with session_scope() as session:
        user = set_role(
            session, username=username, role=role, department_code=department, office_code=office
        )
        _audit_account(
            session, user, "set_role", role=role.value, department=department, office=office
        )
        session.commit()
        where = f" of {department}" if department else ""
        where += f", office {office}" if office else ""
        typer.echo(f"{user.username} is now {user.role.value}{where}; signed-in sessions ended")


@odr_app.command("add")
def odr_add(
    uscc: Annotated[str, typer.Option(help="the business's unified social credit code")],
    name: Annotated[str, typer.Option(help="the business's name")],
) -> None:
    """Add (or re-activate) a business that resolves its complaints online first."""
    from core.db import session_scope
    from routing.odr import add_participant

    with session_scope() as session:
        row = add_participant(session, uscc=uscc, name=name)
        session.commit()
        typer.echo(f"ODR participant: {row.business_uscc} {row.name}")


def main() -> None:
    """Entry point: domain errors, and a database that is not migrated or cannot be reached,
    become a one-line message and exit code 2."""
    from sqlalchemy.exc import ArgumentError, OperationalError, ProgrammingError

    try:
        app()
    except PlatformError as exc:
        typer.echo(f"error: {exc.detail}", err=True)
        sys.exit(2)
    except ArgumentError as exc:  # raised when the engine is made: the URL, not a statement
        typer.echo(f"error: COMPLAINTS_DATABASE_URL: {exc}", err=True)
        sys.exit(2)
    except (OperationalError, ProgrammingError) as exc:
        typer.echo(f"error: {_database_problem(exc)}", err=True)
        sys.exit(2)


def _database_problem(exc: Exception) -> str:
    """What an administrator should do about a database error a command met.

    Names the driver's error type only: its message may quote the statement's parameters.
    """
    from sqlalchemy.exc import SQLAlchemyError

    from core.migrate import schema_behind

    kind = type(getattr(exc, "orig", None) or exc).__name__
    try:
        behind = schema_behind()
    except SQLAlchemyError:  # the database cannot even be read: said below
        behind = False
    if behind:
        return (
            "the database is not migrated to this version's schema: run `complaints db "
            f"upgrade` first ({kind})"
        )
    return (
        f"the database could not be used ({kind}): check that it is running and that "
        "COMPLAINTS_DATABASE_URL points at it"
    )
