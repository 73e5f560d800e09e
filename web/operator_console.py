"""Staff pages under /staff/operator (being built)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/staff/operator", include_in_schema=False)
