"""How a failed command ends: one line on stderr (a JSON object on stdout with ``--json``),
the traceback only with ``--debug``, and the exit code of :mod:`._exit`.

Every command runs through :class:`Command`, so no command repeats this and none can forget it.
"""

from __future__ import annotations

import json
import sys
import traceback
from collections.abc import Iterable
from typing import Any, Final

import typer
import typer.core

from offer_analytics.cli._exit import ExitCode, exit_code_for, loaded_nothing
from offer_analytics.errors import OfferAnalyticsError, PartialLoadError

__all__ = ["SECRETS_KEY", "Command", "describe", "error_line", "scrub"]

#: Where a command's context keeps the secrets it resolved, so that a failure can hide them.
SECRETS_KEY: Final = "offer_analytics.secrets"
#: Messages longer than this are cut: one line must stay one readable line.
_MAX_MESSAGE: Final = 600


def scrub(text: str, secrets: Iterable[str]) -> str:
    """Replace every secret in ``text`` with ``***``, longest first.

    Examples
    --------
    >>> scrub("key sk-1 and sk-12", ["sk-1", "sk-12"])
    'key *** and ***'
    """
    for secret in sorted(set(secrets), key=len, reverse=True):
        if secret:
            text = text.replace(secret, "***")
    return text


def describe(error: BaseException, *, can_keep_partial: bool = False) -> str:
    """The error as one line that says what happened and what to do.

    ``can_keep_partial``: the command has ``--keep-partial``, so a partial load may suggest it.

    Examples
    --------
    >>> describe(ValueError("bad\\nthing"))
    'bad thing'
    >>> describe(KeyError("x"))
    "unexpected KeyError: 'x' (run again with --debug for the traceback)"
    """
    if isinstance(error, PartialLoadError):
        text = _partial(error, can_keep_partial)
    elif isinstance(error, OfferAnalyticsError | OSError | ValueError):
        text = _os_error(error) if isinstance(error, OSError) else str(error)
    else:
        text = (
            f"unexpected {type(error).__name__}: {error} (run again with --debug for the traceback)"
        )
    line = " ".join(text.split())
    return line if len(line) <= _MAX_MESSAGE else line[: _MAX_MESSAGE - 1] + "…"


def _os_error(error: OSError) -> str:
    where = f" {error.filename}" if error.filename else ""
    return f"cannot use{where}: {error.strerror or error}"


def _partial(error: PartialLoadError, can_keep_partial: bool) -> str:
    cause = error.__cause__
    if loaded_nothing(error) and cause is not None:
        return describe(cause)
    failed = ", ".join(sorted(error.missing))
    keep = ", or add --keep-partial to keep what was loaded" if can_keep_partial else ""
    return (
        f"the load of {failed} did not finish after every retry ({error.frame.height:,} offers "
        f"loaded, nothing written). Run again later{keep}. Cause: {cause}"
    )


class Command(typer.core.TyperCommand):
    """A command whose failures end as the package promises (see the module docstring).

    Commands declare ``--debug`` and ``--json`` (as ``debug`` and ``as_json``) to take part.
    """

    # Any: the Context the base class names is typer's vendored click, which has no public name.
    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except (typer.Exit, typer.Abort, typer.TyperException):
            raise  # usage errors are click's to print, with exit code 2
        except KeyboardInterrupt:
            typer.echo("interrupted", err=True)
            raise typer.Exit(ExitCode.INTERRUPTED) from None
        except Exception as error:
            _report(ctx, error)
            raise typer.Exit(exit_code_for(error)) from None


def error_line(ctx: typer.Context, error: BaseException) -> str:
    """``describe(error)`` for this command, without the secrets it resolved."""
    secrets: list[str] = ctx.meta.get(SECRETS_KEY, [])
    return scrub(describe(error, can_keep_partial="keep_partial" in ctx.params), secrets)


def _report(ctx: typer.Context, error: Exception) -> None:
    secrets: list[str] = ctx.meta.get(SECRETS_KEY, [])
    code = exit_code_for(error)
    line = error_line(ctx, error)
    if ctx.params.get("debug"):
        trace = "".join(traceback.format_exception(error))
        sys.stderr.write(scrub(trace, secrets))
    typer.echo(f"error: {line}", err=True)
    if ctx.params.get("as_json"):
        payload = {"error": {"exit_code": int(code), "kind": code.name.lower(), "message": line}}
        typer.echo(json.dumps(payload))
