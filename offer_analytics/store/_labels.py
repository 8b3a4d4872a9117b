"""Connector labels as path components, and the stable hash that assigns them to shards.

A label becomes a folder name (``offers/connector=<label>/``) that Hive-style readers (Polars,
DuckDB, pyarrow, Spark, Trino) parse back into a column. So a label must be one harmless path
component that every such reader gives back unchanged: no separator, no traversal, nothing those
readers hide (a leading ``.`` or ``_``) or decode (``%`` escapes, ``=``).
"""

from __future__ import annotations

import hashlib
import unicodedata
from collections.abc import Iterable
from typing import Final

from offer_analytics.errors import ConfigurationError

__all__ = ["check_labels", "in_shard", "shard_of", "validate_shard"]

_MAX_LENGTH: Final = 200
_FORBIDDEN: Final = frozenset('/\\=%:*?"<>|')


def _problem(label: object) -> str | None:
    if not isinstance(label, str) or not label:
        return "is empty or not a string"
    if len(label) > _MAX_LENGTH:
        return f"is longer than {_MAX_LENGTH} characters"
    if label[0] in "._":
        return "starts with '.' or '_' (readers skip such folders as hidden)"
    if label != label.strip() or label.endswith("."):
        return "starts or ends with a space, or ends with '.'"
    bad = sorted({c for c in label if c in _FORBIDDEN})
    if bad:
        return f"contains {' '.join(repr(c) for c in bad)}"
    if any(unicodedata.category(c).startswith("C") for c in label):
        return "contains a control character (NUL, newline, ...)"
    return None


def check_labels(labels: Iterable[str]) -> list[str]:
    """The labels, each checked to be safe as a folder name; two that differ only by case refused.

    Raises
    ------
    ConfigurationError
        Naming the first unsafe label and why.

    Examples
    --------
    >>> check_labels(["acme", "connector-7", "Société Générale"])
    ['acme', 'connector-7', 'Société Générale']
    >>> check_labels(["../etc"])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    offer_analytics.errors.ConfigurationError: Connector label '../etc' starts with '.' ...
    """
    checked: list[str] = []
    folded: dict[str, str] = {}
    for label in labels:
        problem = _problem(label)
        if problem is not None:
            raise ConfigurationError(
                f"Connector label {label!r} {problem}: labels become folder names in the "
                "dataset; use letters, digits, spaces, '-' and '_' (not first)."
            )
        twin = folded.setdefault(label.casefold(), label)
        if twin != label:
            raise ConfigurationError(
                f"Connector labels {twin!r} and {label!r} differ only by case: they would share "
                "one folder on case-insensitive file systems. Rename one."
            )
        checked.append(label)
    return checked


def validate_shard(shard: tuple[int, int] | None) -> tuple[int, int] | None:
    """``shard`` checked: ``(index, count)`` with ``0 <= index < count``.

    Examples
    --------
    >>> validate_shard((1, 4))
    (1, 4)
    """
    if shard is None:
        return None
    ok = (
        isinstance(shard, tuple)
        and len(shard) == 2
        and all(isinstance(x, int) and not isinstance(x, bool) for x in shard)
    )
    if not ok or not 0 <= shard[0] < shard[1]:
        raise ConfigurationError(
            f"shard must be (index, count) with 0 <= index < count, e.g. (0, 4); got {shard!r}."
        )
    return shard


def shard_of(label: str, count: int) -> int:
    """The shard (``0..count-1``) a label belongs to: the same in every process and release.

    Python's ``hash`` of a string changes from process to process; this is a SHA-256 of the
    label's UTF-8 bytes, so that independent workers agree on who syncs what.

    Examples
    --------
    >>> shard_of("acme", 4), shard_of("acme", 1)
    (0, 0)
    """
    digest = hashlib.sha256(label.encode()).digest()
    return int.from_bytes(digest[:8], "big") % count


def in_shard(labels: Iterable[str], shard: tuple[int, int] | None) -> list[str]:
    """The labels that shard ``(index, count)`` syncs (all of them without a shard).

    Examples
    --------
    >>> labels = ["acme", "globex", "initech", "umbrella"]
    >>> sorted(in_shard(labels, (0, 2)) + in_shard(labels, (1, 2))) == sorted(labels)
    True
    """
    if shard is None:
        return list(labels)
    index, count = shard
    return [label for label in labels if shard_of(label, count) == index]
