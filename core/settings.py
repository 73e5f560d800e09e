"""Every setting of the platform, read once from COMPLAINTS_* environment variables."""

from __future__ import annotations

import base64
import json
import os
import secrets
from collections.abc import Callable
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """The one place configuration enters; nothing else reads the environment."""

    model_config = SettingsConfigDict(env_prefix="COMPLAINTS_", extra="ignore")

    data_dir: Path = Field(
        default=Path("var"),
        description="Working directory for the SQLite file, the embedded Redis socket and keys.",
    )
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL; default: SQLite file complaints.db under data_dir.",
    )
    redis_url: str | None = Field(
        default=None,
        description="Redis URL; default: the embedded Redis that `complaints serve` starts "
        "on a unix socket under data_dir.",
    )
    secret_key: SecretStr | None = Field(
        default=None,
        description=(
            "Signs staff tokens and keys open data's public ids; default: a random key kept "
            "in data_dir/secret_key."
        ),
    )
    vault_keys: SecretStr | None = Field(
        default=None,
        description='Keys that seal whistleblower identities, JSON {"key id": "<base64 of 32 '
        'bytes>"}; several during a rotation. Default: one key generated into '
        "data_dir/vault_keys.json. `complaints vault new-key` makes one.",
    )
    vault_active_key: str | None = Field(
        default=None,
        description="The key id new identities are sealed with; default: the only key. "
        "After changing it run `complaints vault rotate`.",
    )
    receipt_max_failures: int = Field(
        default=5, ge=1, description="Wrong tries on one receipt code before it is locked."
    )
    receipt_lockout_seconds: int = Field(
        default=900, ge=1, description="How long a receipt code stays locked after that."
    )
    receipt_global_max_failures: int = Field(
        default=60,
        ge=1,
        description="Wrong receipt codes, all together, per window before every receipt "
        "look-up is refused until the window ends (→ 429): guessing stays hopeless.",
    )
    receipt_global_window_seconds: int = Field(default=60, ge=1)
    signin_max_tries_per_account: int = Field(
        default=10,
        ge=1,
        description="Failed staff sign-ins to one account per window before it answers 429 "
        "(a right password does not count).",
    )
    signin_max_tries_per_address: int = Field(
        default=50, ge=1, description="Failed staff sign-ins from one address per window."
    )
    signin_window_seconds: int = Field(default=900, ge=1)
    token_ttl_minutes: int = Field(default=480, ge=1, le=7 * 24 * 60)
    citizen_code_ttl_seconds: int = Field(
        default=300,
        ge=30,
        le=3600,
        description="How long an SMS sign-in code for the citizen's 'my complaints' list is "
        "good for (kept in Redis as a keyed hash only).",
    )
    citizen_code_max_tries: int = Field(
        default=5, ge=1, le=20, description="Wrong tries on one sign-in code before it is void."
    )
    citizen_code_resend_seconds: int = Field(
        default=60, ge=1, description="A new code for the same phone no sooner than this (→ 429)."
    )
    citizen_codes_per_phone_per_hour: int = Field(
        default=5, ge=1, description="Sign-in codes one phone number may be sent per hour."
    )
    citizen_codes_per_address_per_hour: int = Field(
        default=20, ge=1, description="Sign-in codes one client address may ask for per hour."
    )
    citizen_signin_tries_per_address_per_hour: int = Field(
        default=30,
        ge=1,
        description="Wrong sign-in codes from one client address per hour, whatever the "
        "phone (→ 429): guessing across many numbers stays hopeless.",
    )
    citizen_signin_tries_per_phone_per_day: int = Field(
        default=10,
        ge=1,
        description="Wrong sign-in codes for one phone number per day, from any address "
        "(→ 429): one number cannot be guessed at all day long.",
    )
    citizen_session_minutes: int = Field(
        default=30,
        ge=1,
        le=24 * 60,
        description="How long a citizen's signed-in list lasts (a signed token, not a staff "
        "session).",
    )
    filing_threads: int = Field(
        default=2,
        ge=1,
        le=64,
        description="Threads one API process files in at once the filings that take a "
        "transaction of their own (with an Idempotency-Key, tip-offs, the SMS webhooks; "
        "intake.filing_threads); more wait their turn without a thread. Keyless web "
        "filings are written by the process's one committer thread (intake.group_commit).",
    )
    filing_group_size: int = Field(
        default=32,
        ge=1,
        le=1000,
        description="Most keyless web filings one transaction takes (intake.group_commit): "
        "those that arrive while the process's committer is busy are written and committed "
        "together. 1 gives every filing a transaction of its own.",
    )
    database_pool_size: int = Field(
        default=20,
        ge=1,
        description="Database connections one process keeps open and reuses. Size it to "
        "the requests one API process works on at once: a connection beyond it is opened "
        "for one request and closed after it (on PostgreSQL a new server process each time).",
    )
    database_max_overflow: int = Field(
        default=10,
        ge=0,
        description="Connections a process may open beyond the pool at busy moments, each "
        "closed when returned; past them a request waits for a free connection.",
    )
    database_pool_timeout_seconds: float = Field(
        default=10.0,
        gt=0,
        description="How long a request waits for a free connection before its answer is "
        "503 (database busy).",
    )
    sqlite_busy_timeout_ms: int = Field(default=10_000, ge=0)
    sqlite_writer_gate: bool = Field(
        default=True,
        description="Writers to the SQLite file queue for their turn (core.sqlite_gate) "
        "instead of sleeping and retrying in SQLite's busy handler.",
    )
    redis_timeout_seconds: float = Field(
        default=2.0, gt=0, description="Connect and socket timeout towards Redis."
    )
    registry_file: Path | None = Field(
        default=None,
        description="Department registry loaded by `serve` into an empty database; "
        "default: the registry shipped in routing/registries/default.yaml.",
    )
    classifier_model: Path | None = Field(
        default=None,
        description="A model file from `complaints classifier train`; default: the registry's "
        "keyword classifier.",
    )
    policy_file: Path | None = Field(
        default=None,
        description="Time limits, reason codes and reward rules; default: "
        "cases/policies/default.yaml (the 2022 rules). Checked at start-up.",
    )
    routing_min_score: float = Field(
        default=0.5,
        ge=0,
        le=1,
        description="Below this keyword-classifier score a filing goes to triage (a trained "
        "model carries its own threshold, chosen on validation data).",
    )
    relay_interval_seconds: float = Field(default=1.0, gt=0)
    relay_grace_seconds: float = Field(
        default=2.0,
        ge=0,
        description="The relay leaves outbox rows this young to the request that wrote them.",
    )
    relay_batch_size: int = Field(default=500, ge=1)
    batch_size: int = Field(
        default=100,
        ge=1,
        le=5000,
        description="Filings one drain job routes (or indexes) in one transaction. Larger "
        "amortises more; on SQLite the batch holds the write lock while it runs.",
    )
    public_base_url: str | None = Field(
        default=None,
        description="The platform's address as gateways call it (https://host); "
        "Twilio signs the full URL, which a proxy may change. Default: the request's own URL.",
    )
    sms_provider: Literal["log", "loopback", "twilio"] = Field(
        default="log",
        description="Outbound SMS: `log` records and logs only; `loopback` posts to "
        "sms_gateway_url (the built-in test gateway); `twilio` uses Twilio's REST API.",
    )
    sms_gateway_url: str | None = Field(
        default=None, description="Base URL of the loopback gateway (serve sets its own)."
    )
    sms_timeout_seconds: float = Field(default=5.0, gt=0)
    sms_daily_budget_per_number: int = Field(default=10, ge=0)
    sms_daily_budget_global: int = Field(default=20_000, ge=0)
    sms_path_token: SecretStr | None = Field(
        default=None,
        description="Secret path segment of the Aliyun and Tencent inbound webhooks; "
        "unset: those webhooks answer 404.",
    )
    sms_source_allowlist: list[str] = Field(
        default_factory=list,
        description="Addresses or networks (CIDR) allowed to call the Aliyun and Tencent "
        "webhooks; empty: any.",
    )
    twilio_account_sid: str | None = None
    twilio_auth_token: SecretStr | None = Field(
        default=None, description="Verifies X-Twilio-Signature; sends through Twilio."
    )
    twilio_from_number: str | None = None
    twilio_api_base: str = Field(default="https://api.twilio.com")
    max_body_bytes: int = Field(
        default=256 * 1024, ge=1024, description="Largest request body but uploads (→ 413)."
    )
    max_in_flight_requests: int = Field(
        default=200,
        ge=1,
        description="Requests one API process works on at once; beyond it, 503 at once "
        "(a short page for people, JSON for the API) with Retry-After.",
    )
    attachment_max_bytes: int = Field(
        default=10 * 1024 * 1024, ge=1024, description="Largest attachment upload (→ 413)."
    )
    attachments_per_filing: int = Field(default=10, ge=0)
    rate_limit_filings_per_ip_per_hour: int = Field(
        default=30, ge=1, description="Filings and uploads one address may make per hour (→ 429)."
    )
    rate_limit_filings_per_phone_per_day: int = Field(
        default=10, ge=1, description="Filings one contact number may make per day (→ 429)."
    )
    idempotency_ttl_hours: int = Field(
        default=24, ge=24, description="How long an Idempotency-Key's first answer is kept."
    )
    idempotency_in_flight_seconds: int = Field(
        default=60,
        ge=1,
        description="A request still unfinished after this long is taken to have died; "
        "a retry with its key may then run.",
    )
    sweep_interval_seconds: float = Field(
        default=60.0, gt=0, description="How often the scheduler sweeps deadlines."
    )
    purge_interval_seconds: float = Field(default=3600.0, gt=0)
    surge_interval_seconds: float = Field(
        default=3600.0,
        gt=0,
        description="How often the scheduler tests for surges of filings (insights.detection).",
    )
    credit_interval_seconds: float = Field(
        default=3600.0,
        gt=0,
        description="How often the scheduler recomputes business quality credit grades.",
    )
    webhook_timeout_seconds: float = Field(default=10.0, gt=0)
    webhook_allow_http_localhost: bool = Field(
        default=False, description="Allow http:// webhooks to localhost (development, tests)."
    )
    warm_up: bool = Field(
        default=True,
        description="Load the tokenizer, classifier and gazetteer when a process starts, so "
        "the first /classify and the first routing job are as fast as the rest.",
    )
    log_level: str = Field(default="INFO")
    log_format: Literal["text", "json"] = Field(
        default="text",
        description="`text`: one readable line per record; `json`: one JSON object per line "
        "(time, level, process, logger, request_id, message) for a log collector.",
    )

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        level = value.upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
            raise ValueError("log_level must be DEBUG, INFO, WARNING or ERROR")
        return level

    @cached_property
    def resolved_data_dir(self) -> Path:
        # Resolved once, at first use, and fixed for these settings: resolving took 7 µs of
        # system calls, and every engine look-up on the default SQLite file asked for it.
        return self.data_dir.resolve()

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.resolved_data_dir / 'complaints.db'}"

    @property
    def embedded_redis_socket(self) -> Path:
        return self.resolved_data_dir / "redis.sock"

    @property
    def uses_embedded_redis(self) -> bool:
        return not self.redis_url

    @property
    def effective_redis_url(self) -> str:
        if self.redis_url:
            return self.redis_url
        return f"unix://{self.embedded_redis_socket}"

    def signing_key(self) -> str:
        """The token signing key; generated once into data_dir when not configured."""
        if self.secret_key is not None:
            return self.secret_key.get_secret_value()
        return _stored_key(self.resolved_data_dir / "secret_key")

    def vault_key_text(self) -> tuple[str, str | None]:
        """The vault keys' JSON and the active key id; generated once into data_dir if unset."""
        if self.vault_keys is not None:
            return self.vault_keys.get_secret_value(), self.vault_active_key
        path = self.resolved_data_dir / "vault_keys.json"
        text = _stored_key(
            path,
            lambda: json.dumps({"k1": base64.b64encode(secrets.token_bytes(32)).decode()}),
        )
        return text, self.vault_active_key


# What each key file held, by the file's identity: reading it took 16 µs, and a filing asks
# for the signing key twice (its rate limits' keyed hashes). A file replaced is read again.
_READ_KEYS: dict[tuple[str, int, int, int], str] = {}


def _stored_key(path: Path, make: Callable[[], str] = lambda: secrets.token_urlsafe(48)) -> str:
    try:
        found = path.stat()
    except FileNotFoundError:
        pass
    else:
        identity = (str(path), found.st_ino, found.st_size, found.st_mtime_ns)
        key = _READ_KEYS.get(identity)
        if key is None:
            key = _READ_KEYS[identity] = path.read_text(encoding="utf-8").strip()
        return key
    path.parent.mkdir(parents=True, exist_ok=True)
    key = make()
    # O_EXCL: two processes starting together agree on the first key written.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text(encoding="utf-8").strip()
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(key)
    return key


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
