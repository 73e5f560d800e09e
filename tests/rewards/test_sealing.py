import base64

import pytest

from core.errors import InvalidInput
from rewards.sealing import KeyRing, Sealed, SealError

OLD, NEW = KeyRing.new_key(), KeyRing.new_key()
IDENTITY = {"name": "张三", "phone": "+8613812345678", "id_number": "140105199001011234"}


def _ring(active: str = "k1", **keys: str) -> KeyRing:
    return KeyRing({k: base64.b64decode(v) for k, v in (keys or {"k1": OLD}).items()}, active)


def test_a_sealed_identity_opens_only_for_its_own_record() -> None:
    ring = _ring()
    sealed = ring.seal(IDENTITY, context="complaint:7")
    assert "张三".encode() not in sealed.ciphertext
    assert b"13812345678" not in sealed.ciphertext
    assert ring.open(sealed, context="complaint:7") == IDENTITY
    with pytest.raises(SealError, match="another record"):
        ring.open(sealed, context="complaint:8")


def test_sealing_twice_gives_different_ciphertexts() -> None:
    ring = _ring()
    assert (
        ring.seal(IDENTITY, context="c").ciphertext != ring.seal(IDENTITY, context="c").ciphertext
    )


def test_a_tampered_value_does_not_open() -> None:
    ring = _ring()
    sealed = ring.seal(IDENTITY, context="c")
    flipped = bytes([sealed.ciphertext[0] ^ 1]) + sealed.ciphertext[1:]
    with pytest.raises(SealError, match="altered"):
        ring.open(Sealed(sealed.key_id, sealed.nonce, flipped), context="c")


def test_rotation_moves_values_to_the_new_key_and_the_old_key_can_go() -> None:
    old_ring = _ring()
    sealed = old_ring.seal(IDENTITY, context="c")
    both = _ring("k2", k1=OLD, k2=NEW)
    moved = both.reseal(sealed, context="c")
    assert moved.key_id == "k2"
    assert both.reseal(moved, context="c") is moved
    new_only = _ring("k2", k2=NEW)
    assert new_only.open(moved, context="c") == IDENTITY
    with pytest.raises(SealError, match="not configured"):
        new_only.open(sealed, context="c")


@pytest.mark.parametrize(
    ("text", "active", "message"),
    [
        ("not json", "k1", "JSON"),
        ('{"k1": "not base64!"}', "k1", "JSON"),
        ('{"k1": "' + base64.b64encode(b"short").decode() + '"}', "k1", "32 bytes"),
        ('{"k1": "' + OLD + '"}', "k2", "not among the keys"),
    ],
    ids=["not-json", "not-base64", "short-key", "active-key-missing"],  # OLD is random
)
def test_bad_key_settings_are_refused(text: str, active: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        KeyRing.from_text(text, active)
