"""A local, Bindbee-compatible offers API and the synthetic data it serves."""

from offer_analytics.sandbox.generator import (
    CONNECTOR_LABELS,
    DEFAULT_END,
    GeneratorRates,
    generate_offers,
)

__all__ = ["CONNECTOR_LABELS", "DEFAULT_END", "GeneratorRates", "generate_offers"]
