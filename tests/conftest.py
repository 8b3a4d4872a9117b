"""Fixtures shared by every test package: finding secrets where a traceback tool would look, and
enriched generator offers."""

from __future__ import annotations

import json
import traceback
from collections.abc import Callable, Iterator, Sequence

import httpx
import polars as pl
import pytest

from offer_analytics import RelatedTables, enrich_offers, offers_to_frame
from offer_analytics.enrich import RESOURCES, decode_related
from offer_analytics.sandbox import generate_offers, generate_related

LeakFinder = Callable[[BaseException, Sequence[str]], list[str]]


def _chain(error: BaseException) -> Iterator[BaseException]:
    """The error, its causes and contexts, and the members of exception groups, each once."""
    seen: set[int] = set()
    stack = [error]
    while stack:
        exc = stack.pop()
        if id(exc) in seen:
            continue
        seen.add(id(exc))
        yield exc
        stack += [e for e in (exc.__cause__, exc.__context__) if e is not None]
        if isinstance(exc, BaseExceptionGroup):
            stack += list(exc.exceptions)


def _carries(value: object, secrets: Sequence[str], depth: int = 3) -> str | None:
    """What in ``value`` exposes a secret: an httpx request/response, or the secret's text."""
    if isinstance(value, httpx.Request | httpx.Response):
        return type(value).__name__
    if isinstance(value, str | bytes | httpx.Headers):
        text = repr(list(value.items())) if isinstance(value, httpx.Headers) else repr(value)
        return "a secret's text" if any(s in text for s in secrets) else None
    if depth == 0:
        return None
    if isinstance(value, dict):
        children: list[object] = [*value.keys(), *value.values()]
    elif isinstance(value, list | tuple | set | frozenset):
        children = list(value)
    elif isinstance(value, BaseException):
        children = [*value.args, *vars(value).values()]
    else:
        return None
    for child in children:
        found = _carries(child, secrets, depth - 1)
        if found:
            return found
    return None


def find_leaks(error: BaseException, secrets: Sequence[str]) -> list[str]:
    """Every place a secret (or the httpx request carrying it) is reachable from ``error``.

    Looks where error trackers look: the message and repr of every exception in the chain
    (``__cause__``, ``__context__``, exception groups), their attributes, and the repr of every
    local variable of every frame of every traceback (``capture_locals``, as Sentry and rich do);
    and at whether a local or an attribute *is* an httpx request or response.
    """
    leaks: list[str] = []
    formatted = traceback.TracebackException.from_exception(error, capture_locals=True)
    for line in formatted.format():
        # The test's own frames hold the secrets it handed over; the package's frames must not.
        if "/offer_analytics/" in line.partition("\n")[0]:
            leaks += [f"traceback: {line[:300]!r}" for s in secrets if s in line]
    for exc in _chain(error):
        name = type(exc).__name__
        found = _carries(exc, secrets)
        if found or any(s in f"{exc} {exc!r}" for s in secrets):
            leaks.append(f"{name} carries {found or 'a secret in its text'}")
        tb = exc.__traceback__
        while tb is not None:
            frame = tb.tb_frame
            if "/offer_analytics/" not in frame.f_code.co_filename:
                tb = tb.tb_next
                continue
            for local, value in frame.f_locals.items():
                found = _carries(value, secrets, depth=1)
                if found:
                    leaks.append(f"{name}: local {local!r} of {frame.f_code.co_name} is {found}")
            tb = tb.tb_next
    return leaks


@pytest.fixture(scope="session")
def leaks() -> LeakFinder:
    """:func:`find_leaks`, as a fixture (test modules cannot import conftest)."""
    return find_leaks


def enriched_generated(n: int, *, connectors: int, seed: int) -> pl.DataFrame:
    """Generator offers enriched with the generator's related objects, without a server."""
    offers = generate_offers(n, connectors=connectors, seed=seed)
    related = generate_related(offers, seed=seed)
    tables = {
        resource: pl.concat(
            decode_related(
                resource,
                [json.dumps({"cursor": None, "items": data.table(resource)}).encode()],
                connector=label,
            )
            for label, data in related.items()
        )
        for resource in RESOURCES
    }
    return enrich_offers(offers_to_frame(offers), RelatedTables(**tables))


@pytest.fixture(scope="session")
def enriched_offers() -> pl.DataFrame:
    """12,000 enriched generator offers over 3 connectors."""
    return enriched_generated(12_000, connectors=3, seed=7)
