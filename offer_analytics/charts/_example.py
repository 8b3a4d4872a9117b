"""The small offers frame the chart docstrings draw, kept here once instead of in every example."""

from __future__ import annotations

from datetime import UTC, date, datetime

import polars as pl

__all__ = ["example_offers"]


def example_offers() -> pl.DataFrame:
    """Three offers of connector ``acme``: one accepted, one declined, one still pending.

    All three were sent on 5, 6 and 7 January 2026; ``a`` was signed on 8 January and starts on
    2 February 2026, ``b`` was declined the day it was sent, ``c`` is still open.

    Examples
    --------
    >>> example_offers().select("id", "outcome").rows()
    [('a', 'accepted'), ('b', 'declined'), ('c', 'pending')]
    """
    sent = [datetime(2026, 1, d, tzinfo=UTC) for d in (5, 6, 7)]
    return pl.DataFrame(
        {
            "connector": "acme",
            "id": ["a", "b", "c"],
            "status": ["SIGNED", "DENIED", "SENT"],
            "outcome": ["accepted", "declined", "pending"],
            "sent_at": sent,
            "closed_at": [datetime(2026, 1, 8, tzinfo=UTC), sent[1], None],
            "remote_created_at": sent,
            "modified_at": sent,
            "start_date": [date(2026, 2, 2), None, None],
            "application": ["A", "B", "C"],
        }
    )
