"""Raw offers API bodies -> an Arrow table of the offers' string fields, strictly typed.

The bodies are joined into one NDJSON buffer, one page per line, and read once by pyarrow's JSON
reader with an explicit schema: multi-threaded, and strict about JSON types, so a number where a
string belongs fails the read instead of silently becoming ``"5"`` (Polars' readers coerce it).
When a read fails, :func:`explain_shape_error` walks the bodies in plain Python to name the
offer and the field -- the only place here that builds per-record Python objects.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterable, Sequence
from typing import Any, Final, Literal

import pyarrow as pa
import pyarrow.json as pa_json

from offer_analytics.errors import SchemaError
from offer_analytics.schema import RELATIONS

__all__ = [
    "STRING_FIELDS",
    "PageKind",
    "explain_shape_error",
    "offers_table",
    "pages_to_ndjson",
    "read_string_fields",
]

PageKind = Literal["list", "offer"]

#: Offer fields that must be a JSON string or null (the relations too, unless expanded).
STRING_FIELDS: Final = (
    "id",
    "remote_id",
    "status",
    "sent_at",
    "closed_at",
    "remote_created_at",
    "modified_at",
    "start_date",
)


def _check_utf8(body: bytes, index: int) -> None:
    """Refuse a body that is not UTF-8: pyarrow's JSON reader does not check, and Polars trusts
    Arrow strings to be valid (an invalid one crashed the process). ASCII pages skip the decode."""
    if body.isascii():
        return
    try:
        body.decode("utf-8")
    except UnicodeDecodeError as exc:
        position = exc.start
    else:
        return
    raise SchemaError(f"page {index} is not UTF-8 (invalid byte at {position})", field="items")


def pages_to_ndjson(pages: Sequence[bytes], kind: PageKind) -> tuple[bytes, int]:
    """One NDJSON line per page, so the readers see the pages, in order, one row each.

    Parameters
    ----------
    pages
        Raw bodies: listing pages, or single offers when ``kind="offer"`` (each is wrapped as a
        one-offer page).
    kind
        Which endpoint the bodies came from.

    Returns
    -------
    tuple[bytes, int]
        The buffer, and its longest line (a reader's block must hold a whole line).

    Examples
    --------
    >>> data, longest = pages_to_ndjson([b'{"id": "o1"}', b'{"id": "o2"}'], "offer")
    >>> data.splitlines()
    [b'{"items":[{"id": "o1"}]}', b'{"items":[{"id": "o2"}]}']
    """
    lines = []
    for index, page in enumerate(pages):
        if not isinstance(page, bytes | bytearray | memoryview):
            raise TypeError(f"page {index} is {type(page).__name__}, expected the body bytes")
        body = bytes(page)
        if not body.strip():
            raise SchemaError(f"page {index} is empty, expected a JSON object", field="items")
        _check_utf8(body, index)
        # A raw line break in valid JSON can only be whitespace between tokens (inside strings
        # it must be escaped), so turning it into a space keeps the page on one line unchanged.
        if b"\n" in body or b"\r" in body:
            body = body.replace(b"\r", b" ").replace(b"\n", b" ")
        lines.append(b'{"items":[' + body + b"]}" if kind == "offer" else body)
    return b"\n".join(lines), max(map(len, lines))


def read_string_fields(data: bytes, longest: int, fields: Sequence[str]) -> pa.Table:
    """Read ``items`` of every page with each of ``fields`` as a string (or null).

    Raises ``pyarrow.ArrowInvalid`` on anything else: malformed JSON, a field of another JSON
    type, ``items`` not a list. Fields not named are skipped, whatever they hold.

    Examples
    --------
    >>> data, longest = pages_to_ndjson([b'{"items": [{"id": "o1", "x": [1]}, {"id": "o2"}]}'],
    ...                                 "list")
    >>> offers_table(read_string_fields(data, longest, ["id"]).column("items"))["id"].to_pylist()
    ['o1', 'o2']
    """
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
        # The reader's buffers are short-lived (the loader copies the strings it keeps): in the
        # C heap they are given back after each chunk (load/_memory.py), where pyarrow's default
        # mimalloc pool kept ~40 MB more of a 1M-offer load resident; CPU the same.
        memory_pool=pa.system_memory_pool(),
    )


def offers_table(items: pa.ChunkedArray) -> pa.Table:
    """The offers of all pages as one table; flattening a list array is zero-copy, unlike an
    explode. A null offer inside a list becomes a row of nulls, caught by the id check."""
    item_type = items.type.value_type
    batches = [pa.RecordBatch.from_struct_array(chunk.flatten()) for chunk in items.chunks]
    return pa.Table.from_batches(batches, schema=pa.schema(list(item_type)))


def _type_name(value: object) -> str:
    names = {dict: "an object", list: "an array", bool: "a boolean", str: "a string"}
    return "null" if value is None else names.get(type(value), "a number")


def explain_shape_error(
    pages: Sequence[bytes],
    *,
    kind: PageKind,
    relations: Iterable[str],
    objects: Iterable[str],
) -> SchemaError | None:
    """Find the first offer that breaks the documented shape, in plain Python (error path only).

    Returns
    -------
    SchemaError or None
        The error naming the page, the offer id (or position) and the field; None when every
        body has the documented shape.

    Examples
    --------
    >>> error = explain_shape_error([b'{"items": [{"id": "o1", "status": 3}]}'], kind="list",
    ...                             relations=(), objects=())
    >>> error.offer_id, error.field, str(error)
    ('o1', 'status', 'offer o1: status is a number, expected a string or null')
    """
    relations, objects = set(relations), set(objects)
    for p, page in enumerate(pages):
        items = _page_items(p, page, kind=kind)
        if isinstance(items, SchemaError):
            return items
        for i, item in enumerate(items):
            error = _offer_error(f"offer {i} of page {p}", item, relations, objects)
            if error is not None:
                return error
    return None


def _page_items(p: int, page: bytes, *, kind: PageKind) -> list[Any] | SchemaError:
    """The offers of page number ``p``, or the error saying why the page holds none."""
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
    return items


def _offer_error(
    where: str, item: object, relations: set[str], objects: set[str]
) -> SchemaError | None:
    """The first field of one offer that breaks the documented shape, if any."""
    if not isinstance(item, dict):
        return SchemaError(f"{where} is {_type_name(item)}, expected an object", field="items")
    offer_id = item.get("id")
    if not isinstance(offer_id, str):
        what = "has no id" if offer_id is None else f"has {_type_name(offer_id)} as id"
        return SchemaError(f"{where} {what}, expected a string", field="id")
    for name, value in item.items():
        if value is None:
            continue
        expected = _expected(name, value, relations, objects)
        if expected is not None:
            return SchemaError(
                f"offer {offer_id}: {name} is {_type_name(value)}, expected {expected}",
                offer_id=offer_id,
                field=name,
            )
    return None


def _expected(name: str, value: object, relations: set[str], objects: set[str]) -> str | None:
    """What a non-null field ``name`` should have been, or None when ``value`` fits."""
    if name in STRING_FIELDS and not isinstance(value, str):
        return "a string or null"
    if name in RELATIONS:
        if name in relations and not isinstance(value, str | dict):
            return "an id or an expanded object"
        if name not in relations and not isinstance(value, str):
            hint = f" (pass expand=['{name}'] to decode it)" if isinstance(value, dict) else ""
            return f"an id{hint}"
    if name in objects and not isinstance(value, dict):
        return "an object or null"
    return None
