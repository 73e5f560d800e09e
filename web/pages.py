"""Every page router, in one place for the app factory."""

from __future__ import annotations

from fastapi import APIRouter

from web import (
    citizen,
    desk,
    follow_ups,
    my_filings,
    operator_console,
    product_risks,
    reward_desk,
    staff,
    stats,
    supervision,
)

router = APIRouter(include_in_schema=False)
for module in (
    citizen,
    my_filings,
    staff,
    operator_console,
    follow_ups,
    desk,
    reward_desk,
    stats,
    product_risks,
    supervision,
):
    router.include_router(module.router)
