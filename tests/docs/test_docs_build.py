"""The documentation site builds strictly: a broken link or an unrendered docstring fails."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

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
