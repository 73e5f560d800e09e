"""Errors a user can fix: a model file that cannot be trusted, a data set that cannot be read."""

from __future__ import annotations

from core.errors import InvalidInput


class ModelFileError(InvalidInput):
    """The model file is not one we wrote, is damaged, or is from a newer platform."""


class DatasetError(InvalidInput):
    """A labelled data set that cannot be used as it is; the message says what to fix."""
