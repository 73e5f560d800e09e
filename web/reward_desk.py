"""Staff pages under /staff/rewards (being built)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/staff/rewards", include_in_schema=False)
