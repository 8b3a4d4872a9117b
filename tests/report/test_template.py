"""The report's HTML building blocks escape what they are given."""

from __future__ import annotations

import plotly.graph_objects as go
import polars as pl

from offer_analytics.report._template import card, chart_html, page, table_html

_EVIL = "<script>alert(1)</script>"


def test_table_escapes_headers_and_cells() -> None:
    table = pl.DataFrame({"status": [_EVIL], "n": [3]})
    text = table_html(table, [(_EVIL, "status", False), ("n", lambda r: _EVIL, True)])
    assert "<script>" not in text
    assert text.count("&lt;script&gt;alert(1)&lt;/script&gt;") == 3


def test_table_formats_numbers_lists_and_missing_values() -> None:
    table = pl.DataFrame(
        {"n": [12345], "x": [None], "ids": [["a", "b"]]}, schema_overrides={"x": pl.Float64}
    )
    text = table_html(table, [("n", "n", True), ("x", "x", True), ("ids", "ids", False)])
    assert '<td class="num">12,345</td>' in text
    assert '<td class="num">–</td>' in text
    assert "<td>a, b</td>" in text


def test_card_escapes() -> None:
    assert "<script>" not in card(_EVIL, _EVIL, _EVIL)


def test_chart_uses_shared_plotly_js_and_a_fixed_id() -> None:
    snippet = chart_html(go.Figure(go.Bar(x=[_EVIL], y=[1])), chart_id="chart-7", caption=_EVIL)
    assert 'id="chart-7"' in snippet
    assert "<script src" not in snippet
    assert "plotly.js v" not in snippet
    assert _EVIL not in snippet


def test_page_inlines_plotly_js_once_and_forbids_loading() -> None:
    text = page(title=_EVIL, body="", footer="")
    assert text.count("* plotly.js v") == 1
    assert "<title>&lt;script&gt;" in text
    assert "default-src 'none'" in text


def test_ids_are_listed_one_per_line_and_never_broken() -> None:
    table = pl.DataFrame({"check": ["x"], "ids": [["1f98-85a9", "24939e12-4093"]], "n": [None]})
    text = table_html(
        table, [("Check", "check", False), ("Ids", "ids", False), ("n", "n", True)], lines=["Ids"]
    )
    assert '<td class="lines">1f98-85a9\n24939e12-4093</td>' in text
    assert '<td class="num">–</td>' in text
    css = page(title="t", body="", footer="")
    assert "td.lines { white-space: pre;" in css
    assert "white-space: nowrap" in css[css.index("td.num") :]
