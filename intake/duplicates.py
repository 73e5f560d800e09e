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

from datasketch import MinHash
from sqlalchemy.exc import IntegrityError
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


def similarity(a: Sequence[int], b: Sequence[int]) -> float:
    """Estimated Jaccard similarity of the two texts' 3-gram sets."""
    return sum(1 for x, y in zip(a, b, strict=True) if x == y) / len(a)


def business_key(complaint: Complaint) -> str | None:
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


def index_and_link(session: Session, *, complaint: Complaint) -> list[Match]:
    """Store the filing's signature and link it to earlier filings about the same matter."""
    assert complaint.id is not None
    existing = session.get(TextSignature, complaint.id)
    values = existing.minhash if existing else signature(complaint.text)
    bands = band_hashes(values)
    if existing is None:
        session.add(
            TextSignature(
                complaint_id=complaint.id,
                minhash=values,
                created_at=stamp(coarse=complaint.kind is Kind.tip),
            )
        )
        session.add_all(
            SignatureBand(complaint_id=complaint.id, band=i, band_hash=h)
            for i, h in enumerate(bands)
        )
        session.flush()
    found = [m for m in _candidates(session, complaint, bands, values) if m is not None]
    # Staff need the few closest, not every earlier copy of a mass complaint.
    matches = sorted(found, key=lambda m: (-m.similarity, -m.other_id))[:MAX_SUGGESTIONS]
    for match in matches:
        try:
            with session.begin_nested():
                session.add(
                    DuplicateLink(
                        complaint_id=complaint.id,
                        duplicate_of_id=match.other_id,
                        similarity=round(match.similarity, 3),
                        reason=match.reason,
                        created_at=stamp(coarse=complaint.kind is Kind.tip),
                    )
                )
        except IntegrityError:
            continue  # already linked by an earlier run of this job
    return matches


def _candidates(
    session: Session, complaint: Complaint, bands: list[str], values: list[int]
) -> list[Match | None]:
    assert complaint.id is not None
    # The most recent candidates only: a wave of identical filings would otherwise make
    # every new one compare itself with all the earlier ones (quadratic).
    ids = session.exec(
        select(SignatureBand.complaint_id)
        .where(col(SignatureBand.complaint_id) < complaint.id)
        .where(col(SignatureBand.band_hash).in_(bands))
        .group_by(col(SignatureBand.complaint_id))
        .order_by(col(SignatureBand.complaint_id).desc())
        .limit(MAX_CANDIDATES)
    ).all()
    if not ids:
        return []
    since = complaint.created_at - WINDOW
    others = session.exec(
        select(Complaint)
        .where(col(Complaint.id).in_(ids))
        .where(col(Complaint.created_at) >= since)
        .where(col(Complaint.status) != Status.merged)
    ).all()
    signatures = {
        s.complaint_id: s.minhash
        for s in session.exec(select(TextSignature).where(col(TextSignature.complaint_id).in_(ids)))
    }
    return [_judge(complaint, other, values, signatures.get(other.id or 0)) for other in others]


def _judge(
    complaint: Complaint, other: Complaint, values: list[int], other_values: list[int] | None
) -> Match | None:
    if other.id is None or other_values is None:
        return None
    alike = similarity(values, other_values)
    if (
        complaint.contact_phone
        and complaint.contact_phone == other.contact_phone
        and alike >= SAME_COMPLAINANT_MIN
    ):
        return Match(other.id, alike, "same_complainant")
    key = business_key(complaint)
    if key and key == business_key(other) and alike >= SAME_BUSINESS_MIN:
        return Match(other.id, alike, "same_business")
    return None
