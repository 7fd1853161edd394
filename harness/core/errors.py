"""Errors that map onto the CLI's exit codes.

The CLI contract promises 2 for bad input, 3 for an internal failure and never a bare
traceback for a user's mistake; raising these types is how any layer keeps that promise.
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_BLOCKED = 1
EXIT_BAD_INPUT = 2
EXIT_INTERNAL = 3


class MedgateError(Exception):
    """Base class: carries the exit code the CLI should end with."""

    exit_code = EXIT_INTERNAL


class BadInputError(MedgateError):
    """The user's file, config key, row or argument is wrong. The message names which."""

    exit_code = EXIT_BAD_INPUT

    def __init__(self, message: str, *, where: str | None = None) -> None:
        self.where = where
        super().__init__(f"{where}: {message}" if where else message)


class InternalError(MedgateError):
    """Something that should not happen happened; the run cannot be trusted."""

    exit_code = EXIT_INTERNAL
