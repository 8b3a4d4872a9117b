"""The README's test command is the one CI runs.

The README's code blocks themselves run in tests/docs/test_code_blocks.py, with every page of docs/.
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).parents[1]


def _last_command(script: str) -> str:
    lines = [line for line in script.splitlines() if line.strip() and not line.startswith("#")]
    return lines[-1].strip()


def test_ci_runs_exactly_the_readme_test_command() -> None:
    command = _last_command((ROOT / ".ci" / "run").read_text(encoding="utf-8"))
    assert command.startswith("uv run --locked")
    assert f"\n{command}\n" in (ROOT / "README.md").read_text(encoding="utf-8")
