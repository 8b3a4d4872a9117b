"""The watermark a sync stores: where the next incremental listing starts, in the server's clock.

The API filters ``modified_after`` against ``modified_at``, which Bindbee stamps with its own
clock. The loader's ``report.watermark`` is this machine's clock at the start of the load minus
the overlap; if this machine's clock runs ahead of the server's by more than the overlap, that
watermark lies after changes the load did not see (made while it ran, on pages already read), and
the next listing would skip them for good.

So the stored watermark is also bounded by what the server itself said. Let ``S`` be the server's
clock when the listing started. Two facts give times at or before ``S``, whatever this machine's
clock says:

- every ``modified_at`` already stored came from an earlier sync, which finished before this one
  started (the connector's lock orders them): each is <= ``S``;
- every ``modified_at`` loaded now was stamped before the response that carried it, so it is <=
  ``S + D``, where ``D`` is how long the load took, measured on this machine's monotonic clock
  (a duration needs no agreement between clocks): each minus ``D`` is <= ``S``.

The latest of those, ``B``, is <= ``S``; a change this sync missed was stamped after its listing
started (>= ``S``), so it is after ``B - overlap`` too, and the overlap still covers Bindbee's own
lag. The watermark stored is ``min(report.watermark, B - overlap)``: never later than before
this bound existed, and never after a missed change even when the clocks disagree by hours.
What it costs: on a quiet connector ``B`` is its newest offer's ``modified_at``, so the next
listing re-reads only the offers changed in the overlap before that (found unchanged), a page.

With nothing stored and nothing loaded there is no server time to go by: the watermark stays
where it was (``before``), or None when there was none, so that the next sync lists everything
again (an empty connector costs one request either way). A ``modified_at`` in the future (bad
data) only makes ``B`` useless, and the watermark is then the loader's, as before.
"""

from __future__ import annotations

from datetime import datetime, timedelta

__all__ = ["safe_watermark"]


def safe_watermark(
    *,
    local: datetime,
    before: datetime | None,
    newest_stored: datetime | None,
    newest_loaded: datetime | None,
    load_s: float,
    overlap: timedelta,
) -> datetime | None:
    """The watermark to store after a load, bounded by the server's own timestamps.

    Parameters
    ----------
    local
        The loader's ``report.watermark`` (this machine's clock at the start, minus ``overlap``).
    before
        The watermark this sync listed from (None: none).
    newest_stored, newest_loaded
        The latest ``modified_at`` stored before this load, and loaded by it (None: no rows).
    load_s
        How long the load took, by this machine's monotonic clock, from before its first
        request to after its last response.
    overlap
        The safety margin subtracted from the start.

    Examples
    --------
    >>> from datetime import UTC
    >>> t = lambda minute: datetime(2026, 1, 1, 12, minute, tzinfo=UTC)
    >>> # This machine runs 10 minutes ahead: its watermark (12:25) would skip 12:20's change.
    >>> safe_watermark(local=t(25), before=None, newest_stored=None, newest_loaded=t(19),
    ...                load_s=60.0, overlap=timedelta(minutes=5)).time()
    datetime.time(12, 13)
    >>> # This machine runs 10 minutes behind: its own watermark is the earlier one and stays.
    >>> safe_watermark(local=t(5), before=t(1), newest_stored=t(10), newest_loaded=t(19),
    ...                load_s=1.0, overlap=timedelta(minutes=5)).time()
    datetime.time(12, 5)
    """
    bounds = [stamp for stamp in (newest_stored,) if stamp is not None]
    if newest_loaded is not None:
        bounds.append(newest_loaded - timedelta(seconds=load_s))
    if not bounds:
        return before
    return min(local, max(bounds) - overlap)
