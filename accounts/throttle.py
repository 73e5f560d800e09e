"""Staff sign-in tries are limited per account and per client address, counted in Redis.

Every try is counted before the password is checked, so that tries made at the same moment
each get their own number and a locked account costs no password hash (Argon2 is slow on
purpose: unlimited tries would be both a guessing attack and a CPU flood). A right password
takes its try back. Counters are keyed hashes: neither usernames nor addresses appear in
Redis. If Redis cannot be reached the limit is not enforced (logged): staff must still be
able to sign in while it is down, and the password hash still slows guessing.
"""

from __future__ import annotations

from core.settings import get_settings
from intake.limits import Limit, check_all, clear, forgive

__all__ = ["count_try", "forgive", "reset_account"]


def _per_account(username: str) -> Limit:
    settings = get_settings()
    return Limit(
        "signin-account",
        username,
        limit=settings.signin_max_tries_per_account,
        window_seconds=settings.signin_window_seconds,
        what="failed sign-ins to this account",
    )


def count_try(username: str, address: str | None) -> list[str]:
    """Count a sign-in try; TooManyRequests (429, Retry-After) once either limit is spent."""
    settings = get_settings()
    window = settings.signin_window_seconds
    return check_all(
        [
            _per_account(username),
            Limit(
                "signin-ip",
                address or "unknown",
                limit=settings.signin_max_tries_per_address,
                window_seconds=window,
                what="failed sign-ins from this address",
            ),
        ]
    )


def reset_account(username: str) -> None:
    """Forget the account's failed tries: after a password reset its owner signs in at once,
    not after the lock its own guessing (or someone else's) ran into. The address counts stay:
    they limit a guesser, whoever's password was reset."""
    clear([_per_account(username)])
