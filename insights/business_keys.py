"""Which business a filing is about: its unified social credit code, else its name and address.

Names and addresses are normalised first (NFKC width folding, no spaces or punctuation, the
province prefix and 有限责任公司/有限公司 variants made one), so 「太原市 某某电梯有限责任公司」 and
「太原市某某电梯有限公司」 are one business. Without a code the key is a hash of the two: stable,
short, and it says nothing the filing did not.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

from sqlalchemy import update
from sqlmodel import Session, col, select

from schemas.complaint import Complaint

_PUNCTUATION = re.compile(
    r"[\s\u3000`~!@#$%^&*()\-_=+\[\]{}\\|;:'\",.<>/?·、，。；：‘’“”（）【】《》！？…—]+"
)
_SUFFIXES = (("有限责任公司", "有限公司"), ("股份有限公司", "股份公司"))


def normalise(text: str | None) -> str:
    value = unicodedata.normalize("NFKC", text or "").lower()
    value = _PUNCTUATION.sub("", value)
    for long, short in _SUFFIXES:
        value = value.replace(long, short)
    return value


def business_key(uscc: str | None, name: str | None, address: str | None) -> str | None:
    """`uscc:<code>`, else `name:<hash of normalised name and address>`; None without a name."""
    if uscc:
        return f"uscc:{uscc.strip().upper()}"
    folded = normalise(name)
    if not folded:
        return None
    digest = hashlib.sha256(f"{folded}|{normalise(address)}".encode()).hexdigest()[:32]
    return f"name:{digest}"


def assign_business_keys(session: Session, *, batch: int = 1000) -> int:
    """Give every filing about a business its key (caller commits); idempotent."""
    assigned = 0
    while True:
        rows = session.exec(
            select(
                col(Complaint.id),
                col(Complaint.business_uscc),
                col(Complaint.business_name),
                col(Complaint.business_address),
            )
            .where(col(Complaint.business_key).is_(None))
            .where(col(Complaint.business_name).is_not(None))
            .order_by(col(Complaint.id))
            .limit(batch)
        ).all()
        keyed = [(row[0], business_key(row[1], row[2], row[3])) for row in rows]
        # A name that normalises to nothing gets the empty key: looked at once, never again.
        for complaint_id, key in keyed:
            session.execute(
                update(Complaint)
                .where(col(Complaint.id) == complaint_id)
                .values(business_key=key or "")
                .execution_options(synchronize_session=False)
            )
        assigned += sum(1 for _, key in keyed if key)
        if len(rows) < batch:
            return assigned
