"""Operations routes: /healthz (the process runs), /readyz (it can work), /metrics."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST

from service.health import check_readiness
from service.metrics import render_metrics

router = APIRouter(tags=["ops"])


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """The process is up; it says nothing of the database or Redis (that is /readyz)."""
    return {"status": "ok"}


@router.get(
    "/readyz",
    responses={503: {"description": "the database or Redis does not answer; `checks` says which"}},
)
def readyz() -> JSONResponse:
    """The database and Redis answer, and Redis will not evict queued jobs."""
    readiness = check_readiness()
    checks = {"database": readiness.database, "redis": readiness.redis}
    if readiness.ready:
        return JSONResponse({"status": "ready", "checks": checks})
    return JSONResponse(
        status_code=503,
        content={"error": "ServiceUnavailable", "detail": "not ready", "checks": checks},
        headers={"Retry-After": "5"},
    )


@router.get("/metrics", response_class=Response)
async def prometheus_metrics() -> Response:
    """Prometheus text format: filings by channel, routing latency, queue depths, breaches."""
    body = await run_in_threadpool(render_metrics)
    return Response(content=body, media_type=CONTENT_TYPE_LATEST)
