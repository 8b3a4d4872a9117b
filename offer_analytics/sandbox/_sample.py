"""The shipped sample file ``data/sample_offers.jsonl``: how it is made, so a test can remake it."""

from __future__ import annotations

import json
from datetime import date
from typing import Final

from offer_analytics.sandbox._generator import generate_offers

__all__ = ["SAMPLE_CONNECTORS", "SAMPLE_END", "SAMPLE_SEED", "SAMPLE_SIZE", "sample_jsonl"]

SAMPLE_SIZE: Final = 2_000
SAMPLE_SEED: Final = 2026
SAMPLE_CONNECTORS: Final = 1
#: The sample is a file in the repository: its period is fixed, not "ending today".
SAMPLE_END: Final = date(2026, 10, 1)


def sample_jsonl() -> str:
    """Return the exact text of ``data/sample_offers.jsonl``: one API-shaped offer per line.

    Examples
    --------
    >>> text = sample_jsonl()
    >>> len(text.splitlines())
    2000
    """
    offers = generate_offers(
        SAMPLE_SIZE, connectors=SAMPLE_CONNECTORS, seed=SAMPLE_SEED, end=SAMPLE_END
    )
    lines = [
        json.dumps(offer, ensure_ascii=False, separators=(",", ":"))
        for records in offers.values()
        for offer in records
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":  # pragma: no cover - `python -m offer_analytics.sandbox._sample > file`
    import sys

    sys.stdout.write(sample_jsonl())
