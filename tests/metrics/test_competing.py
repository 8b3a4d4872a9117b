"""Aalen-Johansen incidence of acceptance and decline, checked against hand arithmetic."""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from offer_analytics import cumulative_incidence, survival_curve

OUTCOME = pl.Enum(
    ["accepted", "declined", "pending", "draft", "rescinded", "superseded", "unknown"]
)
UTC_US = pl.Datetime("us", "UTC")
SCHEMA: dict[str, pl.DataType] = {
    "connector": pl.String(),
    "outcome": OUTCOME,
    "sent_at": UTC_US,
    "closed_at": UTC_US,
}
AS_OF = datetime(2026, 2, 1)


def _at(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text).replace(tzinfo=UTC)


def offers(rows: list[tuple[str | None, str | None, str | None, str | None]]) -> pl.DataFrame:
    """(connector, outcome, sent_at, closed_at) rows with the offers frame's exact dtypes."""
    return pl.DataFrame(
        [(c, o, _at(s), _at(e)) for c, o, s, e in rows], schema=SCHEMA, orient="row"
    )


# Valid durations: 1 (rescinded: "other"), 2 accepted + 2 declined + 2 pending-with-close
# ("other") tied, 5 accepted, censored at 7 (accepted only after as_of) and 30.5 (open).
# Excluded: closed before sent, superseded, draft.
HAND = offers(
    [
        ("acme", "rescinded", "2026-01-20T00:00", "2026-01-21T00:00"),
        ("acme", "accepted", "2026-01-01T00:00", "2026-01-03T00:00"),
        ("acme", "declined", "2026-01-01T00:00", "2026-01-03T00:00"),
        ("acme", "pending", "2026-01-28T00:00", "2026-01-30T00:00"),
        ("acme", "accepted", "2026-01-10T00:00", "2026-01-15T00:00"),
        ("acme", "accepted", "2026-01-25T00:00", "2026-02-03T00:00"),
        ("acme", "pending", "2026-01-01T12:00", None),
        ("acme", "declined", "2026-01-05T00:00", "2026-01-04T00:00"),
        ("acme", "superseded", "2026-01-01T00:00", "2026-01-02T00:00"),
        ("acme", "draft", None, None),
        ("globex", "pending", "2026-01-01T00:00", None),
    ]
)


def test_incidence_matches_hand_arithmetic_with_ties_and_a_third_cause() -> None:
    cif = cumulative_incidence(HAND, by="connector", as_of=AS_OF).filter(
        pl.col("connector") == "acme"
    )
    assert cif["time_days"].to_list() == [0.0, 1.0, 2.0, 5.0, 7.0, 30.5]
    assert cif["at_risk"].to_list() == [7, 7, 6, 3, 2, 1]
    assert cif["accepted"].to_list() == [0, 0, 1, 1, 0, 0]
    assert cif["declined"].to_list() == [0, 0, 1, 0, 0, 0]
    assert cif["other"].to_list() == [0, 1, 1, 0, 0, 0]
    assert cif["censored"].to_list() == [0, 0, 0, 0, 1, 1]
    # S(t-) = 1, 1, 6/7, 3/7 at the first four times; CIF_k += S(t-) * d_k / n.
    accepted = [0, 0, 6 / 7 * 1 / 6, 1 / 7 + 3 / 7 * 1 / 3, 2 / 7, 2 / 7]
    declined = [0, 0, 1 / 7, 1 / 7, 1 / 7, 1 / 7]
    other = [0, 1 / 7, 1 / 7 + 6 / 7 * 1 / 6, 2 / 7, 2 / 7, 2 / 7]
    assert cif["cif_accepted"].to_list() == pytest.approx(accepted, abs=1e-12)
    assert cif["cif_declined"].to_list() == pytest.approx(declined, abs=1e-12)
    assert cif["cif_other"].to_list() == pytest.approx(other, abs=1e-12)


def test_incidences_and_survival_add_up_to_one() -> None:
    cif = cumulative_incidence(HAND, by="connector", as_of=AS_OF)
    km = survival_curve(HAND, by="connector", as_of=AS_OF)
    total = cif["cif_accepted"] + cif["cif_declined"] + cif["cif_other"] + km["survival"]
    assert total.to_list() == pytest.approx([1.0] * cif.height, abs=1e-12)
    # Not 1 - KM of acceptance with the other closes censored: that would say 0.2857 + more.
    assert cif.filter(pl.col("connector") == "globex")["cif_accepted"].to_list() == [0.0, 0.0]


def test_output_columns_empty_and_lazy() -> None:
    cif = cumulative_incidence(HAND, as_of=AS_OF)
    assert cif.columns == [
        "time_days",
        "at_risk",
        "accepted",
        "declined",
        "censored",
        "cif_accepted",
        "cif_declined",
        "other",
        "cif_other",
    ]
    assert cif.row(0) == (0.0, 8, 0, 0, 0, 0.0, 0.0, 0, 0.0)
    empty = cumulative_incidence(HAND.clear(), by="connector", as_of=AS_OF)
    assert empty.is_empty()
    assert empty.schema == cumulative_incidence(HAND, by="connector", as_of=AS_OF).schema
    assert_frame_equal(cumulative_incidence(HAND.lazy(), as_of=AS_OF), cif)


def test_grouping_by_outcome_itself() -> None:
    cif = cumulative_incidence(HAND, by=["connector", "outcome"], as_of=AS_OF)
    declined = cif.filter(pl.col("outcome") == "declined")
    # Within the declined group every close is a decline: the curve reaches 1.
    assert declined["cif_declined"].to_list() == [0.0, 1.0]
    assert cif["outcome"].dtype == OUTCOME


def test_an_offer_censored_at_the_time_of_a_close_is_counted_once_and_still_at_risk() -> None:
    # Both durations are 2 days: one accepted, one still open at as_of (censored after the event).
    tied = offers(
        [
            ("acme", "accepted", "2026-01-01T00:00", "2026-01-03T00:00"),
            ("acme", "pending", "2026-01-29T00:00", None),
        ]
    )
    cif = cumulative_incidence(tied, as_of=datetime(2026, 1, 31))
    assert cif.select("time_days", "at_risk", "accepted", "censored").rows() == [
        (0.0, 2, 0, 0),
        (2.0, 2, 1, 1),
    ]
    assert cif["cif_accepted"].to_list() == pytest.approx([0.0, 0.5], abs=1e-12)


def test_cumulative_incidence_options_are_keyword_only() -> None:
    with pytest.raises(TypeError):
        cumulative_incidence(HAND, "connector")  # type: ignore[call-arg]
