"""Tracebacks without exception messages, for logs and job records.

An exception's message often carries the data being handled: SQLAlchemy's errors quote the
statement's parameters (a filing's text, a phone number), a validation error the value it
refused. Where the code went wrong (files, lines, functions, exception types, the chain of
causes) is what an operator needs; the message is left out.
"""

from __future__ import annotations

import traceback

WITHHELD = "[message withheld: it may hold personal data]"


def _chain(exc: BaseException) -> list[BaseException]:
    """`exc` and the exceptions it came from, oldest first, as Python prints them."""
    chain: list[BaseException] = []
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        chain.append(current)
        if current.__cause__ is not None:
            current = current.__cause__
        elif current.__context__ is not None and not current.__suppress_context__:
            current = current.__context__
        else:
            current = None
    return chain[::-1]


def exception_name(exc: BaseException) -> str:
    kind = type(exc)
    if kind.__module__ == "builtins":
        return kind.__qualname__
    return f"{kind.__module__}.{kind.__qualname__}"


def redacted_traceback(exc: BaseException) -> str:
    """Every frame of `exc` and of its causes, and their types; no message, no locals."""
    parts: list[str] = []
    for position, link in enumerate(_chain(exc)):
        if position:
            parts.append("\nwhich led to:\n\n")
        parts.append("Traceback (most recent call last):\n")
        parts.extend(traceback.StackSummary.extract(traceback.walk_tb(link.__traceback__)).format())
        parts.append(f"{exception_name(link)}: {WITHHELD}\n")
    return "".join(parts)
