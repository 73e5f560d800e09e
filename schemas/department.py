"""Departments (承办部门) and the registry loads that define them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel

from core.db import UTCDateTime
from core.timeutil import utcnow


class Department(SQLModel, table=True):
    """One department of the registry; rows are never deleted, only deactivated."""

    __tablename__ = "departments"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=32, unique=True, index=True)
    name: str = Field(max_length=100)
    aliases: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    duties: str = Field(default="", max_length=2000)
    sectors: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    keywords: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    is_triage: bool = Field(default=False)
    active: bool = Field(default=True)
    registry_version: str = Field(max_length=40)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class RegistryLoad(SQLModel, table=True):
    """Each load of a registry file: which version, when, from what bytes."""

    __tablename__ = "registry_loads"

    id: int | None = Field(default=None, primary_key=True)
    version: str = Field(max_length=40)
    name: str = Field(max_length=200)
    source_sha256: str = Field(max_length=64)
    sectors: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    home_province: str | None = Field(default=None, max_length=30)
    # e-commerce platforms with their registered places (routing.platforms.Platform.stored)
    platforms: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False, server_default="[]")
    )
    loaded_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class DepartmentRef(SQLModel):
    code: str
    name: str
