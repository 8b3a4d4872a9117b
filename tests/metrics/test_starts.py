"""Start dates: distribution by week/month/weekday, lead times and upcoming starts."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from typing import Any

import polars as pl
import pytest

from offer_analytics.metrics import _starts as starts
from offer_analytics.metrics._starts import (
    start_date_distribution,
    start_lead_times,
    upcoming_starts,
)

# The `offers` fixture (tests/metrics/conftest.py) builds frames with the exact offers dtypes.
OffersFactory = Callable[[Sequence[Mapping[str, Any]]], pl.DataFrame]

# 2024-01-01 and 2024-01-15 are Mondays; 2024-01-03 a Wednesday; 2024-01-07 a Sunday.
STARTS = [
    {"connector": "acme", "outcome": "accepted", "start_date": "2024-01-01"},
    {"connector": "acme", "outcome": "accepted", "start_date": "2024-01-03"},
    {"connector": "acme", "outcome": "accepted", "start_date": "2024-01-07"},
    {"connector": "globex", "outcome": "accepted", "start_date": "2024-01-15"},
    {"connector": "globex", "outcome": "accepted", "start_date": "2024-03-04"},
    {"connector": "globex", "outcome": "accepted"},  # no start date: not counted
    {"connector": "globex", "outcome": "declined", "start_date": "2024-01-08"},  # proposal only
    {"connector": "acme", "outcome": "superseded", "start_date": "2024-01-08"},
]


def test_weeks_start_on_monday_and_empty_weeks_are_zero(offers: OffersFactory) -> None:
    result = start_date_distribution(offers(STARTS[:4]), freq="week")
    # Week of 2024-01-01 holds the 1st, 3rd and 7th (Sunday ends the ISO week): 3 of 4 starts.
    assert result.rows() == [
        (date(2024, 1, 1), 3, 0.75),
        (date(2024, 1, 8), 0, 0.0),
        (date(2024, 1, 15), 1, 0.25),
    ]


def test_months_by_group_fill_the_whole_range_for_every_group(offers: OffersFactory) -> None:
    result = start_date_distribution(offers(STARTS), freq="month", by="connector")
    # acme: 3 starts in January. globex: 1 in January, 1 in March (the declined proposal and the
    # superseded version do not count).
    assert result.rows() == [
        ("acme", date(2024, 1, 1), 3, 1.0),
        ("acme", date(2024, 2, 1), 0, 0.0),
        ("acme", date(2024, 3, 1), 0, 0.0),
        ("globex", date(2024, 1, 1), 1, 0.5),
        ("globex", date(2024, 2, 1), 0, 0.0),
        ("globex", date(2024, 3, 1), 1, 0.5),
    ]


def test_weekday_table_has_all_seven_days_per_group(offers: OffersFactory) -> None:
    result = start_date_distribution(offers(STARTS), freq="weekday", by="connector")
    assert result.columns == ["connector", "weekday", "weekday_name", "n", "share"]
    assert result.schema["weekday"] == pl.Int8
    acme = result.filter(pl.col("connector") == "acme")
    assert acme["weekday"].to_list() == [1, 2, 3, 4, 5, 6, 7]
    assert acme["weekday_name"].to_list() == list(starts.WEEKDAY_NAMES)
    assert acme["n"].to_list() == [1, 0, 1, 0, 0, 0, 1]
    globex = result.filter(pl.col("connector") == "globex")
    assert globex["n"].to_list() == [2, 0, 0, 0, 0, 0, 0]
    assert globex["share"].to_list() == [1.0, 0, 0, 0, 0, 0, 0]


@pytest.mark.parametrize("freq", ["week", "month", "weekday"])
def test_no_accepted_starts_gives_an_empty_table(offers: OffersFactory, freq: str) -> None:
    frame = offers([{"outcome": "declined", "start_date": "2024-01-01"}, {"outcome": "accepted"}])
    result = start_date_distribution(frame.lazy(), freq=freq)  # type: ignore[arg-type]
    assert result.height == 0
    assert result.columns[-2:] == ["n", "share"]


def test_bad_freq_raises(offers: OffersFactory) -> None:
    with pytest.raises(ValueError, match="freq must be one of"):
        start_date_distribution(offers(STARTS), freq="day")  # type: ignore[arg-type]


# --- lead times ----------------------------------------------------------------------------


def test_lead_times_take_the_start_date_as_midnight_utc(offers: OffersFactory) -> None:
    frame = offers(
        [
            # Accepted Fri 2024-03-01 18:00 for Mon 2024-03-04: 3 days - 18 h = 2.25 days.
            # Sent Wed 2024-02-28 06:00: 5 days - 6 h = 4.75 days.
            {
                "id": "a",
                "outcome": "accepted",
                "sent_at": "2024-02-28T06:00",
                "closed_at": "2024-03-01T18:00",
                "start_date": "2024-03-04",
            },
            # Same-day start: -0.5 days by the midnight convention, but not flagged.
            {
                "id": "b",
                "outcome": "accepted",
                "sent_at": "2024-03-01T00:00",
                "closed_at": "2024-03-04T12:00",
                "start_date": "2024-03-04",
            },
            # Start the day before acceptance: flagged.
            {
                "id": "c",
                "outcome": "accepted",
                "sent_at": "2024-02-20",
                "closed_at": "2024-03-05T00:00",
                "start_date": "2024-03-04",
            },
            # Declined: only the proposed lead from sending; start before sending is flagged.
            {"id": "d", "outcome": "declined", "sent_at": "2024-03-10", "start_date": "2024-03-08"},
            # Accepted without sent_at still has a lead from acceptance.
            {
                "id": "e",
                "outcome": "accepted",
                "closed_at": "2024-03-01",
                "start_date": "2024-03-11",
            },
            # Excluded: no start date; superseded; nothing to measure from.
            {"id": "f", "outcome": "accepted", "sent_at": "2024-03-01", "closed_at": "2024-03-02"},
            {
                "id": "g",
                "outcome": "superseded",
                "sent_at": "2024-03-01",
                "start_date": "2024-03-11",
            },
            {"id": "h", "outcome": "pending", "start_date": "2024-03-11"},
        ]
    )
    result = start_lead_times(frame)
    assert result.columns == [
        "connector",
        "id",
        "outcome",
        "start_date",
        "days_from_acceptance",
        "days_from_sent",
        "negative",
    ]
    assert result.select("id", "days_from_acceptance", "days_from_sent", "negative").rows() == [
        ("a", 2.25, 4.75, False),
        ("b", -0.5, 3.0, False),
        ("c", -1.0, 13.0, True),
        ("d", None, -2.0, True),
        ("e", 10.0, None, False),
    ]


def test_lead_times_by_a_column_put_it_first_without_repeating(offers: OffersFactory) -> None:
    frame = offers(
        [
            {
                "connector": "b",
                "id": "1",
                "outcome": "accepted",
                "sent_at": "2024-01-01",
                "start_date": "2024-01-02",
            },
            {
                "connector": "a",
                "id": "2",
                "outcome": "accepted",
                "sent_at": "2024-01-01",
                "start_date": "2024-01-09",
            },
        ]
    )
    result = start_lead_times(frame, by="connector")
    assert result.columns[:4] == ["connector", "id", "outcome", "start_date"]
    assert result["connector"].to_list() == ["a", "b"]
    assert start_lead_times(offers([])).height == 0


# --- upcoming starts -----------------------------------------------------------------------


def test_upcoming_starts_from_the_as_of_utc_date(offers: OffersFactory) -> None:
    frame = offers(
        [
            {"id": "past", "outcome": "accepted", "start_date": "2024-03-03"},
            {"id": "today", "outcome": "accepted", "start_date": "2024-03-04"},
            {"id": "later", "outcome": "accepted", "start_date": "2024-04-01"},
            {"id": "declined", "outcome": "declined", "start_date": "2024-03-05"},
        ]
    )
    # 23:30 at UTC-2 on the 3rd is 01:30 UTC on the 4th: the reference day is the 4th.
    as_of = datetime.fromisoformat("2024-03-03T23:30:00-02:00")
    result = upcoming_starts(frame, as_of=as_of)
    assert result.select("id", "days_until").rows() == [("today", 0), ("later", 28)]
    naive = upcoming_starts(frame, as_of=datetime(2024, 3, 3, 23, 30))  # naive = UTC
    assert naive["id"].to_list() == ["past", "today", "later"]


def test_all_null_columns_of_dtype_null_work() -> None:
    # A frame built by hand from Python values: every all-None column has dtype Null.
    frame = pl.DataFrame(
        {"connector": ["a"], "id": ["1"], "outcome": ["accepted"], "application": [None]}
    ).with_columns(pl.lit(None).alias(c) for c in ("sent_at", "closed_at", "start_date"))
    assert start_date_distribution(frame).height == 0
    assert start_lead_times(frame).schema["start_date"] == pl.Date
    assert upcoming_starts(frame, as_of=date(2024, 1, 1)).height == 0


def test_group_columns_that_clash_with_outputs_are_refused(offers: OffersFactory) -> None:
    frame = offers(STARTS).with_columns(pl.lit(1).alias("share"))
    with pytest.raises(ValueError, match="share"):
        start_date_distribution(frame, by="share")


def test_ungrouped_stand_in_column_is_the_shared_one() -> None:
    # One definition: a rename in one module cannot silently diverge from the grid code.
    from offer_analytics.metrics import _acceptance as acceptance
    from offer_analytics.metrics import _frame

    assert vars(starts)["ALL_GROUP"] is vars(acceptance)["ALL_GROUP"] is _frame.ALL_GROUP
    assert not hasattr(starts, "_ALL")
    assert not hasattr(acceptance, "_ALL")


def test_a_null_group_gets_its_own_full_run_of_periods_sorted_last(offers: OffersFactory) -> None:
    frame = offers(
        [
            {"creator": None, "outcome": "accepted", "start_date": "2024-03-04"},
            {"creator": "u1", "outcome": "accepted", "start_date": "2024-01-01"},
        ]
    )
    result = start_date_distribution(frame, freq="month", by="creator")
    assert result.rows() == [
        ("u1", date(2024, 1, 1), 1, 1.0),
        ("u1", date(2024, 2, 1), 0, 0.0),
        ("u1", date(2024, 3, 1), 0, 0.0),
        (None, date(2024, 1, 1), 0, 0.0),
        (None, date(2024, 2, 1), 0, 0.0),
        (None, date(2024, 3, 1), 1, 1.0),
    ]
    weekdays = start_date_distribution(frame, freq="weekday", by="creator")
    assert weekdays.filter(pl.col("creator").is_null())["n"].to_list() == [1, 0, 0, 0, 0, 0, 0]
    assert weekdays["creator"].to_list() == ["u1"] * 7 + [None] * 7


def test_an_accepted_offer_without_closed_at_is_not_flagged_negative(
    offers: OffersFactory,
) -> None:
    frame = offers(
        [{"id": "a", "outcome": "accepted", "sent_at": "2024-03-01", "start_date": "2024-03-04"}]
    )
    result = start_lead_times(frame)
    assert result.select("days_from_acceptance", "days_from_sent", "negative").rows() == [
        (None, 3.0, False)
    ]


def test_lead_times_skip_an_unaccepted_offer_known_only_by_its_closed_at(
    offers: OffersFactory,
) -> None:
    frame = offers(
        [
            {
                "id": "d",
                "outcome": "declined",
                "closed_at": "2024-03-01",
                "start_date": "2024-03-04",
            },
            {
                "id": "a",
                "outcome": "accepted",
                "closed_at": "2024-03-01",
                "start_date": "2024-03-04",
            },
        ]
    )
    assert start_lead_times(frame)["id"].to_list() == ["a"]


def test_lead_times_are_sorted_by_group_start_date_connector_and_id(offers: OffersFactory) -> None:
    rows: list[dict[str, Any]] = [
        {"creator": None, "connector": "a", "id": "1", "start_date": "2024-01-01"},
        {"creator": "u", "connector": "b", "id": "1", "start_date": "2024-01-02"},
        {"creator": "u", "connector": "a", "id": "2", "start_date": "2024-01-02"},
        {"creator": "u", "connector": "a", "id": "1", "start_date": "2024-01-02"},
        {"creator": "u", "connector": "a", "id": "3", "start_date": "2024-01-01"},
    ]
    frame = offers([{**row, "outcome": "accepted", "sent_at": "2023-12-01"} for row in rows])
    plain = start_lead_times(frame).select("connector", "id").rows()
    assert plain == [("a", "1"), ("a", "3"), ("a", "1"), ("a", "2"), ("b", "1")]
    grouped = start_lead_times(frame, by="creator").select("creator", "connector", "id").rows()
    assert grouped == [("u", "a", "3"), ("u", "a", "1"), ("u", "a", "2"), ("u", "b", "1"),
                       (None, "a", "1")]  # fmt: skip


def test_start_date_options_are_keyword_only(offers: OffersFactory) -> None:
    frame = offers(STARTS)
    calls: list[tuple[Any, object]] = [
        (start_date_distribution, "month"),
        (start_lead_times, "connector"),
        (upcoming_starts, date(2024, 1, 1)),
    ]
    for metric, option in calls:
        with pytest.raises(TypeError):
            metric(frame, option)


def test_freq_is_compared_by_value_not_identity(offers: OffersFactory) -> None:
    # Built at run time, as an option read from a command line is: not an interned literal.
    weekday: Any = "".join(["week", "day"])
    result = start_date_distribution(offers(STARTS[:4]), freq=weekday)
    assert result["n"].to_list() == [2, 0, 1, 0, 0, 0, 1]


def test_a_start_before_both_sending_and_acceptance_is_negative(offers: OffersFactory) -> None:
    # Either reason alone flags the offer; both together still do (not one cancelling the other).
    frame = offers(
        [
            {
                "id": "a",
                "outcome": "accepted",
                "sent_at": "2024-03-10",
                "closed_at": "2024-03-12",
                "start_date": "2024-03-01",
            }
        ]
    )
    result = start_lead_times(frame)
    assert result.schema["negative"] == pl.Boolean
    assert result["negative"].to_list() == [True]


def test_a_start_on_the_day_the_offer_was_sent_is_not_negative(offers: OffersFactory) -> None:
    frame = offers(
        [
            {
                "id": "d",
                "outcome": "declined",
                "sent_at": "2024-03-10T09:30:00Z",
                "start_date": "2024-03-10",
            }
        ]
    )
    assert start_lead_times(frame)["negative"].to_list() == [False]
