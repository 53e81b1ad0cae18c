"""Ending the log thread that each Litestar app starts, when a test is done with the app.

Litestar's default logging config gives every app it makes a queue handler whose listener
is a thread of its own, stopped only when the process exits. The tests make hundreds of
apps in one process: without this, each leaves its thread (and what it holds) behind
until the suite ends.
"""

from __future__ import annotations

import atexit
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from logging.handlers import QueueListener


def litestar_listeners() -> list[QueueListener]:
    """The listeners behind the `litestar` logger's handlers: those of the app made last
    (each app configures logging afresh as it is made)."""
    handlers = logging.getLogger("litestar").handlers
    found = (getattr(handler, "listener", None) for handler in handlers)
    return [listener for listener in found if isinstance(listener, QueueListener)]


@contextmanager
def log_thread_ended() -> Iterator[None]:
    """For the block's app, made just before: its log listener is stopped when the block
    ends (what is queued is written first), and no longer waits for the process's exit."""
    listeners = litestar_listeners()
    try:
        yield
    finally:
        for listener in listeners:
            listener.stop()
            atexit.unregister(listener.stop)
