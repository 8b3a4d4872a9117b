"""Keeping a long load's resident memory close to the frame it builds.

A load decodes its pages chunk by chunk in a worker thread and keeps every chunk's rows until
the end. Two things made the resident set of a 1M-offer load grow to ~3x the frame
(bench/BENCHMARKS.md, "Peak memory"):

- The string columns of a decoded chunk pointed into the Arrow buffers that pyarrow's JSON reader
  allocated, in the same allocator pages as the reader's short-lived buffers: each kept chunk
  pinned pages of freed memory around it. :func:`owned_strings` copies them into compact buffers
  of Polars' own, so the reader's memory is freed whole and reused by the next chunk.
- glibc's ``malloc`` keeps freed memory in its heaps rather than returning it (and raises its
  mmap threshold after the first multi-MB buffer is freed, so the page bodies and the joined
  NDJSON of later chunks land in those heaps too). :func:`return_freed_memory` hands it back
  after each chunk; it costs ~0.05 ms.
"""

from __future__ import annotations

import ctypes
import ctypes.util
from collections.abc import Callable
from typing import Final

import polars as pl

__all__ = ["owned_strings", "return_freed_memory"]


def _malloc_trim() -> Callable[[int], int] | None:
    """glibc's ``malloc_trim``, or None where the C library has none (musl, macOS, Windows)."""
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        trim = ctypes.CDLL(name).malloc_trim
    except (OSError, AttributeError):
        return None
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    return trim


_TRIM: Final = _malloc_trim()


def return_freed_memory() -> None:
    """Give the C heap's free pages back to the system, where the C library can (glibc)."""
    if _TRIM is not None:
        _TRIM(0)


def owned_strings(frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` with its String columns copied into buffers of their own, values unchanged.

    Each value is written anew (concatenated with an empty string), whatever engine produced the
    column and however it is chunked: a gather would only copy the 16-byte views of a single-chunk
    column and keep the reader's data buffers alive. The Arrow buffers the column was read into
    (and everything they share pages with) can then be freed.

    Examples
    --------
    >>> import polars as pl
    >>> frame = pl.DataFrame({"id": ["o1", "offer-with-a-long-id", None], "n": [1, 2, 3]})
    >>> owned_strings(frame).equals(frame)
    True
    """
    strings = [name for name, dtype in frame.schema.items() if dtype == pl.String]
    if not strings or frame.height == 0:
        return frame
    return frame.with_columns(
        pl.concat_str(pl.col(name), pl.lit("")).alias(name) for name in strings
    )
