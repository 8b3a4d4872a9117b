"""Exit codes, and which error earns which: scripts branch on the code, people read the line.

A script that runs ``offer-analytics fetch`` nightly needs to tell "fix the credentials" from
"try again later" without parsing English, so each kind of failure has its own code.
"""

from __future__ import annotations

from enum import IntEnum
from typing import Final

from offer_analytics.errors import (
    AuthenticationError,
    ConfigurationError,
    ForbiddenError,
    PartialLoadError,
    PartialSyncError,
    RequestValidationError,
)

__all__ = ["EXIT_CODES_HELP", "ExitCode", "exit_code_for"]


class ExitCode(IntEnum):
    """What the process's exit status means.

    Examples
    --------
    >>> int(ExitCode.AUTH), ExitCode(4).name
    (3, 'PARTIAL')
    """

    OK = 0
    OTHER = 1
    USAGE = 2
    AUTH = 3
    PARTIAL = 4
    INTERRUPTED = 130


#: The table printed under every command's ``--help`` (``\b`` keeps click from rewrapping it).
EXIT_CODES_HELP: Final = (
    "\b\nExit codes:\n"
    "  0  success\n"
    "  1  other failure (network, server, unreadable data, cannot write, sync already running)\n"
    "  2  usage: bad option, missing file, missing or unsafe credentials\n"
    "  3  authentication or permission: API key rejected (401) or token refused (403)\n"
    "  4  partial: some offers or connectors were loaded, others not; run again later\n"
    "  130  interrupted (Ctrl-C)"
)


def exit_code_for(error: BaseException) -> ExitCode:
    """The exit code an error earns.

    A :class:`~offer_analytics.errors.PartialLoadError` that loaded nothing at all (the API
    could not be reached, say) is not a partial load: its cause decides.

    Examples
    --------
    >>> from offer_analytics.errors import AuthenticationError, ConfigurationError
    >>> exit_code_for(AuthenticationError("no", status_code=401)).name
    'AUTH'
    >>> exit_code_for(ConfigurationError("no key")).name
    'USAGE'
    >>> exit_code_for(RuntimeError("boom")).name
    'OTHER'
    """
    if isinstance(error, KeyboardInterrupt):
        return ExitCode.INTERRUPTED
    if isinstance(error, AuthenticationError | ForbiddenError):
        return ExitCode.AUTH
    if isinstance(error, ConfigurationError | RequestValidationError):
        return ExitCode.USAGE
    if isinstance(error, PartialSyncError):
        return ExitCode.PARTIAL  # some connectors were synced and committed
    if isinstance(error, PartialLoadError):
        if loaded_nothing(error) and error.__cause__ is not None:
            return exit_code_for(error.__cause__)
        return ExitCode.PARTIAL
    return ExitCode.OTHER


def loaded_nothing(error: PartialLoadError) -> bool:
    """True when no offer was loaded and no connector finished."""
    report = error.report
    finished = [c for c in getattr(report, "connectors", ()) if c not in error.missing]
    return error.frame.height == 0 and not finished
