"""Logging for every process: one line per record to stderr, as text or as JSON.

Each line carries the request id of the request it belongs to (service.request_log sets it),
so one request's lines can be found across a process's log. Tracebacks carry no exception
messages (core.tracebacks), a record about a tip-off carries the day instead of the time, and
mobile and ID card numbers that slip into a message are masked, whatever logged them.
"""

from __future__ import annotations

import json
import logging
import logging.config
import re
import sys
import time
from contextvars import ContextVar
from types import TracebackType
from typing import Any, Literal, TextIO

from core.tracebacks import redacted_traceback
from schemas.validators import mask_id_number

REQUEST_ID: ContextVar[str | None] = ContextVar("request_id", default=None)
# A record logged with extra={DAY_ONLY: True} is about a tip-off: it carries the day only.
DAY_ONLY = "day_only"

ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None] | tuple[None, None, None]
LogFormat = Literal["text", "json"]

# An 18-character ID card number, or an 11-digit mainland mobile number, standing alone.
_PERSONAL_NUMBER = re.compile(r"(?<!\d)(?:\d{17}[\dXx]|1[3-9]\d{9})(?![\dXx])")


def mask_numbers(text: str) -> str:
    return _PERSONAL_NUMBER.sub(lambda match: mask_id_number(match.group()), text)


class RequestContext(logging.Filter):
    """Stamps each record with the id of the request being served (or "-")."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = REQUEST_ID.get() or "-"
        return True


class PlatformFormatter(logging.Formatter):
    """`<time> <level> <process> [<request id>] <logger>: <message>`; exceptions without
    their messages."""

    def __init__(self, process: str = "complaints") -> None:
        super().__init__(
            f"%(asctime)s %(levelname)s {process} [%(request_id)s] %(name)s: %(message)s"
        )
        self.process = process

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        if getattr(record, DAY_ONLY, False):
            return time.strftime("%Y-%m-%d", self.converter(record.created))
        return super().formatTime(record, datefmt)

    def formatException(self, ei: ExcInfo) -> str:
        return redacted_traceback(ei[1]) if ei[1] is not None else ""

    def format(self, record: logging.LogRecord) -> str:
        record.__dict__.setdefault("request_id", "-")
        return mask_numbers(super().format(record))


class JsonFormatter(PlatformFormatter):
    """One JSON object per line: time, level, process, logger, request_id, message[, exception]."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname,
            "process": self.process,
            "logger": record.name,
            "request_id": getattr(record, "request_id", "-"),
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return mask_numbers(json.dumps(entry, ensure_ascii=False))


def logging_config(
    level: str, process: str, stream: TextIO | None = None, fmt: LogFormat = "text"
) -> dict[str, Any]:
    """The dictConfig of one process; uvicorn applies it again in each of its workers."""
    formatter = JsonFormatter if fmt == "json" else PlatformFormatter
    handler: dict[str, Any] = {
        "class": "logging.StreamHandler",
        "formatter": "platform",
        "filters": ["request"],
        "stream": stream if stream is not None else "ext://sys.stderr",
    }
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request": {"()": RequestContext}},
        "formatters": {"platform": {"()": formatter, "process": process}},
        "handlers": {"stderr": handler},
        "root": {"handlers": ["stderr"], "level": level},
        # uvicorn's own loggers write through the root handler, in the same format.
        "loggers": {
            "uvicorn": {"handlers": [], "propagate": True},
            "uvicorn.error": {"handlers": [], "propagate": True},
            "uvicorn.access": {"handlers": [], "propagate": False},
        },
    }


def configure_logging(
    level: str, process: str, fmt: LogFormat = "text", stream: TextIO | None = None
) -> None:
    logging.config.dictConfig(logging_config(level, process, stream or sys.stderr, fmt))
