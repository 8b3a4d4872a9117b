"""SandboxServer: a Bindbee-compatible offers API on a loopback port, in a background thread.

uvicorn runs in a thread with its own event loop, on a socket this module binds itself, so the port
is known (and free ports work) before the server starts. ``stop()`` never hangs: in-flight requests
get a short grace period, then uvicorn is told to force its way out.
"""

from __future__ import annotations

import random
import secrets
import socket
import threading
import time
from collections.abc import Mapping, Sequence
from datetime import date
from types import TracebackType
from typing import Any, Final, Self

import uvicorn

from offer_analytics.sandbox._app import API_PREFIX, build_app
from offer_analytics.sandbox._cursor import CursorCodec
from offer_analytics.sandbox._dataset import ConnectorOffers, ConnectorRecords
from offer_analytics.sandbox._faults import FaultPlan, Faults
from offer_analytics.sandbox._gateway import Gateway, RequestLog, RequestRecord
from offer_analytics.sandbox._generator import generate_offers
from offer_analytics.sandbox._protocol import SandboxH11Protocol
from offer_analytics.sandbox._related import RESOURCES, RelatedData, generate_related
from offer_analytics.sandbox._window import FixedWindowLimiter

__all__ = ["SandboxServer"]

_STARTUP_TIMEOUT_S: Final = 15.0
_LOOPBACK: Final = frozenset({"127.0.0.1", "::1", "localhost"})


class SandboxServer:
    """A local Bindbee-compatible offers API serving synthetic (or given) offers.

    Besides the offers it serves the related ATS resources (``/applications``, ``/jobs``,
    ``/departments``, ``/offices``, ``/users``), generated from the offers with the same seed
    (see :meth:`related`), on the same per-connector budget.

    Use it as a context manager, or call :meth:`start` and :meth:`stop`. A stopped server can be
    started again; its data, credentials and mutations are kept.

    Answers where Bindbee's documentation is silent, chosen to be what a FastAPI service sends:
    no ``x-connector-token`` header is a 422 on ``["header", "x-connector-token"]``; a token the
    server does not know is a 403 ``{"detail": "Unknown connector token"}`` (like an HRIS token:
    the key is fine, the connector is not); requests refused before the budget check (401, 403,
    422 on the header, 414) spend no budget; faults are drawn only for requests within budget.

    Parameters
    ----------
    offers
        Offers per connector label, API-shaped (see :func:`generate_offers`). None generates
        ``n_offers`` offers over ``connectors`` connectors with ``seed``.
    n_offers, connectors, seed, end
        What to generate when ``offers`` is None; the data ends on ``end``, by default today
        (UTC), so that open offers and upcoming starts look like a live ATS. Pass a date for the
        same data on every day.
    rate_limit, rate_window_s
        The budget of each connector token: ``rate_limit`` requests per fixed window.
    rate_retry_after_s
        ``Retry-After`` of a 429 over budget: ``None`` sends the seconds left in the window; a
        number sends that, flat, as Bindbee's documentation shows it (``60``).
    faults
        Seeded fault injection; see :class:`Faults`.
    host, port
        Where to listen; loopback only. Port 0 picks a free port.
    keep_alive_s
        How long idle connections stay open; longer than httpx's 5 s so that a client never
        reuses a connection the server is closing.
    max_url_length
        Longer request URLs (path and query) get 414, as from a real gateway.

    Examples
    --------
    >>> import httpx
    >>> with SandboxServer(n_offers=30, connectors=2, seed=1) as server:
    ...     response = httpx.get(
    ...         f"{server.base_url}/api/ats/v1/offers",
    ...         params={"page_size": 10},
    ...         headers={"Authorization": f"Bearer {server.api_key}",
    ...                  "x-connector-token": server.connector_tokens["acme"]},
    ...     )
    >>> response.status_code, len(response.json()["items"]), response.headers["x-ratelimit-limit"]
    (200, 10, '200')
    >>> sorted(server.connector_tokens)
    ['acme', 'globex']
    """

    def __init__(
        self,
        *,
        offers: Mapping[str, Sequence[Mapping[str, Any]]] | None = None,
        n_offers: int = 2_000,
        connectors: int = 3,
        seed: int = 0,
        end: date | None = None,
        rate_limit: int = 200,
        rate_window_s: float = 60.0,
        rate_retry_after_s: float | None = None,
        faults: Faults | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        keep_alive_s: float = 75.0,
        max_url_length: int = 8_192,
    ) -> None:
        if host not in _LOOPBACK:
            raise ValueError(f"the sandbox listens on loopback only, not {host!r}")
        # Validates the three.
        FixedWindowLimiter(
            limit=rate_limit, window_s=rate_window_s, retry_after_s=rate_retry_after_s
        )
        source = offers
        if source is None:
            source = generate_offers(n_offers, connectors=connectors, seed=seed, end=end)
        if not source:
            raise ValueError("the sandbox needs at least one connector")
        self._related = generate_related(source, seed=seed, end=end)
        # Nobody else holds generated dicts: adopt them instead of copying.
        self._data = {
            label: ConnectorOffers(items, copy=offers is not None, related=self._related[label])
            for label, items in source.items()
        }
        self._records = {
            resource: {
                label: ConnectorRecords(data.table(resource), copy=False)
                for label, data in self._related.items()
            }
            for resource in RESOURCES
        }
        self.rate_limit = rate_limit
        self.rate_window_s = rate_window_s
        self.rate_retry_after_s = rate_retry_after_s
        self.faults = faults or Faults()
        self.host = host
        self.keep_alive_s = keep_alive_s
        self.max_url_length = max_url_length
        self.api_key = f"sbx_key_{secrets.token_urlsafe(24)}"
        self.connector_tokens = {
            label: f"sbx_ct_{secrets.token_urlsafe(18)}" for label in self._data
        }
        self.forbidden_token = f"sbx_hris_{secrets.token_urlsafe(18)}"
        self._codec = CursorCodec(secrets.token_bytes(32))
        self._log = RequestLog()
        self._requested_port = port
        self._port: int | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    def __repr__(self) -> str:
        # Never show the credentials: reprs end up in logs and tracebacks.
        where = self.base_url if self.running else "stopped"
        return f"<SandboxServer {where} connectors={sorted(self._data)}>"

    # --- lifecycle ---------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        """Whether the server is accepting requests."""
        return self._thread is not None and self._thread.is_alive()

    @property
    def port(self) -> int:
        """The port the server listens on."""
        if self._port is None:
            raise RuntimeError("the sandbox is not running: call start() or use `with`")
        return self._port

    @property
    def base_url(self) -> str:
        """``http://<host>:<port>``, without the API prefix."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def offers_url(self) -> str:
        """The listing endpoint's full URL."""
        return f"{self.base_url}{API_PREFIX}/offers"

    @property
    def drifted_offers(self) -> dict[str, str]:
        """Label -> the id of the offer that ``Faults(schema_drift=...)`` serves in a shape the
        API does not document (a wrong type, or without its id); empty for other faults."""
        if self.faults.schema_drift not in ("wrong_type", "missing_field"):
            return {}
        pick = random.Random(self.faults.seed)
        return {
            label: data.snapshot_ids()[pick.randrange(len(data))]
            for label, data in self._data.items()
            if len(data)
        }

    def _build(self) -> Gateway:
        faults = self.faults
        app = build_app(
            self._data,
            codec=self._codec,
            repeat_cursor=faults.repeat_cursor,
            endless_cursor=faults.endless_cursor,
            overlap_pages=faults.overlap_pages,
            related=self._records,
        )
        return Gateway(
            app,
            api_key=self.api_key,
            tokens={token: label for label, token in self.connector_tokens.items()},
            forbidden_tokens=frozenset({self.forbidden_token}),
            limiter=FixedWindowLimiter(
                limit=self.rate_limit,
                window_s=self.rate_window_s,
                retry_after_s=self.rate_retry_after_s,
            ),
            plan=FaultPlan(self.faults),
            log=self._log,
            max_url_length=self.max_url_length,
            drift_targets=self.drifted_offers,
        )

    def start(self) -> Self:
        """Start serving in a background thread; return once requests are accepted.

        Each start begins a fresh rate-limit window and fault sequence.
        """
        if self.running:
            raise RuntimeError("the sandbox is already running")
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        # proto=IPPROTO_TCP matters: asyncio sets TCP_NODELAY on accepted sockets only when the
        # listening socket says TCP, and without it small responses wait ~40 ms for delayed ACKs.
        sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((self.host, self._requested_port))
        except OSError:
            sock.close()
            raise
        config = uvicorn.Config(
            self._build(),
            loop="asyncio",
            # h11, because the gateway drops connections through its transport; answering 414
            # when a URL overflows h11's buffer.
            http=SandboxH11Protocol,
            ws="none",
            lifespan="off",
            log_config=None,
            log_level="warning",
            access_log=False,
            timeout_keep_alive=max(1, round(self.keep_alive_s)),
            timeout_graceful_shutdown=2,
            backlog=2048,
            server_header=False,
            proxy_headers=False,  # loopback only: no proxy in front, and one middleware less
        )
        server = uvicorn.Server(config)
        thread = threading.Thread(
            target=server.run, kwargs={"sockets": [sock]}, name="sandbox-server", daemon=True
        )
        thread.start()
        deadline = time.monotonic() + _STARTUP_TIMEOUT_S
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                server.should_exit = True
                thread.join(5)
                sock.close()
                raise RuntimeError("the sandbox server failed to start")
            time.sleep(0.005)
        self._port = sock.getsockname()[1]
        self._server, self._thread = server, thread
        return self

    def stop(self) -> None:
        """Stop serving and free the port; safe to call twice."""
        server, thread = self._server, self._thread
        if server is None or thread is None:
            return
        server.should_exit = True
        thread.join(5)
        if thread.is_alive():
            server.force_exit = True
            thread.join(5)
        self._server = self._thread = None
        self._port = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # --- data and observation -------------------------------------------------------------------

    @property
    def labels(self) -> list[str]:
        """The connector labels, in order."""
        return list(self._data)

    def offers(self, label: str) -> list[dict[str, Any]]:
        """A copy of the current offers of connector ``label``, in listing order."""
        return self._connector(label).snapshot()

    def related(self, label: str) -> RelatedData:
        """Connector ``label``'s applications, jobs, departments, offices and users.

        :meth:`RelatedData.resolve` gives what each offer should resolve to when enriched.
        Offers added later may name applications these tables do not have.
        """
        self._connector(label)  # the same KeyError for an unknown label
        return self._related[label]

    def _connector(self, label: str) -> ConnectorOffers:
        try:
            return self._data[label]
        except KeyError:
            raise KeyError(f"no connector labelled {label!r}; labels: {self.labels}") from None

    def update_offer(self, label: str, offer_id: str, **fields: Any) -> dict[str, Any]:
        """Change fields of one offer, advancing its ``modified_at`` to now; return the offer.

        ``modified_at`` is set to the server clock (strictly later than before) unless given.
        """
        return self._connector(label).update(offer_id, fields)

    def update_related(
        self, label: str, resource: str, object_id: str, **fields: Any
    ) -> dict[str, Any]:
        """Change fields of one related object (e.g. rename a department); return it.

        Its ``modified_at`` advances to now, as for :meth:`update_offer`, so that a listing
        with ``modified_after`` finds it; what offers resolve to (:meth:`related`) follows.
        """
        self._connector(label)
        if resource not in self._records:
            raise KeyError(f"no related resource {resource!r}; resources: {list(self._records)}")
        return self._records[resource][label].update(object_id, fields)

    def add_offers(self, label: str, offers: Sequence[Mapping[str, Any]]) -> None:
        """Append new offers to connector ``label``, with ``modified_at`` set to now."""
        self._connector(label).add(offers)

    def remove_offers(self, label: str, offer_ids: Sequence[str]) -> None:
        """Delete offers of connector ``label``, as an ATS does: they are no longer served."""
        self._connector(label).remove(offer_ids)

    @property
    def request_log(self) -> list[RequestRecord]:
        """A snapshot of every request handled so far, in the order they finished."""
        return self._log.snapshot()

    def clear_request_log(self) -> None:
        """Forget the requests logged so far."""
        self._log.clear()
