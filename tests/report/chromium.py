"""Opening an HTML report in headless Chromium: Debian's package, driven by playwright (which
never downloads a browser). Outside CI a missing Chromium skips the test; in CI it fails it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Page

CHROMIUM = Path("/usr/bin/chromium")
# Flags that keep Chromium from phoning home on its own, so every request seen is the page's.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def chromium_or_skip() -> None:
    """Return when Chromium is installed; else fail in CI and skip elsewhere."""
    if CHROMIUM.exists():
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI must install Chromium at {CHROMIUM} (apt-get install chromium)")
    pytest.skip(f"{CHROMIUM} is missing; install chromium to run the browser test")


@dataclass
class OpenedReport:
    """A report loaded in a page, with every request it made and every error it logged."""

    page: Page
    requests: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def charts(self) -> list[dict[str, Any]]:
        """Per chart: its element id, title, traces holding data and traces drawn in the SVG."""
        return cast(
            list[dict[str, Any]],
            self.page.evaluate(
                "[...document.querySelectorAll('.plotly-graph-div')].map(d => ({"
                " id: d.id, title: d.layout.title.text,"
                " filled: d.data.filter(t => (t.x || []).length && (t.y || []).length).length,"
                " traces: d.querySelectorAll('.main-svg .trace').length }))"
            ),
        )


@contextmanager
def opened_report(report: Path) -> Iterator[OpenedReport]:
    """``report`` open in a 1280x900 page, once Plotly has built every chart's SVG."""
    chromium_or_skip()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            opened = OpenedReport(browser.new_page(viewport={"width": 1280, "height": 900}))
            opened.page.on("request", lambda request: opened.requests.append(request.url))
            opened.page.on(
                "console", lambda m: opened.errors.append(m.text) if m.type == "error" else None
            )
            opened.page.on("pageerror", lambda error: opened.errors.append(str(error)))
            opened.page.goto(report.as_uri(), wait_until="load")
            # Built = Plotly made the chart's SVG; whether it drew anything is for the test to
            # check, so that a broken chart fails with its title instead of a time-out.
            opened.page.wait_for_function(
                "() => [...document.querySelectorAll('.plotly-graph-div')]"
                ".every(d => d.querySelector('.main-svg'))",
                timeout=60_000,
            )
            yield opened
        finally:
            browser.close()
