"""The real app under a real server: uvicorn on a free loopback port, in a thread.

For tests whose client is not in this process's event loop: a browser, or schemathesis
sending real HTTP. The socket is bound before the thread starts, so the port is known
and free of races; the server stops (lifespan shutdown included) when the block ends.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn
from litestar import Litestar

from tests.app_logging import log_thread_ended

START_SECONDS = 30


@contextmanager
def serving(app: Litestar) -> Iterator[str]:
    """Serve `app` until the block ends; yields its base URL, http://127.0.0.1:PORT."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + START_SECONDS
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    with log_thread_ended():
        try:
            yield f"http://127.0.0.1:{port}"
        finally:
            server.should_exit = True
            thread.join(timeout=START_SECONDS)
            listener.close()
