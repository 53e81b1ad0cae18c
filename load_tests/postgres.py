"""A throwaway PostgreSQL cluster on a loopback port, as `.ci/run` makes one."""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def server_binaries() -> Path:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    if not found:
        raise SystemExit(
            "PostgreSQL server binaries not found: install Debian's postgresql package, "
            "or set PLACEMENT_DATABASE_URL to a server of your own"
        )
    return found[-1].parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def as_postgres(*command: str) -> None:
    subprocess.run(
        ["runuser", "-u", "postgres", "--", *command], check=True, stdout=subprocess.DEVNULL
    )


@contextmanager
def throwaway_postgres() -> Iterator[str]:
    """Start a trust-auth cluster owned by the postgres user; yields its URL; removes it.

    The cluster gets a temporary folder of its own in /tmp, owned by postgres: the
    caller's folders are private to root, and the server could not reach into them.
    """
    binaries = server_binaries()
    folder = Path(tempfile.mkdtemp(prefix="placement-pg-"))
    shutil.chown(folder, "postgres")
    port = free_port()
    as_postgres(
        str(binaries / "initdb"), "-D", str(folder / "data"), "-A", "trust", "-U", "postgres"
    )
    options = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c max_connections=200"
    as_postgres(
        str(binaries / "pg_ctl"),
        "-D",
        str(folder / "data"),
        "-l",
        str(folder / "log"),
        "-o",
        options,
        "-w",
        "start",
    )
    try:
        yield f"postgresql+asyncpg://postgres@127.0.0.1:{port}/postgres"
    finally:
        as_postgres(str(binaries / "pg_ctl"), "-D", str(folder / "data"), "-m", "immediate", "stop")
