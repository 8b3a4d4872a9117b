"""The notebooks run top to bottom in a fresh kernel against the sandbox, and are stored clean.

Key cells carry a tag; the test checks that each produced what an analyst would look at: a
figure (Plotly's MIME output plus the HTML that static views show) or a table with rows.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbclient import NotebookClient

from offer_analytics.sandbox import SandboxServer

ROOT = Path(__file__).parents[2]
NOTEBOOKS = ROOT / "notebooks"
PLOTLY_MIME = "application/vnd.plotly.v1+json"

#: tag -> what the cell must show. "figure": a Plotly figure; "table": a frame with rows;
#: "text": printed text.
KEY_CELLS: dict[str, dict[str, str]] = {
    "offer_analysis.ipynb": {
        "connect": "text",
        "load": "progress",
        "schema": "table",
        "quality": "table",
        "time-to-close": "table",
        "survival-figure": "figure",
        "naive-median": "table",
        "incidence-figure": "figure",
        "acceptance-monthly": "table",
        "acceptance-monthly-figure": "figure",
        "acceptance-connector": "table",
        "acceptance-connector-figure": "figure",
        "starts-figure": "figure",
        "starts-weekday": "table",
        "lead-times": "table",
        "lead-times-figure": "figure",
        "upcoming": "table",
        "sync": "text",
        "sync-again": "text",
        "polars-lazy": "table",
        "duckdb": "table",
    },
    "your_own_ats.ipynb": {
        "connect": "text",
        "sync": "text",
        "acceptance": "table",
        "time-to-close": "table",
        "report": "text",
    },
}


def _read(name: str) -> Any:
    # nbformat ships no annotations for read().
    return nbformat.read(NOTEBOOKS / name, as_version=4)  # type: ignore[no-untyped-call]


def _outputs_by_tag(notebook: Any) -> dict[str, list[Any]]:
    return {
        tag: cell.get("outputs", [])
        for cell in notebook.cells
        for tag in cell.metadata.get("tags", [])
    }


def _table_rows(outputs: list[Any]) -> int:
    """Rows of the Polars frame a cell displayed (its HTML repr states the shape)."""
    for output in outputs:
        html = output.get("data", {}).get("text/html", "")
        shape = re.search(r"shape: \((\d+), (\d+)\)", html)
        if shape:
            return int(shape[1])
    return 0


def _check(kind: str, outputs: list[Any]) -> None:
    if kind == "figure":
        data = [o.get("data", {}) for o in outputs]
        assert any(PLOTLY_MIME in d for d in data), "no Plotly figure"
        # The HTML fallback is what GitHub and nbviewer draw.
        assert any("Plotly.newPlot" in d.get("text/html", "") for d in data)
    elif kind == "table":
        assert _table_rows(outputs) > 0, "no table with rows"
    elif kind == "progress":
        bars = [o["data"]["text/plain"] for o in outputs if o.get("output_type") == "display_data"]
        assert bars, "no progress display"
        assert "offers" in bars[0]
        assert "━" in bars[0]
    else:
        assert any(o.get("output_type") in {"stream", "execute_result"} for o in outputs)


def _execute(name: str, folder: Path, env: dict[str, str]) -> dict[str, list[Any]]:
    """Run the notebook in a fresh kernel in ``folder``; its outputs by tag, after checks."""
    notebook = _read(name)
    client = NotebookClient(
        notebook, timeout=180, kernel_name="python3", resources={"metadata": {"path": str(folder)}}
    )
    client.execute(env=env)  # raises CellExecutionError, naming the cell, on any error
    outputs = _outputs_by_tag(notebook)
    for tag, kind in KEY_CELLS[name].items():
        assert tag in outputs, f"{name}: no cell tagged {tag!r}"
        try:
            _check(kind, outputs[tag])
        except AssertionError as error:
            raise AssertionError(f"{name}, cell {tag!r}: {error}") from None
    return outputs


def _printed(outputs: list[Any]) -> str:
    return "".join(o.get("text", "") for o in outputs if o.get("output_type") == "stream")


@pytest.mark.slow
def test_the_analysis_runs_on_its_own_sandbox_without_credentials(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BINDBEE_")}
    outputs = _execute("offer_analysis.ipynb", tmp_path, env)
    assert "source: sandbox" in _printed(outputs["connect"])
    assert (tmp_path / "offer-analysis-data" / "offers").is_dir()


@pytest.mark.slow
def test_your_own_ats_runs_with_credentials_from_the_environment(tmp_path: Path) -> None:
    # The credentials of a real account, pointing at a sandbox this test runs: the notebook
    # takes its "real API" path, and the sandbox fallback is covered by the analysis notebook.
    with SandboxServer(n_offers=4_000, connectors=2, seed=5) as api:
        tokens = ",".join(f"{label}={token}" for label, token in api.connector_tokens.items())
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("BINDBEE_")},
            "BINDBEE_API_KEY": api.api_key,
            "BINDBEE_BASE_URL": api.base_url,
            "BINDBEE_CONNECTORS": tokens,
        }
        outputs = _execute("your_own_ats.ipynb", tmp_path, env)
    assert "source: Bindbee API | connectors: ['acme', 'globex']" in _printed(outputs["connect"])
    assert (tmp_path / "my-offers" / "report.html").stat().st_size > 100_000


@pytest.mark.parametrize("name", sorted(KEY_CELLS))
def test_the_committed_notebook_has_no_outputs(name: str) -> None:
    notebook = _read(name)
    nbformat.validate(notebook)
    dirty = [
        i
        for i, cell in enumerate(notebook.cells)
        if cell.cell_type == "code" and (cell.outputs or cell.execution_count is not None)
    ]
    assert dirty == [], f"{name}: clear the outputs of cells {dirty} before committing"


def test_every_notebook_is_checked() -> None:
    assert sorted(p.name for p in NOTEBOOKS.glob("*.ipynb")) == sorted(KEY_CELLS)
