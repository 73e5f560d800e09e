"""Public ids: what open data calls a complaint instead of its database id.

Complaints, inquiries and tip-offs share one id sequence. Published as they are, the gaps
between ids would show when an unpublished filing (a tip-off) came in, and a split call's
complaint and tip-off have neighbouring ids, which would tie a published complaint to a
tip-off. So the export and Open311 publish the row id encrypted instead: AES-256 on one
16-byte block (eight zero bytes, then the id), under a key derived from the platform's
secret key for this purpose only, as 32 hex digits. The same id always gives the same
public id, so exports can be joined over time; public ids are in no order and no two are
close; without the key nobody can map one back. The server decrypts it, so no column holds
it, and the eight zero bytes are a check: a string that is not a public id we made decrypts
to something else (odds 2^-64 otherwise), and so answers like an unknown id.

Changing COMPLAINTS_SECRET_KEY changes every public id (as it signs out every staff member).
"""

from __future__ import annotations

import re
from functools import lru_cache

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from core.settings import get_settings

# The HKDF label: this key serves no other purpose, and a v2 can replace it beside v1.
PURPOSE = b"complaints: open-data public id v1"
_CHECK = bytes(8)
_HEX = re.compile(r"[0-9a-f]{32}", re.ASCII)
_LARGEST = 2**63 - 1  # a 64-bit signed column


@lru_cache(maxsize=4)
def _cipher(secret: str) -> Cipher[modes.ECB]:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=PURPOSE).derive(
        secret.encode()
    )
    # One block, each value enciphered once on its own: ECB here is the AES permutation
    # itself, which is what we want (no IV, so the same id gives the same public id).
    return Cipher(algorithms.AES(key), modes.ECB())  # noqa: S305


def _current() -> Cipher[modes.ECB]:
    return _cipher(get_settings().signing_key())


def public_id(row_id: int) -> str:
    """The public id of the filing whose database id is `row_id`."""
    if not 0 < row_id <= _LARGEST:
        raise ValueError(f"row id out of range: {row_id}")
    encryptor = _current().encryptor()
    return (encryptor.update(_CHECK + row_id.to_bytes(8, "big")) + encryptor.finalize()).hex()


def row_id(text: str) -> int | None:
    """The database id behind a public id; None for anything that is not one we made
    (malformed, a raw database id, made under another key)."""
    text = text.lower()
    if _HEX.fullmatch(text) is None:
        return None
    decryptor = _current().decryptor()
    block = decryptor.update(bytes.fromhex(text)) + decryptor.finalize()
    if block[:8] != _CHECK:
        return None
    value = int.from_bytes(block[8:], "big")
    return value if 0 < value <= _LARGEST else None
