"""Where a command's API key, host and connectors come from.

Flags win over the environment. Connectors come from exactly one place, looked for in this
order: ``--connector-token``, ``--connectors``, ``--connectors-file`` (at most one of the three
flags), else ``BINDBEE_CONNECTORS``, else ``BINDBEE_CONNECTOR_TOKEN``. One token is labelled
``default``, as in Python. Messages name labels and positions, never a token.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import typer

import offer_analytics as oa
from offer_analytics.cli._failure import SECRETS_KEY
from offer_analytics.cli._options import (
    API_KEY_ENV,
    CONNECTOR_TOKEN_ENV,
    CONNECTORS_ENV,
)
from offer_analytics.errors import ConfigurationError

__all__ = ["Connection", "parse_connectors", "read_connectors_file", "resolve_connection"]


@dataclass(frozen=True, kw_only=True)
class Connection:
    """Everything a load needs to reach the API; its ``repr`` shows no secret.

    Examples
    --------
    >>> Connection(api_key="sk", base_url=None, connectors={"acme": "tok"})
    Connection(base_url=None, labels=('acme',), rate_limit=(200, 60.0), attempts=8)
    """

    api_key: str = field(repr=False)
    base_url: str | None
    connectors: Mapping[str, str] = field(repr=False)
    rate_limit: tuple[int, float] = (200, 60.0)
    attempts: int = oa.RetryPolicy().attempts

    def __repr__(self) -> str:
        return (
            f"Connection(base_url={self.base_url!r}, labels={tuple(self.connectors)!r}, "
            f"rate_limit={self.rate_limit!r}, attempts={self.attempts})"
        )

    def client(self) -> oa.BindbeeClient:
        """A client for one event loop, with this connection's key, host, budget and retries."""
        return oa.BindbeeClient(
            api_key=self.api_key,
            base_url=self.base_url,
            rate_limit=self.rate_limit,
            retry=oa.RetryPolicy(attempts=self.attempts),
        )


def resolve_connection(ctx: typer.Context) -> Connection:
    """The connection a command's options (of :mod:`._options`, found in ``ctx.params``) name.

    Its secrets are remembered in ``ctx`` so that a failure can hide them.

    Raises
    ------
    ConfigurationError
        No API key, no connector, connectors from two flags, or a malformed connector list.
    """
    given: dict[str, Any] = ctx.params
    api_key, connector_token, connectors = (
        given.get(name) for name in ("api_key", "connector_token", "connectors")
    )
    secrets: list[str] = ctx.meta.setdefault(SECRETS_KEY, [])
    for text in (api_key, connector_token, connectors, *_from_environment()):
        # Registered before parsing, so that even a malformed list stays hidden in errors.
        secrets.extend(_pieces(text))
    if not api_key or not api_key.strip():
        msg = f"No Bindbee API key: set {API_KEY_ENV} (or pass --api-key)."
        raise ConfigurationError(msg)
    tokens = _connectors(connector_token, connectors, given.get("connectors_file"))
    secrets.extend(tokens.values())
    return Connection(
        api_key=api_key.strip(),
        base_url=given.get("base_url"),
        connectors=tokens,
        rate_limit=(given["rate_limit"], given["rate_window"]),
        attempts=given.get("retries", oa.RetryPolicy().attempts),
    )


def _from_environment() -> list[str | None]:
    return [os.environ.get(name) for name in (CONNECTORS_ENV, CONNECTOR_TOKEN_ENV)]


def _pieces(text: str | None) -> list[str]:
    """A secret-bearing value, whole and split into its ``label=token`` tokens."""
    if not text:
        return []
    return [text, *(item.partition("=")[2].strip() for item in text.split(","))]


def _connectors(
    connector_token: str | None, connectors: str | None, connectors_file: Path | None
) -> dict[str, str]:
    flags = [
        name
        for name, value in (
            ("--connector-token", connector_token),
            ("--connectors", connectors),
            ("--connectors-file", connectors_file),
        )
        if value is not None
    ]
    if len(flags) > 1:
        raise ConfigurationError(f"Give connectors one way, not {' and '.join(flags)}.")
    if connector_token is not None:
        return _one(connector_token, "--connector-token")
    if connectors is not None:
        return parse_connectors(connectors, source="--connectors")
    if connectors_file is not None:
        return read_connectors_file(connectors_file)
    many, one = os.environ.get(CONNECTORS_ENV), os.environ.get(CONNECTOR_TOKEN_ENV)
    if many and one:
        msg = f"Both {CONNECTORS_ENV} and {CONNECTOR_TOKEN_ENV} are set: unset one of them."
        raise ConfigurationError(msg)
    if many:
        return parse_connectors(many, source=CONNECTORS_ENV)
    if one:
        return _one(one, CONNECTOR_TOKEN_ENV)
    msg = (
        f"No connector: set {CONNECTOR_TOKEN_ENV} (one) or {CONNECTORS_ENV}=label=token,... "
        "(several), or pass --connector-token or --connectors-file."
    )
    raise ConfigurationError(msg)


def _one(token: str, source: str) -> dict[str, str]:
    if not token.strip():
        raise ConfigurationError(f"{source} is empty.")
    return {"default": token.strip()}


def parse_connectors(text: str, *, source: str) -> dict[str, str]:
    """``label=token,label=token`` as a mapping; errors name the item, never its token.

    Examples
    --------
    >>> parse_connectors(" acme=t1, globex=t2 ", source="BINDBEE_CONNECTORS")
    {'acme': 't1', 'globex': 't2'}
    >>> parse_connectors("acme", source="BINDBEE_CONNECTORS")
    Traceback (most recent call last):
    ...
    offer_analytics.errors.ConfigurationError: BINDBEE_CONNECTORS item 1 is not label=token.
    """
    pairs: list[tuple[str, Any]] = []
    for number, item in enumerate(text.split(","), start=1):
        label, equals, token = item.partition("=")
        if not equals:
            raise ConfigurationError(f"{source} item {number} is not label=token.")
        pairs.append((label.strip(), token.strip()))
    return _checked(pairs, source)


def read_connectors_file(path: Path) -> dict[str, str]:
    """The connectors of a TOML file of ``label = "token"`` lines.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = Path(folder, "connectors.toml")
    ...     _ = path.write_text('acme = "t1"\\n"big corp" = "t2"\\n')
    ...     read_connectors_file(path)
    {'acme': 't1', 'big corp': 't2'}
    """
    try:
        with path.open("rb") as file:
            table = tomllib.load(file)
    except tomllib.TOMLDecodeError as error:
        # The decoder's message names a line and column, never the text found there.
        raise ConfigurationError(f"{path} is not valid TOML: {error}") from None
    return _checked(list(table.items()), str(path))


def _checked(pairs: list[tuple[str, Any]], source: str) -> dict[str, str]:
    result: dict[str, str] = {}
    for label, token in pairs:
        if not label:
            raise ConfigurationError(f"{source} has a connector without a label.")
        if label in result:
            raise ConfigurationError(f"{source} names connector {label!r} twice.")
        if not isinstance(token, str) or not token.strip():
            msg = f'{source}: connector {label!r} needs a non-empty token string (label = "token").'
            raise ConfigurationError(msg)
        result[label] = token.strip()
    if not result:
        raise ConfigurationError(f"{source} names no connector.")
    return result
