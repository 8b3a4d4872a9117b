"""The ``expand`` parameter's grammar: relation names, each optionally picking fields."""

from __future__ import annotations

import re
from collections.abc import Sequence

from offer_analytics.errors import ConfigurationError

__all__ = ["split_expand"]

# A comma separates relations only outside brackets: "application[id,name],creator".
_SEPARATOR = re.compile(r",(?![^\[]*\])")


def split_expand(expand: Sequence[str] | str) -> tuple[str, ...]:
    """The relations to expand, from a sequence or the API's comma-separated text.

    ``application[id,name]`` picks fields of a relation, so only commas outside brackets
    separate names. Blank entries are dropped; names contain no spaces (the API's rule).

    Raises
    ------
    ConfigurationError
        A name contains a space.

    Examples
    --------
    >>> split_expand("application[id,name], creator")
    ('application[id,name]', 'creator')
    >>> split_expand(["creator"])
    ('creator',)
    """
    names = _SEPARATOR.split(expand) if isinstance(expand, str) else list(expand)
    stripped = tuple(name.strip() for name in names if name.strip())
    if any(" " in name for name in stripped):
        raise ConfigurationError(
            "expand names contain no spaces, e.g. ('application', 'creator[id,name]')."
        )
    return stripped
