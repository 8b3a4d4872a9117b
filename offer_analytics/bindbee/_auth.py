"""BindbeeAuth: puts the API key and a connector's token on each request, and nowhere else.

Building the headers in the client's own code left the bearer key in a local variable of the
frame that raises on a 401 or 403, where traceback tools that record locals (Sentry, ``rich``
with ``show_locals``) would read it. As an ``httpx.Auth``, the secrets are added inside httpx's
send, live in private attributes of an object whose ``repr`` hides them, and no frame of ours
holds them in a local.
"""

from __future__ import annotations

from collections.abc import Generator

import httpx

from offer_analytics.bindbee._credentials import Connector, Sealed

__all__ = ["BindbeeAuth"]


class BindbeeAuth(httpx.Auth):
    """Bindbee's two credentials, added to every request it is given to.

    Parameters
    ----------
    api_key
        The bearer key, sealed.
    connector
        The connector whose token goes in ``x-connector-token``.

    Examples
    --------
    >>> auth = BindbeeAuth(Sealed("sk-1"), Connector("acme", "tok-1"))
    >>> auth
    BindbeeAuth(connector='acme')
    >>> request = next(auth.auth_flow(httpx.Request("GET", "https://h.io/")))
    >>> request.headers["authorization"], request.headers["x-connector-token"]
    ('Bearer sk-1', 'tok-1')
    """

    __slots__ = ("__api_key", "__connector")

    def __init__(self, api_key: Sealed[str], connector: Connector) -> None:
        self.__api_key = api_key
        self.__connector = connector

    def __repr__(self) -> str:
        return f"BindbeeAuth(connector={self.__connector.label!r})"

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        """Add the headers (httpx calls this for every request sent with this auth)."""
        request.headers["authorization"] = "Bearer " + self.__api_key.open()
        request.headers["x-connector-token"] = self.__connector.token
        yield request
