"""Page bodies of a related resource -> its exactly typed table.

These pages are small next to the offers' (a connector has a few jobs per hundred offers), so
they are read with ``json.loads`` and checked field by field: a field of the wrong type is a
:class:`~offer_analytics.errors.SchemaError` naming the object and the field, never a silent
null. Unknown fields are ignored; a missing field is null (an empty list for id lists).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import polars as pl

from offer_analytics.decode._timestamps import parse_timestamps
from offer_analytics.enrich._schemas import ID_LIST_FIELDS, RELATED_SCHEMAS, TIMESTAMP_FIELDS
from offer_analytics.errors import SchemaError

__all__ = ["decode_related", "empty_related", "expanded_applications"]


def empty_related(resource: str) -> pl.DataFrame:
    """An empty table of ``resource`` with its exact schema.

    Examples
    --------
    >>> empty_related("offices").columns
    ['connector', 'id', 'remote_id', 'name', 'modified_at']
    """
    return pl.DataFrame(schema=RELATED_SCHEMAS[resource])


def expanded_applications(offers: pl.DataFrame) -> pl.DataFrame:
    """The applications an offers frame carries expanded (``application_data``) that name a job.

    Loading offers with ``expand=application`` (or ``application[id,job]``) brings each offer's
    application along; those need no request of their own. Fields the expansion left out are
    null. A frame without ``application_data`` gives an empty table.

    Examples
    --------
    >>> offers = pl.DataFrame({"connector": "acme", "application": ["a1", "a1", "a2", "a3"],
    ...     "application_data": ['{"id":"a1","job":"j1"}', '{"id":"a1","job":"j1"}',
    ...                          '{"id":"a2"}', None]})
    >>> expanded_applications(offers).select("id", "job").rows()
    [('a1', 'j1')]
    """
    schema = RELATED_SCHEMAS["applications"]
    if "application_data" not in offers.columns:
        return empty_related("applications")
    job = pl.col("application_data").str.json_path_match("$.job")
    found = (
        offers.select("connector", pl.col("application").alias("id"), job.alias("job"))
        .drop_nulls(["id", "job"])
        .unique(["connector", "id"], keep="first", maintain_order=True)
    )
    return found.select(
        pl.col(name).cast(dtype) if name in found.columns else pl.lit(None, dtype).alias(name)
        for name, dtype in schema.items()
    )


def _text(value: object, resource: str, object_id: str, name: str) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)  # numeric remote ids and codes, as some source ATSs send them
    msg = f"{resource} {object_id!r}: field {name!r} should be text, got {type(value).__name__}."
    raise SchemaError(msg, offer_id=object_id, field=name)


def _ids(value: object, resource: str, object_id: str, name: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return value
    msg = f"{resource} {object_id!r}: field {name!r} should be a list of ids."
    raise SchemaError(msg, offer_id=object_id, field=name)


def _row(item: object, resource: str, label: str) -> dict[str, Any]:
    if not isinstance(item, dict) or not isinstance(item.get("id"), str):
        msg = f"A {resource} page of connector {label!r} holds an item without a string id."
        raise SchemaError(msg, field="id")
    object_id = item["id"]
    row: dict[str, Any] = {"connector": label}
    for name in RELATED_SCHEMAS[resource]:
        if name == "connector":
            continue
        value = item.get(name)
        if name in ID_LIST_FIELDS:
            row[name] = _ids(value, resource, object_id, name)
        else:
            row[name] = _text(value, resource, object_id, name)
    if resource == "users" and row["name"] is None:
        # Some sources send only first and last names.
        parts = [_text(item.get(k), resource, object_id, k) for k in ("first_name", "last_name")]
        row["name"] = " ".join(p for p in parts if p) or None
    return row


def _items(body: bytes, resource: str, label: str) -> list[Any]:
    page = json.loads(body)
    items = page.get("items") if isinstance(page, dict) else None
    if not isinstance(items, list):
        msg = f"A {resource} page of connector {label!r} is not {{'cursor', 'items': [...]}}."
        raise SchemaError(msg)
    return items


def decode_related(resource: str, pages: Sequence[bytes], *, connector: str) -> pl.DataFrame:
    """The objects on list pages of ``resource`` as its exactly typed table.

    Parameters
    ----------
    resource
        ``"applications"``, ``"jobs"``, ``"departments"``, ``"offices"`` or ``"users"``.
    pages
        Raw bodies of the resource's list endpoint.
    connector
        The label the rows get.

    Raises
    ------
    SchemaError
        A page is not a list page, an item has no string id, or a field has the wrong type.

    Examples
    --------
    >>> page = b'{"cursor": null, "items": [{"id": "j1", "name": "Engineer", "departments":' \\
    ...        b' ["d1", "d2"], "recruiters": null, "modified_at": "2026-01-02T03:04:05Z"}]}'
    >>> jobs = decode_related("jobs", [page], connector="acme")
    >>> jobs.select("connector", "id", "name", "departments", "recruiters").row(0)
    ('acme', 'j1', 'Engineer', ['d1', 'd2'], [])
    >>> jobs.schema["modified_at"]
    Datetime(time_unit='us', time_zone='UTC')
    """
    schema = RELATED_SCHEMAS[resource]
    rows = [
        _row(item, resource, connector)
        for body in pages
        for item in _items(body, resource, connector)
    ]
    raw = {name: pl.String() for name in TIMESTAMP_FIELDS if name in schema}
    frame = pl.DataFrame(rows, schema={**schema, **raw})
    return parse_timestamps(frame, [name for name in schema if name in raw]).select(list(schema))
