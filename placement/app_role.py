"""The privileges of the PostgreSQL role the service runs as, when it is not the owner.

Whoever owns a table may drop its triggers, so a service that owns `audit_events` could
switch off the append-only triggers and rewrite the log. Run migrations as the owner and
the service as a role that owns nothing: it may read and write what it serves, only add
to and read the audit log, move the chain head, and never alter or drop anything.
These grants are derived from the tables that exist, so running them again after a
migration (they are idempotent) covers any table it added.
"""

from __future__ import annotations

from sqlalchemy import Connection, inspect, text

from placement.errors import DomainError

READ_WRITE = "SELECT, INSERT, UPDATE, DELETE"
PRIVILEGES = {
    "audit_events": "SELECT, INSERT",
    "audit_chain_head": "SELECT, UPDATE",
    "alembic_version": "SELECT",
}
"""Tables the service may not simply read and write; every other table is READ_WRITE."""


class NotAnAppRole(DomainError):
    """The role given cannot be made a safe service role."""


def grant_app_role(connection: Connection, role: str) -> dict[str, str]:
    """Give `role` exactly the service's privileges on every table (revoking any others);
    returns what each table was granted. Run as the tables' owner, on PostgreSQL."""
    if connection.dialect.name != "postgresql":
        raise NotAnAppRole(
            "database roles are PostgreSQL's; a SQLite file is protected by its file "
            "permissions instead"
        )
    _check(connection, role)
    quoted = connection.dialect.identifier_preparer.quote(role)
    schema = connection.dialect.default_schema_name
    granted = {}
    connection.execute(text(f"GRANT USAGE ON SCHEMA {schema} TO {quoted}"))
    for table in sorted(inspect(connection).get_table_names()):
        privileges = PRIVILEGES.get(table, READ_WRITE)
        connection.execute(text(f"REVOKE ALL ON TABLE {schema}.{table} FROM {quoted}"))
        connection.execute(text(f"GRANT {privileges} ON TABLE {schema}.{table} TO {quoted}"))
        granted[table] = privileges
    connection.execute(text(f"GRANT USAGE ON ALL SEQUENCES IN SCHEMA {schema} TO {quoted}"))
    return granted


def _check(connection: Connection, role: str) -> None:
    """The role exists, is not a superuser, and owns no table (an owner can drop triggers)."""
    found = connection.execute(
        text("SELECT rolsuper FROM pg_roles WHERE rolname = :role"), {"role": role}
    ).one_or_none()
    if found is None:
        raise NotAnAppRole(f"there is no role {role}; create it first (CREATE ROLE ... LOGIN)")
    if found.rolsuper:
        raise NotAnAppRole(f"{role} is a superuser: it could drop the audit triggers")
    owned = connection.scalars(
        text("SELECT tablename FROM pg_tables WHERE tableowner = :role ORDER BY tablename"),
        {"role": role},
    ).all()
    if owned:
        raise NotAnAppRole(
            f"{role} owns tables ({', '.join(owned)}), so it could drop their triggers; "
            "run the service as a role that owns none"
        )
