"""Attachments: uploaded before filing, checked by content, stored under their hash.

A citizen uploads each file first and lists the returned ids in the filing. Files live
outside the database, in data_dir/attachments/<first two hex digits>/<sha256>, so the
same receipt uploaded twice is stored once. Only staff who may see the filing get them.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import BinaryIO

from sqlmodel import Session, col, select

from core.errors import InvalidInput, PlatformError
from core.settings import get_settings
from core.timeutil import day_start, utcnow
from schemas.attachment import Attachment

_CHUNK = 64 * 1024
# Magic numbers of what we accept: photos of receipts and scanned or exported documents.
_SIGNATURES: tuple[tuple[bytes, int, str], ...] = (
    (b"\xff\xd8\xff", 0, "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", 0, "image/png"),
    (b"GIF87a", 0, "image/gif"),
    (b"GIF89a", 0, "image/gif"),
    (b"%PDF-", 0, "application/pdf"),
)
_SUFFIXES = {
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "image/gif": ".gif",
    "image/webp": ".webp",
    "application/pdf": ".pdf",
}


class UnsupportedMediaType(PlatformError):
    status_code = 415


class PayloadTooLarge(PlatformError):
    status_code = 413


def sniff(head: bytes) -> str | None:
    """The content type the bytes themselves show, whatever the upload claims."""
    for magic, offset, content_type in _SIGNATURES:
        if head[offset : offset + len(magic)] == magic:
            return content_type
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    return None


def storage_root() -> Path:
    return get_settings().resolved_data_dir / "attachments"


def path_for(sha256: str) -> Path:
    return storage_root() / sha256[:2] / sha256


def store_upload(session: Session, *, stream: BinaryIO) -> Attachment:
    """Check, hash and store one upload (caller commits); nothing is kept if it is refused."""
    limit = get_settings().attachment_max_bytes
    head = stream.read(16)
    content_type = sniff(head)
    if content_type is None:
        raise UnsupportedMediaType(
            "only JPEG, PNG, GIF, WebP images and PDF documents are accepted"
        )
    root = storage_root()
    root.mkdir(parents=True, exist_ok=True)
    partial = root / f".upload-{secrets.token_hex(8)}"
    digest = hashlib.sha256()
    size = 0
    try:
        with partial.open("wb") as out:
            chunk = head
            while chunk:
                size += len(chunk)
                if size > limit:
                    raise PayloadTooLarge(f"an attachment may be at most {limit} bytes")
                digest.update(chunk)
                out.write(chunk)
                chunk = stream.read(_CHUNK)
        sha = digest.hexdigest()
        final = path_for(sha)
        final.parent.mkdir(parents=True, exist_ok=True)
        if final.exists():
            partial.unlink()
        else:
            partial.replace(final)
    finally:
        partial.unlink(missing_ok=True)
    attachment = Attachment(
        token=secrets.token_hex(16),
        sha256=sha,
        content_type=content_type,
        size=size,
        # The uploader's own file name is not kept (it often names a person: 张三身份证.jpg);
        # the file is called by its type, and numbered when it joins a filing.
        filename=f"附件{_SUFFIXES.get(content_type, '')}",
    )
    session.add(attachment)
    session.flush()
    return attachment


def attach(
    session: Session, *, complaint_id: int, tokens: list[str], private: bool = False
) -> list[Attachment]:
    """Bind uploaded files to a new filing; every token must be an unused upload.

    `private` (a tip-off): the upload time is cut to the day.
    """
    if not tokens:
        return []
    if len(tokens) > get_settings().attachments_per_filing:
        raise InvalidInput(
            f"at most {get_settings().attachments_per_filing} attachments per filing"
        )
    rows = session.exec(select(Attachment).where(col(Attachment.token).in_(tokens))).all()
    found = {row.token: row for row in rows}
    for token in tokens:
        row = found.get(token)
        if row is None or row.complaint_id is not None:
            raise InvalidInput(f"attachment {token} is unknown or already used")
        row.complaint_id = complaint_id
        row.filename = f"附件{tokens.index(token) + 1}{Path(row.filename).suffix}"
        if private:
            row.created_at = day_start()
        session.add(row)
    return [found[t] for t in tokens]


def purge_orphan_attachments(session: Session, *, older_than: timedelta = timedelta(days=1)) -> int:
    """Delete uploads never attached to a filing; a file goes when no row refers to it."""
    cutoff = utcnow() - older_than
    orphans = session.exec(
        select(Attachment)
        .where(col(Attachment.complaint_id).is_(None))
        .where(col(Attachment.created_at) < cutoff)
    ).all()
    return remove(session, orphans)


def remove(session: Session, rows: Sequence[Attachment]) -> int:
    """Delete the rows and commit; a stored file goes when no row refers to it any more."""
    hashes = {row.sha256 for row in rows}
    for row in rows:
        session.delete(row)
    session.commit()
    for sha in hashes:
        if session.exec(select(Attachment.id).where(Attachment.sha256 == sha)).first() is None:
            path_for(sha).unlink(missing_ok=True)
    return len(rows)
