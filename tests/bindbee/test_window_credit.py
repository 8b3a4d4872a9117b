"""The exact credit of a window: what the lowest Remaining leaves once the unsure are counted."""

from __future__ import annotations

import pytest

from offer_analytics.bindbee._window_credit import BlindAnswers, WindowCredit


def test_up_to_4096_answers_without_news_are_remembered() -> None:
    blind = BlindAnswers()
    for index in range(4_097):
        blind.add(settled_index=index, request=index)
    # The oldest fell out; every one of the last 4,096 is still there.
    assert blind.since(0) == set(range(1, 4_097))


def test_a_credit_records_take_keywords_only() -> None:
    with pytest.raises(TypeError):
        BlindAnswers().add(3, 7)  # type: ignore[call-arg]
    credit = WindowCredit(window=60.0, reset_at=60.0, remaining=10, unsure={1, 2})
    with pytest.raises(TypeError):
        credit.answered(1, 12, ())  # type: ignore[call-arg]
