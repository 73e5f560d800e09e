"""The vault's key ring, built once per process from settings (rewards.sealing does the crypto)."""

from __future__ import annotations

import json
from functools import lru_cache

from core.errors import InvalidInput
from core.settings import get_settings
from rewards.sealing import KeyRing


@lru_cache(maxsize=1)
def keyring() -> KeyRing:
    text, active = get_settings().vault_key_text()
    try:
        ids = [str(key_id) for key_id in json.loads(text)]
    except (ValueError, TypeError) as exc:
        raise InvalidInput('vault keys must be JSON {"id": "<base64 of 32 bytes>"}') from exc
    if not active:  # unset or empty: the only key
        if len(ids) != 1:
            raise InvalidInput(
                "several vault keys are configured: set COMPLAINTS_VAULT_ACTIVE_KEY to the one "
                "new identities are sealed with"
            )
        active = ids[0]
    return KeyRing.from_text(text, active)
