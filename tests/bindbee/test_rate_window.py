"""What the headers show over time: the window's length and the client's clock lead."""

from __future__ import annotations

import pytest

from offer_analytics.bindbee._rate_window import ClockLead, WindowLength


def test_the_first_step_between_resets_replaces_a_configured_window_that_was_too_short() -> None:
    window = WindowLength(1.0)
    window.observe(reset=1_700_000_006.0, policy_s=None)
    window.observe(reset=1_700_000_012.0, policy_s=None)
    assert (window.seconds, window.learned) == (6.0, True)


def test_a_step_over_windows_skipped_while_idle_after_the_length_is_known_changes_nothing() -> None:
    window = WindowLength(60.0)
    for reset in (1_700_000_006.0, 1_700_000_012.0, 1_700_000_030.0):
        window.observe(reset=reset, policy_s=None)
    assert window.seconds == 6.0


def test_a_repeated_or_earlier_reset_teaches_nothing() -> None:
    window = WindowLength(60.0)
    # The same window twice, then a late answer about the window before it, then the next one:
    # only the step from the latest Reset seen counts.
    for reset in (1_700_000_012.0, 1_700_000_012.0, 1_700_000_006.0, 1_700_000_018.0):
        window.observe(reset=reset, policy_s=None)
    assert window.seconds == 6.0


def test_a_policy_window_wins_over_the_steps_between_resets() -> None:
    window = WindowLength(60.0)
    window.observe(reset=1_700_000_006.0, policy_s=10.0)
    window.observe(reset=1_700_000_012.0, policy_s=None)
    assert (window.seconds, window.learned) == (10.0, True)


def test_a_request_sent_before_reset_shows_no_clock_lead() -> None:
    lead = ClockLead()
    lead.observe(sent_wall=99.5, reset=100.0, cap_s=60.0)
    assert lead.seconds == 0.0


def test_a_clock_lead_is_never_taken_for_more_than_the_cap() -> None:
    lead = ClockLead()
    lead.observe(sent_wall=1_000.0, reset=100.0, cap_s=6.0)
    assert lead.seconds == 6.0


def test_the_observations_are_taken_by_keyword_only() -> None:
    with pytest.raises(TypeError):
        ClockLead().observe(101.0, 100.0, 60.0)  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        WindowLength(60.0).observe(1_700_000_006.0, None)  # type: ignore[call-arg]


def test_the_step_between_resets_is_their_difference_however_far_apart() -> None:
    window = WindowLength(60.0)
    window.observe(reset=1_700_000_000.0, policy_s=None)
    window.observe(reset=3_500_000_000.0, policy_s=None)  # more than twice the first
    assert window.seconds == 1_800_000_000.0


def test_a_shorter_step_after_an_idle_first_one_is_the_window() -> None:
    window = WindowLength(60.0)
    # The first step spans two windows (idle between them); the next one is a single window:
    # steps count between consecutive Resets, and the shortest is the length.
    for reset in (1_700_000_006.0, 1_700_000_018.0, 1_700_000_024.0):
        window.observe(reset=reset, policy_s=None)
    assert (window.seconds, window.learned) == (6.0, True)
