"""Ctrl-C and SIGTERM as the commands take them: held back while a store is written, so that what is
on disk is whole and its files agree, and acted on the moment the write ends."""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Iterator

SIGNALS = (signal.SIGINT, signal.SIGTERM)


@contextlib.contextmanager
def deferred() -> Iterator[None]:
    """The block runs to its end whatever signal comes; one that came is then raised as KeyboardInterrupt.
    Python-level handlers, so that a signal the kernel hands to another thread waits too. Main thread
    only (elsewhere signal handlers cannot be set): there the block simply runs."""
    caught: list[int] = []
    try:  # a signal the process ignores (a background job's SIGINT) stays ignored
        held = [sig for sig in SIGNALS if signal.getsignal(sig) is not signal.SIG_IGN]
        saved = {sig: signal.signal(sig, lambda signum, frame: caught.append(signum)) for sig in held}
    except ValueError:  # not the main thread
        yield
        return
    try:
        yield
    finally:
        for sig, handler in saved.items():
            signal.signal(sig, handler)
        if caught:
            raise KeyboardInterrupt


def ignore_from_now() -> None:
    """The command has ended and said so: a signal in its last milliseconds (the interpreter's shutdown,
    where Python puts the default handlers back) must not turn a finished run's exit status into a kill."""
    for sig in SIGNALS:
        signal.signal(sig, signal.SIG_IGN)
