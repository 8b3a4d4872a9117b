"""A fork server that runs pytest for each mutant without paying for the imports each time.

A fresh ``python -m pytest`` per mutant spends ~10 s importing Polars, pyarrow, SciPy,
statsmodels, lifelines and hypothesis before the first test runs; that, not the tests, made a
mutation survey take hours. The server imports those libraries once, *without* running anything
that starts a thread pool (Polars' pool does not survive a fork; importing it does not start it),
then forks one child per test run. The child imports ``offer_analytics`` fresh from the scratch
copy, so it sees the source cosmic-ray has just mutated on disk, runs pytest in-process and exits.

The server side is ``serve(socket_path)``; cosmic-ray's test command is the client
(``python tools/_forkserver.py run SOCKET -- PYTEST_ARGS``), whose exit code is pytest's. When
cosmic-ray times a mutant out it kills the client; the server sees the connection close and
kills the child's whole process group (sandbox servers that tests start included).
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import importlib.metadata
import json
import os
import select
import signal
import socket
import sys
from pathlib import Path
from typing import Any

# Imported by the server before any fork; a missing one is simply imported by each child.
PRELOAD = (
    "polars",
    "pyarrow",
    "pyarrow.json",
    "numpy",
    "scipy.stats",
    "statsmodels.api",
    "lifelines",
    "hypothesis",
    "hypothesis.strategies",
    "pytest",
    "httpx",
    "plotly.graph_objects",
    "pandas",
    "uvicorn",
    "starlette.applications",
)

# Exit code the client returns when the server could not run pytest at all: cosmic-ray would
# count any non-zero code as a killed mutant, so this one is reported loudly by tools/mutation.py.
SERVER_FAILURE = 97


class _HypothesisLast:
    """Pytest plugin: tests of the mutated module's own file first, property tests last.

    With ``-x`` the first failing test ends the run, so cheap, targeted tests first make a killed
    mutant cost a second instead of the whole target's tests.
    """

    def __init__(self, first: str) -> None:
        self._first = first

    def pytest_collection_modifyitems(self, items: list[object]) -> None:
        def rank(item: object) -> int:
            path = str(getattr(item, "path", ""))
            if self._first and self._first in Path(path).stem:
                return 0
            obj = getattr(item, "obj", None)
            return 2 if getattr(obj, "is_hypothesis_test", False) else 1

        items.sort(key=rank)  # stable: keeps the file order within each rank


def _context_plugin(cov: Any) -> object:
    """Pytest plugin: record each test's coverage under its node id (see tools/_selection.py)."""
    import pytest

    class ContextPerTest:
        @pytest.hookimpl(wrapper=True)
        def pytest_runtest_protocol(self, item: Any, nextitem: Any) -> object:
            cov.switch_context(item.nodeid)
            try:
                return (yield)
            finally:
                cov.switch_context("")

    return ContextPerTest()


def _run_child(request: dict[str, Any]) -> None:
    """In the forked child: run pytest on the scratch copy and exit with its code."""
    cwd, args, first, output = (request[k] for k in ("cwd", "args", "first", "output"))
    os.setpgid(0, 0)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    log = os.open(output, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    os.dup2(log, 1)
    os.dup2(log, 2)
    os.chdir(cwd)
    sys.path.insert(0, cwd)
    # Compiled files are cached for everything (a child that compiles the whole import graph
    # costs seconds) except the mutated modules: a mutant of the same size written in the same
    # second as the last one would otherwise run from the previous mutant's .pyc.
    for module in request.get("fresh", []):
        path = Path(cwd, module)
        for cached in (path.parent / "__pycache__").glob(f"{path.stem}.*.pyc"):
            cached.unlink(missing_ok=True)
    code = 1
    try:
        import pytest

        plugins: list[object] = [_HypothesisLast(first)]
        cov = None
        if request.get("coverage"):
            import coverage

            cov = coverage.Coverage(data_file=request["coverage"], include=request["include"])
            plugins.append(_context_plugin(cov))
            cov.start()
        code = int(pytest.main(args, plugins=plugins))
        if cov is not None:
            cov.stop()
            cov.save()
    except BaseException as error:  # the child must exit, whatever happened
        print(f"fork server child failed: {error!r}", flush=True)
        code = SERVER_FAILURE
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def _supervise(conn: socket.socket, pid: int) -> int:
    """Wait for the child; kill its process group if the client goes away first."""
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        readable, _, _ = select.select([conn], [], [], 0.05)
        if readable and not conn.recv(1, socket.MSG_PEEK):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            return -signal.SIGKILL


def serve(socket_path: str) -> None:
    """Preload the heavy imports, then run one forked pytest per request, one at a time."""
    for name in PRELOAD:
        with contextlib.suppress(ImportError):
            importlib.import_module(name)
    # pytest's plugins (anyio, hypothesis, timeout...) too: loading them cost ~0.6 s per child.
    for entry in importlib.metadata.entry_points(group="pytest11"):
        with contextlib.suppress(Exception):
            entry.load()
    # Everything imported so far lives as long as the server: keep it out of the collector's
    # scans, or pytest's two gc.collect() calls at exit take a second per child.
    gc.freeze()
    if "offer_analytics" in sys.modules:
        raise SystemExit("the fork server must not import offer_analytics before forking")
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(socket_path)
    listener.listen(4)
    print("ready", flush=True)
    while True:
        conn, _ = listener.accept()
        with conn:
            request = json.loads(conn.makefile("r").readline())
            pid = os.fork()
            if pid == 0:
                listener.close()
                _run_child(request)
            code = _supervise(conn, pid)
            with contextlib.suppress(OSError):
                conn.sendall(f"{code}\n".encode())


def run(
    socket_path: str, args: list[str], *, first: str = "", cwd: str = "", **extra: object
) -> int:
    """The client: ask the server for one pytest run in ``cwd``; return its exit code."""
    cwd = cwd or os.getcwd()
    output = os.path.join(cwd, ".mutant-pytest.log")
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
        conn.connect(socket_path)
        request = {"cwd": cwd, "args": args, "first": first, "output": output, **extra}
        conn.sendall((json.dumps(request) + "\n").encode())
        answer = conn.makefile("r").readline().strip()
    with contextlib.suppress(OSError):
        tail = Path(output).read_text(errors="replace").splitlines()[-15:]
        print("\n".join(tail))
    return int(answer) if answer.lstrip("-").isdigit() else SERVER_FAILURE


def main(argv: list[str]) -> int:
    if argv[:1] == ["serve"] and len(argv) == 2:
        serve(argv[1])
        return 0
    if argv[:1] == ["run"] and "--" in argv:
        split = argv.index("--")
        options = dict(zip(argv[2:split:2], argv[3:split:2], strict=True))
        pytest_args = argv[split + 1 :]
        if "--select" in options:
            # The last arguments are the target's test paths: narrow them to what can see the
            # mutant, or run nothing when no test executes the mutated statement.
            from _selection import choose

            chosen = choose(Path.cwd(), Path(options["--select"]))
            if chosen is not None:
                if not chosen:
                    print("no test executes the mutated statement")
                    return 0
                tests = int(options["--tests"])
                pytest_args = [*pytest_args[: len(pytest_args) - tests], *chosen]
        fresh = [f for f in options.get("--fresh", "").split(",") if f]
        return run(argv[1], pytest_args, first=options.get("--first", ""), fresh=fresh)
    print("usage: _forkserver.py serve SOCKET | run SOCKET [--first STEM] [--select FILE")
    print("       --tests N] [--fresh MODULE,...] -- PYTEST_ARGS")
    return 2


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
