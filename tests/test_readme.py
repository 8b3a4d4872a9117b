"""The README's two commands are the ones CI and users actually run."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]


def _last_command(script: str) -> str:
    lines = [line for line in script.splitlines() if line.strip() and not line.startswith("#")]
    return lines[-1].strip()


def test_ci_runs_exactly_the_readme_test_command() -> None:
    command = _last_command((ROOT / ".ci" / "run").read_text(encoding="utf-8"))
    assert command.startswith("uv run --locked")
    assert f"\n{command}\n" in (ROOT / "README.md").read_text(encoding="utf-8")


def test_readme_python_example_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.DOTALL)
    assert blocks, "the README should show the package in Python"
    monkeypatch.chdir(tmp_path)
    for block in blocks:
        exec(compile(block, "README.md", "exec"), {"__name__": "readme"})
    assert (tmp_path / "offer_report.html").stat().st_size > 100_000
