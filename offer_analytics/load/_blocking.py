"""Running a coroutine from synchronous code, even where an event loop is already running.

Jupyter runs every cell inside an event loop, so ``asyncio.run`` fails there. Patching the loop
(nest_asyncio) breaks libraries that rely on its invariants; a fresh loop in a thread of its own
does not, and costs one thread for the duration of the call.

Ctrl-C must stop the load, wherever it runs:

- no loop running (a script): ``asyncio.run`` cancels the load and raises ``KeyboardInterrupt``;
- a loop running in this thread (a notebook cell, or code inside ``asyncio.run``): the caller
  waits synchronously for the load's thread, so the running loop's own SIGINT handling (which
  only cancels its task at its next ``await``) would never get a say. While waiting, SIGINT
  raises ``KeyboardInterrupt`` right here; the load is cancelled, its thread finishes (closing
  connections and worker threads) and then the interrupt goes on to the caller.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import inspect
import signal
import threading
from collections.abc import Callable, Coroutine, Iterator
from typing import Any, Generic, ParamSpec, TypeVar, cast

from offer_analytics.bindbee._credentials import Sealed

__all__ = ["blocking_twin", "run_blocking"]

T = TypeVar("T")
P = ParamSpec("P")

#: How often the waiting thread wakes up; signal handlers run between these waits.
_POLL_S = 0.05


def run_blocking(make: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run a coroutine to completion from synchronous code, even inside a running event loop.

    Parameters
    ----------
    make
        Creates the coroutine; called in the thread that runs it.

    Raises
    ------
    KeyboardInterrupt
        On Ctrl-C, once the coroutine has been cancelled and its thread has finished.

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
    return _run_in_thread(make)


def blocking_twin(
    coroutine_function: Callable[P, Coroutine[Any, Any, T]], *, secrets: tuple[str, ...] = ()
) -> Callable[[Callable[..., T]], Callable[P, T]]:
    """Make the decorated stub the blocking twin of ``coroutine_function``.

    The twin takes exactly the coroutine function's parameters (for type checkers through the
    ParamSpec, for ``help()`` and IDEs through ``__signature__``), so an option is declared once,
    on the async function; the stub contributes only its name and docstring. The twin runs the
    coroutine with :func:`run_blocking`. Arguments named in ``secrets`` are sealed at once, so
    that no frame of the twin's call holds them in a plain local.

    Examples
    --------
    >>> async def add(*, a: int, b: int = 1) -> int:
    ...     return a + b
    >>> @blocking_twin(add)
    ... def add_now() -> int:
    ...     "The blocking twin of add."
    ...     raise NotImplementedError  # never called: the twin replaces it
    >>> add_now(a=41), list(inspect.signature(add_now).parameters)
    (42, ['a', 'b'])
    """

    def decorate(stub: Callable[..., T]) -> Callable[P, T]:
        @functools.wraps(stub)
        def twin(*args: P.args, **kwargs: P.kwargs) -> T:
            sealed = Sealed({name: kwargs.pop(name) for name in secrets if name in kwargs})
            run = cast(Callable[..., Coroutine[Any, Any, T]], coroutine_function)
            return run_blocking(lambda: run(*args, **kwargs, **sealed.open()))

        twin.__signature__ = inspect.signature(coroutine_function)  # type: ignore[attr-defined]
        return twin

    return decorate


class _Handoff(Generic[T]):
    """What the caller's thread and the loop's thread share: the task, a cancel request, results.

    A cancel request may come before the task exists (Ctrl-C right after the start) or after the
    loop closed (right at the end); the lock orders the first case, the second has nothing left
    to cancel.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self._lock = threading.Lock()
        self._task: asyncio.Task[T] | None = None
        self._cancelled = False
        self.value: T | None = None
        self.error: BaseException | None = None

    def started(self, task: asyncio.Task[T]) -> None:
        """In the loop's thread, before running the task."""
        with self._lock:
            self._task = task
            if self._cancelled:
                task.cancel()

    def cancel(self) -> None:
        """In the caller's thread: cancel the task now, or as soon as it exists."""
        with self._lock:
            self._cancelled = True
            task = self._task
        if task is not None:
            with contextlib.suppress(RuntimeError):  # the loop closed: the task is done
                self.loop.call_soon_threadsafe(task.cancel)


def _run_in_thread(make: Callable[[], Coroutine[Any, Any, T]]) -> T:
    loop = asyncio.new_event_loop()
    handoff: _Handoff[T] = _Handoff(loop)
    # Waiting on an Event, not on Thread.join: a KeyboardInterrupt raised inside join() can mark
    # a thread that is still running as stopped (CPython bpo-45274's fix releases its lock).
    finished = threading.Event()

    def target() -> None:
        asyncio.set_event_loop(loop)
        try:
            task = loop.create_task(make())
            handoff.started(task)
            handoff.value = loop.run_until_complete(task)
        except BaseException as exc:  # handed over to the caller's thread below
            handoff.error = exc
        finally:
            try:
                loop.run_until_complete(loop.shutdown_asyncgens())
                loop.run_until_complete(loop.shutdown_default_executor())
            finally:
                asyncio.set_event_loop(None)
                loop.close()
                finished.set()

    thread = threading.Thread(target=target, name="offer-analytics-load", daemon=True)
    with _sigint_raises_here():
        try:
            thread.start()
            while not finished.wait(_POLL_S):
                pass
        except KeyboardInterrupt:
            handoff.cancel()
            raise
        finally:
            if thread.ident is not None:  # started: never leave it running behind the caller
                _wait_through_interrupts(finished)
                thread.join()
    if handoff.error is not None:
        raise handoff.error
    return handoff.value  # type: ignore[return-value]


def _wait_through_interrupts(finished: threading.Event) -> None:
    """Wait for a cancelled load's thread; a second Ctrl-C must not leave it running."""
    while not finished.is_set():
        with contextlib.suppress(KeyboardInterrupt):
            finished.wait(_POLL_S)


@contextlib.contextmanager
def _sigint_raises_here() -> Iterator[None]:
    """In the main thread, make SIGINT raise KeyboardInterrupt while we wait synchronously.

    ``asyncio.run`` installs a handler that only cancels its main task, which is the one blocked
    in this wait: left in place, Ctrl-C would do nothing until the whole load had finished.
    """
    if threading.current_thread() is not threading.main_thread():
        yield  # signals are delivered to the main thread only: nothing to wait for here
        return
    previous = signal.getsignal(signal.SIGINT)
    if previous in (signal.SIG_IGN, None):
        yield  # the application chose to ignore Ctrl-C (or handles it outside Python)
        return
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
