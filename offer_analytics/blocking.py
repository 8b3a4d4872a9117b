"""Running a coroutine from synchronous code, even where an event loop is already running.

Jupyter runs every cell inside an event loop, so ``asyncio.run`` fails there. Patching the loop
(nest_asyncio) breaks libraries that rely on its invariants; a fresh loop in a thread of its own
does not, and costs one thread for the duration of the call.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

__all__ = ["run_blocking"]

T = TypeVar("T")


def run_blocking(make: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run a coroutine to completion from synchronous code, even inside a running event loop.

    Parameters
    ----------
    make
        Creates the coroutine; called in the thread that runs it.

    Examples
    --------
    >>> async def answer() -> int:
    ...     return 42
    >>> run_blocking(answer)
    42
    >>> async def cell() -> int:  # as in a notebook, where a loop is already running
    ...     return run_blocking(answer)
    >>> asyncio.run(cell())
    42
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        running = False
    else:
        running = True
    if not running:
        # Outside the except block: errors of the load must not come chained to this one.
        return asyncio.run(make())
    # This thread already runs a loop (Jupyter, an async app): nesting loops is not allowed, so
    # run ours in a thread of its own and wait for it.
    loop = asyncio.new_event_loop()
    outcome: dict[str, Any] = {}

    def target() -> None:
        asyncio.set_event_loop(loop)
        try:
            outcome["task"] = task = loop.create_task(make())
            outcome["value"] = loop.run_until_complete(task)
        except BaseException as exc:  # handed over to the caller's thread below
            outcome["error"] = exc
        finally:
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    thread = threading.Thread(target=target, name="offer-analytics-load", daemon=True)
    thread.start()
    try:
        while thread.is_alive():
            thread.join(0.1)
    except BaseException:
        # Ctrl-C in the notebook: stop the load instead of leaving it running behind the user.
        if "task" in outcome:
            loop.call_soon_threadsafe(outcome["task"].cancel)
        thread.join()
        raise
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]  # type: ignore[no-any-return]
