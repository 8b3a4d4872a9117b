"""The HTML report: one offline file, escaped, free of personal data, drawn by a real browser."""

from __future__ import annotations

import json
import re
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import plotly.offline
import polars as pl
import pytest
from PIL import Image

import offer_analytics
from offer_analytics import html_report
from offer_analytics.decode import offers_to_frame
from offer_analytics.metrics import acceptance_rates, status_counts, time_to_close
from tests.report import chromium
from tests.report.chromium import opened_report

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "sample_offers.jsonl"
AS_OF = datetime(2026, 10, 1, tzinfo=UTC)  # the sample generator's end date
EVIL = "<script>alert(1)</script>"
#: The charts of the sample report (one connector: no per-connector acceptance chart), in order.
SAMPLE_CHART_TITLES = [
    "Time to close: share of sent offers still open",
    "Acceptance and decline over time (cumulative incidence)",
    "Acceptance rate by month",
    "Offers by status and outcome",
    "Start dates by month",
    "Start dates by weekday",
    "Lead time to the start date",
]


def _sample_offers() -> list[dict[str, Any]]:
    with SAMPLE.open(encoding="utf-8") as lines:
        return [json.loads(line) for line in lines]


@pytest.fixture(scope="module")
def sample() -> pl.DataFrame:
    """The shipped sample, decoded with its personal columns, as a careless caller would."""
    return offers_to_frame(_sample_offers(), include_custom_fields=True, include_raw_data=True)


@pytest.fixture(scope="module")
def sample_report(sample: pl.DataFrame, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return html_report(sample, tmp_path_factory.mktemp("report") / "report.html", as_of=AS_OF)


def _markup(text: str) -> str:
    """The page without the inline plotly.js, whose code mentions URLs it never loads here."""
    return text.replace(plotly.offline.get_plotlyjs(), "")


def test_report_is_one_file_with_plotly_js_embedded_once(sample_report: Path) -> None:
    text = sample_report.read_text(encoding="utf-8")
    assert text.count(plotly.offline.get_plotlyjs()) == 1
    assert text.count("* plotly.js v") == 1
    assert "<script src" not in text
    assert text.count('class="plotly-graph-div"') == len(SAMPLE_CHART_TITLES)


def test_report_references_nothing_on_the_network(sample_report: Path) -> None:
    markup = _markup(sample_report.read_text(encoding="utf-8"))
    remote = re.findall(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", markup, re.IGNORECASE)
    assert remote == []
    assert "@import" not in markup
    assert "url(" not in markup
    assert "default-src 'none'" in markup


def test_headline_numbers_are_the_metrics(sample: pl.DataFrame, sample_report: Path) -> None:
    text = sample_report.read_text(encoding="utf-8")
    rates = acceptance_rates(sample).row(0, named=True)
    close = time_to_close(sample, as_of=AS_OF).row(0, named=True)
    assert f"{100 * rates['rate']:.1f}%" in text
    assert f"95% CI {100 * rates['rate_lower']:.1f}% to {100 * rates['rate_upper']:.1f}%" in text
    assert f"n\u00a0=\u00a0{rates['n']:,}" in text
    assert f"{close['km_median_days']:.1f} days" in text
    assert f"{close['km_median_lower']:.1f} to {close['km_median_upper']:.1f} days" in text
    assert f"{sample.height:,}" in text


def test_report_has_definitions_quality_and_footer(sample_report: Path) -> None:
    text = sample_report.read_text(encoding="utf-8")
    for heading in ("Time to close", "Acceptance", "Start dates", "Data quality", "Definitions"):
        assert f"<h2>{heading}</h2>" in text
    assert "unknown_status" in text
    assert "Kaplan-Meier" in text
    footer = text[text.index("<footer>") :]
    assert "2026-10-01 00:00 UTC" in footer
    assert offer_analytics.__version__ in footer


def test_personal_data_never_reaches_the_report(sample: pl.DataFrame, sample_report: Path) -> None:
    email = json.loads(sample["raw_data"][0])["candidate_email"]
    assert "@" in email
    text = sample_report.read_text(encoding="utf-8")
    assert email not in text
    assert "candidate_email" not in text
    assert "base_salary" not in text


def test_user_values_are_escaped(sample: pl.DataFrame, tmp_path: Path) -> None:
    hostile = sample.head(300).with_columns(
        pl.when(pl.int_range(pl.len()) % 3 == 0)
        .then(pl.lit(EVIL))
        .otherwise(pl.col("status"))
        .alias("status"),
        pl.when(pl.int_range(pl.len()) % 2 == 0)
        .then(pl.lit('"><img src=x onerror=alert(2)>'))
        .otherwise(pl.lit("acme"))
        .alias("connector"),
    )
    text = html_report(hostile, tmp_path / "r.html", as_of=AS_OF, title=EVIL).read_text("utf-8")
    markup = _markup(text)
    assert EVIL not in markup
    assert "<img src=x" not in markup
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in markup


def test_report_is_deterministic_and_written_atomically(
    sample: pl.DataFrame, tmp_path: Path
) -> None:
    first = html_report(sample.lazy(), tmp_path / "a.html", as_of=AS_OF)
    second = html_report(sample, tmp_path / "b.html", as_of=AS_OF)
    assert first.read_bytes() == second.read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.html", "b.html"]


def test_failed_write_leaves_no_temporary_file(sample: pl.DataFrame, tmp_path: Path) -> None:
    target = tmp_path / "taken"
    target.mkdir()  # a directory cannot be replaced by a file
    with pytest.raises(OSError):  # noqa: PT011 - the platform picks the subclass
        html_report(sample.head(50), target, as_of=AS_OF)
    assert [p.name for p in tmp_path.iterdir()] == ["taken"]


def test_report_of_no_offers_still_renders(sample: pl.DataFrame, tmp_path: Path) -> None:
    text = html_report(sample.clear(), tmp_path / "empty.html", as_of=AS_OF).read_text("utf-8")
    assert "No data" in text
    assert "not reached" in text


def test_unparsed_timestamps_show_in_the_quality_section(
    sample: pl.DataFrame, tmp_path: Path
) -> None:
    unparsed = {"sent_at": ["offer-with-bad-date"]}
    path = html_report(
        sample.head(20), tmp_path / "q.html", as_of=AS_OF, unparsed_timestamps=unparsed
    )
    assert "offer-with-bad-date" in path.read_text("utf-8")


def test_report_renders_offline_in_headless_chromium(sample_report: Path, tmp_path: Path) -> None:
    url = sample_report.as_uri()
    with opened_report(sample_report) as opened:
        page = opened.page
        charts = opened.charts()
        figures = page.locator("figure.chart").count()
        shots = {}
        for chart in charts:
            element = page.locator(f"#{chart['id']}")
            element.scroll_into_view_if_needed()
            shots[chart["title"]] = tmp_path / f"{chart['id']}.png"
            element.screenshot(path=str(shots[chart["title"]]))
        buttons = page.evaluate(
            "[...document.querySelectorAll('.modebar-btn')].map(b => b.dataset.title)"
        )
        # Hovering a monthly rate shows its n: the hover text is really there and readable.
        monthly = "#" + page.evaluate(
            "[...document.querySelectorAll('.plotly-graph-div')]"
            ".find(d => d.layout.title.text === 'Acceptance rate by month').id"
        )
        point = page.locator(f"{monthly} .scatterlayer .point").nth(2)
        point.scroll_into_view_if_needed()
        box = point.bounding_box()
        assert box is not None
        page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        page.wait_for_selector(f"{monthly} .hoverlayer .hovertext", timeout=10_000)
        hover = page.locator(f"{monthly} .hoverlayer").text_content() or ""
        shot = tmp_path / "report.png"
        page.screenshot(path=str(shot), full_page=True)

    # The sample has one connector, so there is no per-connector acceptance chart: seven charts.
    assert [chart["title"] for chart in charts] == SAMPLE_CHART_TITLES
    assert figures == len(charts)
    for chart in charts:
        assert chart["filled"] >= 1, f"{chart['title']}: no trace with data"
        assert chart["traces"] >= 1, f"{chart['title']}: no trace drawn"
        # Traces are drawn in palette colours; axes, grid and text are grey. A chart whose
        # traces did not render has (almost) no coloured pixels in its own area.
        assert _coloured_share(shots[chart["title"]]) > 0.005, f"{chart['title']}: blank"
    assert "Download plot as a PNG" in buttons
    assert not [title for title in buttons if "share" in title.lower()]
    assert "n = " in hover
    assert "95% CI" in hover
    assert opened.requests == [url]
    assert opened.errors == []
    colours = _colours(shot)
    not_white = sum(count for count, rgb in colours if min(rgb) < 245)
    assert len(colours) > 200
    assert not_white / sum(count for count, _ in colours) > 0.03
    # The first group's curve is drawn in its palette colour (#0072B2), so the chart is real.
    blue = [rgb for _, rgb in _colours(shots[SAMPLE_CHART_TITLES[0]])]
    assert any(abs(r - 0) + abs(g - 114) + abs(b - 178) < 30 for r, g, b in blue)


def _coloured_share(png: Path) -> float:
    """Share of a screenshot's pixels that are clearly coloured (not white, grey or black)."""
    colours = _colours(png)
    coloured = sum(count for count, rgb in colours if max(rgb) - min(rgb) > 60)
    return coloured / sum(count for count, _ in colours)


def _colours(png: Path) -> list[tuple[int, tuple[int, int, int]]]:
    """(pixel count, RGB) of every distinct colour of a screenshot."""
    with Image.open(png) as image:
        found = image.convert("RGB").getcolors(maxcolors=1 << 24)
    assert found is not None
    return cast(list[tuple[int, tuple[int, int, int]]], found)


@pytest.mark.parametrize(
    ("ci", "outcome"), [("true", pytest.fail.Exception), (None, pytest.skip.Exception)]
)
def test_missing_chromium_fails_in_ci_and_skips_elsewhere(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, ci: str | None, outcome: type[Exception]
) -> None:
    monkeypatch.setattr(chromium, "CHROMIUM", tmp_path / "no-chromium")
    if ci is None:
        monkeypatch.delenv("CI", raising=False)
    else:
        monkeypatch.setenv("CI", ci)
    with pytest.raises(outcome):
        chromium.chromium_or_skip()


def test_report_stays_small_for_many_offers(tmp_path: Path) -> None:
    from offer_analytics.sandbox._generator import generate_offers

    frame = offers_to_frame(generate_offers(30_000, connectors=3, seed=3))
    path = html_report(frame, tmp_path / "big.html", as_of=AS_OF)
    # Curves are thinned to ~1,000 points per group and histograms binned by Polars, so the
    # file does not carry a row per offer: ~30,000 rows would be several megabytes.
    assert path.stat().st_size - len(plotly.offline.get_plotlyjs()) < 1_000_000


def test_naive_report_time_means_utc(sample: pl.DataFrame, tmp_path: Path) -> None:
    naive = html_report(sample.head(200), tmp_path / "naive.html", as_of=AS_OF.replace(tzinfo=None))
    aware = html_report(sample.head(200), tmp_path / "aware.html", as_of=AS_OF)
    assert naive.read_bytes() == aware.read_bytes()


def test_a_connector_has_one_colour_in_every_chart_of_the_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from offer_analytics.report import _template as report_template
    from offer_analytics.sandbox import generate_offers

    # "acme" has no start dates, so the start-date charts show only the other two connectors.
    frame = offers_to_frame(generate_offers(600, connectors=3, seed=5)).with_columns(
        pl.when(pl.col("connector") == "acme")
        .then(None)
        .otherwise("start_date")
        .alias("start_date")
    )
    drawn: list[Any] = []
    original = report_template.chart_html

    def keep(figure: Any, *, chart_id: str, caption: str) -> str:
        drawn.append(figure)
        return original(figure, chart_id=chart_id, caption=caption)

    monkeypatch.setattr(sys.modules["offer_analytics.report._sections"], "chart_html", keep)
    html_report(frame, tmp_path / "r.html", as_of=AS_OF)
    seen: dict[str, set[str]] = {}
    for figure in drawn:
        for trace in figure.data:
            if trace.name in ("acme", "globex", "initech"):
                colour = (trace.line.color if trace.type == "scatter" else None) or (
                    trace.marker.color
                )
                # Bars are drawn translucent: compare the colour, not the opacity.
                seen.setdefault(trace.name, set()).add(
                    ",".join(re.findall(r"[0-9A-Fa-f]{2}", colour[1:]))
                    if colour.startswith("#")
                    else ",".join(f"{int(v):02X}" for v in re.findall(r"\d+", colour)[:3])
                )
    assert len(drawn) >= 6
    assert set(seen) == {"acme", "globex", "initech"}
    assert all(len(colours) == 1 for colours in seen.values()), seen
    assert len({next(iter(c)) for c in seen.values()}) == 3


def test_report_time_defaults_to_the_metrics_clock(
    sample: pl.DataFrame, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from offer_analytics.metrics import _frame

    class Clock(datetime):
        @classmethod
        def now(cls, tz: Any = None) -> Clock:
            return cls(2031, 2, 3, 4, 5, tzinfo=UTC)

    # One definition of "now" for the metrics and the report: they can never disagree.
    monkeypatch.setattr(_frame, "datetime", Clock)
    text = html_report(sample.head(50), tmp_path / "r.html").read_text("utf-8")
    assert "Report time 2031-02-03 04:05 UTC" in text


def _quality_rows(text: str) -> dict[str, list[str]]:
    """Check name -> its cells, from the data-quality table."""
    section = text[text.index("<h2>Data quality</h2>") : text.index("<h2>Definitions</h2>")]
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", section, re.DOTALL)
    cells = [re.findall(r"<td[^>]*>(.*?)</td>", row, re.DOTALL) for row in rows]
    return {row[0]: row[1:] for row in cells if row}


def test_quality_section_says_not_checked_and_lists_unknown_statuses(
    sample: pl.DataFrame, tmp_path: Path
) -> None:
    odd = sample.head(40).with_columns(
        pl.when(pl.int_range(pl.len()) < 3)
        .then(pl.lit("EXTENDED"))
        .when(pl.int_range(pl.len()) == 3)
        .then(pl.lit("<b>ODD</b>"))
        .otherwise(pl.col("status"))
        .alias("status")
    )
    odd = odd.with_columns(
        pl.when(pl.int_range(pl.len()) < 4)
        .then(pl.lit("unknown"))
        .otherwise("outcome")
        .cast(odd.schema["outcome"])
        .alias("outcome")
    )
    text = html_report(odd, tmp_path / "q.html", as_of=AS_OF).read_text("utf-8")
    rows = _quality_rows(text)
    assert rows["unparsed_sent_at"][1] == "not checked"
    assert "5 checks were not run" in text
    assert rows["unknown_status"][2].startswith("EXTENDED (3)\n&lt;b&gt;ODD&lt;/b&gt; (1)")
    checked = html_report(odd, tmp_path / "c.html", as_of=AS_OF, unparsed_timestamps={})
    rows = _quality_rows(checked.read_text("utf-8"))
    assert rows["unparsed_sent_at"][1] == "0"
    assert "not checked" not in checked.read_text("utf-8")


def test_acceptance_and_status_numbers_are_as_of_the_report_time(
    sample: pl.DataFrame, tmp_path: Path
) -> None:
    early = datetime(2025, 6, 1, tzinfo=UTC)
    then = acceptance_rates(sample, as_of=early).row(0, named=True)
    now = acceptance_rates(sample, as_of=AS_OF).row(0, named=True)
    assert then["n"] != now["n"]
    text = html_report(sample, tmp_path / "early.html", as_of=early).read_text("utf-8")
    assert f"n\u00a0=\u00a0{then['n']:,}" in text
    assert f"95% CI {100 * then['rate_lower']:.1f}% to {100 * then['rate_upper']:.1f}%" in text
    # A SIGNED offer closed after the report time was still pending then.
    counts = status_counts(sample, as_of=early).filter(pl.col("status") == "SIGNED")
    for outcome, n in counts.select(pl.col("outcome").cast(pl.String), "n").iter_rows():
        assert f'<td>SIGNED</td><td>{outcome}</td><td class="num">{n:,}</td>' in text


@pytest.fixture(scope="module")
def where_report(enriched_offers: pl.DataFrame, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("where") / "where.html"
    return html_report(enriched_offers, out, as_of=AS_OF)


def _where_tables(text: str) -> list[list[list[str]]]:
    where = text[text.index("<h2>Where</h2>") : text.index("<h2>Start dates</h2>")]
    tables = re.findall(r"<tbody>(.*?)</tbody>", where, re.DOTALL)
    return [
        [re.findall(r"<td[^>]*>(.*?)</td>", row) for row in re.findall(r"<tr.*?</tr>", t)]
        for t in tables
    ]


def test_where_section_ranks_groups_pools_the_tail_and_needs_enrichment(
    where_report: Path, sample_report: Path
) -> None:
    assert "<h2>Where</h2>" not in sample_report.read_text("utf-8")
    departments, recruiters = _where_tables(where_report.read_text("utf-8"))
    for rows in (departments, recruiters):
        names = [row[0] for row in rows]
        assert names[-2:] == ["other", "(missing)"]
        assert len(names) == 12  # the ten largest, other, missing
        decided = [int(row[4].replace(",", "")) for row in rows[:-2]]
        assert decided == sorted(decided, reverse=True)
        for row in rows:  # exactly the groups under min_n show no rate
            assert (row[5] == "n &lt; 10") == (int(row[4].replace(",", "")) < 10)


def test_where_section_renders_in_headless_chromium(where_report: Path, tmp_path: Path) -> None:
    titles = ["Acceptance rate by department", "Acceptance rate by recruiter"]
    with opened_report(where_report) as opened:
        page = opened.page
        drawn = page.evaluate(
            "titles => titles.map(t => [...document.querySelectorAll('.plotly-graph-div')]"
            ".find(d => d.layout.title.text === t))"
            ".map(d => d && [d.id, d.querySelectorAll('.scatterlayer .point').length,"
            " d.querySelectorAll('.errorbar').length])",
            titles,
        )
        shots = []
        for chart_id, _, _ in drawn:
            element = page.locator(f"#{chart_id}")
            element.scroll_into_view_if_needed()
            shots.append(tmp_path / f"{chart_id}.png")
            element.screenshot(path=str(shots[-1]))
    for (_, points, whiskers), shot in zip(drawn, shots, strict=True):
        assert points >= 10
        assert whiskers >= 10
        assert _coloured_share(shot) > 0.002
    assert opened.requests == [where_report.as_uri()]
    assert opened.errors == []
