"""One writer at a time on an SQLite file, handed on the moment it is free.

SQLite lets one connection write at a time, and one that finds the file locked waits in
its busy handler: it sleeps 1, 2, 5, 10, 15, 20, 25, 25, 25, 50, 50, then 100 ms at a
time, checking between sleeps. A writer that queues behind a 3 ms transaction can so
wait 30 ms or more after the lock fell free. Under the load test's mix that polling, not
the writes, was a match's tail: every match waits for its read-audit batch to commit, and
the batch queued behind the other worker's referral and offer transactions.

`WriteLock` takes an advisory lock (`flock`) on a file beside the database before a
transaction's first write, on the connection's own thread, and lets go once the
transaction ends, so the writers of every worker process queue on it instead. A waiter
checks every 0.1 ms at first and never less often than every millisecond, so it starts
within about a millisecond of the lock falling free, and SQLite's own lock is free by the
time it asks. It waits no longer than the connection's busy timeout, then fails as SQLite
would ("database is locked"). Writers outside the service (a migration, the CLI) do not
take it; SQLite's lock still keeps them apart, as before.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
import time
import weakref

FIRST_WAIT_S = 0.0001
LONGEST_WAIT_S = 0.001
DML_KEYWORDS = ("INSERT", "UPDATE", "DELETE", "REPLACE")
"""The statements before which Python's sqlite3 opens a transaction of its own."""


def lock_path(database: str) -> str | None:
    """Where a database file's write lock lives; None for an in-memory database."""
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return f"{database}-writelock"


def starts_transaction(connection: sqlite3.Connection, operation: str) -> bool:
    """Whether sqlite3 is about to open a write transaction for this statement."""
    return not connection.in_transaction and operation.lstrip()[:7].upper().startswith(DML_KEYWORDS)


class WriteLock:
    """The advisory lock of one connection: held from its first write to its commit or
    rollback. Each connection opens the file itself, so two connections of one process
    exclude each other as two processes do (`flock` locks belong to the open file)."""

    __slots__ = ("__weakref__", "_closed", "_fd", "_held", "_timeout")

    def __init__(self, path: str, timeout: float) -> None:
        self._fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        self._timeout = timeout
        self._held = False
        # Closing the file lets go of the lock: a connection dropped without closing
        # (collected) cannot keep every other writer waiting.
        self._closed = weakref.finalize(self, os.close, self._fd)

    def acquire(self) -> None:
        """Wait for the lock (on the connection's thread); raise as SQLite would after
        the busy timeout."""
        deadline = time.monotonic() + self._timeout
        wait = FIRST_WAIT_S
        while not self.try_acquire():
            if time.monotonic() >= deadline:
                raise sqlite3.OperationalError("database is locked")
            time.sleep(wait)
            wait = min(2 * wait, LONGEST_WAIT_S)

    def try_acquire(self) -> bool:
        """Take the lock if it is free, without waiting: whether it was taken."""
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        self._held = True
        return True

    def release(self) -> None:
        if self._held:
            self._held = False
            fcntl.flock(self._fd, fcntl.LOCK_UN)

    def close(self) -> None:
        """Let go and close the file; safe to call again."""
        self._held = False
        self._closed()
