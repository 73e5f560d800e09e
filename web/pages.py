"""Every page router, in one place for the app factory."""

from __future__ import annotations

from fastapi import APIRouter

from web import citizen, desk, operator_console, reward_desk, staff, stats

router = APIRouter(include_in_schema=False)
for module in (citizen, staff, operator_console, desk, reward_desk, stats):
    router.include_router(module.router)
