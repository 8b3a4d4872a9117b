"""The offers frame: its exact schema, and the one path from API JSON bytes to it.

Decoding stays in Rust and Arrow: the page bodies are joined into one NDJSON buffer (one page
per line) and read once by pyarrow's JSON reader with an explicit schema -- fast, and strict
about types, so a number where a string belongs is an error rather than a silent ``"5"``. Fields
whose JSON type varies (``application``/``creator`` when expanded: an id *or* an object;
``custom_fields``/``raw_data``: arbitrary objects) are read only when asked for, by Polars' NDJSON
reader, which keeps a nested value's JSON text when the target dtype is String. Python touches
individual records only to explain an error.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Literal

import polars as pl
import pyarrow as pa
import pyarrow.compute as pa_compute
import pyarrow.json as pa_json

from offer_analytics.errors import ConfigurationError, SchemaError, TimestampError
from offer_analytics.json_fields import RELATIONS, read_json_fields
from offer_analytics.outcomes import (
    DEFAULT_OUTCOME_MAPPING,
    OUTCOME_DTYPE,
    OUTCOMES,
    outcome_expr,
    resolve_outcome_mapping,
)
from offer_analytics.timestamps import UTC_DATETIME, parse_timestamps

__all__ = [
    "DEFAULT_OUTCOME_MAPPING",
    "INSTANT_COLUMNS",
    "OFFER_SCHEMA",
    "OPTIONAL_COLUMNS",
    "OUTCOMES",
    "OUTCOME_DTYPE",
    "DecodeStats",
    "PageKind",
    "Relation",
    "decode_pages",
    "empty_offers_frame",
    "offers_schema",
    "offers_to_frame",
    "outcome_expr",
]

PageKind = Literal["list", "offer"]
Relation = Literal["application", "creator"]

#: The base columns of the offers frame, in order, with their exact dtypes.
OFFER_SCHEMA: Final = pl.Schema(
    {
        "connector": pl.String(),
        "id": pl.String(),
        "remote_id": pl.String(),
        "status": pl.String(),
        "outcome": OUTCOME_DTYPE,
        "sent_at": UTC_DATETIME,
        "closed_at": UTC_DATETIME,
        "remote_created_at": UTC_DATETIME,
        "modified_at": UTC_DATETIME,
        "start_date": pl.Date(),
        "application": pl.String(),
        "creator": pl.String(),
    }
)
#: JSON-text columns appended in this order, each only when expanded or requested.
OPTIONAL_COLUMNS: Final = ("application_data", "creator_data", "custom_fields", "raw_data")
#: The columns parsed as UTC instants.
INSTANT_COLUMNS: Final = ("sent_at", "closed_at", "remote_created_at", "modified_at")
_TIMESTAMP_COLUMNS: Final = (*INSTANT_COLUMNS, "start_date")
_RELATIONS: Final[tuple[Relation, ...]] = RELATIONS
# Offer fields that must be a JSON string or null (the relations too, unless expanded).
_STRING_FIELDS: Final = ("id", "remote_id", "status", *_TIMESTAMP_COLUMNS)
_OBJECT_FIELDS: Final = ("custom_fields", "raw_data")
_EXAMPLES: Final = 5  # offending rows named in an error message
_PAGE: Final = 2_000  # offers per synthetic page in offers_to_frame; any size decodes the same


@dataclass(frozen=True)
class DecodeStats:
    """What decoding noticed besides the frame itself.

    Attributes
    ----------
    offers
        Rows decoded.
    unparsed
        Column -> ids of the offers whose value was present but not a valid timestamp (the
        value became null). Only columns with at least one such value appear.

    Examples
    --------
    >>> DecodeStats(2, {"sent_at": ["a"]}) + DecodeStats(1, {"sent_at": ["b"]})
    DecodeStats(offers=3, unparsed={'sent_at': ['a', 'b']})
    """

    offers: int
    unparsed: dict[str, list[str]] = field(default_factory=dict)

    def __add__(self, other: DecodeStats) -> DecodeStats:
        unparsed = {k: list(v) for k, v in self.unparsed.items()}
        for column, ids in other.unparsed.items():
            unparsed.setdefault(column, []).extend(ids)
        return DecodeStats(self.offers + other.offers, unparsed)


def _relations(expand: Sequence[str] | str) -> tuple[Relation, ...]:
    names = expand.split(",") if isinstance(expand, str) else list(expand)
    wanted: set[str] = set()
    for name in names:
        relation = name.split("[", 1)[0].strip()  # "application[id,name]" picks fields
        if relation not in _RELATIONS:
            raise ConfigurationError(
                f"cannot expand {relation!r}: offers expand only {' and '.join(_RELATIONS)}"
            )
        wanted.add(relation)
    return tuple(r for r in _RELATIONS if r in wanted)


def offers_schema(
    *,
    expand: Sequence[str] | str = (),
    include_custom_fields: bool = False,
    include_raw_data: bool = False,
) -> pl.Schema:
    """The offers frame's schema for the given options.

    Examples
    --------
    >>> list(offers_schema(expand=["creator"], include_raw_data=True))[-3:]
    ['creator', 'creator_data', 'raw_data']
    """
    relations = _relations(expand)
    optional = {
        "application_data": "application" in relations,
        "creator_data": "creator" in relations,
        "custom_fields": include_custom_fields,
        "raw_data": include_raw_data,
    }
    return pl.Schema({**OFFER_SCHEMA, **{c: pl.String() for c in OPTIONAL_COLUMNS if optional[c]}})


def empty_offers_frame(
    *,
    expand: Sequence[str] | str = (),
    include_custom_fields: bool = False,
    include_raw_data: bool = False,
) -> pl.DataFrame:
    """An offers frame with no rows and the exact schema for the given options.

    Examples
    --------
    >>> empty_offers_frame().shape
    (0, 12)
    """
    return pl.DataFrame(
        schema=offers_schema(
            expand=expand,
            include_custom_fields=include_custom_fields,
            include_raw_data=include_raw_data,
        )
    )


def _ndjson(pages: Sequence[bytes], kind: PageKind) -> tuple[bytes, int]:
    """One NDJSON line per page, so both readers see the pages, in order, one row each.

    Returns the buffer and its longest line (a reader's block must hold a whole line).
    """
    lines = []
    for index, page in enumerate(pages):
        if not isinstance(page, bytes | bytearray | memoryview):
            raise TypeError(f"page {index} is {type(page).__name__}, expected the body bytes")
        body = bytes(page)
        if not body.strip():
            raise SchemaError(f"page {index} is empty, expected a JSON object", field="items")
        # A raw line break in valid JSON can only be whitespace between tokens (inside strings
        # it must be escaped), so turning it into a space keeps the page on one line unchanged.
        if b"\n" in body or b"\r" in body:
            body = body.replace(b"\r", b" ").replace(b"\n", b" ")
        lines.append(b'{"items":[' + body + b"]}" if kind == "offer" else body)
    return b"\n".join(lines), max(map(len, lines))


def _read_strict(data: bytes, longest: int, fields: Sequence[str]) -> pa.Table:
    # string_view is Polars' own string layout: the columns then cross into Polars without a copy.
    item = pa.struct([(name, pa.string_view()) for name in fields])
    return pa_json.read_json(
        io.BytesIO(data),
        # Blocks are parsed in parallel; each must hold at least one whole page.
        read_options=pa_json.ReadOptions(block_size=max(1 << 20, 2 * longest)),
        parse_options=pa_json.ParseOptions(
            explicit_schema=pa.schema([("items", pa.list_(item))]),
            unexpected_field_behavior="ignore",
        ),
    )


def _offers_table(items: pa.ChunkedArray) -> pa.Table:
    """The offers of all pages as one table; flattening a list array is zero-copy, unlike an
    explode. A null offer inside a list becomes a row of nulls, caught by the id check."""
    item_type = items.type.value_type
    batches = [pa.RecordBatch.from_struct_array(chunk.flatten()) for chunk in items.chunks]
    return pa.Table.from_batches(batches, schema=pa.schema(list(item_type)))


def _type_name(value: object) -> str:
    names = {dict: "an object", list: "an array", bool: "a boolean", str: "a string"}
    return "null" if value is None else names.get(type(value), "a number")


def _explain(
    pages: Sequence[bytes], kind: PageKind, relations: Iterable[str], objects: Iterable[str]
) -> SchemaError | None:
    """Find the first offer that breaks the documented shape, in plain Python (error path only)."""
    relations, objects = set(relations), set(objects)
    for p, page in enumerate(pages):
        try:
            doc = json.loads(page)
        except ValueError as exc:
            return SchemaError(f"page {p} is not valid JSON: {exc}", field="items")
        if kind == "offer":
            items: Any = [doc]
        elif not isinstance(doc, dict):
            return SchemaError(f"page {p} is {_type_name(doc)}, expected an object", field="items")
        else:
            items = doc.get("items")
        if not isinstance(items, list):
            what = "has no items" if items is None else f"has items as {_type_name(items)}"
            return SchemaError(f"page {p} {what}, expected a list of offers", field="items")
        for i, item in enumerate(items):
            where = f"offer {i} of page {p}"
            if not isinstance(item, dict):
                return SchemaError(
                    f"{where} is {_type_name(item)}, expected an object", field="items"
                )
            offer_id = item.get("id")
            if not isinstance(offer_id, str):
                what = "has no id" if offer_id is None else f"has {_type_name(offer_id)} as id"
                return SchemaError(f"{where} {what}, expected a string", field="id")
            for name, value in item.items():
                if value is None:
                    continue
                if name in _STRING_FIELDS and not isinstance(value, str):
                    return SchemaError(
                        f"offer {offer_id}: {name} is {_type_name(value)}, "
                        "expected a string or null",
                        offer_id=offer_id,
                        field=name,
                    )
                if name in _RELATIONS:
                    if name in relations and not isinstance(value, str | dict):
                        return SchemaError(
                            f"offer {offer_id}: {name} is {_type_name(value)}, expected an id or "
                            "an expanded object",
                            offer_id=offer_id,
                            field=name,
                        )
                    if name not in relations and not isinstance(value, str):
                        hint = (
                            f" (pass expand=['{name}'] to decode it)"
                            if isinstance(value, dict)
                            else ""
                        )
                        return SchemaError(
                            f"offer {offer_id}: {name} is {_type_name(value)}, "
                            f"expected an id{hint}",
                            offer_id=offer_id,
                            field=name,
                        )
                if name in objects and not isinstance(value, dict):
                    return SchemaError(
                        f"offer {offer_id}: {name} is {_type_name(value)}, "
                        "expected an object or null",
                        offer_id=offer_id,
                        field=name,
                    )
    return None


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
        Entries that extend or override :data:`DEFAULT_OUTCOME_MAPPING` (see
        :func:`~offer_analytics.outcomes.outcome_expr`).

    Returns
    -------
    tuple[pl.DataFrame, DecodeStats]
        The frame with exactly :func:`offers_schema`'s columns, one row per offer in page order,
        and what decoding noticed (unparseable timestamps per column).

    Raises
    ------
    SchemaError
        A body is not JSON, or an offer lacks its id or has a field of the wrong JSON type; the
        message and attributes name the offer id (or its position) and the field. Unknown
        fields are ignored.
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
    relations = _relations(expand)
    mapping = resolve_outcome_mapping(outcome_mapping)  # fail on a bad mapping before any work
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
    data, longest = _ndjson(pages, kind)
    fixed = [*_STRING_FIELDS, *(r for r in _RELATIONS if r not in relations)]

    def explained(fallback: str) -> SchemaError:
        return _explain(pages, kind, relations, objects) or SchemaError(fallback, field="items")

    try:
        table = _read_strict(data, longest, fixed)
    except pa.ArrowInvalid as exc:
        raise explained(f"the pages do not have the offers shape: {exc}") from None
    items = table.column("items")
    if table.num_rows != len(pages) or items.null_count:
        raise explained("a page has no items list, or more than one JSON value")
    frame = pl.from_arrow(_offers_table(items))
    assert isinstance(frame, pl.DataFrame)
    if frame["id"].null_count():
        raise explained("an offer has no id, or a page lists null as an offer")
    if relations or objects:
        flexible = read_json_fields(
            pages,
            data,
            pa_compute.list_value_length(items).to_pylist(),
            kind=kind,
            relations=relations,
            objects=objects,
        )
        if not flexible["ok"].all():
            raise explained("an expanded or JSON field has the wrong type")
        frame = frame.hstack(flexible.drop("ok"))
    return _finish(frame, schema, connector=connector, strict=strict, mapping=mapping)


def _finish(
    frame: pl.DataFrame,
    schema: pl.Schema,
    *,
    connector: str,
    strict: bool,
    mapping: Mapping[str, str],
) -> tuple[pl.DataFrame, DecodeStats]:
    """Raw string columns -> typed columns in schema order, counting unparseable timestamps."""
    raw = {c: f"__raw__{c}" for c in _TIMESTAMP_COLUMNS}
    lf = frame.lazy().with_columns(pl.col(c).alias(r) for c, r in raw.items())
    lf = parse_timestamps(lf, INSTANT_COLUMNS, dates=["start_date"])
    # Present (non-empty) but null after parsing = unparseable.
    bad = {
        c: pl.col(r).is_not_null() & (pl.col(r) != "") & pl.col(c).is_null() for c, r in raw.items()
    }
    typed = lf.with_columns(
        pl.lit(connector, pl.String).alias("connector"),
        outcome_expr(mapping),
        *(flag.alias(f"__bad__{c}") for c, flag in bad.items()),
    ).collect()
    # One pass for all columns: the ids (and raw values) of flagged rows, as lists.
    flagged = typed.select(
        *(pl.col("id").filter(pl.col(f"__bad__{c}")).implode().alias(c) for c in raw),
        *(pl.col(r).filter(pl.col(f"__bad__{c}")).implode().alias(r) for c, r in raw.items()),
    ).row(0, named=True)
    unparsed: dict[str, list[str]] = {}
    for column, raw_name in raw.items():
        ids: list[str] = flagged[column]
        if not ids:
            continue
        if strict:
            rows = list(zip(ids, flagged[raw_name], strict=True))[:_EXAMPLES]
            examples = ", ".join(f"offer {i}: {v!r}" for i, v in rows)
            raise TimestampError(
                f"{column}: {len(ids)} value(s) are not ISO-8601 timestamps ({examples}); "
                "pass strict=False to decode them as null and count them",
                column=column,
                rows=rows,
            )
        unparsed[column] = ids
    result = typed.select(pl.col(name).cast(dtype) for name, dtype in schema.items())
    return result, DecodeStats(result.height, unparsed)


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
        for r in _RELATIONS
        if any(isinstance(o.get(r), Mapping) for batch in groups.values() for o in batch)
    ]
    options = {
        "expand": expanded,
        "include_custom_fields": include_custom_fields,
        "include_raw_data": include_raw_data,
    }
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
            **options,  # type: ignore[arg-type]
        )
        frames.append(frame)
    if not frames:
        return empty_offers_frame(**options)  # type: ignore[arg-type]
    return pl.concat(frames, how="vertical")
