"""Redactor: removes the API key and connector tokens from text the server or httpx wrote.

Error bodies and transport errors are quoted in our messages, and a server may echo a token
back. Scrubbing them with a loop over the secrets would put each secret in a local variable of a
function that runs on server input, where traceback tools that record locals (Sentry, ``rich``
with ``show_locals``) would read it. The secrets live instead in one compiled pattern, sealed,
so no frame ever holds one in a plain local.
"""

from __future__ import annotations

import re

from offer_analytics.bindbee._credentials import Sealed

__all__ = ["Redactor"]

_NOTHING = re.compile(r"(?!)")  # matches nowhere: no secret known yet


class Redactor:
    """Replaces every known secret in a text with ``***``; its ``repr`` shows none of them.

    Examples
    --------
    >>> redact = Redactor(["tok-123"])
    >>> redact("token tok-123 is not allowed")
    'token *** is not allowed'
    >>> redact
    Redactor(1 secret)
    """

    __slots__ = ("__pattern", "__secrets")

    def __init__(self, secrets: list[str] | None = None) -> None:
        self.__secrets: Sealed[frozenset[str]] = Sealed(frozenset())
        self.__pattern: Sealed[re.Pattern[str]] = Sealed(_NOTHING)
        for secret in secrets or ():
            self.add(secret)
        del secrets

    def __repr__(self) -> str:
        count = len(self.__secrets.open())
        return f"Redactor({count} secret{'' if count == 1 else 's'})"

    def add(self, secret: str) -> None:
        """Redact ``secret`` too (blank strings are ignored)."""
        if not secret or secret in self.__secrets.open():
            return
        self.__secrets = Sealed(self.__secrets.open() | {secret})
        # Longest first, so that a secret containing another is replaced whole.
        ordered = sorted(self.__secrets.open(), key=len, reverse=True)
        self.__pattern = Sealed(re.compile("|".join(map(re.escape, ordered))))
        del secret, ordered

    def __call__(self, text: str) -> str:
        """``text`` with every secret replaced by ``***``."""
        return self.__pattern.open().sub("***", text)
