"""The error hierarchy: every failure the product reports carries its exit code.

`cli/` maps a `GepaError` to one stderr line and `exit_code`; nothing else needs to know
which module raised it. Bad input (config, data, task code, run directory, model
setup) exits 2; runtime failures (a model unreachable after retries, a run that cannot
go on) exit 1; an interrupted run exits 130.
"""

from __future__ import annotations


class GepaError(Exception):
    """A failure with a user-facing one-line message and an exit code."""

    exit_code: int = 1


class BadInputError(GepaError):
    """Bad usage, config, data or run directory: the message names the file, line or key."""

    exit_code = 2


class RuntimeFailure(GepaError):
    """The work could not be done (e.g. a model stayed unreachable after retries)."""

    exit_code = 1


class Interruption(GepaError):
    """The run was interrupted; its checkpoint is saved and it can be resumed."""

    exit_code = 130
