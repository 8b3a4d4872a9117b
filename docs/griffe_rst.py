"""A griffe extension for the documentation site: reST idioms of the docstrings, as Markdown.

The package's docstrings follow numpy's style, which borrows two reST idioms that Markdown does
not know: roles (``:func:`name```) and definition lists (a term, its definition indented below).
mkdocstrings would print both as they are; this extension rewrites them when the docstrings are
loaded, for the site only (the source and ``help()`` keep reST).
"""

from __future__ import annotations

import re
from typing import Any

import griffe

# :func:`name`, :class:`~pkg.mod.Name` (the tilde shows the last part only), :mod:`pkg.mod`...
_ROLE = re.compile(r":(?:py:)?(?:func|class|meth|attr|mod|data|exc|obj|const):`(~?)([^`]+)`")
# A term on a line of its own followed by its definition indented by four spaces.
_DEFINITION = re.compile(r"^(\S[^\n]*)\n((?:    \S[^\n]*(?:\n|$))+)", flags=re.MULTILINE)


def _role(match: re.Match[str]) -> str:
    short, target = match[1], match[2]
    return f"`{target.rsplit('.', 1)[-1] if short else target}`"


def _definition(match: re.Match[str]) -> str:
    body = " ".join(line.strip() for line in match[2].splitlines())
    return f"- **{match[1].strip()}**: {body}\n"


def markdown(text: str, *, definitions: bool) -> str:
    """``text`` with roles as code spans and, if asked, definition lists as bullet lists.

    Examples
    --------
    >>> markdown("See :func:`~a.b.time_to_close` and :mod:`a.b`.", definitions=False)
    'See `time_to_close` and `a.b`.'
    >>> print(markdown("Intro:\\n\\nEvent\\n    The offer\\n    closed.\\n", definitions=True))
    Intro:
    <BLANKLINE>
    - **Event**: The offer closed.
    <BLANKLINE>
    """
    text = _ROLE.sub(_role, text)
    return _DEFINITION.sub(_definition, text) if definitions else text


class RstToMarkdown(griffe.Extension):
    """Rewrites every docstring once the package is loaded."""

    def on_object(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        if obj.docstring is not None:
            # Numpy sections of functions and classes indent their entries the same way:
            # only module docstrings hold free-standing definition lists.
            obj.docstring.value = markdown(obj.docstring.value, definitions=obj.is_module)
