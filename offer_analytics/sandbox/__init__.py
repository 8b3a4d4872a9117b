"""A local, Bindbee-compatible offers API and the synthetic data it serves."""

from offer_analytics.sandbox.faults import Faults
from offer_analytics.sandbox.gateway import RequestRecord
from offer_analytics.sandbox.generator import (
    CONNECTOR_LABELS,
    DEFAULT_END,
    GeneratorRates,
    generate_offers,
)
from offer_analytics.sandbox.server import SandboxServer

__all__ = [
    "CONNECTOR_LABELS",
    "DEFAULT_END",
    "Faults",
    "GeneratorRates",
    "RequestRecord",
    "SandboxServer",
    "generate_offers",
]
