"""Logging for every process: one line per record, to stderr."""

from __future__ import annotations

import logging
import sys


def configure_logging(level: str, process: str) -> None:
    logging.basicConfig(
        level=level,
        stream=sys.stderr,
        format=f"%(asctime)s %(levelname)s {process} %(name)s: %(message)s",
        force=True,
    )
