"""Products named in filings: one record per product and batch, whichever channel named it.

A product is known by its barcode (GTIN-8/12/13/14, as the 14-digit form) or, without one,
by its normalised name, brand and model. A product named by name only is joined to the
barcoded record that was named the same way, so a text without the barcode still links.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from cases.policy import current_policy
from core.timeutil import stamp
from products import repository, risk
from schemas.complaint import Complaint
from schemas.enums import Kind
from schemas.product import FilingProduct, Product, ProductIn
from schemas.validators import gtin14, gtin_problem, normalize_gtin

_SPACE_AND_MARKS = re.compile(r"[\W_]+", re.UNICODE)
# In a text message: 条码 6901234567892, 批号 B2026-01 (SMS has no product fields).
_BARCODE_IN_TEXT = re.compile(r"(?:条形码|条码|商品码|GTIN)[：:\s]*([0-9][0-9 -]{6,20}[0-9])")
_BATCH_IN_TEXT = re.compile(r"(?:生产批号|批次号|批号|批次)[：:\s]*([A-Za-z0-9][A-Za-z0-9-]{0,59})")
_NEGATION = ("没", "未", "无", "不")


def _normal(text: str | None) -> str:
    """NFKC, case-folded, without spaces or punctuation: 'Ａ牌 电水壶' = 'a牌电水壶'."""
    return _SPACE_AND_MARKS.sub("", unicodedata.normalize("NFKC", text or "").casefold())


def _digest(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:40]


def keys(product: ProductIn) -> tuple[str, str | None, str]:
    """(product key, name key, batch) of what was named."""
    name_key = (
        "n:" + _digest(_normal(product.name), _normal(product.brand), _normal(product.model))
        if product.name
        else None
    )
    product_key = f"g:{gtin14(product.gtin)}" if product.gtin else str(name_key)
    return product_key, name_key, _normal(product.batch)[:60]


def find_or_add(session: Session, product: ProductIn, *, coarse: bool = False) -> Product:
    """The record for this product and batch, added on first mention (caller commits).

    `coarse`: first named by a tip-off, whose rows carry the day, never the time.
    """
    product_key, name_key, batch = keys(product)
    if not product.gtin and name_key:
        product_key = repository.product_key_with_barcode(session, name_key) or product_key
    record_key = f"{product_key}|{batch}"
    found = repository.product_by_record_key(session, record_key)
    if found is not None:
        return found
    row = Product(
        record_key=record_key,
        product_key=product_key,
        name_key=name_key,
        gtin=gtin14(product.gtin) if product.gtin else None,
        name=product.name,
        brand=product.brand,
        model=product.model,
        batch=product.batch,
        created_at=stamp(coarse=coarse),
    )
    try:
        with session.begin_nested():  # another filing may add the same product at once
            session.add(row)
            session.flush()
    except IntegrityError:
        found = repository.product_by_record_key(session, record_key)
        assert found is not None
        return found
    return row


def mentions_injury(text: str) -> bool:
    """The text says the product hurt someone (the policy's words, not negated: 没有受伤)."""
    for word in current_policy().product_risk.injury_words:
        for match in re.finditer(re.escape(word), text):
            before = text[max(0, match.start() - 2) : match.start()]
            if not any(neg in before for neg in _NEGATION):
                return True
    return False


def product_from_text(text: str) -> ProductIn | None:
    """A product named in free text by its barcode (with a valid check digit), and batch."""
    found = _BARCODE_IN_TEXT.search(text)
    if not found:
        return None
    code = normalize_gtin(found.group(1))
    if gtin_problem(code):
        return None
    batch = _BATCH_IN_TEXT.search(text)
    return ProductIn(gtin=code, batch=batch.group(1) if batch else None)


def link_filing(session: Session, *, complaint: Complaint, product: ProductIn) -> Product:
    """Link a new filing to its product and let the defect signal look (caller commits)."""
    assert complaint.id is not None
    row = find_or_add(session, product, coarse=complaint.kind is Kind.tip)
    assert row.id is not None
    injury = product.injury or mentions_injury(complaint.text)
    session.add(FilingProduct(complaint_id=complaint.id, product_id=row.id, injury=injury))
    session.flush()
    risk.consider(session, complaint=complaint, product=row, injury=injury)
    return row
