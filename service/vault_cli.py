"""`complaints vault new-key | rotate` and `complaints retention purge`."""

from __future__ import annotations

import json

import typer

vault_app = typer.Typer(no_args_is_help=True, help="The whistleblower identity vault's keys.")
retention_app = typer.Typer(no_args_is_help=True, help="Erasing personal data past retention.")


@vault_app.command("new-key")
def new_key(
    key_id: str = typer.Option(..., "--id", help="a name for the key, e.g. 2027-01"),
) -> None:
    """Print a new key as a JSON entry to add to COMPLAINTS_VAULT_KEYS (nothing is stored)."""
    from rewards.sealing import KeyRing

    if not key_id.strip() or len(key_id) > 40 or '"' in key_id:
        raise typer.BadParameter("--id must be 1–40 characters without quotes")
    typer.echo(json.dumps({key_id.strip(): KeyRing.new_key()}))


@vault_app.command("rotate")
def rotate() -> None:
    """Reseal every identity and queued reporter message under the active key.

    First add the new key to COMPLAINTS_VAULT_KEYS and make it COMPLAINTS_VAULT_ACTIVE_KEY;
    once this reports 0 left on old keys, the old key may be removed.
    """
    import schemas  # noqa: F401
    from core.db import session_scope
    from notify.service import reseal_pending
    from rewards import vault
    from rewards.keys import keyring

    with session_scope() as session:
        identities = vault.rotate(session)
        messages = reseal_pending(session, keyring())
        session.commit()
    typer.echo(
        f"resealed under key {keyring().active!r}: {identities} identities, "
        f"{messages} queued messages"
    )


@retention_app.command("purge")
def purge() -> None:
    """Erase now what the scheduler would: personal data of filings past retention."""
    import schemas  # noqa: F401
    from cases.tasks import retention

    result = retention()
    typer.echo(
        f"erased: {result['filings']} filings, {result['identities']} identities, "
        f"{result['files']} attachments"
    )
