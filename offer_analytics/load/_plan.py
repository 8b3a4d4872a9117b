"""LoadPlan: a load's arguments, checked and resolved before any request is sent.

Everything a load needs to know that does not change while it runs lives in one frozen object:
which connectors, listing or ids, the query parameters, the page size and how pages decode. A
mistake (a bad filter combination, an unknown ``expand`` name, a bad outcome mapping) raises
:class:`~offer_analytics.errors.ConfigurationError` while building it, so that it costs no request
and no rate budget.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import partial

import polars as pl

from offer_analytics.bindbee._credentials import Connector
from offer_analytics.decode import DecodeStats, decode_pages
from offer_analytics.errors import ConfigurationError
from offer_analytics.load._arguments import ids_by_connector, modified_after_param
from offer_analytics.load._deadline import DeadlineArg, check_deadline
from offer_analytics.load._job import IdsArg, ListingFilters
from offer_analytics.schema import split_expand

#: What enrichment asks the offers pages to expand: the application's id and job, nothing more.
ENRICH_EXPAND = "application[id,job]"

__all__ = ["ENRICH_EXPAND", "ConnectorDecode", "LoadPlan", "plan_load"]

#: Page bodies of one connector -> (frame, stats); ``connector=`` names the label.
ConnectorDecode = Callable[..., tuple[pl.DataFrame, DecodeStats]]


@dataclass(frozen=True, kw_only=True)
class LoadPlan:
    """What one load fetches and how it decodes it.

    Attributes
    ----------
    connectors
        The connectors, in the order their rows appear in the frame.
    ids
        Label -> distinct ids to fetch, or None for a listing.
    params
        Query parameters of every request (filters, include flags, expand).
    page_size
        Offers per listing page.
    decode
        Page bodies -> (frame, stats), given ``connector=label``.
    keep_partial
        Return what was loaded when pages still fail after every retry, instead of raising.
    deadline_s
        The load's deadline: seconds, None, or ``"auto"`` (follows the work; see
        :mod:`offer_analytics.load._deadline`).
    enrich
        Add each offer's job, department, office and recruiter after loading.
    drop_after_enrich
        Columns the plan added for enrichment only (the expanded application), dropped from
        the frame once enriched.
    """

    connectors: tuple[Connector, ...]
    ids: Mapping[str, Sequence[str]] | None
    params: Mapping[str, str]
    page_size: int
    decode: ConnectorDecode
    keep_partial: bool
    deadline_s: DeadlineArg = "auto"
    enrich: bool = False
    drop_after_enrich: tuple[str, ...] = ()

    def fetches(self, label: str) -> bool:
        """Whether the load requests anything of this connector."""
        return self.ids is None or label in self.ids


def plan_load(
    connectors: Sequence[Connector],
    *,
    ids: IdsArg | None,
    remote_id: str | None,
    application: str | None,
    creator: str | None,
    modified_after: datetime | date | str | None,
    include_custom_fields: bool,
    include_raw_data: bool,
    expand: Sequence[str] | str,
    page_size: int,
    keep_partial: bool,
    strict: bool,
    outcome_mapping: Mapping[str, str] | None,
    deadline_s: DeadlineArg = "auto",
    enrich: bool = False,
) -> LoadPlan:
    """Check a load's arguments and resolve them into a :class:`LoadPlan`.

    Raises
    ------
    ConfigurationError
        ``page_size`` out of 1..200, filters together with ids, ids that do not fit the
        connectors, an unknown ``expand`` name, a bad ``outcome_mapping`` or ``deadline_s``.

    Examples
    --------
    >>> plan = plan_load([Connector("acme", "t")], ids=["o1", "o1", "o2"], remote_id=None,
    ...     application=None, creator=None, modified_after=None, include_custom_fields=False,
    ...     include_raw_data=False, expand="creator", page_size=200, keep_partial=False,
    ...     strict=False, outcome_mapping=None)
    >>> plan.ids, plan.params
    ({'acme': ['o1', 'o2']}, {'expand': 'creator'})
    """
    if not 1 <= page_size <= 200:
        raise ConfigurationError("page_size must be between 1 and 200.")
    deadline_s = check_deadline(deadline_s)
    filters = ListingFilters(
        remote_id=remote_id,
        application=application,
        creator=creator,
        modified_after=modified_after_param(modified_after),
    )
    by_connector = None
    if ids is not None:
        if filters.any():
            raise ConfigurationError("Filters apply to listings; with ids= pass no filters.")
        by_connector = ids_by_connector(ids, connectors)
    relations = split_expand(expand)
    hidden: tuple[str, ...] = ()
    if enrich and not any(r.split("[")[0] == "application" for r in relations):
        # Each offer's application (and so its job id) rides along on the offers' own pages:
        # the applications then cost no request of their own.
        relations, hidden = (*relations, ENRICH_EXPAND), ("application_data",)
    decode = partial(
        decode_pages,
        include_custom_fields=include_custom_fields,
        include_raw_data=include_raw_data,
        expand=relations,
        strict=strict,
        outcome_mapping=outcome_mapping,
    )
    decode([], connector="default")  # unknown expand names or a bad mapping fail before any request
    params = filters.params(
        include_custom_fields=include_custom_fields,
        include_raw_data=include_raw_data,
        expand=relations,
    )
    return LoadPlan(
        connectors=tuple(connectors),
        ids=by_connector,
        params=params,
        page_size=page_size,
        decode=decode,
        keep_partial=keep_partial,
        deadline_s=deadline_s,
        enrich=enrich,
        drop_after_enrich=hidden,
    )
