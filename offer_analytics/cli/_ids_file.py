"""``fetch --ids-file``: which offers to fetch, one per line.

A line is an offer id, or ``label,id`` (also ``label id`` or tab-separated) when several
connectors are configured: an offer id belongs to one ATS. Blank lines and ``#`` comments are
skipped.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from offer_analytics.errors import ConfigurationError

__all__ = ["read_ids_file"]

_SEPARATOR = re.compile(r"[,\t ]+")


def read_ids_file(path: Path, labels: Sequence[str]) -> dict[str, list[str]]:
    """Offer ids per connector label.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     one = Path(folder, "ids.txt")
    ...     _ = one.write_text("# wanted\\nid-1\\n\\nid-2\\n")
    ...     many = Path(folder, "by-label.csv")
    ...     _ = many.write_text("acme,id-1\\nglobex id-2\\n")
    ...     read_ids_file(one, ["default"]), read_ids_file(many, ["acme", "globex"])
    ({'default': ['id-1', 'id-2']}, {'acme': ['id-1'], 'globex': ['id-2']})
    """
    ids: dict[str, list[str]] = {}
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            text = line.strip()
            if not text or text.startswith("#"):
                continue
            label, offer_id = _split(text, labels, f"{path}:{number}")
            ids.setdefault(label, []).append(offer_id)
    if not ids:
        raise ConfigurationError(f"{path} holds no offer id.")
    return ids


def _split(text: str, labels: Sequence[str], where: str) -> tuple[str, str]:
    parts = _SEPARATOR.split(text)
    if len(parts) == 1:
        if len(labels) > 1:
            msg = f"{where}: with several connectors, write each line as label,id."
            raise ConfigurationError(msg)
        return labels[0], parts[0]
    if len(parts) != 2:
        raise ConfigurationError(f"{where}: expected an id or label,id.")
    if parts[0] not in labels:
        msg = f"{where}: no connector {parts[0]!r} is configured ({', '.join(labels)})."
        raise ConfigurationError(msg)
    return parts[0], parts[1]
