"""Mutation testing of one target at a time with cosmic-ray, in a scratch copy of the repository.

cosmic-ray rewrites the source files in place while it tests each mutant, so it runs in a copy
of the tracked files (never in the working tree). Each mutant's tests run in a child forked from
a server that has already imported the heavy libraries (tools/_forkserver.py), so a mutant costs
its tests, not ten seconds of imports. Usage::

    uv run python tools/mutation.py metrics/_versions.py       # one module of a target
    uv run python tools/mutation.py timestamps --timeout 3600  # a whole target
    uv run python tools/mutation.py rate_gate --keep DIR       # keep the session in DIR
    uv run python tools/mutation.py rate_gate --keep DIR --resume  # go on after a stop
    uv run python tools/mutation.py rate_gate --keep DIR --rerun   # survivors vs today's tests

Mutants inside annotations are marked skipped before the run: with
``from __future__ import annotations`` an annotation is never evaluated, so such a mutant is
equivalent by construction (mypy would reject most of them). Prints cosmic-ray's report
(``cr-report``): every surviving mutant with its diff, then the totals. docs/mutation.md
records the results and which survivors are equivalent.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import _forkserver  # tools/ is this script's directory, first on sys.path
import _selection

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "offer_analytics"

# target -> (modules to mutate, the tests that pin them)
TARGETS: dict[str, tuple[list[str], list[str]]] = {
    "metrics": (["metrics"], ["tests/metrics"]),
    "timestamps": (["decode/_timestamps.py"], ["tests/decode"]),
    "pages": (["decode/_pages.py"], ["tests/decode", "tests/load/test_sink.py"]),
    "schema": (["schema.py"], ["tests/test_schema_outcomes.py", "tests/decode"]),
    "rate_gate": (
        [
            "bindbee/_rate_gate.py",
            "bindbee/_rate_window.py",
            "bindbee/_window_credit.py",
            "bindbee/_rate_headers.py",
        ],
        ["tests/bindbee"],
    ),
}


def _resolve(target: str) -> tuple[list[str], list[str]]:
    if target in TARGETS:
        return TARGETS[target]
    # A single module inside a target, e.g. "metrics/_versions.py".
    for modules, tests in TARGETS.values():
        for module in modules:
            if target == module or target.startswith(module.rstrip("/") + "/"):
                return [target], tests
    names = ", ".join(TARGETS)
    sys.exit(f"unknown target {target!r}: use one of {names}, or a module inside one")


def _copy_tracked(destination: Path) -> None:
    """Copy the working tree's files that git sees (new files included, ignored ones not)."""
    files = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split("\0")
    for name in filter(None, files):
        source = ROOT / name
        if source.is_file():
            (destination / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, destination / name)


def _test_command(
    sock: Path, modules: list[str], tests: list[str], selection: Path | None = None
) -> list[str]:
    # Tests of the mutated module's own file run first (tools/_forkserver.py orders them).
    first = Path(modules[0]).stem.lstrip("_") if modules[0].endswith(".py") else ""
    client = [sys.executable, str(Path("tools") / "_forkserver.py"), "run", str(sock)]
    client += ["--fresh", ",".join(_module_files(ROOT, modules))]
    if selection is not None:  # each mutant runs only the tests that execute its statement
        client += ["--select", str(selection), "--tests", str(len(tests))]
    # -x: one failing test kills the mutant; doctests stay out (they run in the normal suite).
    pytest_args = [
        "-x",
        "-q",
        "-p",
        "no:cacheprovider",
        "--no-header",
        "-W",
        "ignore::pytest.PytestAssertRewriteWarning",
        *tests,
    ]
    return [*client, "--first", first, "--", *pytest_args]


def _config(modules: list[str], command: list[str], per_mutant: float) -> str:
    paths = ", ".join(f'"{PACKAGE}/{m}"' for m in modules)
    return (
        "[cosmic-ray]\n"
        f"module-path = [{paths}]\n"
        f"timeout = {per_mutant}\n"
        "excluded-modules = []\n"
        f'test-command = "{" ".join(command)}"\n\n'
        '[cosmic-ray.distributor]\nname = "local"\n'
    )


def _annotation_spans(source: str) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    """(start, end) positions of every annotation in a module: (line 1-based, column)."""
    spans = []
    for node in ast.walk(ast.parse(source)):
        found: list[ast.expr | None] = []
        if isinstance(node, ast.arg | ast.AnnAssign):
            found.append(node.annotation)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            found.append(node.returns)
        for expr in filter(None, found):
            end = (expr.end_lineno or expr.lineno, expr.end_col_offset or 0)
            spans.append(((expr.lineno, expr.col_offset), end))
    return spans


def _skip_annotations(work: Path) -> int:
    """Mark every mutant that lies inside an annotation as skipped; return how many."""
    from cosmic_ray.work_db import WorkDB, use_db
    from cosmic_ray.work_item import WorkerOutcome, WorkResult

    skipped = 0
    spans: dict[Path, list[tuple[tuple[int, int], tuple[int, int]]]] = {}
    with use_db(str(work / "session.sqlite"), WorkDB.Mode.open) as db:
        for item in db.work_items:
            for mutation in item.mutations:
                path = work / mutation.module_path
                if path not in spans:
                    spans[path] = _annotation_spans(path.read_text())
                start, end = tuple(mutation.start_pos), tuple(mutation.end_pos)
                if any(a <= start and end <= b for a, b in spans[path]):
                    result = WorkResult(worker_outcome=WorkerOutcome.SKIPPED)
                    db.set_result(item.job_id, result)
                    skipped += 1
    return skipped


def _start_server(work: Path, sock: Path) -> subprocess.Popen[str]:
    server = subprocess.Popen(
        [sys.executable, "tools/_forkserver.py", "serve", str(sock)],
        cwd=work,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert server.stdout is not None
    if server.stdout.readline().strip() != "ready":
        server.kill()
        sys.exit("the fork server did not start")
    return server


def _module_files(work: Path, modules: list[str]) -> list[str]:
    """The target's source files, relative to the scratch copy."""
    files = []
    for module in modules:
        path = work / PACKAGE / module
        found = [path] if module.endswith(".py") else sorted(path.glob("*.py"))
        files += [str(f.relative_to(work)) for f in found]
    return files


def _record_coverage(work: Path, sock: Path, modules: list[str], tests: list[str]) -> Path:
    """Run the unmutated tests once under coverage: the baseline, and which test sees what.

    The baseline must pass and import the package from the scratch copy, not the checkout.
    """
    probe = work / "tests" / "test_zz_mutation_probe.py"
    probe.write_text(
        "import offer_analytics\n\n\n"
        "def test_the_package_comes_from_the_scratch_copy():\n"
        f"    assert offer_analytics.__file__.startswith({str(work)!r})\n"
    )
    files = _module_files(work, modules)
    data = work / ".mutation-coverage"
    started = time.monotonic()
    try:
        args = ["-q", "-p", "no:cacheprovider", "--no-header", *tests, str(probe.relative_to(work))]
        include = [str(work / f) for f in files]
        code = _forkserver.run(str(sock), args, cwd=str(work), coverage=str(data), include=include)
    finally:
        probe.unlink()
    if code != 0:
        sys.exit("the unmutated tests fail (or import the package from elsewhere): fix that first")
    selection = work / ".mutation-selection.json"
    covered = _selection.build(work, data, files, selection)
    print(f"baseline with coverage passed in {time.monotonic() - started:.1f} s: {covered}")
    return selection


def _rerun_survivors(
    work: Path, selected: list[str], whole: list[str] | None, per_mutant: float
) -> None:
    """Test each survivor of a kept session again, against the tests now in the working tree.

    First the tests that execute its statement (fast). With ``whole``, a mutant that survives
    them then runs the target's whole test set: a selection can miss a test (a fixture's work
    is credited to the first test that used it), so without it a survivor may be over-counted,
    never a kill.
    """
    import os

    from cosmic_ray.mutating import mutate_and_test
    from cosmic_ray.work_db import WorkDB, use_db
    from cosmic_ray.work_item import TestOutcome

    os.chdir(work)  # cosmic-ray's mutation specs hold paths relative to the session
    with use_db("session.sqlite", WorkDB.Mode.open) as db:
        survived = {job for job, r in db.results if r.test_outcome == TestOutcome.SURVIVED}
        items = [item for item in db.work_items if item.job_id in survived]
        for number, item in enumerate(items, 1):
            result = mutate_and_test(item.mutations, " ".join(selected), per_mutant)
            if whole is not None and result.test_outcome == TestOutcome.SURVIVED:
                result = mutate_and_test(item.mutations, " ".join(whole), per_mutant)
            db.set_result(item.job_id, result)
            print(f"{number}/{len(items)} {item.job_id}: {result.test_outcome}")


def _refresh(work: Path, modules: list[str]) -> None:
    """Copy the working tree over a kept session; its mutants must still fit the sources."""
    for module in modules:
        for source in sorted(
            (ROOT / PACKAGE).glob(
                module.rstrip("/") + ("/*.py" if not module.endswith(".py") else "")
            )
        ):
            kept = work / source.relative_to(ROOT)
            if not kept.is_file() or kept.read_text() != source.read_text():
                sys.exit(
                    f"{source.relative_to(ROOT)} changed since the session: run it again whole"
                )
    _copy_tracked(work)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("target", help=f"one of {', '.join(TARGETS)}, or a module inside one")
    parser.add_argument("--timeout", type=float, default=3600, help="whole run, seconds")
    parser.add_argument("--per-mutant", type=float, default=120, help="seconds per mutant")
    parser.add_argument("--keep", type=Path, help="run in this directory and keep the session")
    parser.add_argument(
        "--rerun",
        action="store_true",
        help="with --keep DIR of a finished session: test its survivors again with today's tests "
        "(those that execute each survivor's statement)",
    )
    parser.add_argument(
        "--whole",
        action="store_true",
        help="with --rerun: a survivor of its selected tests then runs the target's whole set",
    )
    parser.add_argument(
        "--resume",
        action="store_true",
        help="with --keep DIR of a stopped session: run the mutants it has not run yet",
    )
    args = parser.parse_args()
    if args.whole and not args.rerun:
        parser.error("--whole goes with --rerun")
    if args.resume and args.rerun:
        parser.error("--resume and --rerun are separate steps: resume first, then rerun")
    modules, tests = _resolve(args.target)
    bin_dir = Path(sys.executable).parent
    if args.rerun:
        if args.keep is None:
            sys.exit("--rerun needs --keep DIR, the session to test again")
        return _rerun(
            args.keep.resolve(), modules, tests, args.per_mutant, bin_dir, every_test=args.whole
        )
    if args.resume and args.keep is None:
        sys.exit("--resume needs --keep DIR, the stopped session to go on with")
    with tempfile.TemporaryDirectory(prefix="mutation-") as scratch:
        work = (args.keep or Path(scratch)).resolve()
        if args.resume:
            _refresh(work, modules)  # the mutants must still fit the sources
        else:
            work.mkdir(parents=True, exist_ok=True)
            _copy_tracked(work)
            _keep_originals(work, modules)
        return _execute(work, modules, tests, args, bin_dir)


def _execute(
    work: Path, modules: list[str], tests: list[str], args: argparse.Namespace, bin_dir: Path
) -> int:
    """Record the coverage baseline, then run the session's pending mutants (all, when new)."""
    with _fork_server(work) as sock:
        selection = _record_coverage(work, sock, modules, tests)
        command = _test_command(sock, modules, tests, selection)
        (work / "mutation.toml").write_text(_config(modules, command, args.per_mutant))
        cosmic_ray = str(bin_dir / "cosmic-ray")
        if not args.resume:
            subprocess.run(
                [cosmic_ray, "init", "mutation.toml", "session.sqlite"], cwd=work, check=True
            )
            print(f"{_skip_annotations(work)} mutants inside annotations skipped")
        try:
            execute = [cosmic_ray, "exec", "mutation.toml", "session.sqlite"]
            subprocess.run(execute, cwd=work, check=True, timeout=args.timeout)
        except subprocess.TimeoutExpired:
            print(f"stopped after {args.timeout:.0f} s; the report counts what ran")
        finally:  # a stopped or failed run leaves its last mutant in the copy
            _restore_sources(work, modules)
    return _report(work, bin_dir)


@contextlib.contextmanager
def _fork_server(work: Path) -> Iterator[Path]:
    """A fork server for the scratch copy ``work``; yields its socket, stops it after."""
    sock = Path(tempfile.mkdtemp(prefix="mutation-sock-")) / "server"
    server = _start_server(work, sock)
    try:
        yield sock
    finally:
        server.kill()
        server.wait()
        shutil.rmtree(sock.parent, ignore_errors=True)


def _report(work: Path, bin_dir: Path) -> int:
    """Print cosmic-ray's report of the session: each survivor with its diff, then the totals."""
    report = [str(bin_dir / "cr-report"), "--show-pending", "session.sqlite"]
    return subprocess.run(report, cwd=work, check=False).returncode


_ORIGINALS = ".mutation-originals"


def _keep_originals(work: Path, modules: list[str]) -> None:
    """Keep the session's own copy of the sources its mutants were made from."""
    for name in _module_files(work, modules):
        (work / _ORIGINALS / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(work / name, work / _ORIGINALS / name)


def _restore_sources(work: Path, modules: list[str]) -> None:
    """Put the sources the session was made from back (never the checkout's, which may have
    moved on: a later ``--resume`` would then apply the mutants to other code)."""
    originals = work / _ORIGINALS
    if not originals.is_dir():  # a session made before originals were kept
        print(f"no {_ORIGINALS} in {work}: check the target's sources there before --resume")
        return
    for name in _module_files(originals, modules):
        shutil.copy2(originals / name, work / name)


def _rerun(
    work: Path,
    modules: list[str],
    tests: list[str],
    per_mutant: float,
    bin_dir: Path,
    *,
    every_test: bool,
) -> int:
    _refresh(work, modules)
    with _fork_server(work) as sock:
        # Coverage again, so that each survivor runs the tests (new ones included) that reach it.
        selection = _record_coverage(work, sock, modules, tests)
        selected = _test_command(sock, modules, tests, selection)
        whole = _test_command(sock, modules, tests) if every_test else None
        _rerun_survivors(work, selected, whole, per_mutant)
    return _report(work, bin_dir)


if __name__ == "__main__":
    raise SystemExit(main())
