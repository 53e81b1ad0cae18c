"""Settings read from the environment, with defaults that make a fresh clone runnable.

Everything is an environment variable so that several instances (or tests) can run side
by side with different data directories and databases, and no secret lives in the repo.
"""

from __future__ import annotations

import dataclasses
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import optimiser


def _int_env(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise SystemExit(f"{name} must be a whole number, got {raw!r}") from exc


def _count_env(name: str, least: int) -> int | None:
    """A whole number of at least `least`; None when unset (the default applies)."""
    if not os.environ.get(name):
        return None
    count = _int_env(name, least)
    if count < least:
        raise SystemExit(f"{name} must be at least {least}, got {count}")
    return count


def _list_env(name: str) -> tuple[str, ...]:
    """A comma-separated list; empty when unset."""
    return tuple(item.strip() for item in os.environ.get(name, "").split(",") if item.strip())


def _flag_env(name: str) -> bool | None:
    """1/true or 0/false; None when unset."""
    raw = os.environ.get(name, "").strip().lower()
    if raw == "":
        return None
    if raw in ("1", "true"):
        return True
    if raw in ("0", "false"):
        return False
    raise SystemExit(f"{name} must be 1 or 0, got {raw!r}")


def _seconds_env(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        seconds = float(raw)
    except ValueError:
        seconds = -1.0
    if not seconds > 0:
        raise SystemExit(f"{name} must be a number of seconds above 0, got {raw!r}")
    return seconds


@dataclass(frozen=True)
class DatabaseTimeouts:
    """How long the service waits for its database before answering 503.

    A stopped server refuses at once, but a frozen or unreachable one answers nothing: the
    service used to hang 40 s or more. These bounds keep the 503 within about five seconds
    at the defaults: a request waits at most `pool` for a pooled connection, `connect` for
    a new one, and `statement` for a PostgreSQL statement (the server cancels it then, and
    the client gives up just after, in case the server cannot). `sqlite_busy` is how long
    a SQLite writer queues for the write lock, which only another writer holds: long, so
    bursts of writes queue rather than fail.
    """

    connect: float = 2.0
    statement: float = 4.0
    pool: float = 2.0
    sqlite_busy: float = 30.0

    @classmethod
    def from_env(cls) -> DatabaseTimeouts:
        return cls(
            connect=_seconds_env("PLACEMENT_DB_CONNECT_TIMEOUT", cls.connect),
            statement=_seconds_env("PLACEMENT_DB_STATEMENT_TIMEOUT", cls.statement),
            pool=_seconds_env("PLACEMENT_DB_POOL_TIMEOUT", cls.pool),
            sqlite_busy=_seconds_env("PLACEMENT_SQLITE_BUSY_TIMEOUT", cls.sqlite_busy),
        )


@dataclass(frozen=True)
class Settings:
    """Runtime configuration.

    | variable | default | meaning |
    | --- | --- | --- |
    | PLACEMENT_DATA_DIR | ./data | SQLite file, generated dev secret key, dev admin key |
    | PLACEMENT_DATABASE_URL | sqlite+aiosqlite:///<data dir>/placement.db | SQLAlchemy async URL |
    | PLACEMENT_SECRET_KEY | generated into <data dir>/secret.key | Fernet keys, newest first |
    | PLACEMENT_RATE_LIMIT_PER_MINUTE | 1200 | requests per minute per API key |
    | PLACEMENT_MAX_BODY_BYTES | 262144 | larger request bodies get 413 |
    | PLACEMENT_OFFER_HOLD_HOURS | 4 | how long an offer holds a unit |
    | PLACEMENT_MATCH_WEIGHTS | {} | JSON object overriding `optimiser.Weights` fields |
    | PLACEMENT_KEY_CACHE_SECONDS | 5 | how long a worker trusts a key it has checked (0: never) |
    | PLACEMENT_UNKNOWN_KEY_RATE_LIMIT_PER_MINUTE | 60 | unchecked keys per minute per address |
    | PLACEMENT_CORS_ORIGINS | (none) | comma-separated origins browsers may call from |
    | PLACEMENT_SELF_CONTAINED_TYPES | see optimiser | types that get the bedroom standard |
    | PLACEMENT_DB_CONNECT_TIMEOUT | 2 | seconds to connect to PostgreSQL before a 503 |
    | PLACEMENT_DB_STATEMENT_TIMEOUT | 4 | seconds a PostgreSQL statement may take before a 503 |
    | PLACEMENT_DB_POOL_TIMEOUT | 2 | seconds to wait for a pooled connection before a 503 |
    | PLACEMENT_SQLITE_BUSY_TIMEOUT | 30 | seconds a SQLite writer waits for the lock before a 503 |
    | PLACEMENT_DB_POOL_SIZE | 20 SQLite, 25 PostgreSQL | connections a worker keeps open |
    | PLACEMENT_DB_POOL_OVERFLOW | 20 SQLite, 10 PostgreSQL | more a worker may open in a burst |
    | PLACEMENT_SESSION_IDLE_SECONDS | 1800 | a page session unused this long ends |
    | PLACEMENT_SESSION_MAX_SECONDS | 43200 | a session ends this long after sign-in, even if used |
    | PLACEMENT_SIGN_IN_MAX_FAILURES | 5 | failed sign-ins within the window that lock an account |
    | PLACEMENT_SIGN_IN_WINDOW_SECONDS | 900 | the window failed sign-ins are counted in |
    | PLACEMENT_LOCKOUT_SECONDS | 900 | how long a locked account stays locked |
    | PLACEMENT_INSECURE_COOKIES | 0 | 1: page cookies without `Secure`, for plain-http dev only |
    | PLACEMENT_JOBS_IN_PROCESS | 1 SQLite, 0 PostgreSQL | 1: the service runs jobs itself |
    | PLACEMENT_JOB_POLL_SECONDS | 1 | how often a job runner looks for work and heartbeats |
    | PLACEMENT_JOB_STALE_SECONDS | 30 | a running job silent this long is run again |
    """

    data_dir: Path
    database_url: str
    secret_key: str | None
    rate_limit_per_minute: int = 1200
    max_body_bytes: int = 262_144
    offer_hold_hours: int = 4
    key_cache_seconds: int = 5
    match_weights_json: str = "{}"
    # Requests with a key this worker has not yet checked, per client address: invented
    # keys are refused (401) after a key lookup, and this bounds those lookups.
    unknown_key_rate_limit_per_minute: int = 60
    # Off by default: the API is for servers; name the origins of browser apps to allow.
    cors_origins: tuple[str, ...] = ()
    self_contained_types_csv: str | None = None
    """Comma-separated scheme types; None: the optimiser's documented default."""
    database_timeouts: DatabaseTimeouts = DatabaseTimeouts()
    db_pool_size: int | None = None
    """Connections each worker keeps open; None: sized for the load test's requests in
    flight (see `placement.db.engine_options`)."""
    db_pool_overflow: int | None = None
    """Connections a worker may open beyond `db_pool_size` in a burst; None: the default."""
    session_idle_seconds: int = 1800
    session_max_seconds: int = 43_200
    sign_in_max_failures: int = 5
    sign_in_window_seconds: int = 900
    lockout_seconds: int = 900
    # Browsers keep `Secure` cookies only over https (and on localhost); this drops the
    # flag for a plain-http development server reached by another name. Never in production.
    insecure_cookies: bool = False
    jobs_in_process_setting: bool | None = None
    """None: in-process on SQLite, on `placement worker` processes on PostgreSQL."""
    job_poll_seconds: float = 1.0
    job_stale_seconds: float = 30.0

    @property
    def jobs_in_process(self) -> bool:
        """Whether the service runs jobs itself (SQLite's default) or leaves them to
        `placement worker` processes over procrastinate's queue (PostgreSQL's)."""
        if self.jobs_in_process_setting is None:
            return self.is_sqlite
        return self.jobs_in_process_setting

    def match_weights(self) -> optimiser.Weights:
        """The matcher's weights: documented defaults, overridden field by field.

        `optimiser` is imported here, not at the top, because it loads numpy (its solvers,
        OR-Tools and SciPy, load with the first allocation): every command reads its
        settings, few of them match.
        """
        import optimiser
        from optimiser.validation import validate_weights

        try:
            overrides = json.loads(self.match_weights_json)
            weights = dataclasses.replace(optimiser.Weights(), **overrides)
            validate_weights(weights)
        except (ValueError, TypeError) as exc:
            raise SystemExit(f"PLACEMENT_MATCH_WEIGHTS is not valid: {exc}") from exc
        return weights

    def self_contained_types(self) -> frozenset[str]:
        """Scheme types whose units are homes of the household's own, where the bedroom
        standard applies; the others (refuges, shared houses) are matched on bed spaces.

        A commissioner whose area counts, say, specialist safe accommodation as
        self-contained flats sets `PLACEMENT_SELF_CONTAINED_TYPES` (an empty value: none).
        """
        from optimiser.composition import SELF_CONTAINED_TYPES
        from optimiser.enums import SchemeType

        if self.self_contained_types_csv is None:
            return SELF_CONTAINED_TYPES
        named = {t.strip() for t in self.self_contained_types_csv.split(",") if t.strip()}
        unknown = sorted(named - set(SchemeType))
        if unknown:
            raise SystemExit(
                f"PLACEMENT_SELF_CONTAINED_TYPES names unknown scheme types {unknown}; "
                f"choose from {sorted(SchemeType)}"
            )
        return frozenset(named)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @classmethod
    def from_env(cls) -> Settings:
        data_dir = Path(os.environ.get("PLACEMENT_DATA_DIR", "data")).resolve()
        url = os.environ.get("PLACEMENT_DATABASE_URL") or (
            f"sqlite+aiosqlite:///{data_dir / 'placement.db'}"
        )
        return cls(
            data_dir=data_dir,
            database_url=normalise_database_url(url),
            secret_key=os.environ.get("PLACEMENT_SECRET_KEY") or None,
            rate_limit_per_minute=_int_env("PLACEMENT_RATE_LIMIT_PER_MINUTE", 1200),
            max_body_bytes=_int_env("PLACEMENT_MAX_BODY_BYTES", 262_144),
            offer_hold_hours=_int_env("PLACEMENT_OFFER_HOLD_HOURS", 4),
            key_cache_seconds=_int_env("PLACEMENT_KEY_CACHE_SECONDS", 5),
            match_weights_json=os.environ.get("PLACEMENT_MATCH_WEIGHTS") or "{}",
            unknown_key_rate_limit_per_minute=_int_env(
                "PLACEMENT_UNKNOWN_KEY_RATE_LIMIT_PER_MINUTE", 60
            ),
            cors_origins=_list_env("PLACEMENT_CORS_ORIGINS"),
            self_contained_types_csv=os.environ.get("PLACEMENT_SELF_CONTAINED_TYPES"),
            database_timeouts=DatabaseTimeouts.from_env(),
            db_pool_size=_count_env("PLACEMENT_DB_POOL_SIZE", least=1),
            db_pool_overflow=_count_env("PLACEMENT_DB_POOL_OVERFLOW", least=0),
            session_idle_seconds=_int_env("PLACEMENT_SESSION_IDLE_SECONDS", 1800),
            session_max_seconds=_int_env("PLACEMENT_SESSION_MAX_SECONDS", 43_200),
            sign_in_max_failures=_int_env("PLACEMENT_SIGN_IN_MAX_FAILURES", 5),
            sign_in_window_seconds=_int_env("PLACEMENT_SIGN_IN_WINDOW_SECONDS", 900),
            lockout_seconds=_int_env("PLACEMENT_LOCKOUT_SECONDS", 900),
            insecure_cookies=os.environ.get("PLACEMENT_INSECURE_COOKIES", "") == "1",
            jobs_in_process_setting=_flag_env("PLACEMENT_JOBS_IN_PROCESS"),
            job_poll_seconds=_seconds_env("PLACEMENT_JOB_POLL_SECONDS", 1.0),
            job_stale_seconds=_seconds_env("PLACEMENT_JOB_STALE_SECONDS", 30.0),
        )


def normalise_database_url(url: str) -> str:
    """Accept the plain URLs people paste (postgresql://, sqlite:///) and pick async drivers."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        return "postgresql+asyncpg://" + url[len("postgresql://") :]
    if url.startswith("sqlite:///"):
        return "sqlite+aiosqlite:///" + url[len("sqlite:///") :]
    return url
