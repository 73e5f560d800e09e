"""Citizen-facing routes: upload attachments, file, follow a filing by tracking number."""

from __future__ import annotations

import functools
from typing import Annotated, Any

from fastapi import APIRouter, File, Path, Request, UploadFile
from fastapi.responses import JSONResponse
from sqlmodel import Session
from starlette.datastructures import URL

from cases.lifecycle import CITIZEN
from cases.satisfaction import rate
from core.db import session_scope
from core.deps import SessionDep
from intake import group_commit, limits, service
from intake.attachments import store_upload
from intake.filing_threads import run_filing
from intake.idempotency import OPENAPI_HEADER, Answer, client_scope, key_of, run_once
from intake.tracking_number import display_tracking_number
from rewards import receipts
from schemas.attachment import AttachmentPublic
from schemas.complaint import (
    Complaint,
    ComplaintCreate,
    ComplaintCreated,
    RatingCreate,
    TrackingView,
)
from schemas.enums import Channel, Kind

router = APIRouter(prefix="/api/v1", tags=["intake"])

TrackingNumber = Annotated[str, Path(max_length=40, description="14 digits; spaces allowed")]
_FILING_ERRORS: dict[int | str, dict[str, Any]] = {
    409: {"description": "a request with this Idempotency-Key is still being processed"},
    413: {"description": "the body is larger than allowed"},
    422: {"description": "a field is missing, unknown or invalid; or the key was reused"},
    429: {"description": "too many filings from this address or number; see Retry-After"},
}


_TRACK_PREFIX = "_complaints_track_prefix"  # the router's attribute: the cached prefix


def tracking_url(request: Request, number: str) -> str:
    """`request.url_for("track_complaint", tracking_number=number)`, without searching the
    app's routes for every filing (that search was 5 % of a filing's cost), nor building
    the request's base URL each time (`_base_text`)."""
    scope = request.scope
    routes = scope.get("router") or scope["app"]
    prefix = getattr(routes, _TRACK_PREFIX, None)
    if prefix is None:  # the route's path up to the number, once per router
        prefix = str(routes.url_path_for("track_complaint", tracking_number="0"))[:-1]
        setattr(routes, _TRACK_PREFIX, prefix)
    host = next((value for name, value in scope["headers"] if name == b"host"), None)
    server = scope.get("server")
    base = _base_text(
        scope.get("scheme", "http"),
        tuple(server) if server else None,
        host,
        scope.get("app_root_path", scope.get("root_path", "")),
    )
    # What URLPath.make_absolute_url makes of it (the base holds any root path), as text.
    return base + prefix + number


@functools.lru_cache(maxsize=64)  # bounded: the Host header is the client's to choose
def _base_text(scheme: str, server: tuple[str, int] | None, host: bytes | None, root: str) -> str:
    """`str(request.base_url).rstrip("/")` for a request with these parts (all that
    Starlette's base URL is made of), made by Starlette once per address the platform is
    reached by: building it per filing (a copy of the scope, the Host header parsed) was
    1.5 % of a filing's CPU in the committer."""
    scope = {
        "scheme": scheme,
        "server": server,
        "path": root if root.endswith("/") else root + "/",
        "query_string": b"",
        "headers": [] if host is None else [(b"host", host)],
    }
    return str(URL(scope=scope)).rstrip("/")


def filing_created(
    request: Request, complaint: Complaint, *, receipt_code: str | None = None
) -> dict[str, Any]:
    """The answer to a new filing, as JSON (`ComplaintCreated`): its number, status and
    tracking page (none for a tip-off: it is not on the public tracking page), and a
    tip-off's receipt code, shown this once. Built as the dict the model would dump: the
    model's construction and dump were 2 % of a filing's CPU."""
    number = complaint.tracking_number
    return {
        "tracking_number": number,
        "tracking_number_display": display_tracking_number(number),
        "status": complaint.status.value,
        "tracking_url": None if complaint.kind is Kind.tip else tracking_url(request, number),
        "receipt_code": receipt_code,
        "receipt_code_display": receipts.display(receipt_code) if receipt_code else None,
    }


@router.post(
    "/complaints",
    status_code=201,
    response_model=ComplaintCreated,
    responses=_FILING_ERRORS,
    openapi_extra=OPENAPI_HEADER,
)
async def file_complaint(data: ComplaintCreate, request: Request) -> JSONResponse:
    idempotency_key = key_of(request)
    address = request.client.host if request.client else None
    tip = data.kind is Kind.tip
    limited_by = service.filing_limits(data, [limits.client_limit(address)])

    def scope() -> str:
        # A tip-off's key is not tied to the sender's address, even by a keyed hash.
        return "tip-off" if tip else client_scope(staff_id=None, client_address=address)

    def produce(on: Session) -> Answer:
        filed = service.file_counted(on, data=data, channel=Channel.web, actor=CITIZEN)
        first = filing_created(request, filed.complaint, receipt_code=filed.receipt_code)
        # A retry gets the same answer but the receipt code: it is shown once, never stored.
        replay = {**first, "receipt_code": None, "receipt_code_display": None} if tip else None
        return Answer(status=201, body=first, replay_body=replay)

    def in_a_transaction_of_its_own() -> Answer:
        with session_scope() as session:

            def counted_once() -> Answer:
                limits.check_all(limited_by)
                return produce(session)

            return run_once(
                session,
                scope=scope,
                key=idempotency_key,
                content=lambda: data.model_dump(mode="json"),
                produce=counted_once,
                coarse=tip,
            )

    # No request-wide session: a keyless filing is written on its group's (the session
    # dependency's making and closing were 10 % of a request that stores nothing).
    if idempotency_key is None and not tip:
        # Shares a transaction with the filings that arrive meanwhile (intake.group_commit).
        answer = await group_commit.file(limited_by, produce, ids=service.IDS_PER_FILING)
    else:
        answer = await run_filing(in_a_transaction_of_its_own)
    return JSONResponse(answer.body, status_code=answer.status)


@router.post(
    "/attachments",
    status_code=201,
    response_model=AttachmentPublic,
    responses={
        413: {"description": "larger than allowed"},
        415: {"description": "not an image or a PDF, judged by content"},
        429: {"description": "too many uploads from this address"},
    },
)
def upload_attachment(
    file: Annotated[UploadFile, File(description="a JPEG, PNG, GIF or WebP image, or a PDF")],
    session: SessionDep,
    request: Request,
) -> AttachmentPublic:
    """Upload one file; list the returned id in the filing's `attachments`."""
    limits.check_client(request.client.host if request.client else None)
    attachment = store_upload(session, stream=file.file)
    session.commit()
    return AttachmentPublic(
        id=attachment.token,
        content_type=attachment.content_type,
        size=attachment.size,
        sha256=attachment.sha256,
        filename=attachment.filename,
    )


@router.get(
    "/track/{tracking_number}",
    response_model=TrackingView,
    responses={404: {"description": "unknown tracking number"}},
)
def track_complaint(tracking_number: TrackingNumber, session: SessionDep) -> TrackingView:
    return service.tracking_view(session, raw_number=tracking_number)


@router.post(
    "/track/{tracking_number}/rating",
    status_code=201,
    responses={
        404: {"description": "unknown tracking number"},
        409: {"description": "not closed yet, rated already, or too late"},
    },
)
def rate_complaint(
    tracking_number: TrackingNumber, body: RatingCreate, session: SessionDep
) -> dict[str, object]:
    """The citizen rates the handling of a closed filing, once. A tip-off is not rated, and
    its number answers as unknown: its progress is for the receipt code only."""
    complaint = service.public_filing(session, tracking_number)
    rating = rate(
        session, complaint=complaint, score=body.score, comment=body.comment, channel="web"
    )
    session.commit()
    return {"tracking_number": complaint.tracking_number, "score": rating.score}
