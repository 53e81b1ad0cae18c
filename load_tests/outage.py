"""A database outage under the running service: `python -m load_tests.outage`.

It starts a private PostgreSQL cluster (Debian's server binaries, as root), serves the
real app on loopback over it, and then stops the database (`pg_ctl stop -m immediate`),
starts it again, freezes it (SIGSTOP to every process of the cluster) and thaws it,
timing how long a read, a write and /health take to answer in each state and which
status they answer with. The service is never restarted. Nothing is asserted here;
`tests/test_database_faults.py` checks the answers, this prints the figures.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import psutil
from cryptography.fernet import Fernet

from load_tests.postgres import as_postgres, free_port, server_binaries

REPO = Path(__file__).resolve().parent.parent
READ = "/api/v1/authorities"
WRITE = "/api/v1/providers"


@dataclass
class Cluster:
    """A private PostgreSQL cluster that can be stopped, started, frozen and thawed."""

    folder: Path
    port: int

    @property
    def url(self) -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/postgres"

    def _pg_ctl(self, *arguments: str) -> None:
        as_postgres(str(server_binaries() / "pg_ctl"), "-D", str(self.folder / "data"), *arguments)

    def start(self) -> None:
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._pg_ctl("-l", str(self.folder / "log"), "-o", options, "-w", "start")

    def stop(self) -> None:
        """As abruptly as a crash: no checkpoint, clients cut off."""
        self._pg_ctl("-m", "immediate", "-w", "stop")

    def processes(self) -> list[psutil.Process]:
        """The postmaster and every process it started (backends, writers, ...)."""
        postmaster = psutil.Process(
            int((self.folder / "data" / "postmaster.pid").read_text().split()[0])
        )
        return [postmaster, *postmaster.children(recursive=True)]

    def freeze(self) -> None:
        """Every process of the cluster stops in its tracks: connections stay open and
        the kernel still accepts new ones, but nothing answers (like a hung host)."""
        for process in self.processes():
            process.send_signal(signal.SIGSTOP)

    def thaw(self) -> None:
        for process in self.processes():
            process.send_signal(signal.SIGCONT)


@contextmanager
def private_cluster() -> Iterator[Cluster]:
    """A new cluster in a folder of its own in /tmp (owned by postgres, which runs it)."""
    folder = Path(tempfile.mkdtemp(prefix="placement-outage-pg-"))
    shutil.chown(folder, "postgres")
    cluster = Cluster(folder, free_port())
    initdb = str(server_binaries() / "initdb")
    as_postgres(initdb, "-D", str(folder / "data"), "-A", "trust", "-U", "postgres")
    cluster.start()
    try:
        yield cluster
    finally:
        if (folder / "data" / "postmaster.pid").exists():
            cluster.thaw()
            cluster.stop()
        shutil.rmtree(folder, ignore_errors=True)


def placement(*arguments: str, env: dict[str, str]) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "placement", *arguments],
        env=env,
        cwd=REPO,
        check=True,
        capture_output=True,
        text=True,
    )
    return done.stdout.strip()


@dataclass
class Service:
    """The real app served by uvicorn in its own process, and an admin key for it."""

    base: str
    admin_key: str
    process: subprocess.Popen[bytes]
    log: Path

    def tail(self) -> str:
        """The end of the server's log, for a failure message."""
        return self.log.read_text(errors="replace")[-4000:]

    def get(self, path: str, timeout: float) -> httpx.Response:
        return httpx.get(self.base + path, headers=self._auth(), timeout=timeout)

    def post(self, path: str, body: object, timeout: float) -> httpx.Response:
        return httpx.post(self.base + path, json=body, headers=self._auth(), timeout=timeout)

    def health(self, timeout: float) -> httpx.Response:
        return httpx.get(self.base + "/health", timeout=timeout)

    def _auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.admin_key}"}


def service_env(database_url: str, data_dir: Path) -> dict[str, str]:
    data_dir.mkdir(parents=True, exist_ok=True)
    return {
        **os.environ,
        "PLACEMENT_DATA_DIR": str(data_dir),
        "PLACEMENT_DATABASE_URL": database_url,
        "PLACEMENT_SECRET_KEY": Fernet.generate_key().decode(),
        # Every request checks its key in the database, as after a key cache expires.
        "PLACEMENT_KEY_CACHE_SECONDS": "0",
    }


@contextmanager
def served(env: dict[str, str]) -> Iterator[Service]:
    """Migrate, issue an admin key, serve on a free loopback port until the block ends."""
    placement("migrate", env=env)
    admin_key = placement("keys", "create", "--role", "admin", env=env)
    port = free_port()
    log = Path(env["PLACEMENT_DATA_DIR"]) / "server.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "placement", "serve", "--port", str(port), "--workers", "1"],
            env=env,
            cwd=REPO,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    service = Service(f"http://127.0.0.1:{port}", admin_key, process, log)
    try:
        _wait_until_healthy(service)
        yield service
    finally:
        process.terminate()
        process.wait(timeout=30)


def _wait_until_healthy(service: Service) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if service.process.poll() is not None:
            raise RuntimeError("the service exited before it was healthy")
        try:
            if service.health(timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError("the service did not become healthy within 60 s")


def timed(call: str, service: Service, timeout: float) -> tuple[str, float]:
    """The status (or the client's error) of one call, and how long it took."""
    started = time.perf_counter()
    try:
        if call == "read":
            status = str(service.get(READ, timeout).status_code)
        elif call == "write":
            body = {"name": f"Outage Homes {time.monotonic_ns()}", "specialisms": []}
            status = str(service.post(WRITE, body, timeout).status_code)
        else:
            status = str(service.health(timeout).status_code)
    except httpx.HTTPError as error:
        status = type(error).__name__
    return status, time.perf_counter() - started


def at_once(service: Service, calls: int, timeout: float) -> str:
    """`calls` reads sent together (more than the pool holds): statuses and slowest."""
    with ThreadPoolExecutor(max_workers=calls) as pool:
        results = list(pool.map(lambda _: timed("read", service, timeout), range(calls)))
    statuses = Counter(status for status, _ in results)
    slowest = max(spent for _, spent in results)
    return f"{dict(statuses)}, slowest {slowest:.3f} s"


def first_success_after(service: Service, timeout: float) -> tuple[int, float]:
    """Reads until one answers 200: how many failed first, and how long it took."""
    started = time.perf_counter()
    failed = 0
    while timed("read", service, timeout)[0] != "200":
        failed += 1
    return failed, time.perf_counter() - started


def measure(service: Service, args: argparse.Namespace, state: str) -> None:
    """Time `args.repeat` calls of each kind, one after another, and print the range."""
    for call in ("read", "write", "health"):
        results = [timed(call, service, args.client_timeout) for _ in range(args.repeat)]
        statuses = ",".join(sorted({status for status, _ in results}))
        seconds = [spent for _, spent in results]
        print(f"{state:<10} {call:<7} {statuses:<22} {min(seconds):6.3f} {max(seconds):6.3f}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m load_tests.outage", description=__doc__)
    parser.add_argument("--repeat", type=int, default=3, help="calls of each kind per state")
    parser.add_argument("--client-timeout", type=float, default=30.0)
    parser.add_argument(
        "--at-once", type=int, default=50, help="reads sent together (the pool holds 35)"
    )
    args = parser.parse_args(argv)
    with private_cluster() as cluster, tempfile.TemporaryDirectory() as tmp:
        env = service_env(cluster.url, Path(tmp) / "data")
        with served(env) as service:
            print(f"{'state':<10} {'call':<7} {'statuses':<22} {'min s':>6} {'max s':>6}")

            measure(service, args, "up")
            cluster.stop()
            measure(service, args, "stopped")
            cluster.start()
            failed, spent = first_success_after(service, args.client_timeout)
            print(f"restarted: first 200 after {failed} failed read(s), {spent:.3f} s")
            print(f"up, {args.at_once} reads at once: {at_once(service, args.at_once, 30)}")
            cluster.freeze()
            try:
                measure(service, args, "frozen")
                burst = at_once(service, args.at_once, args.client_timeout)
                print(f"frozen, {args.at_once} reads at once: {burst}")
            finally:
                cluster.thaw()
            failed, spent = first_success_after(service, args.client_timeout)
            print(f"thawed: first 200 after {failed} failed read(s), {spent:.3f} s")
            measure(service, args, "up again")
    return 0


if __name__ == "__main__":
    sys.exit(main())
