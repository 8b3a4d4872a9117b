"""Every code block in the README and docs/ runs as written.

Python blocks of one page run in order in one namespace; shell blocks run with bash; SQL blocks
run in DuckDB. A page's blocks share a fresh working folder and see a sandbox API through the
``BINDBEE_*`` variables, so blocks written for real credentials run too. A block that cannot run
here (a server that runs until stopped, a tool that is not a dependency, a command that would
change the environment the tests run in) is preceded by ``<!-- no-run: why -->``.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pytest

from offer_analytics.sandbox import SandboxServer

ROOT = Path(__file__).parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
#: Languages the test runs; blocks in any other language must be marked no-run.
RUNNABLE = {"python", "sh", "bash", "sql"}
#: Blocks that are pictures of text (folder layouts, output): nothing to run.
TEXT = {"", "text"}
_FENCE = re.compile(
    r"^(?P<indent>[ \t]*)```(?P<lang>[\w+-]*)[ \t]*\n(?P<body>.*?)^(?P=indent)```[ \t]*$",
    flags=re.DOTALL | re.MULTILINE,
)
_NO_RUN = re.compile(r"<!--\s*no-run:\s*(?P<why>\S.*?)\s*-->\s*$")
_UV_RUN = re.compile(r"^uv run (--locked )?", flags=re.MULTILINE)
_SHELL_TIMEOUT_S = 120


@dataclass(frozen=True)
class Block:
    page: Path
    line: int
    lang: str
    code: str
    no_run: str | None  # the reason, when the block is marked

    @property
    def where(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"


def blocks(page: Path) -> list[Block]:
    """The fenced code blocks of ``page``, in order, with their no-run reasons."""
    text = page.read_text(encoding="utf-8")
    found = []
    for match in _FENCE.finditer(text):
        line = text.count("\n", 0, match.start()) + 1
        before = text[: match.start()].rstrip("\n").rsplit("\n", 1)[-1]
        marker = _NO_RUN.search(before)
        indent = len(match["indent"])
        code = "\n".join(row[indent:] for row in match["body"].splitlines()) + "\n"
        found.append(
            Block(page, line, match["lang"].lower(), code, marker["why"] if marker else None)
        )
    return found


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SandboxServer]:
    with SandboxServer(n_offers=3_000, connectors=3, seed=11) as server:
        yield server


@pytest.fixture
def sandbox_env(sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The ``BINDBEE_*`` variables of a real account, pointing at the sandbox."""
    tokens = sandbox.connector_tokens
    env = {
        "BINDBEE_API_KEY": sandbox.api_key,
        "BINDBEE_BASE_URL": sandbox.base_url,
        "BINDBEE_CONNECTOR_TOKEN": tokens["acme"],
        "BINDBEE_CONNECTORS": ",".join(f"{label}={token}" for label, token in tokens.items()),
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return env


def run_shell(block: Block, cwd: Path) -> None:
    # `uv run --locked CMD` runs CMD in the project's environment: the one running this test.
    script = _UV_RUN.sub("", block.code)
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    # The command line takes the connectors from exactly one variable: the several of them.
    env.pop("BINDBEE_CONNECTOR_TOKEN", None)
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=_SHELL_TIMEOUT_S,
        check=False,
    )
    assert done.returncode == 0, f"{block.where} exited {done.returncode}:\n{done.stderr[-3000:]}"


def run_page(page: Path, cwd: Path) -> dict[str, Any]:
    """Run every runnable block of ``page`` in ``cwd``; returns the Python namespace."""
    namespace: dict[str, Any] = {"__name__": "docs"}
    with duckdb.connect() as sql:
        for block in blocks(page):
            if block.no_run is not None or block.lang not in RUNNABLE:
                continue
            if block.lang == "python":
                exec(compile(block.code, block.where, "exec"), namespace)
            elif block.lang == "sql":
                # DuckDB runs every statement of the block (a ";" may stand in a comment).
                sql.execute(block.code).fetchall()
            else:
                run_shell(block, cwd)
    return namespace


@pytest.mark.slow
@pytest.mark.parametrize("page", PAGES, ids=[p.relative_to(ROOT).as_posix() for p in PAGES])
def test_every_code_block_of_the_page_runs(
    page: Path, tmp_path: Path, sandbox_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    namespace = run_page(page, tmp_path)
    if page.name == "README.md":
        # The README's report is what a new user opens first: it must look alive.
        report = (tmp_path / "offer_report.html").read_text(encoding="utf-8")
        upcoming = re.search(r'Upcoming starts</div><div class="value">([\d,]+)<', report)
        assert upcoming is not None
        assert int(upcoming[1].replace(",", "")) > 0
        assert namespace["offers"].height > 0


def test_every_block_is_runnable_or_says_why_not() -> None:
    unexplained = [
        f"{b.where} ({b.lang})"
        for page in PAGES
        for b in blocks(page)
        if b.no_run is None and b.lang not in RUNNABLE | TEXT
    ]
    assert unexplained == [], "run these blocks or mark them <!-- no-run: why -->"
    marked = [b for page in PAGES for b in blocks(page) if b.no_run is not None]
    ran = [b for page in PAGES for b in blocks(page) if b.no_run is None and b.lang in RUNNABLE]
    assert len(ran) > 2 * len(marked), "most blocks run; only a few may be skipped"


def test_blocks_are_found_with_their_markers(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text(
        "Text.\n\n```python\nx = 1\n```\n\n<!-- no-run: needs a server -->\n```sh\nserve\n```\n"
        "\n- item\n\n    ```\n    a/\n      b\n    ```\n",
        encoding="utf-8",
    )
    found = blocks(page)
    assert [(b.lang, b.code, b.no_run) for b in found] == [
        ("python", "x = 1\n", None),
        ("sh", "serve\n", "needs a server"),
        ("", "a/\n  b\n", None),
    ]
