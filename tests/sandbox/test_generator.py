"""The synthetic generator: deterministic, API-shaped, realistic, messy in documented ways."""

from __future__ import annotations

import collections
import re
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest

from offer_analytics.sandbox import GeneratorRates, generate_offers
from offer_analytics.sandbox._sample import sample_jsonl

FIELDS = {
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
    "custom_fields",
    "raw_data",
}
ISO = re.compile(r"^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})?)?$")


@pytest.fixture(scope="module")
def offers() -> list[dict[str, object]]:
    data = generate_offers(30_000, connectors=3, seed=7)
    return [o for records in data.values() for o in records]


def _instant(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def test_same_seed_same_offers_other_seed_other_offers() -> None:
    assert generate_offers(500, connectors=2, seed=3) == generate_offers(500, connectors=2, seed=3)
    assert generate_offers(500, seed=3) != generate_offers(500, seed=4)


def test_sizes_labels_and_unique_ids() -> None:
    data = generate_offers(1_001, connectors=3, seed=1)
    assert list(data) == ["acme", "globex", "initech"]
    assert [len(v) for v in data.values()] == [334, 334, 333]
    ids = [o["id"] for v in data.values() for o in v]
    assert len(set(ids)) == len(ids)
    assert list(generate_offers(5)) == ["default"]
    assert generate_offers(0) == {"default": []}


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n": -1}, "n must be"),
        ({"n": 1, "connectors": 0}, "connectors"),
        ({"n": 1, "years": 0}, "years"),
    ],
)
def test_bad_arguments_raise(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        generate_offers(**kwargs)


def test_every_offer_has_exactly_the_api_fields(offers: list[dict[str, object]]) -> None:
    for offer in offers:
        assert set(offer) == FIELDS
        assert isinstance(offer["id"], str)
        assert isinstance(offer["custom_fields"], dict)
        assert isinstance(offer["raw_data"], dict)
        assert str(offer["modified_at"]).endswith("Z")


def test_timestamp_shapes_are_mixed_and_mostly_valid(offers: list[dict[str, object]]) -> None:
    shapes: collections.Counter[str] = collections.Counter()
    invalid = 0
    for offer in offers:
        for field in ("remote_created_at", "sent_at", "closed_at", "start_date"):
            value = offer[field]
            if value is None:
                continue
            assert isinstance(value, str)
            if not ISO.match(value):
                invalid += 1
                continue
            if "T" not in value:
                shapes["date"] += 1
            elif value.endswith("Z"):
                shapes["fraction" if "." in value else "z"] += 1
            elif re.search(r"[+-]\d{2}:\d{2}$", value):
                shapes["offset"] += 1
            else:
                shapes["naive"] += 1
    assert set(shapes) == {"date", "z", "fraction", "offset", "naive"}
    assert all(count > 100 for count in shapes.values()), shapes
    assert 0 < invalid < 0.002 * len(offers) * 4


def test_statuses_are_realistic(offers: list[dict[str, object]]) -> None:
    status = collections.Counter(o["status"] for o in offers)
    signed = status["SIGNED"] + status["ACCEPTED"] + status["HIRED"] + status["signed"]
    declined = status["DENIED"] + status["DECLINED"] + status["REJECTED"]
    assert 0.75 < signed / (signed + declined) < 0.85
    for value in ("DRAFT", "APPROVAL-SENT", "APPROVED", "SENT", "OPENED", "DEPRECATED"):
        assert status[value] > 0, value
    for rare in ("ACCEPTED", "HIRED", "DECLINED", "REJECTED", "EXTENDED", None):
        assert 0 < status[rare] < 0.03 * len(offers), rare
    drafts = [o for o in offers if o["status"] in {"DRAFT", "APPROVAL-SENT", "APPROVED"}]
    assert all(o["sent_at"] is None and o["closed_at"] is None for o in drafts)
    assert any(o["status"] == "DENIED" and o["sent_at"] is None for o in offers)


def test_superseded_versions_share_an_application_with_a_later_offer(
    offers: list[dict[str, object]],
) -> None:
    by_app: dict[object, list[object]] = collections.defaultdict(list)
    for offer in offers:
        if offer["application"] is not None:
            by_app[offer["application"]].append(offer["status"])
    multi = [statuses for statuses in by_app.values() if len(statuses) > 1]
    assert len(multi) > 0.03 * len(by_app)
    assert all(statuses[-1] != "DEPRECATED" for statuses in multi)


def test_close_times_and_start_dates_look_like_hiring(offers: list[dict[str, object]]) -> None:
    days = []
    weekdays: collections.Counter[int] = collections.Counter()
    leads = []
    for offer in offers:
        sent, closed, start = offer["sent_at"], offer["closed_at"], offer["start_date"]
        if not (isinstance(sent, str) and isinstance(closed, str)):
            continue
        if not (ISO.match(sent) and ISO.match(closed)) or "T" not in sent + closed:
            continue
        try:
            d = (_instant(closed) - _instant(sent)).total_seconds() / 86_400
        except (ValueError, TypeError):
            continue
        days.append(d)
        if offer["status"] == "SIGNED" and isinstance(start, str) and len(start) == 10:
            start_day = date.fromisoformat(start)
            weekdays[start_day.weekday()] += 1
            leads.append((start_day - _instant(closed).date()).days)
    days.sort()
    positive = [d for d in days if d >= 0]
    assert 1 <= positive[len(positive) // 2] <= 5  # median ~3 days
    assert sum(1 for d in positive if d <= 14) / len(positive) > 0.85
    assert max(positive) > 30  # a long tail
    assert 0 < sum(1 for d in days if d < 0) < 0.01 * len(days)  # closed before sent, rarely
    assert weekdays[0] / sum(weekdays.values()) > 0.8  # Mondays
    leads.sort()
    assert 14 <= leads[len(leads) // 2] <= 56


def test_start_date_with_offset_keeps_the_calendar_day() -> None:
    data = generate_offers(
        5_000, seed=11, rates=GeneratorRates(start_on_monday=1.0, start_before_close=0)
    )
    with_offset = [
        o["start_date"]
        for o in data["default"]
        if isinstance(o["start_date"], str) and "T" in o["start_date"]
    ]
    assert with_offset
    assert all(str(s)[11:19] == "00:00:00" for s in with_offset)
    assert all(date.fromisoformat(str(s)[:10]).weekday() == 0 for s in with_offset)


def test_sample_file_equals_the_generator_output() -> None:
    path = Path(__file__).parents[2] / "data" / "sample_offers.jsonl"
    assert path.read_text(encoding="utf-8") == sample_jsonl(), (
        "data/sample_offers.jsonl is stale: regenerate it with "
        "`uv run python -m offer_analytics.sandbox._sample > data/sample_offers.jsonl`"
    )
