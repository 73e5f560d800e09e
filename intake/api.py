"""Citizen-facing routes: file a complaint, follow it by tracking number."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request

from cases.lifecycle import CITIZEN
from core.deps import SessionDep
from intake import service
from intake.tracking_number import display_tracking_number
from schemas.complaint import ComplaintCreate, ComplaintCreated, TrackingView
from schemas.enums import Channel

router = APIRouter(prefix="/api/v1", tags=["intake"])

TrackingNumber = Annotated[str, Path(max_length=40, description="14 digits; spaces allowed")]


@router.post(
    "/complaints",
    status_code=201,
    response_model=ComplaintCreated,
    responses={422: {"description": "a field is missing, unknown or invalid; see detail"}},
)
def file_complaint(
    data: ComplaintCreate, session: SessionDep, request: Request
) -> ComplaintCreated:
    complaint = service.file_complaint(session, data=data, channel=Channel.web, actor=CITIZEN)
    return ComplaintCreated(
        tracking_number=complaint.tracking_number,
        tracking_number_display=display_tracking_number(complaint.tracking_number),
        status=complaint.status,
        tracking_url=str(
            request.url_for("track_complaint", tracking_number=complaint.tracking_number)
        ),
    )


@router.get(
    "/track/{tracking_number}",
    response_model=TrackingView,
    responses={404: {"description": "unknown tracking number"}},
)
def track_complaint(tracking_number: TrackingNumber, session: SessionDep) -> TrackingView:
    return service.tracking_view(session, raw_number=tracking_number)
