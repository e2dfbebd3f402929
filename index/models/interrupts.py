"""Hold Ctrl+C (and a SIGTERM routed to it) while native threads run Python callbacks.

OpenVINO's inference queue calls back into Python from its own threads. A KeyboardInterrupt
that leaves the main thread while requests are still in flight ends the interpreter under
them: the callback thread then cannot take the GIL, Python ends that thread with a forced
unwind, OpenVINO's C++ swallows it, and glibc aborts the process ("FATAL: exception not
rethrown", exit 134). So inside `deferred_interrupts` the signal only sets a flag; the caller
looks at it between batches, lets the requests in flight finish, and the KeyboardInterrupt
is raised when the block ends, where Python can unwind normally.

Only the standard library is imported.
"""
from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Callable, Iterator

_SIGNALS = tuple(s for s in (getattr(signal, "SIGINT", None), getattr(signal, "SIGTERM", None))
                 if s is not None)


@contextlib.contextmanager
def deferred_interrupts() -> Iterator[Callable[[], bool]]:
    """Yields `interrupted()`: whether Ctrl+C came since the block began. A signal whose
    handler raises KeyboardInterrupt (Python's own for SIGINT; `qa index watch` routes SIGTERM
    to it) is held for the block and raised as KeyboardInterrupt when the block ends; any
    other handler is left alone. Off the main thread (where no signal handler runs) nothing
    changes."""
    if threading.current_thread() is not threading.main_thread():
        yield lambda: False
        return
    pending: list[int] = []
    previous: dict[int, object] = {}
    for signum in _SIGNALS:
        if signal.getsignal(signum) is signal.default_int_handler:
            previous[signum] = signal.signal(signum, lambda number, _frame: pending.append(number))
    try:
        yield lambda: bool(pending)
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    if pending:
        raise KeyboardInterrupt
