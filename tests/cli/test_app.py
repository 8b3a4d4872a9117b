"""The command line as a whole: help that documents the exit codes, `python -m`, the version."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from offer_analytics import __version__
from offer_analytics.cli._exit import ExitCode
from tests.cli.conftest import Invoke

COMMANDS = ("demo", "fetch", "sync", "metrics", "report", "serve")
README = Path(__file__).parents[2] / "README.md"
CLI_PAGE = Path(__file__).parents[2] / "docs" / "cli.md"


def test_python_dash_m_runs_the_command_line() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "offer_analytics", "--version"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"offer-analytics {__version__}"


def test_top_level_help_lists_every_command_and_starts_with_the_demo(invoke: Invoke) -> None:
    result = invoke("--help")
    assert result.exit_code == 0
    for command in COMMANDS:
        assert re.search(rf"^  {command}\b", result.stdout, flags=re.MULTILINE), command
    assert "offer-analytics demo" in result.stdout


@pytest.mark.parametrize("command", ["", *COMMANDS])
def test_every_help_documents_every_exit_code(command: str, invoke: Invoke) -> None:
    result = invoke(*([command] if command else []), "--help")
    assert result.exit_code == 0
    for code in ExitCode:
        assert re.search(rf"^ +{int(code)} +\w", result.stdout, flags=re.MULTILINE), code
    if command:
        assert f"offer-analytics {command}" in result.stdout  # an example to copy


def test_the_readme_starts_with_the_demo() -> None:
    first = re.search(r"```\w*\n(.*?)\n```", README.read_text("utf-8"), flags=re.DOTALL)
    assert first is not None
    assert first.group(1) == "uv run --locked offer-analytics demo"


def test_the_cli_page_documents_the_same_exit_codes() -> None:
    text = CLI_PAGE.read_text("utf-8")
    for code in ExitCode:
        assert re.search(rf"^\| {int(code)} \|", text, flags=re.MULTILINE), code


def test_an_unknown_command_is_a_usage_error(invoke: Invoke) -> None:
    result = invoke("export")
    assert result.exit_code == ExitCode.USAGE
    assert "No such command 'export'" in result.stderr
