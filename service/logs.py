"""Logging for every process: one line per record, to stderr, with no personal data in
tracebacks (core.tracebacks) and, for records about a tip-off, the day instead of the time."""

from __future__ import annotations

import logging
import logging.config
import sys
import time
from types import TracebackType
from typing import Any, TextIO

from core.tracebacks import redacted_traceback

# A record logged with extra={DAY_ONLY: True} is about a tip-off: it carries the day only.
DAY_ONLY = "day_only"

ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None] | tuple[None, None, None]


class PlatformFormatter(logging.Formatter):
    """`<time> <level> <process> <logger>: <message>`; exceptions without their messages."""

    def __init__(self, process: str = "complaints") -> None:
        super().__init__(f"%(asctime)s %(levelname)s {process} %(name)s: %(message)s")

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        if getattr(record, DAY_ONLY, False):
            return time.strftime("%Y-%m-%d", self.converter(record.created))
        return super().formatTime(record, datefmt)

    def formatException(self, ei: ExcInfo) -> str:
        return redacted_traceback(ei[1]) if ei[1] is not None else ""


def logging_config(level: str, process: str, stream: TextIO | None = None) -> dict[str, Any]:
    """The dictConfig of one process; uvicorn applies it again in each of its workers."""
    handler: dict[str, Any] = {"class": "logging.StreamHandler", "formatter": "platform"}
    handler["stream"] = stream if stream is not None else "ext://sys.stderr"
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"platform": {"()": PlatformFormatter, "process": process}},
        "handlers": {"stderr": handler},
        "root": {"handlers": ["stderr"], "level": level},
        # uvicorn's own loggers write through the root handler, in the same format.
        "loggers": {
            "uvicorn": {"handlers": [], "propagate": True},
            "uvicorn.error": {"handlers": [], "propagate": True},
            "uvicorn.access": {"handlers": [], "propagate": False},
        },
    }


def configure_logging(level: str, process: str, stream: TextIO | None = None) -> None:
    logging.config.dictConfig(logging_config(level, process, stream or sys.stderr))
