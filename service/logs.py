"""Logging for every process: one line per record to stderr, as text or as JSON.

Each line carries the request id of the request it belongs to (service.request_log sets it),
so one request's lines can be found across a process's log. Mobile and ID card numbers that
slip into a message are masked on the way out, whatever logged them.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from contextvars import ContextVar
from typing import Literal

REQUEST_ID: ContextVar[str | None] = ContextVar("request_id", default=None)

# An 18-character ID card number, or an 11-digit mainland mobile number, standing alone.
_PERSONAL_NUMBER = re.compile(r"(?<!\d)(?:\d{17}[\dXx]|1[3-9]\d{9})(?![\dXx])")


def mask_numbers(text: str) -> str:
    return _PERSONAL_NUMBER.sub(
        lambda m: m.group()[:3] + "*" * (len(m.group()) - 7) + m.group()[-4:], text
    )


class _Context(logging.Filter):
    def __init__(self, process: str) -> None:
        super().__init__()
        self.process = process

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = REQUEST_ID.get() or "-"
        record.process_name = self.process
        return True


class _TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return mask_numbers(super().format(record))


class _JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname,
            "process": getattr(record, "process_name", "-"),
            "logger": record.name,
            "request_id": getattr(record, "request_id", "-"),
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return mask_numbers(json.dumps(entry, ensure_ascii=False))


def configure_logging(level: str, process: str, fmt: Literal["text", "json"] = "text") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(_Context(process))
    if fmt == "json":
        handler.setFormatter(_JsonFormatter())
    else:
        handler.setFormatter(
            _TextFormatter(
                f"%(asctime)s %(levelname)s {process} [%(request_id)s] %(name)s: %(message)s"
            )
        )
    logging.basicConfig(level=level, handlers=[handler], force=True)
