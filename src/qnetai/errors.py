"""Exceptions that carry a message fit to show a user (no traceback needed)."""

from __future__ import annotations


class QnetaiError(Exception):
    """Base class of every error qnetai raises on purpose."""


class InputError(QnetaiError, ValueError):
    """Bad input from a user: a parameter out of range, a malformed file.

    The message states the failed condition and, where there is one, the field
    path, e.g. ``links[2].length_km: must be >= 0 (got -3)``.
    """
