"""Repeated and near-identical filings, found by MinHash over character 3-grams with LSH.

Signatures (datasketch's MinHash) and their LSH bands live in the database, so every worker
finds candidates with one indexed query. A candidate becomes a suggested duplicate when the
texts are alike and it is the same matter: the same complainant again, or the same
business in many people's words, within a time window. Staff then merge or dismiss it.
"""

from __future__ import annotations

import hashlib
import re
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from functools import cache
from typing import Any, Protocol

import numpy as np
from datasketch import MinHash
from sqlalchemy import Select, bindparam, insert, union
from sqlmodel import Session, col, select

from core.timeutil import stamp
from schemas.complaint import Complaint
from schemas.duplicate import DuplicateLink, SignatureBand, TextSignature
from schemas.enums import Kind, Status

NUM_PERM = 64
BANDS, ROWS = 21, 3  # P(share a band): Jaccard 0.5 → 0.94, 0.2 → 0.16, 0.1 → 0.02
SHINGLE = 3
WINDOW = timedelta(days=30)
SAME_COMPLAINANT_MIN = 0.4
SAME_BUSINESS_MIN = 0.5
MAX_CANDIDATES = 200  # the most recent filings sharing a band that are compared at all
MAX_SUGGESTIONS = 5  # links kept per filing, the most similar first
_NOISE = re.compile(r"[\s\W_]+", re.UNICODE)
_COMPANY_SUFFIX = re.compile(r"(有限责任公司|股份有限公司|有限公司|分公司|公司|店|超市)$")


def signature(text: str) -> list[int]:
    normalised = _NOISE.sub("", text)
    minhash = MinHash(num_perm=NUM_PERM, seed=12315)
    grams = {normalised[i : i + SHINGLE] for i in range(max(1, len(normalised) - SHINGLE + 1))}
    minhash.update_batch([g.encode("utf-8") for g in grams])
    return [int(v) for v in minhash.hashvalues]


def band_hashes(values: Sequence[int]) -> list[str]:
    # The band number is hashed in, so equal hashes mean the same band of both signatures.
    return [
        hashlib.blake2b(
            struct.pack(f"<I{ROWS}Q", b, *values[b * ROWS : (b + 1) * ROWS]), digest_size=8
        ).hexdigest()
        for b in range(BANDS)
    ]


def similarities(values: Sequence[int], others: Sequence[Sequence[int]]) -> list[float]:
    """Estimated Jaccard similarity of one text's 3-gram set with each of the others'
    (the share of equal MinHash values), all in one array comparison."""
    equal = np.array(others, dtype=np.uint64) == np.array(values, dtype=np.uint64)
    return [float(share) for share in equal.mean(axis=1)]


def similarity(a: Sequence[int], b: Sequence[int]) -> float:
    return similarities(a, [b])[0]


class _Business(Protocol):
    @property
    def business_uscc(self) -> str | None: ...

    @property
    def business_name(self) -> str | None: ...


def business_key(complaint: _Business) -> str | None:
    if complaint.business_uscc:
        return complaint.business_uscc
    if complaint.business_name:
        name = _NOISE.sub("", complaint.business_name)
        return _COMPANY_SUFFIX.sub("", name) or None
    return None


@dataclass(frozen=True)
class Match:
    other_id: int
    similarity: float
    reason: str


@dataclass(frozen=True)
class _Candidate:
    """What judging needs of an earlier filing (not the whole row: there may be 200)."""

    id: int
    contact_phone: str | None
    business_uscc: str | None
    business_name: str | None


def index_and_link(session: Session, *, complaint: Complaint) -> list[Match]:
    """Store the filing's signature and link it to earlier filings about the same matter."""
    assert complaint.id is not None
    existing = session.get(TextSignature, complaint.id)
    values = existing.minhash if existing else signature(complaint.text)
    bands = band_hashes(values)
    when = stamp(coarse=complaint.kind is Kind.tip)
    if existing is None:
        session.add(TextSignature(complaint_id=complaint.id, minhash=values, created_at=when))
        session.flush()
        # Core, in one statement: 21 ORM objects per filing cost more than the search.
        session.execute(
            insert(SignatureBand),
            [
                {"complaint_id": complaint.id, "band": i, "band_hash": h}
                for i, h in enumerate(bands)
            ],
        )
    found = [m for m in _candidates(session, complaint, bands, values) if m is not None]
    # Staff need the few closest, not every earlier copy of a mass complaint.
    matches = sorted(found, key=lambda m: (-m.similarity, -m.other_id))[:MAX_SUGGESTIONS]
    linked = set(
        session.exec(
            select(DuplicateLink.duplicate_of_id).where(DuplicateLink.complaint_id == complaint.id)
        ).all()
    )  # by an earlier run of this job: it is idempotent
    new = [m for m in matches if m.other_id not in linked]
    if new:
        session.execute(
            insert(DuplicateLink),
            [
                {
                    "complaint_id": complaint.id,
                    "duplicate_of_id": m.other_id,
                    "similarity": round(m.similarity, 3),
                    "reason": m.reason,
                    "state": "suggested",
                    "created_at": when,
                }
                for m in new
            ],
        )
    return matches


def _candidates(
    session: Session, complaint: Complaint, bands: list[str], values: list[int]
) -> list[Match | None]:
    assert complaint.id is not None
    bound = {f"band_{i}": band for i, band in enumerate(bands)}
    ids = session.execute(_recent_statement(), {"before": complaint.id, **bound}).scalars().all()
    if not ids:
        return []
    rows = session.execute(
        _candidates_statement(),
        {
            "ids": list(ids),
            "since": complaint.created_at - WINDOW,
            "merged": Status.merged,
            "kinds": list(_comparable_kinds(complaint.kind)),
        },
    ).all()
    if not rows:
        return []
    # One comparison of this signature with all the candidates' at once.
    alike = np.array([row[4] for row in rows], dtype=np.uint64) == np.array(values, np.uint64)
    scores = alike.mean(axis=1)
    key = business_key(complaint)
    return [
        _judge(complaint, key, _Candidate(*row[:4]), float(score))
        for row, score in zip(rows, scores, strict=True)
    ]


# Both statements are built once, their values bound per call: building 21 subqueries per
# filing (and hashing literals into a cache key) cost more than running them.
@cache
def _recent_statement() -> Select[tuple[int]]:
    """The most recent candidates only: a wave of identical filings would otherwise make
    every new one compare itself with all the earlier ones (quadratic). Each band's most
    recent filings come from the (band_hash, complaint_id) index, read backwards and
    bounded, so the search costs the same after a million filings as after ten."""
    per_band = [
        select(SignatureBand.complaint_id)
        .where(SignatureBand.band_hash == bindparam(f"band_{i}"))
        .where(col(SignatureBand.complaint_id) < bindparam("before"))
        .order_by(col(SignatureBand.complaint_id).desc())
        .limit(MAX_CANDIDATES)
        .subquery()
        for i in range(BANDS)
    ]
    recent = union(*(select(part.c.complaint_id) for part in per_band)).subquery()
    return (
        select(recent.c.complaint_id).order_by(recent.c.complaint_id.desc()).limit(MAX_CANDIDATES)
    )


def _comparable_kinds(kind: Kind) -> tuple[Kind, ...]:
    """A tip-off is compared only with tip-offs, and other filings only with each other. A
    link between a tip-off and a complaint would show the tip-off's department a filing
    that carries a phone number: often the reporter's own (a split call, or one person
    filing both on the web), which the vault exists to hide."""
    if kind is Kind.tip:
        return (Kind.tip,)
    return tuple(k for k in Kind if k is not Kind.tip)


@cache
def _candidates_statement() -> Select[Any]:
    """What judging needs of the candidates still open, within the window and of a kind
    this filing may be linked with."""
    return (
        select(
            Complaint.id,  # type: ignore[call-overload]
            Complaint.contact_phone,
            Complaint.business_uscc,
            Complaint.business_name,
            TextSignature.minhash,
        )
        .join(TextSignature, col(TextSignature.complaint_id) == col(Complaint.id))
        .where(col(Complaint.id).in_(bindparam("ids", expanding=True)))
        .where(col(Complaint.created_at) >= bindparam("since"))
        .where(col(Complaint.status) != bindparam("merged"))
        .where(col(Complaint.kind).in_(bindparam("kinds", expanding=True)))
    )


def _judge(complaint: Complaint, key: str | None, other: _Candidate, alike: float) -> Match | None:
    if (
        complaint.contact_phone
        and complaint.contact_phone == other.contact_phone
        and alike >= SAME_COMPLAINANT_MIN
    ):
        return Match(other.id, alike, "same_complainant")
    if key and key == business_key(other) and alike >= SAME_BUSINESS_MIN:
        return Match(other.id, alike, "same_business")
    return None
