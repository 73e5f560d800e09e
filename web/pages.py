"""Every page router, in one place for the app factory."""

from __future__ import annotations

from fastapi import APIRouter

from web import citizen, staff

router = APIRouter(include_in_schema=False)
for module in (citizen, staff):
    router.include_router(module.router)
