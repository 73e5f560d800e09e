"""The open-data export: public complaints, anonymised, as CSV or JSON. No sign-in."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse

from core.deps import SessionDep
from core.timeutil import check_period
from opendata import export
from schemas.formats import ReportDay

router = APIRouter(prefix="/api/v1/open-data", tags=["open data"])


@router.get(
    "/complaints",
    response_class=StreamingResponse,
    responses={
        200: {"content": {"text/csv": {}, "application/json": {}}},
        422: {"description": "since is after until"},
    },
)
def export_complaints(
    session: SessionDep,
    format: Annotated[Literal["csv", "json"], Query(description="csv or json")] = "csv",
    since: Annotated[
        ReportDay | None, Query(description="received on or after (China time)")
    ] = None,
    until: Annotated[ReportDay | None, Query(description="received on or before")] = None,
) -> StreamingResponse:
    """Complaints without personal data: no tip-offs, no contact, no tracking number; text
    and business names scrubbed of phone, ID, plate and bank numbers and persons' names."""
    check_period(since, until)
    # Read while the request's session is open; the answer then streams from memory.
    rows = iter(list(export.records(session, since=since, until=until)))
    if format == "json":
        return StreamingResponse(export.to_json(rows), media_type="application/json")
    return StreamingResponse(
        export.to_csv(rows),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="complaints.csv"'},
    )
