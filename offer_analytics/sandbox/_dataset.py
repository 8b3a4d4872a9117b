"""The offers the sandbox serves: per-connector indexes, page selection and JSON encoding.

A loader pushes hundreds of pages per second at the sandbox, so everything a page needs is
precomputed or cached: the position of every id, ``modified_at`` as integer microseconds, equality
indexes on ``remote_id``, ``application`` and ``creator`` (built on first use), the selected
positions of recent queries, and each offer's encoded JSON per ``include_*`` combination.

Offers are kept in creation order and a listing returns them in that order; the cursor names the
position of the last offer returned, so offers updated or appended mid-listing do not shift pages.
"""

from __future__ import annotations

import bisect
import json
import threading
import time
from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from offer_analytics.sandbox._expansion import expand_relation
from offer_analytics.sandbox._params import ExpandSpec, ListQuery, OfferQuery, parse_instant
from offer_analytics.sandbox._related import RelatedData

__all__ = ["OFFER_FIELDS", "ConnectorOffers", "ConnectorRecords", "format_modified_at"]

#: The fields of an offer as the API sends them.
OFFER_FIELDS: Final = (
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
)
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_NEVER: Final = -(2**62)  # modified_at missing or unreadable: never "modified after" anything
_INDEXED: Final = ("remote_id", "application", "creator")
_SELECTION_CACHE: Final = 256
_ENCODED_CACHE: Final = 250_000  # encoded offers kept per variant; bounds memory at 1M offers
_VARIANTS: Final = 6  # include/expand shapes cached at once


def _micros(value: object) -> int:
    if not isinstance(value, str):
        return _NEVER
    try:
        return (parse_instant(value) - _EPOCH) // timedelta(microseconds=1)
    except ValueError:
        return _NEVER


def format_modified_at(micros: int) -> str:
    """Format Unix microseconds the way Bindbee writes ``modified_at`` (milliseconds, ``Z``).

    Examples
    --------
    >>> format_modified_at(1_700_000_000_123_456)
    '2023-11-14T22:13:20.123Z'
    """
    instant = _EPOCH + timedelta(microseconds=micros)
    return instant.strftime("%Y-%m-%dT%H:%M:%S.") + f"{instant.microsecond // 1000:03d}Z"


def _copy_offer(offer: Mapping[str, Any]) -> dict[str, Any]:
    # One level deeper than dict(): custom_fields and raw_data are dicts a caller may mutate.
    return {k: dict(v) if isinstance(v, dict) else v for k, v in offer.items()}


class ConnectorOffers:
    """One connector's offers with the indexes that make pages cheap; thread-safe.

    Examples
    --------
    >>> from offer_analytics.sandbox._params import parse_list_query
    >>> data = ConnectorOffers([{"id": str(i), "remote_id": None, "modified_at": None}
    ...                         for i in range(5)])
    >>> positions, more = data.page(parse_list_query({"page_size": "2"}), after=-1)
    >>> list(positions), more
    ([0, 1], True)
    >>> data.page(parse_list_query({"ids": "4,2,x"}), after=-1)
    ([2, 4], False)
    """

    def __init__(
        self,
        offers: Iterable[Mapping[str, Any]],
        *,
        copy: bool = True,
        related: RelatedData | None = None,
    ) -> None:
        self._lock = threading.Lock()
        self._related = related
        self._offers: list[dict[str, Any]] = []
        self._modified: list[int] = []
        self._position: dict[str, int] = {}
        # Deleted offers keep their position (cursors name positions) but are never served.
        self._removed: set[int] = set()
        self._append(offers, copy=copy)
        self._indexes: dict[str, dict[object, list[int]]] = {}
        self._selections: OrderedDict[tuple[object, ...], Sequence[int]] = OrderedDict()
        self._encoded: dict[tuple[bool, bool, ExpandSpec], dict[int, bytes]] = {}

    def __len__(self) -> int:
        return len(self._offers) - len(self._removed)

    def _append(self, offers: Iterable[Mapping[str, Any]], *, copy: bool = True) -> None:
        # copy=False adopts the dicts as they are: for data nobody else holds (1M offers: -3 s).
        fresh = [_copy_offer(o) if copy or not isinstance(o, dict) else o for o in offers]
        seen: set[str] = set()
        for offer in fresh:  # validate all before changing anything
            offer_id = offer.get("id")
            if not isinstance(offer_id, str):
                raise ValueError(f"every offer needs a string id, got {offer_id!r}")
            if offer_id in self._position or offer_id in seen:
                raise ValueError(f"duplicate offer id {offer_id!r}")
            seen.add(offer_id)
        for offer in fresh:
            self._position[offer["id"]] = len(self._offers)
            self._offers.append(offer)
            self._modified.append(_micros(offer.get("modified_at")))

    def _changed(self) -> None:
        self._indexes.clear()
        self._selections.clear()

    # --- reading -------------------------------------------------------------------------

    def snapshot_ids(self) -> list[str]:
        """Every offer's id, in creation order."""
        with self._lock:
            return [o["id"] for o in self._offers]

    def snapshot(self) -> list[dict[str, Any]]:
        """A copy of every offer, in creation order."""
        with self._lock:
            removed = self._removed
            return [_copy_offer(o) for p, o in enumerate(self._offers) if p not in removed]

    def _index(self, field: str) -> dict[object, list[int]]:
        index = self._indexes.get(field)
        if index is None:
            index = {}
            for pos, offer in enumerate(self._offers):
                index.setdefault(offer.get(field), []).append(pos)
            self._indexes[field] = index
        return index

    def _select(self, query: ListQuery) -> Sequence[int]:
        key = query.filter_key()
        cached = self._selections.get(key)
        if cached is not None:
            self._selections.move_to_end(key)
            return cached
        equal = {f: getattr(query, f) for f in _INDEXED if getattr(query, f) is not None}
        candidates: Sequence[int]
        if query.ids is not None:
            candidates = sorted({self._position[i] for i in query.ids if i in self._position})
        elif equal:
            field = next(iter(equal))
            candidates = self._index(field).get(equal.pop(field), [])
        else:
            candidates = range(len(self._offers))
        after = query.modified_after_us
        if equal or after is not None or query.ids is not None or self._removed:
            offers, modified, removed = self._offers, self._modified, self._removed
            candidates = [
                p
                for p in candidates
                if (after is None or modified[p] > after)
                and p not in removed
                and all(offers[p].get(f) == v for f, v in equal.items())
            ]
        self._selections[key] = candidates
        if len(self._selections) > _SELECTION_CACHE:
            self._selections.popitem(last=False)
        return candidates

    def page(self, query: ListQuery, *, after: int) -> tuple[list[int], bool]:
        """Positions of the page that follows position ``after``, and whether more follow."""
        with self._lock:
            selected = self._select(query)
            start = bisect.bisect_right(selected, after)
            stop = start + query.page_size
            return list(selected[start:stop]), stop < len(selected)

    def find(self, offer_id: str) -> int | None:
        """The position of ``offer_id``, or None."""
        return self._position.get(offer_id)

    def encode(self, positions: Sequence[int], query: OfferQuery) -> list[bytes]:
        """The JSON of each offer at ``positions``, shaped by the query's include/expand options."""
        cf, rd = query.include_custom_fields, query.include_raw_data
        with self._lock:
            # Related objects never change, so expanded offers are cached like the others; a
            # few shapes are kept (a client asks for one or two), more start the caches afresh.
            if (cf, rd, query.expand) not in self._encoded and len(self._encoded) >= _VARIANTS:
                self._encoded.clear()
            cache = self._encoded.setdefault((cf, rd, query.expand), {})
            out = []
            for p in positions:
                body = cache.get(p)
                if body is None:
                    body = self._dump(self._offers[p], cf, rd, query.expand)
                    if len(cache) >= _ENCODED_CACHE:
                        cache.clear()
                    cache[p] = body
                out.append(body)
            return out

    def _dump(self, offer: dict[str, Any], cf: bool, rd: bool, expand: ExpandSpec) -> bytes:
        shaped = dict(offer)
        if not cf:
            shaped["custom_fields"] = None
        if not rd:
            shaped["raw_data"] = None
        for relation, fields in expand:
            shaped[relation] = expand_relation(relation, offer.get(relation), fields, self._related)
        return json.dumps(shaped, separators=(",", ":")).encode()

    # --- changing --------------------------------------------------------------------------

    def update(
        self, offer_id: str, fields: Mapping[str, Any], *, now: float | None = None
    ) -> dict[str, Any]:
        """Change fields of one offer and advance its ``modified_at`` to ``now``; return a copy."""
        settable = self._settable()
        bad = sorted((set(fields) - set(settable)) | ({"id"} & set(fields)))
        if bad:
            raise ValueError(
                f"cannot set {', '.join(bad)}; settable: "
                f"{', '.join(f for f in settable if f != 'id')}"
            )
        with self._lock:
            pos = self._position.get(offer_id)
            if pos is None:
                raise KeyError(f"no offer with id {offer_id!r}")
            offer = self._offers[pos]
            offer.update(_copy_offer(fields))
            if "modified_at" not in fields:
                stamp = int((time.time() if now is None else now) * 1_000_000) // 1000 * 1000
                # Strictly later than before, so the change is seen by modified_after.
                offer["modified_at"] = format_modified_at(max(stamp, self._modified[pos] + 1000))
            self._modified[pos] = _micros(offer["modified_at"])
            for cache in self._encoded.values():
                cache.pop(pos, None)
            self._changed()
            return _copy_offer(offer)

    def _settable(self) -> tuple[str, ...]:
        return OFFER_FIELDS

    def remove(self, offer_ids: Sequence[str]) -> None:
        """Delete offers: they are no longer listed nor found (all ids checked first)."""
        with self._lock:
            unknown = [i for i in offer_ids if i not in self._position]
            if unknown:
                raise KeyError(f"no offer with id {unknown[0]!r}")
            for offer_id in offer_ids:
                self._removed.add(self._position.pop(offer_id))
            self._changed()

    def add(self, offers: Sequence[Mapping[str, Any]], *, now: float | None = None) -> None:
        """Append offers (newest in creation order), each with ``modified_at`` set to ``now``."""
        stamp = format_modified_at(int((time.time() if now is None else now) * 1000) * 1000)
        with self._lock:
            self._append({**o, "modified_at": stamp} for o in offers)
            self._changed()


class ConnectorRecords(ConnectorOffers):
    """One connector's objects of a related resource (jobs, users, ...), served as they are.

    Listing, ``ids``, ``modified_after`` and cursors work as for offers; the offers' include and
    expand options do not apply to these objects and are ignored.

    Examples
    --------
    >>> from offer_analytics.sandbox._params import parse_list_query, parse_offer_query
    >>> jobs = ConnectorRecords([{"id": "j1", "name": "Engineer", "modified_at": None}])
    >>> jobs.encode([0], parse_offer_query({"include_raw_data": "true"}))
    [b'{"id":"j1","name":"Engineer","modified_at":null}']
    """

    def _dump(self, offer: dict[str, Any], cf: bool, rd: bool, expand: ExpandSpec) -> bytes:
        return json.dumps(offer, separators=(",", ":")).encode()

    def _settable(self) -> tuple[str, ...]:
        # Every object of a resource has the same fields: those of any of them.
        with self._lock:
            return tuple(self._offers[0]) if self._offers else ()
