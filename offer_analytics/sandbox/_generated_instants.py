"""How the generator writes instants as text: the five shapes the offers API mixes.

Each connector has one dominant shape (``Z``, ``+hh:mm`` offset, fractional seconds or naive);
a share of values in every column takes another shape, and a few become impossible dates.
``modified_at`` is always written with fractional seconds, as Bindbee itself sets it.
"""

from __future__ import annotations

from typing import Any, Final

import numpy as np
import numpy.typing as npt

__all__ = ["SHAPES", "spoil_dates", "write_instants"]

SHAPES: Final = ("z", "offset", "fraction", "naive", "date")
_US_PER_DAY: Final = 86_400_000_000
_OFFSETS_MIN: Final = (-480, -300, -240, 0, 60, 120, 330, 540)
_IMPOSSIBLE: Final = ("2024-02-30T10:00:00Z", "2023-13-01", "0000-00-00T00:00:00Z", "not a date")

Array = npt.NDArray[Any]


def format_instants(
    micros: Array, present: Array, shape: Array, offset_min: Array
) -> list[str | None]:
    """Format UTC microsecond instants as ISO strings in the shape chosen per value."""
    out: Array = np.full(micros.shape[0], None, dtype=object)
    utc = micros.astype("datetime64[us]")
    for name in SHAPES:
        m = present & (shape == name)
        if not m.any():
            continue
        if name == "z":
            out[m] = np.char.add(np.datetime_as_string(utc[m], unit="s"), "Z")
        elif name == "fraction":
            out[m] = np.char.add(np.datetime_as_string(utc[m], unit="ms"), "Z")
        elif name == "naive":
            out[m] = np.datetime_as_string(utc[m], unit="s")
        elif name == "date":
            out[m] = np.datetime_as_string(utc[m], unit="D")
        else:  # local wall time plus its offset, e.g. 2024-03-01T14:00:00+02:00
            off = offset_min[m]
            local = (micros[m] + off.astype(np.int64) * 60_000_000).astype("datetime64[us]")
            sign = np.where(off < 0, "-", "+")
            hh = np.char.zfill((np.abs(off) // 60).astype(str), 2)
            mm = np.char.zfill((np.abs(off) % 60).astype(str), 2)
            suffix = np.char.add(np.char.add(np.char.add(sign, hh), ":"), mm)
            out[m] = np.char.add(np.datetime_as_string(local, unit="s"), suffix)
    result: list[str | None] = out.tolist()
    return result


def write_instants(
    rng: np.random.Generator,
    index: int,
    *,
    other_shape: float,
    null_created: float,
    created: Array,
    sent: tuple[Array, Array],
    closed: tuple[Array, Array],
    modified: Array,
    start: tuple[Array, Array],
) -> dict[str, list[str | None]]:
    """Write one connector's instants (UTC microseconds) as the API does.

    ``sent``, ``closed`` and ``start`` pair the values with whether each is present; ``start``
    holds days since the epoch. Draws from ``rng`` in a fixed order, so a seed gives the same text.
    """
    n = created.shape[0]

    def shapes() -> Array:
        drawn: Array = rng.choice(np.array(SHAPES, dtype=object), n)
        return drawn

    dominant = SHAPES[index % 4]  # date-only is never the dominant shape for instants
    shape: Array = np.full(n, dominant, dtype=object)
    other = rng.random(n) < other_shape
    shape[other] = shapes()[other]
    offsets = rng.choice(np.array(_OFFSETS_MIN, dtype=np.int64), n)

    def stamp(values: Array, present: Array) -> list[str | None]:
        per_value_shape = shape.copy()
        reshuffle = rng.random(n) < other_shape
        per_value_shape[reshuffle] = shapes()[reshuffle]
        return format_instants(values, present, per_value_shape, offsets)

    stamps = {
        "remote_created_at": stamp(created, np.asarray(rng.random(n) > null_created)),
        "sent_at": stamp(*sent),
        "closed_at": stamp(*closed),
        "modified_at": format_instants(
            modified, np.ones(n, dtype=bool), np.full(n, "fraction", dtype=object), offsets
        ),
    }
    start_day, has_start = start
    # start_date is a calendar date; some sources write it as a midnight timestamp with an offset.
    start_shape: Array = np.where(rng.random(n) < 0.9, "date", "offset").astype(object)
    # Written as local midnight of the start day, so the date as written is the intended one.
    start_local_midnight = start_day * _US_PER_DAY - np.where(
        start_shape == "offset", offsets * 60_000_000, 0
    )
    stamps["start_date"] = format_instants(start_local_midnight, has_start, start_shape, offsets)
    return stamps


def spoil_dates(rng: np.random.Generator, rate: float, columns: list[list[str | None]]) -> None:
    """Replace a share ``rate`` of written instants with impossible dates, as ATS exports have."""
    n = len(columns[0])
    bad = rng.random(n) < rate
    impossible = np.array(_IMPOSSIBLE, dtype=object)
    which = rng.integers(0, impossible.shape[0], n)
    for col in columns:
        for j in np.flatnonzero(bad).tolist():
            if col[j] is not None:
                col[j] = impossible[which[j]]
