"""Sealing a reporter's identity: authenticated encryption (AES-256-GCM) under a key ring.

Each sealed value names the key that sealed it, so keys can be rotated: a new key becomes
the active one, `reseal` moves old values onto it, and the old key is dropped once nothing
refers to it. The filing's id is bound in as associated data, so a sealed identity copied
onto another filing does not open. Keys come from settings (base64, 32 bytes each).
"""

from __future__ import annotations

import base64
import json
import os
import secrets
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from core.errors import InvalidInput

NONCE_BYTES = 12


class SealError(InvalidInput):
    """A sealed value that does not open: wrong key, tampered, or for another filing."""


@dataclass(frozen=True)
class Sealed:
    key_id: str
    nonce: bytes
    ciphertext: bytes


class KeyRing:
    def __init__(self, keys: dict[str, bytes], active: str) -> None:
        if active not in keys:
            raise InvalidInput(f"the active vault key {active!r} is not among the keys")
        for key_id, key in keys.items():
            if len(key) != 32:
                raise InvalidInput(f"vault key {key_id!r} must be 32 bytes (AES-256)")
        self._keys = dict(keys)
        self.active = active

    @classmethod
    def from_text(cls, text: str, active: str) -> KeyRing:
        """From the settings' JSON {"key id": "base64 key", ...}."""
        try:
            raw = json.loads(text)
            keys = {str(k): base64.b64decode(v, validate=True) for k, v in raw.items()}
        except (ValueError, TypeError, AttributeError) as exc:
            raise InvalidInput('vault keys must be JSON {"id": "<base64 of 32 bytes>"}') from exc
        return cls(keys, active)

    @staticmethod
    def new_key() -> str:
        return base64.b64encode(secrets.token_bytes(32)).decode()

    @property
    def key_ids(self) -> list[str]:
        return sorted(self._keys)

    def seal(self, value: dict[str, Any], *, context: str) -> Sealed:
        nonce = os.urandom(NONCE_BYTES)
        plaintext = json.dumps(value, ensure_ascii=False, sort_keys=True).encode()
        ciphertext = AESGCM(self._keys[self.active]).encrypt(nonce, plaintext, context.encode())
        return Sealed(key_id=self.active, nonce=nonce, ciphertext=ciphertext)

    def open(self, sealed: Sealed, *, context: str) -> dict[str, Any]:
        key = self._keys.get(sealed.key_id)
        if key is None:
            raise SealError(f"vault key {sealed.key_id!r} is not configured; it cannot be opened")
        try:
            plaintext = AESGCM(key).decrypt(sealed.nonce, sealed.ciphertext, context.encode())
        except InvalidTag as exc:
            raise SealError("the sealed value was altered or belongs to another record") from exc
        value: dict[str, Any] = json.loads(plaintext)
        return value

    def reseal(self, sealed: Sealed, *, context: str) -> Sealed:
        """The same value under the active key (rotation); unchanged if already on it."""
        if sealed.key_id == self.active:
            return sealed
        return self.seal(self.open(sealed, context=context), context=context)
