"""The documentation site builds strictly: a broken link or an unrendered docstring fails."""

from __future__ import annotations

import doctest
import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

import offer_analytics as oa
import offer_analytics.errors
from offer_analytics.schema import OFFER_SCHEMA, OPTIONAL_COLUMNS

ROOT = Path(__file__).parents[2]


@pytest.mark.slow
def test_the_site_builds_strictly_and_offline(tmp_path: Path) -> None:
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    built = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert built.returncode == 0, built.stderr[-4000:]
    assert "WARNING" not in built.stderr, built.stderr[-4000:]
    reference = (tmp_path / "api" / "index.html").read_text(encoding="utf-8")
    assert "load_offers" in reference
    assert "SandboxServer" in reference
    metrics = (tmp_path / "metrics" / "index.html").read_text(encoding="utf-8")
    assert "Kaplan-Meier" in metrics
    assert "Wilson" in metrics
    # No page asks for a font or a script from the internet.
    for page in tmp_path.rglob("*.html"):
        assert "fonts.googleapis.com" not in page.read_text(encoding="utf-8"), page


def test_every_page_is_in_the_navigation() -> None:
    config = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    pages = sorted(p.name for p in (ROOT / "docs").glob("*.md"))
    assert [name for name in pages if f": {name}" not in config] == []


def _directives(*pages: str) -> set[str]:
    text = "\n".join((ROOT / "docs" / page).read_text(encoding="utf-8") for page in pages)
    return set(re.findall(r"^::: offer_analytics\.(\S+)", text, flags=re.MULTILINE))


def test_every_public_name_is_in_the_reference() -> None:
    documented = _directives("api.md", "metrics.md")
    api = (ROOT / "docs" / "api.md").read_text(encoding="utf-8")
    schema_members = set(re.findall(r"^ +- (\w+)$", api, flags=re.MULTILINE))
    errors = set(oa.errors.__all__) if "errors" in documented else set()
    missing = set(oa.__all__) - documented - schema_members - errors - {"__version__"}
    assert missing == set(), f"add these to docs/api.md: {sorted(missing)}"


def test_the_frame_page_lists_every_column_with_its_type() -> None:
    page = (ROOT / "docs" / "frame.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| `(\w+)` \| `([^`]+)`", page, flags=re.MULTILINE)
    expected = {**OFFER_SCHEMA, **dict.fromkeys(OPTIONAL_COLUMNS, pl.String())}
    assert [name for name, _ in rows] == list(expected)
    for name, written in rows:
        # The page writes dtypes as Polars spells them: String, Date, Datetime("us", "UTC").
        shown = pl.Enum if written == "Enum" else eval(f"pl.{written}", {"pl": pl})
        assert expected[name] == shown, f"{name}: the page says {written}"


def test_the_site_shows_rest_roles_and_definition_lists_as_markdown() -> None:
    spec = importlib.util.spec_from_file_location("griffe_rst", ROOT / "docs" / "griffe_rst.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert doctest.testmod(module).failed == 0
    # A numpy "Parameters" section indents like a definition list: only modules are rewritten.
    numpy = "Parameters\n----------\nframe\n    The offers.\n"
    assert module.markdown(numpy, definitions=False) == numpy
