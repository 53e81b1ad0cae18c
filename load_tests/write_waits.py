"""How long SQLite writers wait for each other: `python -m load_tests.write_waits`.

Several processes write to one database file at once, each holding its transaction
open a little (as a request does between statements) and pausing between
transactions. Each writer's wait, from asking to write to being let in, is collected,
first with SQLite's own busy handler (which polls, sleeping up to 100 ms at a time),
then with `placement.write_lock` (which hands the lock on within about a millisecond).
The same total work runs both ways, so the mean wait is about the same; the tail shows
the difference. A benchmark, not a test: it prints figures and judges nothing.
"""

from __future__ import annotations

import argparse
import multiprocessing
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path

from placement.write_lock import WriteLock, lock_path, starts_transaction

INSERT = "INSERT INTO t (x) VALUES (?)"


def write_often(database: str, locked: bool, writes: int, hold: float) -> list[float]:
    """One writer's waits, in seconds, over `writes` transactions."""
    connection = sqlite3.connect(database, timeout=30)
    connection.execute("PRAGMA synchronous=NORMAL")
    path = lock_path(database)
    lock = WriteLock(path, timeout=30) if locked and path else None
    waits = []
    for x in range(writes):
        asked = time.perf_counter()
        if lock is not None and starts_transaction(connection, INSERT):
            lock.acquire()
        connection.execute(INSERT, (x,))
        waits.append(time.perf_counter() - asked)
        time.sleep(hold)  # work inside the transaction
        connection.commit()
        if lock is not None:
            lock.release()
        time.sleep(1.5 * hold)  # work between transactions
    connection.close()
    return waits


def waits_of(locked: bool, writers: int, writes: int, hold: float) -> list[float]:
    with tempfile.TemporaryDirectory() as folder:
        database = str(Path(folder) / "waits.db")
        setup = sqlite3.connect(database)
        setup.execute("PRAGMA journal_mode=WAL")
        setup.execute("CREATE TABLE t (x INTEGER)")
        setup.commit()
        setup.close()
        with multiprocessing.Pool(writers) as pool:
            runs = pool.starmap(write_often, [(database, locked, writes, hold)] * writers)
    return sorted(wait for run in runs for wait in run)


def describe(label: str, waits: list[float]) -> str:
    def ms(share: float) -> float:
        return 1000 * waits[round(share * (len(waits) - 1))]

    return (
        f"{label:18} wait p50 {ms(0.5):6.2f} ms  p95 {ms(0.95):6.2f}  p99 {ms(0.99):6.2f}  "
        f"max {1000 * waits[-1]:7.1f}  mean {1000 * statistics.mean(waits):5.2f}"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m load_tests.write_waits", description=__doc__)
    parser.add_argument("--writers", type=int, default=4, help="writing processes")
    parser.add_argument("--writes", type=int, default=300, help="transactions per writer")
    parser.add_argument("--hold-ms", type=float, default=2.0, help="time inside a transaction")
    args = parser.parse_args(argv)
    for label, locked in (("SQLite busy handler", False), ("write lock", True)):
        waits = waits_of(locked, args.writers, args.writes, args.hold_ms / 1000)
        print(describe(label, waits))


if __name__ == "__main__":
    main()
