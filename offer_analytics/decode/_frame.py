"""API page bytes -> the typed offers frame: the one decoding path.

Decoding stays in Rust and Arrow (:mod:`offer_analytics.decode._pages`): the page bodies are
joined into one NDJSON buffer (one page per line) and read once by pyarrow's JSON reader with an
explicit schema -- multi-threaded, and strict about types, so a number where a string belongs is
an error rather than a silent ``"5"``. The string columns cross into Polars without a copy and are
typed there (:mod:`offer_analytics.decode._columns`, with the timestamp parser of
:mod:`offer_analytics.decode._timestamps`). Fields whose JSON type varies (``application`` and
``creator`` when expanded: an id *or* an object; ``custom_fields`` and ``raw_data``: arbitrary
objects) are read only when asked for (:mod:`offer_analytics.decode._json_fields`). Python builds
per-record objects only to explain an error, and for the requested JSON fields of pages that hold
escapes.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, Final

import polars as pl
import pyarrow as pa
import pyarrow.compute as pa_compute

from offer_analytics.decode._columns import DecodeStats, type_columns
from offer_analytics.decode._json_fields import read_json_fields
from offer_analytics.decode._pages import (
    STRING_FIELDS,
    PageKind,
    explain_shape_error,
    offers_table,
    pages_to_ndjson,
    read_string_fields,
)
from offer_analytics.errors import SchemaError
from offer_analytics.schema import (
    RELATIONS,
    empty_offers_frame,
    offers_schema,
    relations_of,
    resolve_outcome_mapping,
)

__all__ = ["decode_pages", "offers_to_frame"]

_OBJECT_FIELDS: Final = ("custom_fields", "raw_data")
_TOO_DEEP: Final = "a page nests JSON deeper than any offer does; it cannot be read"
_PAGE: Final = 2_000  # offers per synthetic page in offers_to_frame; any size decodes the same


def decode_pages(
    pages: Sequence[bytes],
    *,
    connector: str = "default",
    kind: PageKind = "list",
    include_custom_fields: bool = False,
    include_raw_data: bool = False,
    expand: Sequence[str] | str = (),
    strict: bool = False,
    outcome_mapping: Mapping[str, str] | None = None,
) -> tuple[pl.DataFrame, DecodeStats]:
    """Decode raw offers API bodies into the typed offers frame.

    Parameters
    ----------
    pages
        Raw response bodies, in order: of ``GET /api/ats/v1/offers`` (``{"cursor", "page_size",
        "items": [...]}``) when ``kind="list"``, of ``GET /api/ats/v1/offers/{id}`` (one offer
        object) when ``kind="offer"``.
    connector
        The label written to the ``connector`` column.
    kind
        Which endpoint the bodies came from.
    include_custom_fields, include_raw_data
        Add the ``custom_fields`` / ``raw_data`` columns (JSON text; may hold personal data).
        Without them those fields are not even read.
    expand
        Relations the request expanded (``"application"``, ``"creator"``, or with picked fields
        ``"application[id,name]"``): their column holds the id taken from the object, and
        ``<relation>_data`` the object's JSON. A plain id is accepted too.
    strict
        Raise :class:`~offer_analytics.errors.TimestampError` for a present but unparseable
        timestamp instead of nulling and counting it.
    outcome_mapping
        Entries that extend or override :data:`~offer_analytics.schema.DEFAULT_OUTCOME_MAPPING` (see
        :func:`~offer_analytics.schema.outcome_expr`).

    Returns
    -------
    tuple[pl.DataFrame, DecodeStats]
        The frame with exactly :func:`offers_schema`'s columns, one row per offer in page order,
        and what decoding noticed (unparseable timestamps per column).

    Raises
    ------
    SchemaError
        A body is not JSON (or nests it deeper than the readers go), or an offer lacks its id or
        has a field of the wrong JSON type; the message and attributes name the offer id (or its
        position) and the field. Unknown fields are ignored.
    TimestampError
        With ``strict=True``, naming the column and the offending offers and values.

    Examples
    --------
    >>> page = (b'{"cursor": null, "page_size": 50, "items": [{"id": "o1", "status": "SIGNED",'
    ...         b' "sent_at": "2025-01-02T09:00:00+01:00", "closed_at": "2025-01-03",'
    ...         b' "start_date": "2025-02-03", "application": "a1", "creator": null}]}')
    >>> frame, stats = decode_pages([page], connector="acme")
    >>> frame.select("connector", "id", "outcome", "start_date").row(0)
    ('acme', 'o1', 'accepted', datetime.date(2025, 2, 3))
    >>> frame["sent_at"].item()
    datetime.datetime(2025, 1, 2, 8, 0, tzinfo=zoneinfo.ZoneInfo(key='UTC'))
    >>> stats
    DecodeStats(offers=1, unparsed={})
    """
    relations = relations_of(expand)
    resolve_outcome_mapping(outcome_mapping)  # fail on a bad mapping before any work
    schema = offers_schema(
        expand=expand,
        include_custom_fields=include_custom_fields,
        include_raw_data=include_raw_data,
    )
    objects = [
        name
        for name, wanted in zip(
            _OBJECT_FIELDS, (include_custom_fields, include_raw_data), strict=True
        )
        if wanted
    ]
    if not pages:
        return pl.DataFrame(schema=schema), DecodeStats(0)
    data, longest = pages_to_ndjson(pages, kind)
    fixed = [*STRING_FIELDS, *(r for r in RELATIONS if r not in relations)]

    def explained(fallback: str) -> SchemaError:
        try:
            found = explain_shape_error(pages, kind=kind, relations=relations, objects=objects)
        except RecursionError:
            found = SchemaError(_TOO_DEEP, field="items")
        return found or SchemaError(fallback, field="items")

    try:
        table = read_string_fields(data, longest, fixed)
    except pa.ArrowInvalid as exc:
        raise explained(f"the pages do not have the offers shape: {exc}") from None
    items = table.column("items")
    if table.num_rows != len(pages) or items.null_count:
        raise explained("a page has no items list, or more than one JSON value")
    frame = pl.from_arrow(offers_table(items))
    assert isinstance(frame, pl.DataFrame)
    if frame["id"].null_count():
        raise explained("an offer has no id, or a page lists null as an offer")
    if relations or objects:
        try:
            flexible = read_json_fields(
                pages,
                data,
                pa_compute.list_value_length(items).to_pylist(),
                kind=kind,
                relations=relations,
                objects=objects,
            )
        except (pl.exceptions.PolarsError, RecursionError):
            # Polars' and Python's JSON readers both stop at some depth of nesting.
            raise explained(_TOO_DEEP) from None
        if not flexible["ok"].all():
            raise explained("an expanded or JSON field has the wrong type")
        frame = frame.hstack(flexible.drop("ok"))
    return type_columns(frame, schema, connector=connector, strict=strict, mapping=outcome_mapping)


def offers_to_frame(
    offers: Sequence[Mapping[str, Any]] | Mapping[str, Sequence[Mapping[str, Any]]],
    *,
    connector: str = "default",
    strict: bool = False,
    outcome_mapping: Mapping[str, str] | None = None,
    include_custom_fields: bool = False,
    include_raw_data: bool = False,
) -> pl.DataFrame:
    """Offer dicts shaped as the API sends them -> the offers frame, through :func:`decode_pages`.

    The dicts are serialised to JSON once and decoded like API pages, so the result is exactly
    what a load of the same offers returns. Relations given as objects are treated as expanded.

    Parameters
    ----------
    offers
        A sequence of offer dicts (connector ``connector``), or label -> offer dicts, as
        :func:`~offer_analytics.sandbox.generate_offers` returns them (connector = label).
    connector
        The label for a plain sequence.
    strict, outcome_mapping, include_custom_fields, include_raw_data
        As for :func:`decode_pages`.

    Examples
    --------
    >>> frame = offers_to_frame({"acme": [{"id": "o1", "status": "opened"}],
    ...                          "globex": [{"id": "o2", "status": None}]})
    >>> frame.select("connector", "id", "outcome").rows()
    [('acme', 'o1', 'pending'), ('globex', 'o2', 'unknown')]
    """
    groups = {connector: offers} if not isinstance(offers, Mapping) else dict(offers)
    expanded = [
        r
        for r in RELATIONS
        if any(isinstance(o.get(r), Mapping) for batch in groups.values() for o in batch)
    ]
    frames = []
    for label, batch in groups.items():
        try:
            pages = [
                json.dumps(
                    {"items": list(batch[i : i + _PAGE])}, separators=(",", ":"), ensure_ascii=False
                ).encode()
                for i in range(0, len(batch), _PAGE)
            ]
        except (TypeError, ValueError) as exc:
            raise SchemaError(
                f"connector {label}: offers are not JSON-serialisable: {exc}"
            ) from None
        frame, _ = decode_pages(
            pages,
            connector=label,
            strict=strict,
            outcome_mapping=outcome_mapping,
            expand=expanded,
            include_custom_fields=include_custom_fields,
            include_raw_data=include_raw_data,
        )
        frames.append(frame)
    if not frames:
        return empty_offers_frame(
            expand=expanded,
            include_custom_fields=include_custom_fields,
            include_raw_data=include_raw_data,
        )
    return pl.concat(frames, how="vertical")
