"""Offer fields whose JSON type varies, read as text: expanded relations and free-form objects.

``application``/``creator`` are an id string, or an object when the request expanded them;
``custom_fields``/``raw_data`` are objects whose keys differ by source ATS. Neither fits a fixed
Arrow type, so they are read as JSON text.

Fast path: Polars' NDJSON reader, given a String dtype for a nested value, yields the value
re-serialised as JSON. That serialiser is not exact in Polars 2.1: it leaves backslashes, tabs
and other control characters in strings unescaped (so ``"a\\\\b"`` comes back as invalid JSON),
and writes large floats such as ``1e+300`` as long integers. Nor can its result tell a string that
starts with ``{`` or ``[`` (an id ``"[1]"``) from an object or array: both come back as the
same text. A page whose bytes hold no backslash (no escape of any kind), no ``e+``/``E+`` and
none of these fields given a string that starts with ``{`` or ``[`` takes the fast path; the
others -- rare in ATS data, and detected with a byte search -- are decoded exactly with
:mod:`json`, for these fields only.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from itertools import accumulate
from typing import Any, Final, Literal

import polars as pl

__all__ = ["read_json_fields"]

_INEXACT_MARKERS: Final = (b"\\", b"e+", b"E+")


def _ambiguous_strings(names: Sequence[str]) -> re.Pattern[bytes]:
    """One of ``names`` as a key whose value is a string starting with ``{`` or ``[``."""
    if not names:
        return re.compile(rb"(?!)")  # matches nothing
    keys = b"|".join(re.escape(json.dumps(name).encode()) for name in names)
    return re.compile(rb"(?:" + keys + rb")\s*:\s*\"[{\[]")


def _needs_exact_path(page: bytes, ambiguous: re.Pattern[bytes]) -> bool:
    if any(marker in page for marker in _INEXACT_MARKERS):
        return True
    # Some string starts with { or [ (the only places escape-free JSON holds "{ or "[): is it
    # one of these fields' values? The byte search first: the pattern costs ~10 us per KB.
    return (b'"{' in page or b'"[' in page) and ambiguous.search(page) is not None


def _polars_path(data: bytes, relations: Sequence[str], objects: Sequence[str]) -> pl.DataFrame:
    item = pl.Struct(dict.fromkeys([*relations, *objects], pl.String))
    raw = pl.read_ndjson(data, schema={"items": pl.List(item)})
    raw = raw.explode("items", keep_nulls=False).unnest("items")
    parts: list[pl.Expr] = []
    checks: list[pl.Expr] = []
    for relation in relations:
        value = pl.col(relation)
        is_object = value.str.starts_with("{")
        parts += [
            pl.when(is_object)
            .then(value.str.json_path_match("$.id"))
            .otherwise(value)
            .alias(relation),
            pl.when(is_object).then(value).alias(f"{relation}_data"),
        ]
        checks.append(~value.str.starts_with("["))  # an id or an object; never an array
    parts += [pl.col(name) for name in objects]
    checks += [pl.col(name).str.starts_with("{") for name in objects]
    return raw.select(*parts, ok=pl.all_horizontal(c.fill_null(True) for c in checks))


def _exact_rows(
    page: bytes, kind: Literal["list", "offer"], relations: Sequence[str], objects: Sequence[str]
) -> list[dict[str, Any]]:
    doc = json.loads(page)
    items = [doc] if kind == "offer" else doc["items"]
    rows = []
    for item in items:
        row: dict[str, Any] = {"ok": True}
        for relation in relations:
            value = item.get(relation)
            if isinstance(value, dict):
                inner = value.get("id")
                row[relation] = (
                    inner if inner is None or isinstance(inner, str) else json.dumps(inner)
                )
                row[f"{relation}_data"] = json.dumps(value, ensure_ascii=False)
            else:
                row[relation], row[f"{relation}_data"] = value, None
                row["ok"] &= value is None or isinstance(value, str)
        for name in objects:
            value = item.get(name)
            row[name] = None if value is None else json.dumps(value, ensure_ascii=False)
            row["ok"] &= value is None or isinstance(value, dict)
        rows.append(row)
    return rows


def read_json_fields(
    pages: Sequence[bytes],
    data: bytes,
    items_per_page: Sequence[int],
    *,
    kind: Literal["list", "offer"],
    relations: Sequence[str],
    objects: Sequence[str],
) -> pl.DataFrame:
    """Read the variable fields of every offer, one row per offer in page order.

    Parameters
    ----------
    pages
        The raw bodies (for the exact path).
    data
        The same bodies as NDJSON, one page per line, each a ``{"items": [...]}`` object.
    items_per_page
        How many offers each page holds (already known from the strict read).
    kind
        ``"offer"`` when each body is one offer object rather than a listing page.
    relations
        Expanded relations: columns ``<relation>`` (the id) and ``<relation>_data`` (JSON).
    objects
        Free-form object fields, as JSON text.

    Returns
    -------
    pl.DataFrame
        The columns above plus ``ok`` (Boolean): False where a value has the wrong JSON type.

    Examples
    --------
    >>> pages = [b'{"items": [{"id": "o1", "application": {"id": "a1", "n": 1}},'
    ...          b' {"id": "o2", "application": "a2", "custom_fields": {"x": "tab\\\\t"}}]}']
    >>> out = read_json_fields(pages, pages[0], [2], kind="list",
    ...                        relations=["application"], objects=["custom_fields"])
    >>> out.rows()
    [('a1', '{"id": "a1", "n": 1}', None, True), ('a2', None, '{"x": "tab\\\\t"}', True)]
    """
    frame = _polars_path(data, relations, objects)
    starts = [0, *accumulate(items_per_page)]
    ambiguous = _ambiguous_strings([*relations, *objects])
    exact = [i for i, page in enumerate(pages) if _needs_exact_path(page, ambiguous)]
    if not exact:
        return frame
    indices: list[int] = []
    rows: list[dict[str, Any]] = []
    for i in exact:
        rows += _exact_rows(pages[i], kind, relations, objects)
        indices += range(starts[i], starts[i + 1])
    fixes = pl.DataFrame(rows, schema=frame.schema, orient="row")
    position = pl.Series(indices, dtype=pl.Int64)
    return frame.with_columns(frame[c].scatter(position, fixes[c]) for c in frame.columns)
