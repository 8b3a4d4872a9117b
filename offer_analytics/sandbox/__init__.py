"""A local, Bindbee-compatible offers API and the synthetic data it serves.

- :func:`generate_offers`: seeded, API-shaped, realistically messy offers per connector.
- :func:`generate_related`: the applications, jobs, departments, offices and users the offers
  lead to (:class:`RelatedData`, whose ``resolve`` is the ground truth of enrichment).
- :class:`SandboxServer`: serves them over HTTP on a loopback port (both offers endpoints, auth,
  cursors, filters, ``include_*``, ``expand``, the rate limit), optionally with seeded
  :class:`Faults`; records every request as a :class:`RequestRecord`.
- ``offer-analytics serve`` runs the same server from the command line.
"""

from offer_analytics.sandbox._faults import Faults
from offer_analytics.sandbox._gateway import RequestRecord
from offer_analytics.sandbox._generator import (
    CONNECTOR_LABELS,
    GeneratorRates,
    generate_offers,
)
from offer_analytics.sandbox._related import RelatedData, RelatedRates, generate_related
from offer_analytics.sandbox._server import SandboxServer

__all__ = [
    "CONNECTOR_LABELS",
    "Faults",
    "GeneratorRates",
    "RelatedData",
    "RelatedRates",
    "RequestRecord",
    "SandboxServer",
    "generate_offers",
    "generate_related",
]
