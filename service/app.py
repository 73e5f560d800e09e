"""The FastAPI application: every package's router, one error shape, the landing page."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from fastapi.telemetry import TelemetryConfig

import schemas  # noqa: F401  (registers every table before the first query)
from accounts.api import router as accounts_router
from cases.api import router as cases_router
from cases.follow_up_api import router as follow_up_router
from cases.policy import current_policy
from citizens.api import router as citizens_router
from core import heap, security
from core.settings import get_settings
from insights.api import router as insights_router
from intake import group_commit
from intake.api import router as intake_router
from intake.operator_api import router as operator_router
from intake.sms_api import router as sms_router
from notify.api import router as webhooks_router
from notify.loopback import LoopbackInbox, loopback_router
from opendata.api import router as opendata_router
from opendata.open311_api import router as open311_router
from products.api import router as products_router
from rewards import receipts
from rewards.api import router as rewards_router
from rewards.reporter_api import router as reporter_router
from routing.api import router as routing_router
from routing.tasks import warm_up
from service.body_limit import BodyLimitMiddleware
from service.crash_barrier import CrashBarrierMiddleware
from service.errors import ERROR_RESPONSES, document_error_bodies, install_error_handlers
from service.ops_api import router as ops_router
from service.overload import OverloadMiddleware
from service.request_log import RequestLogMiddleware
from supervision.api import router as supervision_router
from web.pages import router as pages_router

WEB = Path(__file__).resolve().parent.parent / "web"


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    current_policy()  # a bad policy file stops start-up, naming the field
    # Before the first request, so an unknown username or receipt code costs what a known
    # one does from the start.
    security.dummy_hash()
    receipts.dummy_hash()
    if get_settings().warm_up:
        warm_up()
    if app.state.serving:
        heap.settle()  # what start-up loaded is never scanned again (core.heap)
    yield
    # Answered filings whose hand-off to Redis is still under way finish it (the relay would
    # send their jobs later otherwise).
    await group_commit.settled()


def _document_errors(app: FastAPI) -> None:
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = document_error_bodies(generate())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def create_served_app() -> FastAPI:
    """The app as `complaints api` serves it: its worker process's heap is settled after
    start-up (core.heap). Not for a process that makes many apps, such as a test run: what
    each start-up made would stay frozen."""
    app = create_app()
    app.state.serving = True
    return app


# FastAPI's native OpenTelemetry, off (see create_app).
NO_TELEMETRY: TelemetryConfig = {
    "tracing": False,
    "metrics": False,
    "logs": False,
    "auto_configure": False,
}


def create_app() -> FastAPI:
    app = FastAPI(
        # Off: FastAPI's native OpenTelemetry would send every request's route and outcome,
        # tip-offs' included, and unhandled exceptions with their messages, to whatever
        # provider the process has, past the request log's rules (service.request_log,
        # service.crash_barrier); and its look for a provider cost every request 4-5 µs.
        # Metrics are Prometheus's, at /metrics.
        telemetry=NO_TELEMETRY,
        lifespan=_lifespan,
        title="12315/12365 投诉举报受理与分派平台",
        version="0.1.0",
        description="Complaints, tip-offs and inquiries in; the responsible department out.",
        responses=ERROR_RESPONSES,
    )
    app.state.serving = False
    install_error_handlers(app)
    settings = get_settings()
    upload_limit = settings.attachment_max_bytes + 64 * 1024  # the file plus its form framing
    body_limits = {
        "/api/v1/attachments": upload_limit,
        # The filing page posts its fields and every file it may carry in one body.
        "/file": settings.max_body_bytes + upload_limit * settings.attachments_per_filing,
    }
    app.add_middleware(RequestLogMiddleware)
    # Shed load before any work is done for the request.
    app.add_middleware(OverloadMiddleware, max_in_flight=settings.max_in_flight_requests)
    app.add_middleware(
        BodyLimitMiddleware,
        limit_for=lambda path: body_limits.get(path, settings.max_body_bytes),
    )
    app.add_middleware(CrashBarrierMiddleware)  # outermost: no exception gets past it
    for router in (
        intake_router,
        citizens_router,
        sms_router,
        operator_router,
        accounts_router,
        routing_router,  # before cases: its /actions/transfer is more specific
        cases_router,
        follow_up_router,
        webhooks_router,
        reporter_router,
        rewards_router,
        ops_router,
        insights_router,
        opendata_router,
        open311_router,
        products_router,
        supervision_router,
    ):
        app.include_router(router)
    if settings.sms_provider == "loopback":
        # The development inbox: what the platform texted citizens, at /dev/sms/messages.
        inbox = LoopbackInbox(settings.resolved_data_dir / "sms-loopback.jsonl")
        app.include_router(loopback_router(inbox), prefix="/dev/sms", include_in_schema=False)
    app.include_router(pages_router)
    _document_errors(app)
    app.mount("/static", StaticFiles(directory=WEB / "static"), name="static")
    return app
