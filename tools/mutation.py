"""Mutation testing of one target at a time with cosmic-ray, in a scratch copy of the repository.

cosmic-ray rewrites the source files in place while it tests each mutant, so it runs in a copy
of the tracked files (never in the working tree) and each mutant runs the target's tests in a
fresh ``python -m pytest`` process. Usage::

    uv run python tools/mutation.py metrics/_versions.py       # one module of a target
    uv run python tools/mutation.py timestamps --timeout 1800  # a whole target

Prints cosmic-ray's report (``cr-report``): every surviving mutant with its diff, then the
totals. docs/mutation.md records the results and which survivors are equivalent.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "offer_analytics"

# target -> (modules to mutate, the tests that pin them)
TARGETS: dict[str, tuple[list[str], list[str]]] = {
    "metrics": (["metrics"], ["tests/metrics"]),
    "timestamps": (["decode/_timestamps.py"], ["tests/decode"]),
    "schema": (["schema.py"], ["tests/test_schema_outcomes.py", "tests/decode"]),
    "rate_gate": (["bindbee/_rate_gate.py"], ["tests/bindbee"]),
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
    files = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, check=True, capture_output=True, text=True
    ).stdout.split("\0")
    for name in filter(None, files):
        source = ROOT / name
        if source.is_file():
            (destination / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, destination / name)


def _config(modules: list[str], tests: list[str], per_mutant: float) -> str:
    paths = ", ".join(f'"{PACKAGE}/{m}"' for m in modules)
    # -x: one failing test kills the mutant; doctests stay out (they run in the normal suite).
    command = f"{sys.executable} -m pytest -x -q -p no:cacheprovider {' '.join(tests)}"
    return (
        "[cosmic-ray]\n"
        f"module-path = [{paths}]\n"
        f"timeout = {per_mutant}\n"
        "excluded-modules = []\n"
        f'test-command = "{command}"\n\n'
        '[cosmic-ray.distributor]\nname = "local"\n'
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("target", help=f"one of {', '.join(TARGETS)}, or a module inside one")
    parser.add_argument("--timeout", type=float, default=1800, help="whole run, seconds")
    parser.add_argument("--per-mutant", type=float, default=120, help="seconds per mutant")
    parser.add_argument("--keep", type=Path, help="run in this directory and keep the session")
    args = parser.parse_args()
    modules, tests = _resolve(args.target)
    bin_dir = Path(sys.executable).parent
    with tempfile.TemporaryDirectory(prefix="mutation-") as scratch:
        work = args.keep or Path(scratch)
        work.mkdir(parents=True, exist_ok=True)
        _copy_tracked(work)
        (work / "mutation.toml").write_text(_config(modules, tests, args.per_mutant))
        steps = [
            [str(bin_dir / "cosmic-ray"), "init", "mutation.toml", "session.sqlite"],
            [str(bin_dir / "cosmic-ray"), "exec", "mutation.toml", "session.sqlite"],
        ]
        for step in steps:
            try:
                subprocess.run(step, cwd=work, check=True, timeout=args.timeout)
            except subprocess.TimeoutExpired:
                print(f"stopped after {args.timeout:.0f} s; the report counts what ran")
        report = [str(bin_dir / "cr-report"), "--show-pending", "session.sqlite"]
        return subprocess.run(report, cwd=work, check=False).returncode


if __name__ == "__main__":
    raise SystemExit(main())
