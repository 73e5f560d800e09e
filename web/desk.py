"""Staff pages under /staff/desk (being built)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/staff/desk", include_in_schema=False)
