"""New table-model objects made as their constructor makes them, without its per-field work.

A SQLModel table model's constructor validates nothing, but it sets every field through
pydantic's and SQLAlchemy's attribute machinery, one event per field: 64 µs for a history
entry and 74 µs for a deadline, against 6 µs here (timeit). The router makes both for every
filing it routes (cases.lifecycle.transition, cases.deadlines), and they were a seventh of
its CPU (py-spy under bench/routing.py).

`new_row` gives the object the constructor would: the values given, every other field's
default (a default factory called anew each time), the same pydantic bookkeeping, and no
attribute history. It is transient, as a constructed one is: `session.add` makes it pending
and the flush INSERTs what is in it, which is all a new object's flush reads.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import Enum
from functools import cache
from typing import Any, TypeVar

from sqlalchemy.orm import configure_mappers
from sqlalchemy.orm.instrumentation import manager_of_class
from sqlmodel import SQLModel

M = TypeVar("M", bound=SQLModel)


@dataclass(frozen=True)
class FieldDefaults:
    """A table model's fields by how they get a value when none is given."""

    constant: dict[str, Any]  # immutable defaults (None, numbers, text, enum members, days)
    made: dict[str, Callable[[], Any]]  # a fresh value each time (factories, mutable defaults)
    required: frozenset[str]


_IMMUTABLE = (type(None), bool, int, float, str, bytes, tuple, frozenset, Enum, date, Decimal)


@cache
def field_defaults(model: type[SQLModel]) -> FieldDefaults:
    """`model`'s defaults per field. Configures the mappers first: an object made without the
    constructor may be the process's first of its class."""
    configure_mappers()
    constant: dict[str, Any] = {}
    made: dict[str, Callable[[], Any]] = {}
    required: set[str] = set()
    for name, field in model.model_fields.items():
        if field.is_required():
            required.add(name)
        elif field.default_factory is None and isinstance(field.default, _IMMUTABLE):
            constant[name] = field.default
        else:  # what the constructor does: call the factory, or copy a mutable default
            made[name] = _default_of(field)
    return FieldDefaults(constant, made, frozenset(required))


def _default_of(field: Any) -> Callable[[], Any]:
    return lambda: field.get_default(call_default_factory=True)


def filled(
    model: type[SQLModel], values: dict[str, Any], *, complete: bool = False
) -> dict[str, Any]:
    """`values` with every other field's default: what `model(**values)` would hold. Unknown
    names are refused (the constructor would drop them without a word); with `complete`, so
    are required fields left out (the constructor allows that, for the database to refuse)."""
    defaults = field_defaults(model)
    unknown = values.keys() - defaults.constant.keys() - defaults.made.keys() - defaults.required
    missing = defaults.required - values.keys() if complete else set()
    if unknown or missing:
        raise ValueError(f"{model.__name__}: unknown {sorted(unknown)}, missing {sorted(missing)}")
    fields = {**defaults.constant, **values}
    for name, make in defaults.made.items():
        if name not in values:
            fields[name] = make()
    return fields


def new_row(model: type[M], **values: Any) -> M:
    """`model(**values)` for a table model, without the per-field events (see `filled`)."""
    if model.__pydantic_post_init__:  # its own code runs after construction: let it
        return model(**values)
    fields = filled(model, values)
    row: M = manager_of_class(model).new_instance()
    row.__dict__.update(fields)
    object.__setattr__(row, "__pydantic_fields_set__", set(values))
    object.__setattr__(row, "__pydantic_extra__", None)
    object.__setattr__(row, "__pydantic_private__", None)
    return row
