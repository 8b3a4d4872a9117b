"""Which tests can see a mutant: per-line coverage of the target's tests, recorded once per run.

A mutant changes one statement. Only the tests that execute that statement can fail because of
it, so each mutant runs just those (``choose``), not the target's whole test set. Coverage is
recorded once, with each test's node id as coverage's dynamic context (``build``).

Statements that run at import (module constants, decorators, default values) are recorded
outside any test: a mutant there runs the whole test set. A statement no test executes cannot
fail any test, so its mutant survives without a run. Because a session-scoped fixture's work is
credited to the first test that asked for it, a selection can miss a test that would have
failed: survivors are therefore always tested again against the whole set
(``tools/mutation.py --rerun``) before they are counted.
"""

from __future__ import annotations

import ast
import difflib
import json
from pathlib import Path
from typing import Any


def _statement_starts(source: str) -> dict[int, int]:
    """Line -> first line of the innermost statement that contains it."""
    starts: dict[int, tuple[int, int]] = {}  # line -> (span length, first line)
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.stmt):
            end = node.end_lineno or node.lineno
            for line in range(node.lineno, end + 1):
                span = end - node.lineno
                if line not in starts or span < starts[line][0]:
                    starts[line] = (span, node.lineno)
    return {line: first for line, (_, first) in starts.items()}


def build(work: Path, data_file: Path, modules: list[str], out: Path) -> dict[str, int]:
    """Write the selection file from a coverage data file; return covered lines per module."""
    from coverage import CoverageData

    data = CoverageData(basename=str(data_file))
    data.read()
    selection: dict[str, Any] = {}
    covered: dict[str, int] = {}
    for module in modules:
        path = work / module
        by_line = data.contexts_by_lineno(str(path))
        source = path.read_text()
        selection[module] = {
            "pristine": source,
            "starts": _statement_starts(source),
            "tests": {str(line): sorted(c for c in ctx if c) for line, ctx in by_line.items()},
            "at_import": sorted(line for line, ctx in by_line.items() if "" in ctx),
        }
        covered[module] = len(by_line)
    out.write_text(json.dumps(selection))
    return covered


def _changed_lines(pristine: str, current: str) -> set[int]:
    """Lines (1-based, in the pristine text) that the current text replaces or deletes."""
    matcher = difflib.SequenceMatcher(a=pristine.splitlines(), b=current.splitlines())
    changed: set[int] = set()
    for tag, first, last, _, _ in matcher.get_opcodes():
        if tag != "equal":
            changed.update(range(first + 1, max(last, first + 1) + 1))
    return changed


def choose(work: Path, selection_file: Path) -> list[str] | None:
    """The node ids to run for the mutant now on disk; None means the whole test set."""
    selection: dict[str, Any] = json.loads(selection_file.read_text())
    chosen: set[str] = set()
    for module, entry in selection.items():
        current = (work / module).read_text()
        if current == entry["pristine"]:
            continue
        for line in _changed_lines(entry["pristine"], current):
            first = entry["starts"].get(str(line), line)
            if first in entry["at_import"] or line in entry["at_import"]:
                return None
            for key in {str(line), str(first)}:
                chosen.update(entry["tests"].get(key, []))
    # Node ids of parametrized tests carry their parameters; pytest accepts them verbatim.
    return sorted(chosen)
