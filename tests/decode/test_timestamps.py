"""Every accepted timestamp shape lands on the instant Python's datetime reads from it."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from offer_analytics.decode._timestamps import parse_timestamps
from offer_analytics.schema import UTC_DATETIME

SHAPES = ("z", "offset", "fraction_z", "fraction_offset", "fraction_naive", "naive", "date")

# Offsets as real ATSs write them: whole minutes, strictly inside +-24h.
offsets = st.integers(min_value=-(23 * 60 + 59), max_value=23 * 60 + 59).map(
    lambda m: timezone(timedelta(minutes=m))
)
instants = st.datetimes(min_value=datetime(2, 1, 1), max_value=datetime(9998, 12, 30))


@st.composite
def written(draw: st.DrawFn) -> tuple[str, datetime]:
    """A timestamp string in one of the shapes, and the UTC instant Python reads from it."""
    shape = draw(st.sampled_from(SHAPES))
    local = draw(instants).replace(tzinfo=draw(offsets))
    sep = draw(st.sampled_from(["T", " "]))
    seconds = local.replace(microsecond=0).isoformat(sep=sep)  # ends with +hh:mm
    # With "Z" the wall clock written is the UTC one; with an offset it is the local one.
    wall, zone = seconds[:19], seconds[19:]
    digits = draw(st.integers(min_value=1, max_value=9))
    fraction = f"{local.microsecond:06d}{draw(st.integers(0, 999)):03d}"[:digits]
    text = {
        "z": f"{wall}Z",
        "offset": wall + zone,
        "fraction_z": f"{wall}.{fraction}Z",
        "fraction_offset": f"{wall}.{fraction}{zone}",
        "fraction_naive": f"{wall}.{fraction}",
        "naive": wall,
        "date": wall[:10],
    }[shape]
    # Python >= 3.11 reads all these shapes (fractions of any length are truncated to us);
    # naive and date-only values are UTC by the package's rule.
    parsed = datetime.fromisoformat(text)
    expected = parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    return text, expected


def parse(values: list[str | None]) -> list[datetime | None]:
    frame = pl.DataFrame({"t": values}, schema={"t": pl.String})
    out = parse_timestamps(frame, ["t"])
    assert out.schema["t"] == UTC_DATETIME
    result: list[datetime | None] = out["t"].to_list()
    return result


@settings(max_examples=60, deadline=None)
@given(st.lists(written(), min_size=1, max_size=40))
def test_every_shape_parses_to_the_instant_python_reads(cases: list[tuple[str, datetime]]) -> None:
    texts = [text for text, _ in cases]
    assert parse(list(texts)) == [expected for _, expected in cases]


@settings(max_examples=40, deadline=None)
@given(st.lists(written(), min_size=1, max_size=20))
def test_written_date_is_the_date_before_any_conversion(cases: list[tuple[str, datetime]]) -> None:
    frame = pl.DataFrame({"d": [text for text, _ in cases]})
    out = parse_timestamps(frame, [], dates=["d"])
    assert out.schema["d"] == pl.Date
    assert out["d"].to_list() == [date.fromisoformat(text[:10]) for text, _ in cases]


def test_shapes_mixed_after_many_nulls_all_parse() -> None:
    # Polars' inference looks at the first 100 values: a column that starts with nulls and then
    # mixes shapes is exactly what it gets wrong.
    values: list[str | None] = [None] * 150 + [
        "2024-03-01T12:00:00Z",
        "2024-03-01T14:00:00+02:00",
        "2024-03-01T12:00:00.000Z",
        "2024-03-01T12:00:00",
        "2024-03-01 07:00:00-05:00",
    ]
    noon = datetime(2024, 3, 1, 12, tzinfo=UTC)
    assert parse(values) == [None] * 150 + [noon] * 5
    assert parse(["2024-03-01"]) == [datetime(2024, 3, 1, tzinfo=UTC)]


@pytest.mark.parametrize(
    "garbage",
    [
        "2024-02-30T10:00:00Z",
        "2023-13-01",
        "0000-00-00T00:00:00Z",
        "not a date",
        "2023-02-29",
        "2024-01-01T24:00:00Z",
        "2024-01-01T10:00:60Z",
        "2024-01-01T10:00:00+24:00",
        "2024-01-01T10:00:00.Z",
        "2024-01-01T10:00:00.1234567890Z",
        "2024-1-1T10:00:00Z",
        " 2024-01-01T10:00:00Z",
        "2024-01-01T10:00:00Zjunk",
        "20240101T100000Z",
        "2024-01-01T10:00:00+0260",
        "2024-01-01T10Z",
    ],
)
def test_garbage_is_null(garbage: str) -> None:
    assert parse([garbage, "2024-01-01T10:00:00Z"]) == [None, datetime(2024, 1, 1, 10, tzinfo=UTC)]


@pytest.mark.parametrize(
    "shorthand",
    [
        "2024-03-01T14:00Z",
        "2024-03-01T14:00",
        "2024-03-01 14:00+05:30",
        "2024-03-01T14:00:00+0200",
        "2024-03-01T14:00:00-02",
        "2024-03-01T14:00:00.5-0330",
        "2024-12-31T23:59:59.999999+00",
        "2024-03-01 14:00:00+0530",
        "2024-03-01 14:00+05",
    ],
)
def test_shorthands_python_reads_land_on_the_same_instant(shorthand: str) -> None:
    expected = datetime.fromisoformat(shorthand.replace("Z", "+00:00"))
    if expected.tzinfo is None:
        expected = expected.replace(tzinfo=UTC)
    assert parse([shorthand]) == [expected.astimezone(UTC)]


def test_empty_string_is_absent() -> None:
    assert parse(["", None]) == [None, None]


def test_lazy_frames_stay_lazy_and_other_columns_are_untouched() -> None:
    lf = pl.LazyFrame({"t": ["2024-01-01"], "keep": ["x"]})
    out = parse_timestamps(lf, ["t"])
    assert isinstance(out, pl.LazyFrame)
    assert out.collect().columns == ["t", "keep"]


@pytest.mark.parametrize(
    "edge",
    ["0001-01-01T00:30:00+01:00", "9999-12-31T23:30:00-01:00", "0001-01-01T00:00:00.5+00:01"],
)
def test_an_offset_that_carries_the_instant_out_of_years_1_to_9999_is_unparseable(
    edge: str,
) -> None:
    # Python cannot hold the instant either (datetime.astimezone raises OverflowError); the
    # column must still convert to Python objects, with the value null (and counted).
    assert parse([edge, "0001-01-01T01:30:00+01:00"]) == [
        None,
        datetime(1, 1, 1, 0, 30, tzinfo=UTC),
    ]


@settings(max_examples=60, deadline=None)
@given(
    st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31, 23, 59, 59)),
    offsets,
)
def test_near_the_ends_of_the_calendar_python_and_the_parser_agree(
    wall: datetime, zone: timezone
) -> None:
    text = wall.replace(tzinfo=zone).isoformat()
    try:
        expected: datetime | None = datetime.fromisoformat(text).astimezone(UTC)
    except OverflowError:
        expected = None
    assert parse([text]) == [expected]


@pytest.mark.parametrize(
    "blanks",
    [
        "2024-03-01T14:00:00 ",
        "2024-03-01 14:00:00 ",
        "2024-03-01 14:00:00 UTC",
        "2024-03-01 14:00:00 +02:00",
    ],
)
def test_surrounding_blanks_and_trailing_text_are_unparseable(blanks: str) -> None:
    # The wall clock alone is well formed: only the whole value decides.
    assert parse([blanks, "2024-03-01 14:00:00"]) == [None, datetime(2024, 3, 1, 14, tzinfo=UTC)]


def test_a_written_date_in_year_0000_is_unparseable() -> None:
    frame = pl.DataFrame({"d": ["0000-01-01", "0001-01-01", "9999-12-31"]})
    out = parse_timestamps(frame, [], dates=["d"])
    assert out["d"].to_list() == [None, date(1, 1, 1), date(9999, 12, 31)]


def test_instants_in_the_first_and_last_years_python_holds_are_kept() -> None:
    first, last = "0001-01-01T00:00:00Z", "9999-12-31T23:59:59.999999Z"
    assert parse([first, last]) == [
        datetime(1, 1, 1, tzinfo=UTC),
        datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
    ]
