"""Where the API key, the connector tokens and the base URL come from, and what is refused.

Arguments win over the environment (``BINDBEE_API_KEY``, ``BINDBEE_CONNECTOR_TOKEN``,
``BINDBEE_BASE_URL``). Secrets are kept in objects whose ``repr`` hides them, so that a traceback, a
log line or a notebook cell never shows a key or a token.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final, Generic, TypeVar

import httpx

from offer_analytics.errors import ConfigurationError

__all__ = [
    "DEFAULT_BASE_URL",
    "Connector",
    "Sealed",
    "resolve_api_key",
    "resolve_base_url",
    "resolve_connectors",
]

#: Bindbee's public host; EU customers pass their own host as ``base_url``.
DEFAULT_BASE_URL: Final = "https://api.bindbee.dev"

API_KEY_ENV: Final = "BINDBEE_API_KEY"
CONNECTOR_TOKEN_ENV: Final = "BINDBEE_CONNECTOR_TOKEN"
BASE_URL_ENV: Final = "BINDBEE_BASE_URL"

#: The label of the only connector when ``connector_token=`` (or the environment) names one.
DEFAULT_LABEL: Final = "default"

T = TypeVar("T")


class Sealed(Generic[T]):
    """A value (a key, a mapping of tokens) that no ``repr`` or ``str`` shows.

    Tools that record a traceback's local variables (Sentry, ``rich`` with ``show_locals``,
    ``traceback.TracebackException(capture_locals=True)``) call ``repr`` on every local of every
    frame: a secret kept in a plain ``str`` local would end up in their reports. Kept sealed, it
    shows as ``Sealed(***)``.

    Examples
    --------
    >>> key = Sealed("sk-live-123")
    >>> key, str(key), key.open()
    (Sealed(***), 'Sealed(***)', 'sk-live-123')
    """

    __slots__ = ("__value",)

    def __init__(self, value: T) -> None:
        self.__value = value

    def open(self) -> T:
        """The value itself: use it in an expression, never keep it in a local variable."""
        return self.__value

    def __repr__(self) -> str:
        return "Sealed(***)"

    __str__ = __repr__

    def __reduce__(self) -> str | tuple[object, ...]:
        raise TypeError("Sealed values are not pickled: a pickle would carry the secret.")


@dataclass(frozen=True)
class Connector:
    """One connected ATS: a human label and its secret token.

    The token never appears in the ``repr``.

    Examples
    --------
    >>> Connector("acme", "tok-secret")
    Connector(label='acme')
    """

    label: str
    token: str = field(repr=False)


def resolve_api_key(api_key: str | None) -> str:
    """Return the API key from the argument or ``BINDBEE_API_KEY``.

    Examples
    --------
    >>> resolve_api_key("key-1")
    'key-1'
    """
    key = api_key if api_key is not None else os.environ.get(API_KEY_ENV)
    if not key or not key.strip():
        msg = f"No Bindbee API key: pass api_key=... or set the {API_KEY_ENV} environment variable."
        raise ConfigurationError(msg)
    return key.strip()


def resolve_connectors(
    connector_token: str | None, connectors: Mapping[str, str] | None
) -> tuple[Connector, ...]:
    """Return the connectors to load, from the arguments or ``BINDBEE_CONNECTOR_TOKEN``.

    ``connector_token=`` gives one connector labelled ``"default"``; ``connectors=`` maps labels to
    tokens. Passing both is ambiguous and refused.

    Examples
    --------
    >>> resolve_connectors(None, {"acme": "t1", "globex": "t2"})
    (Connector(label='acme'), Connector(label='globex'))
    >>> resolve_connectors("t1", None)
    (Connector(label='default'),)
    """
    try:
        return _connectors(connector_token, connectors)
    except ConfigurationError as error:
        message = str(error)
    # Raised again from here, once the tokens are gone from this frame's locals: the first
    # error's traceback held them in the frames of _connectors, where tools that record
    # locals (Sentry, rich) would have read them.
    del connector_token, connectors
    raise ConfigurationError(message)


def _connectors(
    connector_token: str | None, connectors: Mapping[str, str] | None
) -> tuple[Connector, ...]:
    if connector_token is not None and connectors is not None:
        msg = "Pass either connector_token= or connectors={label: token}, not both."
        raise ConfigurationError(msg)
    if connectors is not None:
        if not connectors:
            raise ConfigurationError("connectors= is empty: give at least one {label: token}.")
        resolved = []
        for label, token in connectors.items():
            if not isinstance(label, str) or not label:
                raise ConfigurationError("Every connector needs a non-empty string label.")
            if not isinstance(token, str) or not token.strip():
                raise ConfigurationError(f"Connector {label!r} has an empty token.")
            resolved.append(Connector(label, token.strip()))
        return tuple(resolved)
    env_token = (
        connector_token if connector_token is not None else os.environ.get(CONNECTOR_TOKEN_ENV)
    )
    if not env_token or not env_token.strip():
        msg = (
            "No connector token: pass connector_token=..., connectors={label: token}, "
            f"or set the {CONNECTOR_TOKEN_ENV} environment variable."
        )
        raise ConfigurationError(msg)
    return (Connector(DEFAULT_LABEL, env_token.strip()),)


def _is_loopback(host: str) -> bool:
    """Literal loopback addresses and exactly ``localhost``.

    Not ``*.localhost``: RFC 6761 asks resolvers to keep those on this machine, but the system
    resolver (or a proxy) may not, and the key would then travel in clear text.
    """
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def resolve_base_url(base_url: str | None) -> str:
    """Return the API's base URL, refusing plain ``http://`` except to this machine.

    Plain http would send the API key in clear text; to a loopback address (the sandbox) nothing
    leaves the machine, so it is allowed there.

    Examples
    --------
    >>> resolve_base_url("https://eu.api.bindbee.dev/")
    'https://eu.api.bindbee.dev'
    >>> resolve_base_url("http://127.0.0.1:8000")
    'http://127.0.0.1:8000'
    >>> resolve_base_url("http://api.example.com")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    offer_analytics.errors.ConfigurationError: Refusing plain http:// to api.example.com: ...
    """
    raw = base_url if base_url is not None else os.environ.get(BASE_URL_ENV, DEFAULT_BASE_URL)
    raw = raw.strip()
    try:
        url = httpx.URL(raw)
    except httpx.InvalidURL:
        raise ConfigurationError("base_url is not a valid URL.") from None
    if url.scheme not in ("http", "https") or not url.host:
        raise ConfigurationError("base_url must look like https://api.bindbee.dev")
    if url.userinfo or url.query or url.fragment:
        # Credentials or queries in the URL would end up in logs and error messages.
        raise ConfigurationError("base_url must not contain credentials, a query or a fragment.")
    if url.scheme == "http" and not _is_loopback(url.host):
        msg = (
            f"Refusing plain http:// to {url.host}: the API key would travel unencrypted. "
            "Use https://, or http:// only to a loopback address such as the sandbox."
        )
        raise ConfigurationError(msg)
    return raw.rstrip("/")
