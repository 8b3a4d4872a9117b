"""Query-string validation with FastAPI-shaped 422 errors.

Bindbee's API answers a bad parameter the way FastAPI does: status 422 and
``{"detail": [{"type": ..., "loc": ["query", name], "msg": ..., "input": ...}, ...]}`` listing every
bad parameter at once. The parsers here reproduce those shapes (and pydantic's wording) so that a
client's error handling meets what production sends.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from offer_analytics.sandbox._expansion import RELATION_FIELDS

__all__ = [
    "MAX_PAGE_SIZE",
    "ExpandSpec",
    "ListQuery",
    "OfferQuery",
    "QueryError",
    "parse_list_query",
    "parse_offer_query",
]

MAX_PAGE_SIZE: Final = 200
DEFAULT_PAGE_SIZE: Final = 50
_TRUE: Final = frozenset({"1", "true", "t", "yes", "y", "on"})
_FALSE: Final = frozenset({"0", "false", "f", "no", "n", "off"})
_INT: Final = re.compile(r"^\s*[+-]?\d+\s*$")
_RELATION: Final = re.compile(r"^([a-z_]+)(?:\[([A-Za-z0-9_,]*)\])?$")

ErrorItem = dict[str, Any]
#: A relation name and the fields picked from it (None: every field).
ExpandSpec = tuple[tuple[str, tuple[str, ...] | None], ...]


class QueryError(Exception):
    """One or more invalid parameters; ``errors`` holds FastAPI-shaped items."""

    def __init__(self, errors: list[ErrorItem]) -> None:
        super().__init__(f"{len(errors)} invalid parameter(s)")
        self.errors = errors


@dataclass(frozen=True, slots=True)
class OfferQuery:
    """Options shared by both endpoints: what to include in each offer."""

    include_raw_data: bool = False
    include_custom_fields: bool = False
    expand: ExpandSpec = ()


@dataclass(frozen=True, slots=True)
class ListQuery(OfferQuery):
    """A validated listing request. ``modified_after_us`` is Unix microseconds (UTC)."""

    ids: tuple[str, ...] | None = None
    remote_id: str | None = None
    application: str | None = None
    creator: str | None = None
    modified_after_us: int | None = None
    page_size: int = DEFAULT_PAGE_SIZE
    cursor: str | None = None

    def filter_key(self) -> tuple[object, ...]:
        """The parts that define the result set (not its shape nor the page)."""
        return (self.ids, self.remote_id, self.application, self.creator, self.modified_after_us)


def _error(kind: str, name: str, msg: str, value: object, **ctx: object) -> ErrorItem:
    item: ErrorItem = {"type": kind, "loc": ["query", name], "msg": msg, "input": value}
    if ctx:
        item["ctx"] = ctx
    return item


def _bool(params: Mapping[str, str], name: str, errors: list[ErrorItem]) -> bool:
    value = params.get(name)
    if value is None:
        return False
    low = value.strip().lower()
    if low in _TRUE:
        return True
    if low not in _FALSE:
        msg = "Input should be a valid boolean, unable to interpret input"
        errors.append(_error("bool_parsing", name, msg, value))
    return False


def _page_size(params: Mapping[str, str], errors: list[ErrorItem]) -> int:
    value = params.get("page_size")
    if value is None:
        return DEFAULT_PAGE_SIZE
    if not _INT.match(value):
        msg = "Input should be a valid integer, unable to parse string as an integer"
        errors.append(_error("int_parsing", "page_size", msg, value))
        return DEFAULT_PAGE_SIZE
    sign = -1 if value.strip().startswith("-") else 1
    digits = value.strip().lstrip("+-").lstrip("0") or "0"
    # More digits than int() reads (or any page holds): clamped, so the answer is the range error.
    size = sign * (int(digits) if len(digits) <= 9 else 10**9)
    if size < 1:
        msg = "Input should be greater than or equal to 1"
        errors.append(_error("greater_than_equal", "page_size", msg, value, ge=1))
    elif size > MAX_PAGE_SIZE:
        msg = f"Input should be less than or equal to {MAX_PAGE_SIZE}"
        errors.append(_error("less_than_equal", "page_size", msg, value, le=MAX_PAGE_SIZE))
    return size


def parse_instant(value: str) -> datetime:
    """Parse an ISO-8601 instant; naive values (and bare dates) are UTC.

    Examples
    --------
    >>> parse_instant("2024-03-01T10:00:00.123Z").isoformat()
    '2024-03-01T10:00:00.123000+00:00'
    >>> parse_instant("2024-03-01T12:00:00+02:00") == parse_instant("2024-03-01T10:00:00")
    True
    """
    parsed = datetime.fromisoformat(value.strip())
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed


def _modified_after(params: Mapping[str, str], errors: list[ErrorItem]) -> int | None:
    value = params.get("modified_after")
    if value is None:
        return None
    try:
        instant = parse_instant(value)
    except ValueError:
        msg = "Input should be a valid datetime or date, invalid datetime format"
        errors.append(_error("datetime_from_date_parsing", "modified_after", msg, value))
        return None
    delta = instant - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def parse_expand(value: str) -> ExpandSpec:
    """Parse ``expand``: relation names separated by commas, each optionally ``rel[f1,f2]``.

    Examples
    --------
    >>> parse_expand("application[job,candidate],creator")
    (('application', ('job', 'candidate')), ('creator', None))
    >>> parse_expand("owner")
    Traceback (most recent call last):
    ...
    ValueError: unknown relation 'owner'; expand accepts application, creator
    """
    parts: list[str] = []
    depth, start = 0, 0
    for i, char in enumerate(value):
        if char == "[":
            depth += 1
        elif char == "]":
            depth -= 1
        elif char == "," and depth == 0:
            parts.append(value[start:i])
            start = i + 1
    parts.append(value[start:])
    spec: dict[str, tuple[str, ...] | None] = {}
    for part in parts:
        if not part:
            continue
        match = _RELATION.match(part)
        if match is None:
            raise ValueError(f"cannot read {part!r}; write relation or relation[field1,field2]")
        name, fields = match.group(1), match.group(2)
        if name not in RELATION_FIELDS:
            known = ", ".join(RELATION_FIELDS)
            raise ValueError(f"unknown relation {name!r}; expand accepts {known}")
        picked = None if fields is None else tuple(f for f in fields.split(",") if f)
        unknown = [f for f in picked or () if f not in RELATION_FIELDS[name]]
        if unknown:
            known = ", ".join(RELATION_FIELDS[name])
            raise ValueError(f"{name} has no field {unknown[0]!r}; it has {known}")
        spec[name] = picked
    return tuple(spec.items())


def _expand(params: Mapping[str, str], errors: list[ErrorItem]) -> ExpandSpec:
    value = params.get("expand")
    if value is None:
        return ()
    try:
        return parse_expand(value)
    except ValueError as exc:
        errors.append(_error("value_error", "expand", f"Value error, {exc}", value))
        return ()


def _text(params: Mapping[str, str], name: str) -> str | None:
    value = params.get(name)
    return value if value else None


def parse_offer_query(params: Mapping[str, str]) -> OfferQuery:
    """Validate the options of ``GET /offers/{id}``; raise :class:`QueryError` if any is bad."""
    errors: list[ErrorItem] = []
    query = OfferQuery(
        include_raw_data=_bool(params, "include_raw_data", errors),
        include_custom_fields=_bool(params, "include_custom_fields", errors),
        expand=_expand(params, errors),
    )
    if errors:
        raise QueryError(errors)
    return query


def parse_list_query(params: Mapping[str, str]) -> ListQuery:
    """Validate the parameters of ``GET /offers``; raise :class:`QueryError` listing every bad one.

    Unknown parameters are ignored, as FastAPI does. Empty filters mean "no filter".

    Examples
    --------
    >>> parse_list_query({"ids": "a,b", "page_size": "7"}).ids
    ('a', 'b')
    >>> try:
    ...     parse_list_query({"page_size": "500", "include_raw_data": "maybe"})
    ... except QueryError as exc:
    ...     print([(e["loc"], e["type"]) for e in exc.errors])
    [(['query', 'include_raw_data'], 'bool_parsing'), (['query', 'page_size'], 'less_than_equal')]
    """
    errors: list[ErrorItem] = []
    include_raw_data = _bool(params, "include_raw_data", errors)
    include_custom_fields = _bool(params, "include_custom_fields", errors)
    page_size = _page_size(params, errors)
    modified_after_us = _modified_after(params, errors)
    expand = _expand(params, errors)
    ids_text = params.get("ids")
    ids = tuple(i.strip() for i in ids_text.split(",") if i.strip()) if ids_text else None
    if errors:
        raise QueryError(errors)
    return ListQuery(
        include_raw_data=include_raw_data,
        include_custom_fields=include_custom_fields,
        expand=expand,
        ids=ids or None,
        remote_id=_text(params, "remote_id"),
        application=_text(params, "application"),
        creator=_text(params, "creator"),
        modified_after_us=modified_after_us,
        page_size=page_size,
        cursor=params.get("cursor"),
    )
