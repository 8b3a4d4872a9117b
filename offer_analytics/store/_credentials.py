"""The key and tokens a sync passes on to the loader, kept where no ``repr`` shows them.

A sync runs connectors in worker threads, each through its own
:class:`~offer_analytics.BindbeeClient` and :func:`~offer_analytics.fetch_offers` with its own
token. Until then the secrets live in one object whose ``repr`` lists labels only and that
refuses to be pickled, so that tracebacks that record locals, logs and reports never show them;
the key reaches the client sealed.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any, Final

from offer_analytics.bindbee import BindbeeClient
from offer_analytics.bindbee._credentials import Sealed
from offer_analytics.errors import ConfigurationError

__all__ = ["SyncCredentials"]

_TOKEN_ENV: Final = "BINDBEE_CONNECTOR_TOKEN"
_DEFAULT_LABEL: Final = "default"


class SyncCredentials:
    """Connector tokens by label (and the API key, if given), hidden from ``repr``.

    Examples
    --------
    >>> creds = SyncCredentials.resolve(None, None, {"acme": "tok-1"})
    >>> creds, creds.labels
    (SyncCredentials(labels=['acme']), ['acme'])
    >>> creds.tokens("acme") == {"acme": "tok-1"}
    True
    """

    __slots__ = ("__api_key", "__tokens")

    def __init__(self, api_key: str | None, tokens: Mapping[str, str]) -> None:
        self.__api_key = None if api_key is None else Sealed(api_key)
        self.__tokens = dict(tokens)

    @classmethod
    def resolve(
        cls,
        api_key: str | None,
        connector_token: str | None,
        connectors: Mapping[str, str] | None,
    ) -> SyncCredentials:
        """From the arguments, else ``BINDBEE_CONNECTOR_TOKEN`` (labelled ``"default"``)."""
        try:
            return cls._resolve(api_key, connector_token, connectors)
        except ConfigurationError as error:
            message = str(error)
        # Raised again from here, once the secrets are gone from this frame's locals: the first
        # error's traceback held them in the frames below, where tools that record locals
        # (Sentry, rich) would have read them.
        del api_key, connector_token, connectors
        raise ConfigurationError(message)

    @classmethod
    def _resolve(
        cls,
        api_key: str | None,
        connector_token: str | None,
        connectors: Mapping[str, str] | None,
    ) -> SyncCredentials:
        if connector_token is not None and connectors is not None:
            msg = "Pass either connector_token= or connectors={label: token}, not both."
            raise ConfigurationError(msg)
        if connectors is not None:
            if not isinstance(connectors, Mapping) or not connectors:
                raise ConfigurationError("connectors= must be a non-empty {label: token} mapping.")
            return cls(api_key, connectors)
        token = connector_token if connector_token is not None else os.environ.get(_TOKEN_ENV)
        if not token:
            raise ConfigurationError(
                "No connector token: pass connector_token=..., connectors={label: token}, "
                f"or set the {_TOKEN_ENV} environment variable."
            )
        return cls(api_key, {_DEFAULT_LABEL: token})

    @property
    def labels(self) -> list[str]:
        """The connector labels, in the order given."""
        return list(self.__tokens)

    def tokens(self, label: str) -> dict[str, str]:
        """The loader's ``connectors=`` argument for one connector."""
        return {label: self.__tokens[label]}

    def client(self, **options: Any) -> BindbeeClient:
        """A new client with the API key (or ``BINDBEE_API_KEY``) and ``options``."""
        return BindbeeClient(api_key=self.__api_key, **options)

    def __repr__(self) -> str:
        return f"SyncCredentials(labels={self.labels!r})"

    def __reduce__(self) -> str | tuple[object, ...]:
        raise TypeError("SyncCredentials are not pickled: a pickle would carry the secrets.")
