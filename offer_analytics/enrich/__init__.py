"""Where offers come from: their job, department, office and recruiter.

An offer names only its application and creator. Bindbee lists the rest (applications, jobs,
departments, offices, users) in the offers' page shape; the loader fetches the objects a set of
offers needs (``load_offers(enrich=True)``), and this package types and joins them:

- :func:`enrich_offers`: the offers frame plus ``job``, ``department``, ``departments``,
  ``office``, ``recruiter`` and their ids, from :class:`RelatedTables`.
- :class:`RelatedTables`: the five related tables, each with its exact schema
  (:data:`RELATED_SCHEMAS`); :data:`ENRICHED_SCHEMA` is what enrichment adds.

The parts, one private module each: ``_schemas`` (every table's exact types and paths),
``_decode`` (list pages -> a typed table), ``_tables`` (the five tables together), ``_join``
(the ids each stage needs, and the join).
"""

from offer_analytics.enrich._decode import decode_related, expanded_applications
from offer_analytics.enrich._join import ENRICHED_COLUMNS, enrich_offers, needed_ids
from offer_analytics.enrich._schemas import (
    ENRICHED_SCHEMA,
    RELATED_PATHS,
    RELATED_SCHEMAS,
    RESOURCES,
)
from offer_analytics.enrich._tables import RelatedTables

__all__ = [
    "ENRICHED_COLUMNS",
    "ENRICHED_SCHEMA",
    "RELATED_PATHS",
    "RELATED_SCHEMAS",
    "RESOURCES",
    "RelatedTables",
    "decode_related",
    "enrich_offers",
    "expanded_applications",
    "needed_ids",
]
