"""Acceptance: status counts and acceptance rates, checked against numbers worked out by hand."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from datetime import date
from typing import Any

import polars as pl
import pytest
from polars.testing import assert_frame_equal
from statsmodels.stats.proportion import proportion_confint

from offer_analytics.metrics import _acceptance as acceptance
from offer_analytics.metrics._acceptance import acceptance_rates, status_counts
from offer_analytics.metrics._versions import latest_versions
from offer_analytics.metrics._wilson import wilson_interval

# The `offers` fixture (tests/metrics/conftest.py) builds frames with the exact offers dtypes.
OffersFactory = Callable[[Sequence[Mapping[str, Any]]], pl.DataFrame]

Z = 1.959963984540054


def hand_wilson(k: int, n: int) -> tuple[float, float]:
    """The Wilson bounds written out once more, independently of the package."""
    p = k / n
    centre = (p + Z**2 / (2 * n)) / (1 + Z**2 / n)
    half = Z / (1 + Z**2 / n) * math.sqrt(p * (1 - p) / n + Z**2 / (4 * n**2))
    return centre - half, centre + half


# --- status_counts -------------------------------------------------------------------------


def test_status_counts_shows_raw_statuses_nulls_and_unknowns_in_outcome_order(
    offers: OffersFactory,
) -> None:
    frame = offers(
        [
            {"outcome": "accepted", "status": "SIGNED"},
            {"outcome": "accepted", "status": "signed"},  # spelling variant stays its own row
            {"outcome": "pending", "status": "SENT"},
            {"outcome": "superseded", "status": "DEPRECATED"},  # an inventory: counted
            {"outcome": "unknown", "status": "EXTENDED"},
            {"outcome": "unknown", "status": None},
            {"outcome": "unknown", "status": "EXTENDED"},
            {"outcome": "declined", "status": "DENIED"},
        ]
    )
    result = status_counts(frame)
    assert result.columns == ["status", "outcome", "n", "share"]
    assert result.rows() == [
        ("SIGNED", "accepted", 1, 1 / 8),
        ("signed", "accepted", 1, 1 / 8),
        ("DENIED", "declined", 1, 1 / 8),
        ("SENT", "pending", 1, 1 / 8),
        ("DEPRECATED", "superseded", 1, 1 / 8),
        ("EXTENDED", "unknown", 2, 2 / 8),
        (None, "unknown", 1, 1 / 8),
    ]


def test_status_counts_shares_are_within_each_group(offers: OffersFactory) -> None:
    frame = offers(
        [
            {"connector": "acme", "outcome": "accepted"},
            {"connector": "acme", "outcome": "accepted"},
            {"connector": "acme", "outcome": "declined"},
            {"connector": "globex", "outcome": "pending"},
        ]
    )
    result = status_counts(frame.lazy(), by="connector")
    assert result.select("connector", "status", "n", "share").rows() == [
        ("acme", "SIGNED", 2, 2 / 3),
        ("acme", "DENIED", 1, 1 / 3),
        ("globex", "SENT", 1, 1.0),
    ]


def test_status_counts_of_an_empty_frame_is_empty_with_the_schema(offers: OffersFactory) -> None:
    result = status_counts(offers([]), by=["connector"])
    assert result.height == 0
    assert dict(result.schema) == {
        "connector": pl.String,
        "status": pl.String,
        "outcome": OUTCOME_DTYPE,
        "n": pl.Int64,
        "share": pl.Float64,
    }


OUTCOME_DTYPE = pl.Enum(
    ["accepted", "declined", "pending", "draft", "rescinded", "superseded", "unknown"]
)


# --- acceptance_rates: denominators and intervals ------------------------------------------

# One application each: 3 accepted, 1 declined, 2 pending, 1 rescinded after sending,
# 1 rescinded before sending, 1 draft, 1 unknown, 1 superseded version.
MIXED = [
    {"outcome": "accepted", "sent_at": "2024-01-02"},
    {"outcome": "accepted", "sent_at": "2024-01-03"},
    {"outcome": "accepted", "sent_at": "2024-01-04"},
    {"outcome": "declined", "sent_at": "2024-01-05"},
    {"outcome": "pending", "sent_at": "2024-01-06"},
    {"outcome": "pending", "sent_at": "2024-01-07"},
    {"outcome": "rescinded", "sent_at": "2024-01-08"},
    {"outcome": "rescinded"},
    {"outcome": "draft"},
    {"outcome": "unknown", "status": "EXTENDED", "sent_at": "2024-01-09"},
    {"outcome": "superseded", "sent_at": "2024-01-01"},
]


def test_decided_denominator_is_accepted_plus_declined(offers: OffersFactory) -> None:
    result = acceptance_rates(offers(MIXED))
    # n = 3 accepted + 1 declined = 4; rate = 3 / 4.
    low, high = hand_wilson(3, 4)
    assert result.rows() == [(3, 1, 2, 1, 4, 0.75, pytest.approx(low), pytest.approx(high))]
    assert result.columns == [
        "accepted",
        "declined",
        "pending",
        "rescinded",
        "n",
        "rate",
        "rate_lower",
        "rate_upper",
    ]


def test_extended_denominator_counts_every_sent_offer(offers: OffersFactory) -> None:
    result = acceptance_rates(offers(MIXED), denominator="extended")
    # n = 3 accepted + 1 declined + 2 pending + 1 rescinded after sending = 7; rate = 3 / 7.
    assert result["n"].to_list() == [7]
    assert result["rate"][0] == pytest.approx(3 / 7)
    low, high = hand_wilson(3, 7)
    assert result["rate_lower"][0] == pytest.approx(low, abs=1e-12)
    assert result["rate_upper"][0] == pytest.approx(high, abs=1e-12)


def test_wilson_bounds_by_hand_for_three_of_four(offers: OffersFactory) -> None:
    # p = 0.75, n = 4, z² = 3.841459; 1 + z²/n = 1.960365;
    # centre = (0.75 + z²/8) / 1.960365 = (0.75 + 0.480182) / 1.960365 = 0.627527;
    # half = z * sqrt(p(1 - p)/n + z²/(4n²)) / 1.960365
    #      = 1.959964 * sqrt(0.046875 + 0.060023) / 1.960365 = 1.959964 * 0.326952 / 1.960365
    #      = 0.326885  ->  bounds 0.300642 and 0.954412
    result = acceptance_rates(offers(MIXED))
    assert result["rate_lower"][0] == pytest.approx(0.300642, abs=1e-6)
    assert result["rate_upper"][0] == pytest.approx(0.954412, abs=1e-6)


def test_wilson_interval_matches_statsmodels_over_a_grid() -> None:
    cases = [(k, n) for n in (1, 2, 3, 7, 10, 57, 1000, 123_457) for k in {0, 1, n // 3, n - 1, n}]
    frame = pl.DataFrame(cases, schema=["k", "n"], orient="row")
    lower, upper = wilson_interval("k", "n")
    got = frame.select(lower, upper)
    low, high = proportion_confint(frame["k"].to_numpy(), frame["n"].to_numpy(), method="wilson")
    assert max(abs(got["rate_lower"].to_numpy() - low)) < 1e-12
    assert max(abs(got["rate_upper"].to_numpy() - high)) < 1e-12


def test_wilson_bounds_stay_inside_0_1_where_rounding_would_overshoot() -> None:
    # Unclipped, 0 of 21 gives a lower bound of -1.4e-17 and 9 of 9 an upper bound of
    # 1.0000000000000002: the documented max(0, .) and min(1, .) must hold to the last bit.
    frame = pl.DataFrame({"k": [0, 0, 9, 26], "n": [21, 22, 9, 26]})
    got = frame.select(*wilson_interval("k", "n"))
    assert got["rate_lower"].to_list()[:2] == [0.0, 0.0]
    assert got["rate_upper"].to_list()[2:] == [1.0, 1.0]


def test_wilson_bounds_are_null_when_n_is_zero_null_or_negative() -> None:
    # A negative number of trials is no rate to bound either: null, never a number.
    frame = pl.DataFrame({"k": [0, 1, 0, 2], "n": [0, None, -5, -3]})
    got = frame.select(*wilson_interval("k", "n"))
    assert got.rows() == [(None, None)] * 4


@pytest.mark.parametrize("confidence", [0.0, 1.0, -0.5, 1.5])
def test_wilson_confidence_must_be_strictly_between_0_and_1(confidence: float) -> None:
    with pytest.raises(ValueError, match="confidence must be strictly between 0 and 1, got"):
        wilson_interval("k", "n", confidence=confidence)


def test_rate_and_bounds_are_null_when_n_is_zero(offers: OffersFactory) -> None:
    result = acceptance_rates(offers([{"outcome": "pending"}, {"outcome": "draft"}]))
    assert result.select("pending", "n", "rate", "rate_lower", "rate_upper").rows() == [
        (1, 0, None, None, None)
    ]


@pytest.mark.parametrize(
    ("option", "value"),
    [("period", "week"), ("basis", "closed"), ("denominator", "all")],
)
def test_bad_choices_raise_a_clear_value_error(
    offers: OffersFactory, option: str, value: str
) -> None:
    with pytest.raises(ValueError, match=f"{option} must be one of"):
        acceptance_rates(offers(MIXED), **{option: value})  # type: ignore[arg-type]


def test_missing_columns_are_named(offers: OffersFactory) -> None:
    with pytest.raises(ValueError, match="'application'"):
        acceptance_rates(offers(MIXED).drop("application"))
    # Without the latest-version rule the application is not needed.
    assert acceptance_rates(offers(MIXED).drop("application"), latest_per_application=False)[
        "n"
    ].to_list() == [4]


# --- periods -------------------------------------------------------------------------------

# Sent in January, closed in February or March: cohort and activity disagree.
SPREAD = [
    {"outcome": "accepted", "sent_at": "2024-01-10", "closed_at": "2024-01-12"},
    {"outcome": "accepted", "sent_at": "2024-01-20", "closed_at": "2024-03-02"},
    {"outcome": "declined", "sent_at": "2024-01-31T23:59", "closed_at": "2024-02-01T00:10"},
    {"outcome": "pending", "sent_at": "2024-03-30"},
    {"outcome": "accepted", "sent_at": "2024-04-02", "closed_at": "2024-04-03"},
]


def test_cohort_periods_follow_sent_at_with_empty_months_as_zero_rows(
    offers: OffersFactory,
) -> None:
    result = acceptance_rates(offers(SPREAD), period="month")
    assert result.select("period", "accepted", "declined", "pending", "n", "rate").rows() == [
        (date(2024, 1, 1), 2, 1, 0, 3, 2 / 3),
        (date(2024, 2, 1), 0, 0, 0, 0, None),
        (date(2024, 3, 1), 0, 0, 1, 0, None),
        (date(2024, 4, 1), 1, 0, 0, 1, 1.0),
    ]


def test_activity_periods_follow_closed_at_and_leave_open_offers_out(offers: OffersFactory) -> None:
    result = acceptance_rates(offers(SPREAD), period="month", basis="activity")
    assert result.select("period", "accepted", "declined", "pending", "n").rows() == [
        (date(2024, 1, 1), 1, 0, 0, 1),
        (date(2024, 2, 1), 0, 1, 0, 1),
        (date(2024, 3, 1), 1, 0, 0, 1),
        (date(2024, 4, 1), 1, 0, 0, 1),
    ]


def test_quarters_start_on_the_first_day_of_the_quarter(offers: OffersFactory) -> None:
    result = acceptance_rates(offers(SPREAD), period="quarter", denominator="extended")
    assert result.select("period", "accepted", "n").rows() == [
        (date(2024, 1, 1), 2, 4),
        (date(2024, 4, 1), 1, 1),
    ]


def test_every_group_gets_every_period(offers: OffersFactory) -> None:
    frame = offers(
        [
            {"connector": "acme", "outcome": "accepted", "sent_at": "2024-01-05"},
            {"connector": "globex", "outcome": "declined", "sent_at": "2024-03-05"},
            {"connector": "initech", "outcome": "draft"},  # a group with nothing counted
        ]
    )
    result = acceptance_rates(frame, by="connector", period="month")
    assert result.select("connector", "period", "accepted", "declined", "n").rows() == [
        ("acme", date(2024, 1, 1), 1, 0, 1),
        ("acme", date(2024, 2, 1), 0, 0, 0),
        ("acme", date(2024, 3, 1), 0, 0, 0),
        ("globex", date(2024, 1, 1), 0, 0, 0),
        ("globex", date(2024, 2, 1), 0, 0, 0),
        ("globex", date(2024, 3, 1), 0, 1, 1),
        ("initech", date(2024, 1, 1), 0, 0, 0),
        ("initech", date(2024, 2, 1), 0, 0, 0),
        ("initech", date(2024, 3, 1), 0, 0, 0),
    ]
    without_period = acceptance_rates(frame, by="connector")
    assert without_period.select("connector", "n").rows() == [
        ("acme", 1),
        ("globex", 1),
        ("initech", 0),
    ]


def test_null_group_values_form_a_group_sorted_last(offers: OffersFactory) -> None:
    frame = offers(
        [
            {"creator": None, "outcome": "accepted"},
            {"creator": "u1", "outcome": "declined"},
        ]
    )
    result = acceptance_rates(frame, by=["creator"])
    assert result.select("creator", "accepted", "declined").rows() == [("u1", 0, 1), (None, 1, 0)]


def test_empty_frame_gives_empty_results_with_the_schema(offers: OffersFactory) -> None:
    for period in (None, "month"):
        result = acceptance_rates(offers([]).lazy(), by="connector", period=period)
        assert result.height == 0
        expected = ["connector", *(["period"] if period else [])]
        assert result.columns == [
            *expected,
            *acceptance._COUNTS,
            "n",
            "rate",
            "rate_lower",
            "rate_upper",
        ]
        assert result.schema["n"] == pl.Int64
        assert result.schema["rate"] == pl.Float64


def test_all_null_timestamps_leave_no_periods(offers: OffersFactory) -> None:
    frame = offers([{"outcome": "accepted"}, {"outcome": "declined"}])
    assert acceptance_rates(frame, period="month").height == 0
    assert acceptance_rates(frame)["n"].to_list() == [2]


def test_lazy_and_eager_inputs_agree(offers: OffersFactory) -> None:
    frame = offers(SPREAD)
    assert_frame_equal(
        acceptance_rates(frame, period="month"), acceptance_rates(frame.lazy(), period="month")
    )


def test_a_lone_offer_without_application_still_counts(offers: OffersFactory) -> None:
    frame = offers(
        [
            {"id": "solo", "outcome": "accepted"},
            {
                "id": "v1",
                "application": "A",
                "outcome": "declined",
                "remote_created_at": "2024-01-01",
            },
            {
                "id": "v2",
                "application": "A",
                "outcome": "accepted",
                "remote_created_at": "2024-01-02",
            },
        ]
    )
    assert latest_versions(frame).collect()["id"].to_list() == ["solo", "v2"]
    assert acceptance_rates(frame).select("accepted", "declined").rows() == [(2, 0)]


def test_all_null_columns_of_dtype_null_work() -> None:
    frame = (
        pl.DataFrame(
            {"connector": ["a", "a"], "id": ["1", "2"], "outcome": ["accepted", "declined"]}
        )
        .with_columns(
            pl.lit(None).alias(c)
            for c in ("status", "sent_at", "closed_at", "remote_created_at", "modified_at")
        )
        .with_columns(pl.lit(None).alias("application"))
    )
    assert status_counts(frame).schema["status"] == pl.String
    assert acceptance_rates(frame)["n"].to_list() == [2]
    assert acceptance_rates(frame, period="quarter", basis="activity").height == 0


def test_group_columns_that_clash_with_outputs_are_refused(offers: OffersFactory) -> None:
    frame = offers(MIXED).with_columns(pl.lit("x").alias("period"))
    with pytest.raises(ValueError, match="'period'"):
        acceptance_rates(frame, by="period")
    with pytest.raises(ValueError, match="status_counts already splits"):
        status_counts(frame, by="status")


def test_min_n_of_zero_is_allowed_and_blanks_nothing(offers: OffersFactory) -> None:
    result = acceptance_rates(offers(MIXED), min_n=0)
    assert result.select("n", "rate", "below_min_n").rows() == [(4, 0.75, False)]
    at_n = acceptance_rates(offers(MIXED), min_n=4)
    assert at_n.select("n", "rate", "below_min_n").rows() == [(4, 0.75, False)]


def test_offers_in_no_column_do_not_extend_the_periods(offers: OffersFactory) -> None:
    frame = offers(
        [
            {"outcome": "accepted", "sent_at": "2024-02-10"},
            {"outcome": "draft", "sent_at": "2024-01-10"},
            {"outcome": "unknown", "status": "OFFERED", "sent_at": "2024-03-10"},
            {"outcome": "superseded", "sent_at": "2024-04-10"},
            {"outcome": "rescinded", "closed_at": "2024-05-10"},  # never sent
        ]
    )
    for basis in ("cohort", "activity"):
        result = acceptance_rates(
            frame,
            period="month",
            basis=basis,
            latest_per_application=False,
        )
        expected = [(date(2024, 2, 1), 1, 1)] if basis == "cohort" else []
        assert result.select("period", "accepted", "n").rows() == expected


def test_acceptance_and_status_count_options_are_keyword_only(offers: OffersFactory) -> None:
    metrics: list[Any] = [acceptance_rates, status_counts]
    for metric in metrics:
        with pytest.raises(TypeError):
            metric(offers(MIXED), "connector")


def test_options_are_compared_by_value_not_identity(offers: OffersFactory) -> None:
    # Built at run time, as an option read from a command line is: not an interned literal.
    decided: Any = "".join(["deci", "ded"])
    assert acceptance_rates(offers(MIXED), denominator=decided)["n"].to_list() == [4]
