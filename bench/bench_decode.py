"""Decoding 1M offers: ``decode_pages`` against pyarrow's JSON reader and json.loads + Polars.

Run: ``uv run python bench/bench_decode.py`` (``--offers 200000 --repeats 3`` for a quick look).

What each contender gets, all built once before timing from the same generated offers (4
connectors, so all four dominant timestamp shapes occur), serialised as the API sends a listing
without include_* flags: compact JSON (``separators=(",", ":")``, ``ensure_ascii=False``, as
Starlette's JSONResponse writes it), ``{"cursor", "page_size", "items"}`` pages of 200 offers.

- ``decode_pages``: the page bodies of each connector (a list of bytes, as the loader holds
  them), one call per connector, frames concatenated. Output: the typed offers frame (UTC
  timestamps, start dates, outcome Enum, connector).
- ``pyarrow pages``: the same bodies joined with newlines (the join is timed), read by
  ``pyarrow.json.read_json`` with an explicit all-string schema for ``items``, then
  ``pl.from_arrow`` + explode + unnest. Output: the same rows, every field a string.
- ``pyarrow NDJSON``: one offer per line (the same offers re-serialised the same way; building
  it is *not* timed), ``pyarrow.json.read_json`` with an explicit all-string schema. This is
  pyarrow's natural input and its best case. Output: a ``pa.Table`` of strings.
- ``json.loads + pl.DataFrame``: ``json.loads`` of each body, items collected into a list, then
  ``pl.DataFrame(items, schema=<all strings>)``. Output: rows of strings, no typing at all.
- ``json.loads + same typing``: the above per connector, then the typing ``decode_pages`` does
  (timestamps, start date, outcome, connector). Output: the same frame as ``decode_pages``
  (asserted), so this isolates the reader.
- ``polars read_json, per page``: ``pl.read_json`` of each body with an explicit all-string
  schema for ``items``, frames concatenated, then explode + unnest. Output: rows of strings. Not
  a contender for the targets but the alternative reader: it is *not* strict (``"status": 5``
  becomes ``"5"``), which is why ``decode_pages`` reads with pyarrow.

After the contenders: a breakdown of ``decode_pages`` by stage, and the cost per value of the
Polars operations the timestamp typing is built from (on the four instant columns stacked), to
show where the typing's time goes.

Contenders run round-robin in each repeat so that load from other processes on this shared
machine spreads over all of them; medians are reported, then a breakdown of ``decode_pages``.
"""

from __future__ import annotations

import argparse
import io
import json
from collections.abc import Callable
from typing import Any

import polars as pl
import pyarrow as pa
import pyarrow.json as pa_json

from bench._harness import load_average, machine, race, timed
from offer_analytics import OFFER_SCHEMA, decode_pages
from offer_analytics.decode._columns import type_columns
from offer_analytics.decode._pages import (
    STRING_FIELDS,
    offers_table,
    pages_to_ndjson,
    read_string_fields,
)
from offer_analytics.decode._timestamps import SHAPE_PATTERN, parse_timestamps
from offer_analytics.sandbox import generate_offers
from offer_analytics.schema import INSTANT_COLUMNS

FIELDS = (
    "id",
    "remote_id",
    "modified_at",
    "remote_created_at",
    "sent_at",
    "closed_at",
    "start_date",
    "status",
    "application",
    "creator",
)
STRING_ITEM = pa.struct([(name, pa.string()) for name in FIELDS])


def dumps(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


def build(n: int) -> tuple[dict[str, list[bytes]], bytes]:
    data = generate_offers(n, connectors=4, seed=0)
    pages: dict[str, list[bytes]] = {}
    lines: list[bytes] = []
    for label, offers in data.items():
        items = [{k: o[k] for k in FIELDS} for o in offers]  # no include_* flags
        pages[label] = [
            dumps({"cursor": f"c{i}", "page_size": 200, "items": items[i : i + 200]})
            for i in range(0, len(items), 200)
        ]
        lines += [dumps(item) for item in items]
    return pages, b"\n".join(lines)


def ours(pages: dict[str, list[bytes]]) -> pl.DataFrame:
    return pl.concat([decode_pages(p, connector=label)[0] for label, p in pages.items()])


def pyarrow_pages(pages: dict[str, list[bytes]]) -> pl.DataFrame:
    data = b"\n".join(page for p in pages.values() for page in p)
    table = pa_json.read_json(
        io.BytesIO(data),
        parse_options=pa_json.ParseOptions(
            explicit_schema=pa.schema([("items", pa.list_(STRING_ITEM))]),
            unexpected_field_behavior="ignore",
        ),
    )
    frame = pl.from_arrow(table)
    assert isinstance(frame, pl.DataFrame)
    return frame.explode("items", keep_nulls=False).unnest("items")


def pyarrow_ndjson(ndjson: bytes) -> pa.Table:
    return pa_json.read_json(
        io.BytesIO(ndjson),
        parse_options=pa_json.ParseOptions(
            explicit_schema=pa.schema(list(STRING_ITEM)), unexpected_field_behavior="ignore"
        ),
    )


def json_loads(pages: dict[str, list[bytes]]) -> pl.DataFrame:
    items: list[dict[str, Any]] = []
    for p in pages.values():
        for page in p:
            items.extend(json.loads(page)["items"])
    return pl.DataFrame(items, schema=dict.fromkeys(FIELDS, pl.String))


def json_loads_typed(pages: dict[str, list[bytes]]) -> pl.DataFrame:
    """json.loads + pl.DataFrame, then the same typing decode_pages does: the same frame."""
    frames = []
    for label, p in pages.items():
        items: list[dict[str, Any]] = []
        for page in p:
            items.extend(json.loads(page)["items"])
        strings = pl.DataFrame(items, schema=dict.fromkeys(FIELDS, pl.String))
        frames.append(
            type_columns(strings, OFFER_SCHEMA, connector=label, strict=False, mapping=None)[0]
        )
    return pl.concat(frames)


POLARS_ITEMS = pl.Schema({"items": pl.List(pl.Struct(dict.fromkeys(FIELDS, pl.String)))})


def polars_pages(pages: dict[str, list[bytes]]) -> pl.DataFrame:
    frames = [
        pl.read_json(io.BytesIO(page), schema=POLARS_ITEMS) for p in pages.values() for page in p
    ]
    return pl.concat(frames).explode("items", keep_nulls=False).unnest("items")


def breakdown(pages: dict[str, list[bytes]], repeats: int) -> None:
    """Where decode_pages' time goes, stage by stage, calling its steps as it calls them."""
    all_pages = [page for p in pages.values() for page in p]
    fields = [*STRING_FIELDS, "application", "creator"]
    data, longest = pages_to_ndjson(all_pages, "list")
    table = read_string_fields(data, longest, fields)
    strings = pl.from_arrow(offers_table(table.column("items")))
    assert isinstance(strings, pl.DataFrame)
    stages: dict[str, Callable[[], object]] = {
        "join pages into NDJSON": lambda: pages_to_ndjson(all_pages, "list"),
        "pyarrow strict read": lambda: read_string_fields(data, longest, fields),
        "flatten into Polars (zero-copy)": lambda: pl.from_arrow(
            offers_table(table.column("items"))
        ),
        "timestamps (4 instants + start_date)": lambda: parse_timestamps(
            strings, INSTANT_COLUMNS, dates=["start_date"]
        ),
        "typing all (timestamps, outcome, stats)": lambda: type_columns(
            strings, OFFER_SCHEMA, connector="x", strict=False, mapping=None
        ),
    }
    print("\ndecode_pages breakdown (medians, all connectors as one call):  wall     cpu")
    for name, t in race(stages, repeats).items():
        print(f"  {name:58s} {t.wall:6.2f}s {t.cpu:6.2f}s")


def operation_costs(pages: dict[str, list[bytes]], repeats: int) -> None:
    """CPU nanoseconds per value of the operations the timestamp typing is made of, each over
    the four instant columns stacked (one Series), best of ``repeats``."""
    frame = pl.concat([decode_strings(p) for p in pages.values()])
    values = pl.concat([frame[c] for c in INSTANT_COLUMNS]).alias("s").to_frame()
    s, n = pl.col("s"), pl.col("s").str.len_bytes()
    head = s.str.slice(0, 19)
    operations: dict[str, pl.Expr] = {
        "len_bytes": n,
        "shape regex (str.contains SHAPE_PATTERN)": s.str.contains(SHAPE_PATTERN),
        "regex floor (str.contains '^\\d')": s.str.contains(r"^\d"),
        "literal contains ' ' (the spaced flag)": s.str.contains(" ", literal=True),
        "str.slice(0, 19)": head,
        "str.slice(-6, 1)": s.str.slice(-6, 1),
        "str.ends_with('Z')": s.str.ends_with("Z"),
        "slice(20, 3) + to_integer": s.str.slice(20, 3).str.to_integer(strict=False),
        "when/then mask of the strings": pl.when(n > 19).then(s),
        "fixed-format parse of the 19-byte head": head.str.to_datetime(
            "%Y-%m-%dT%H:%M:%S", time_unit="us", strict=False, cache=False
        ),
        "parse with %.fZ (one shape only)": s.str.to_datetime(
            "%Y-%m-%dT%H:%M:%S%.fZ", time_unit="us", strict=False, cache=False
        ),
    }

    def selecting(expr: pl.Expr) -> Callable[[], object]:
        return lambda: values.select(expr)

    runs = {name: selecting(expr) for name, expr in operations.items()}
    runs["parse_timestamps (all of it, 1 column)"] = lambda: parse_timestamps(values, ["s"])
    print(f"\nper-value CPU cost over {values.height:,} instant strings (best of {repeats}):")
    for name, run in runs.items():
        best = min(timed(run)[1] for _ in range(repeats))
        print(f"  {name:58s} {best / values.height * 1e9:6.1f} ns")


def decode_strings(pages: list[bytes]) -> pl.DataFrame:
    data, longest = pages_to_ndjson(pages, "list")
    table = read_string_fields(data, longest, [*STRING_FIELDS, "application", "creator"])
    frame = pl.from_arrow(offers_table(table.column("items")))
    assert isinstance(frame, pl.DataFrame)
    return frame


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--offers", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    pages, ndjson = build(args.offers)
    n_pages = sum(map(len, pages.values()))
    page_mb = sum(len(b) for p in pages.values() for b in p) / 1e6
    print(f"{args.offers:,} offers, {n_pages:,} pages of 200 ({page_mb:.0f} MB of bodies)")
    print(machine("polars", "pyarrow"))

    check = ours(pages)
    assert check.equals(json_loads_typed(pages))  # same frame, whichever reader
    assert pyarrow_ndjson(ndjson).num_rows == args.offers == pyarrow_pages(pages).height
    assert polars_pages(pages).equals(pyarrow_pages(pages))  # same strings, other reader
    del check

    contenders: dict[str, Callable[[], object]] = {
        "decode_pages (typed frame)": lambda: ours(pages),
        "pyarrow read_json, pages": lambda: pyarrow_pages(pages),
        "pyarrow read_json, NDJSON": lambda: pyarrow_ndjson(ndjson),
        "json.loads + pl.DataFrame": lambda: json_loads(pages),
        "json.loads + same typing": lambda: json_loads_typed(pages),
        "polars read_json, per page": lambda: polars_pages(pages),
    }
    times = race(contenders, args.repeats)
    ours_name = "decode_pages (typed frame)"
    mine = times[ours_name]
    print(
        f"\n{'contender':28s} {'wall med':>9s} {'min':>6s} {'max':>6s} {'cpu med':>8s}"
        "   ours/it: wall   cpu"
    )
    for name, t in times.items():
        print(
            f"{name:28s} {t.wall:8.2f}s {min(t.walls):5.2f}s {max(t.walls):5.2f}s"
            f" {t.cpu:7.2f}s   {mine.wall / t.wall:12.2f}x {mine.cpu / t.cpu:5.2f}x"
        )
    breakdown(pages, max(3, args.repeats // 2))
    operation_costs(pages, 3)
    print(f"after: {load_average()}")


if __name__ == "__main__":
    main()
