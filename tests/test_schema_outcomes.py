"""The outcome column: the documented default table, case-insensitivity, user mappings."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import polars as pl
import pytest

from offer_analytics import offers_to_frame
from offer_analytics.errors import ConfigurationError
from offer_analytics.schema import (
    DEFAULT_OUTCOME_MAPPING,
    OUTCOME_DTYPE,
    OUTCOMES,
    outcome_expr,
    resolve_outcome_mapping,
)

SENT = datetime(2024, 1, 1, tzinfo=UTC)

DEFAULT_TABLE = [
    ("SIGNED", SENT, "accepted"),
    ("ACCEPTED", SENT, "accepted"),
    ("HIRED", SENT, "accepted"),
    ("DENIED", SENT, "declined"),
    ("DENIED", None, "draft"),  # denied internally before it reached the candidate
    ("DECLINED", SENT, "declined"),
    ("REJECTED", SENT, "declined"),
    ("REFUSED", SENT, "declined"),
    ("SENT", SENT, "pending"),
    ("SENT-MANUALLY", SENT, "pending"),
    ("OPENED", SENT, "pending"),
    ("DRAFT", None, "draft"),
    ("APPROVAL-SENT", None, "draft"),
    ("APPROVED", None, "draft"),
    ("RESCINDED", SENT, "rescinded"),
    ("WITHDRAWN", SENT, "rescinded"),
    ("CANCELLED", SENT, "rescinded"),
    ("CANCELED", SENT, "rescinded"),
    ("DEPRECATED", SENT, "superseded"),
    ("EXTENDED", SENT, "unknown"),
    (None, None, "unknown"),
    ("", SENT, "unknown"),
    # case-insensitive on the raw value
    ("signed", SENT, "accepted"),
    ("Denied", SENT, "declined"),
    ("denied", None, "draft"),
    ("sent-manually", SENT, "pending"),
]


def outcomes(
    rows: list[tuple[str | None, datetime | None]], mapping: dict[str, str] | None = None
) -> list[str]:
    frame = pl.DataFrame(
        rows, schema={"status": pl.String, "sent_at": pl.Datetime("us", "UTC")}, orient="row"
    )
    out = frame.select(outcome_expr(mapping=mapping))
    assert out.schema["outcome"] == OUTCOME_DTYPE
    result: list[str] = out["outcome"].to_list()
    return result


def test_default_table() -> None:
    rows = [(status, sent) for status, sent, _ in DEFAULT_TABLE]
    assert outcomes(rows) == [expected for *_, expected in DEFAULT_TABLE]


def test_status_itself_is_not_touched() -> None:
    frame = pl.DataFrame({"status": ["signed"], "sent_at": [SENT]})
    assert frame.with_columns(outcome_expr())["status"].to_list() == ["signed"]


def test_user_mapping_extends_and_overrides_case_insensitively() -> None:
    mapping = {"extended": "pending", "Hired": "unknown", "DENIED": "rescinded"}
    rows: list[tuple[str | None, datetime | None]] = [
        ("EXTENDED", SENT),
        ("hired", SENT),
        ("SIGNED", SENT),  # untouched default
        ("DENIED", SENT),  # overridden
        ("DENIED", None),  # the user's DENIED entry replaces the internal-denial rule
    ]
    assert outcomes(rows, mapping) == ["pending", "unknown", "accepted", "rescinded", "rescinded"]


def test_defaults_cannot_be_mutated() -> None:
    with pytest.raises(TypeError):
        DEFAULT_OUTCOME_MAPPING["SIGNED"] = "declined"  # type: ignore[index]
    assert set(DEFAULT_OUTCOME_MAPPING.values()) <= set(OUTCOMES)


def test_mapping_to_a_non_outcome_is_a_clear_error() -> None:
    with pytest.raises(ConfigurationError, match=r"'SIGNED' to 'won'.*accepted, declined"):
        resolve_outcome_mapping({"SIGNED": "won"})


def test_keys_differing_only_by_case_must_agree() -> None:
    with pytest.raises(ConfigurationError, match="case-insensitive"):
        resolve_outcome_mapping({"offer-out": "pending", "OFFER-OUT": "declined"})
    assert resolve_outcome_mapping({"a": "pending", "A": "pending"})["A"] == "pending"


def test_denied_with_an_unparseable_sent_at_was_still_sent() -> None:
    offers: list[dict[str, str | None]] = [
        {"id": "a", "status": "DENIED", "sent_at": "2024-02-30T10:00:00Z"},
        {"id": "b", "status": "DENIED", "sent_at": None},
        {"id": "c", "status": "DENIED", "sent_at": ""},
    ]
    assert offers_to_frame(offers)["outcome"].to_list() == ["declined", "draft", "draft"]


def test_a_mapping_that_redefines_denied_replaces_the_internal_denial_rule() -> None:
    offers = [{"id": "a", "status": "DENIED", "sent_at": None}]
    frame = offers_to_frame(offers, outcome_mapping={"Denied": "rescinded"})
    assert frame["outcome"].to_list() == ["rescinded"]


def test_restating_the_default_mapping_changes_nothing() -> None:
    offers = [{"id": "a", "status": "DENIED", "sent_at": None}]
    for mapping in ({"DENIED": "declined"}, dict(DEFAULT_OUTCOME_MAPPING)):
        assert offers_to_frame(offers, outcome_mapping=mapping)["outcome"].to_list() == ["draft"]


def test_keys_differing_only_by_case_must_agree_whichever_comes_first() -> None:
    for first, second in (("pending", "declined"), ("declined", "pending")):
        with pytest.raises(ConfigurationError, match="case-insensitive"):
            resolve_outcome_mapping({"offer-out": first, "OFFER-OUT": second})


def test_keys_that_agree_are_accepted_when_the_mapping_is_read_from_json() -> None:
    # Strings read from a file are equal, not the same objects: agreement is by value.
    mapping = json.loads('{"offer-out": "pending", "OFFER-OUT": "pending"}')
    assert resolve_outcome_mapping(mapping)["OFFER-OUT"] == "pending"


@pytest.mark.parametrize("outcome", [o for o in OUTCOMES if o != "declined"])
def test_mapping_denied_to_any_other_outcome_replaces_the_internal_denial_rule(
    outcome: str,
) -> None:
    rows: list[tuple[str | None, datetime | None]] = [("DENIED", None), ("DENIED", SENT)]
    assert outcomes(rows, {"denied": outcome}) == [outcome, outcome]


def test_restating_the_default_read_from_json_keeps_the_internal_denial_rule() -> None:
    mapping = json.loads('{"DENIED": "declined"}')
    assert outcomes([("DENIED", None), ("DENIED", SENT)], mapping) == ["draft", "declined"]


def test_only_denied_depends_on_whether_the_offer_was_sent() -> None:
    statuses = [s for s, *_ in DEFAULT_TABLE if s is not None and s.upper() != "DENIED"]
    sent = outcomes([(status, SENT) for status in statuses])
    assert outcomes([(status, None) for status in statuses]) == sent
