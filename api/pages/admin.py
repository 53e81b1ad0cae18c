"""The administrator's pages: users and API keys (create, list, disable or revoke),
authorities and protocols.

Forms decode into the API's own request types where the API has one (`KeyCreate`,
`ProtocolCreate`), so a form breaks the same rules in the same words as a request; then
the same domain services run. A password or key is shown once, on the page that made it.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, get, post
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, QueryParameter
from litestar.response import Redirect, Template
from msgspec import Meta
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from api.auth import ADMIN_ONLY
from api.keys import KeyCreate
from api.pages.forms import INVALID, FieldError, FormInvalid, errors_of, read_form
from api.pages.rendering import ROLE_NAMES, page
from api.protocols import ProtocolCreate
from placement import audit
from placement.accounts import create_user, disable_user, list_users, new_password
from placement.enums import Funding, ProtocolKind, Role
from placement.errors import Conflict, InvalidInput, NotFound
from placement.fields import AuthorityCode
from placement.models import Authority, Provider
from placement.registry.authorities import AuthorityService
from placement.registry.protocols import ProtocolService
from placement.runtime import Runtime
from placement.security import Principal, create_api_key, list_keys, revoke_key

HOME = ("Home", "/")
ADMIN = ("Administration", "/admin")
LIST_LIMIT = 500
AUTHORITIES_PER_PAGE = 50
FUNDING_NAMES = {
    Funding.PLACING_AUTHORITY: "The placing authority",
    Funding.RECEIVING_AUTHORITY: "The receiving authority",
    Funding.SHARED: "Shared",
}
KIND_NAMES = {ProtocolKind.GROUP: "Group", ProtocolKind.RECIPROCAL: "Reciprocal"}


class UserCreate(msgspec.Struct):
    """A new person's account: as a key, a role and the scope it acts in."""

    email: Annotated[str, Meta(min_length=3, max_length=254)]
    role: Role
    authority_code: AuthorityCode | None = None
    provider_id: uuid.UUID | None = None
    region: Annotated[str, Meta(min_length=1, max_length=120)] | None = None


USER_REQUIRED = {"email": "Enter the person's email address", "role": "Choose a role"}
KEY_REQUIRED = {"name": "Enter a name for the key", "role": "Choose a role"}
PROTOCOL_REQUIRED = {
    "name": "Enter the protocol's name",
    "kind": "Choose the kind of protocol",
    "funding": "Choose who pays",
    "members": "Choose at least two member authorities",
    "starts_on": "Enter the date the protocol starts, like 2026-04-01",
}


class Names:
    """Authorities' and providers' names, so pages show names rather than codes."""

    def __init__(self, authorities: dict[str, str], providers: dict[uuid.UUID, str]) -> None:
        self.authorities = authorities
        self.providers = providers

    def scope(self, authority_code: str | None, provider_id: Any, region: str | None) -> str:
        if provider_id is not None:
            return self.providers.get(provider_id, "an unknown provider")
        if authority_code is not None:
            return self.authorities.get(authority_code, authority_code)
        return region or "Everything"

    def authority_options(self) -> list[tuple[str, str]]:
        ordered = sorted(self.authorities.items(), key=lambda item: item[1])
        return [("", "Choose an authority"), *ordered]

    def provider_options(self) -> list[tuple[str, str]]:
        ordered = sorted(self.providers.items(), key=lambda item: item[1])
        return [("", "Choose a provider"), *((str(k), v) for k, v in ordered)]


async def provide_names(db_session: NamedDependency[AsyncSession]) -> Names:
    authorities = {
        code: name
        for code, name in await db_session.execute(
            select(Authority.code, Authority.name).where(Authority.retired_at.is_(None))
        )
    }
    providers = {
        provider_id: name
        for provider_id, name in await db_session.execute(select(Provider.id, Provider.name))
    }
    return Names(authorities, providers)


def role_options() -> list[tuple[str, str]]:
    return [("", "Choose a role"), *((str(role), name) for role, name in ROLE_NAMES.items())]


def when(moment: Any) -> str:
    return moment.strftime("%-d %B %Y %H:%M") if moment else ""


class AdminPages(Controller):
    path = "/admin"
    guards = [ADMIN_ONLY]
    include_in_schema = False
    dependencies = {"names": Provide(provide_names)}

    @get("/")
    async def landing(self, request: Request[Any, Any, Any]) -> Template:
        return page(request, "admin/landing.html", crumbs=[HOME])

    # -- users ---------------------------------------------------------------------------

    @get("/users")
    async def users(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        names: NamedDependency[Names],
    ) -> Template:
        listed = await list_users(db_session, LIST_LIMIT, 0)
        rows = [
            {
                "id": user.id,
                "email": user.email,
                "role": ROLE_NAMES[Role(user.role)],
                "scope": names.scope(user.authority_code, user.provider_id, user.region),
                "created": when(user.created_at),
                "disabled": when(user.disabled_at),
            }
            for user in listed.items
        ]
        return page(request, "admin/users.html", crumbs=[HOME, ADMIN], users=rows)

    @get("/users/new")
    async def new_user(
        self, request: Request[Any, Any, Any], names: NamedDependency[Names]
    ) -> Template:
        return self._user_form(request, names, {}, [])

    @post("/users")
    async def create_user(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        principal: NamedDependency[Principal],
        names: NamedDependency[Names],
    ) -> Template:
        posted = dict(await request.form())
        try:
            form = await read_form(request, UserCreate, USER_REQUIRED)
            password = new_password()
            user = await create_user(
                db_session, principal, password=password, **msgspec.structs.asdict(form)
            )
        except FormInvalid as invalid:
            return self._user_form(request, names, posted, invalid.errors)
        except InvalidInput as broken:
            return self._user_form(request, names, posted, errors_of(broken))
        except Conflict as taken:
            return self._user_form(request, names, posted, [FieldError("email", taken.detail)])
        return page(
            request,
            "admin/user_created.html",
            crumbs=[HOME, ADMIN, ("Users", "/admin/users")],
            email=user.email,
            password=password,
            role=ROLE_NAMES[Role(user.role)],
            scope=names.scope(user.authority_code, user.provider_id, user.region),
        )

    @staticmethod
    def _user_form(
        request: Request[Any, Any, Any],
        names: Names,
        values: dict[str, Any],
        errors: list[FieldError],
    ) -> Template:
        return page(
            request,
            "admin/user_new.html",
            status_code=INVALID if errors else 200,
            crumbs=[HOME, ADMIN, ("Users", "/admin/users")],
            errors=errors,
            values=values,
            roles=role_options(),
            authorities=names.authority_options(),
            providers=names.provider_options(),
        )

    @post("/users/{user_id:uuid}/disable")
    async def disable(
        self,
        db_session: NamedDependency[AsyncSession],
        principal: NamedDependency[Principal],
        user_id: FromPath[uuid.UUID],
    ) -> Redirect:
        user, _ = await disable_user(db_session, principal, user_id)
        if user is None:
            raise NotFound("user", user_id)
        await db_session.commit()  # a redirect is not a 2xx: the plugin would not commit
        return Redirect(path="/admin/users", status_code=303)

    # -- API keys ------------------------------------------------------------------------

    @get("/keys")
    async def keys(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        names: NamedDependency[Names],
    ) -> Template:
        listed = await list_keys(db_session, LIST_LIMIT, 0)
        rows = [
            {
                "id": key.id,
                "name": key.name,
                "role": ROLE_NAMES[Role(key.role)],
                "scope": names.scope(key.authority_code, key.provider_id, key.region),
                "prefix": key.key_prefix,
                "created": when(key.created_at),
                "revoked": when(key.revoked_at),
            }
            for key in listed.items
        ]
        return page(request, "admin/keys.html", crumbs=[HOME, ADMIN], keys=rows)

    @get("/keys/new")
    async def new_key(
        self, request: Request[Any, Any, Any], names: NamedDependency[Names]
    ) -> Template:
        return self._key_form(request, names, {}, [])

    @post("/keys")
    async def create_key(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        principal: NamedDependency[Principal],
        names: NamedDependency[Names],
    ) -> Template:
        posted = dict(await request.form())
        try:
            form = await read_form(request, KeyCreate, KEY_REQUIRED)
            row, plaintext = await create_api_key(db_session, **msgspec.structs.asdict(form))
        except FormInvalid as invalid:
            return self._key_form(request, names, posted, invalid.errors)
        except InvalidInput as broken:
            return self._key_form(request, names, posted, errors_of(broken))
        audit.record(db_session, principal, "create", "api_key", row.id, role=str(row.role))
        return page(
            request,
            "admin/key_created.html",
            crumbs=[HOME, ADMIN, ("API keys", "/admin/keys")],
            name=row.name,
            key=plaintext,
            role=ROLE_NAMES[Role(row.role)],
            scope=names.scope(row.authority_code, row.provider_id, row.region),
        )

    @staticmethod
    def _key_form(
        request: Request[Any, Any, Any],
        names: Names,
        values: dict[str, Any],
        errors: list[FieldError],
    ) -> Template:
        return page(
            request,
            "admin/key_new.html",
            status_code=INVALID if errors else 200,
            crumbs=[HOME, ADMIN, ("API keys", "/admin/keys")],
            errors=errors,
            values=values,
            roles=role_options(),
            authorities=names.authority_options(),
            providers=names.provider_options(),
        )

    @post("/keys/{key_id:uuid}/revoke")
    async def revoke(
        self,
        db_session: NamedDependency[AsyncSession],
        principal: NamedDependency[Principal],
        key_id: FromPath[uuid.UUID],
        state: State,
    ) -> Redirect:
        row, revoked = await revoke_key(db_session, key_id)
        state.principals.forget(key_id)
        if row is None:
            raise NotFound("api_key", key_id)
        if revoked:
            audit.record(db_session, principal, "revoke", "api_key", key_id)
        await db_session.commit()
        return Redirect(path="/admin/keys", status_code=303)

    # -- authorities and protocols --------------------------------------------------------

    @get("/authorities")
    async def authorities(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        principal: NamedDependency[Principal],
        state: State,
        q: Annotated[str | None, QueryParameter(max_length=120)] = None,
        offset: Annotated[int, QueryParameter(ge=0, le=1_000_000)] = 0,
    ) -> Template:
        service = AuthorityService(db_session, principal, state.runtime)
        found = await service.list(
            region=None,
            group_name=None,
            q=q or None,
            include_retired=False,
            limit=AUTHORITIES_PER_PAGE,
            offset=offset,
        )
        return page(
            request,
            "admin/authorities.html",
            crumbs=[HOME, ADMIN],
            authorities=found.items,
            total=found.total,
            q=q or "",
            offset=offset,
            per_page=AUTHORITIES_PER_PAGE,
        )

    @get("/protocols")
    async def protocols(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        principal: NamedDependency[Principal],
        names: NamedDependency[Names],
        state: State,
    ) -> Template:
        service = ProtocolService(db_session, principal, state.runtime)
        found = await service.list(
            authority_code=None, kind=None, include_retired=False, limit=LIST_LIMIT, offset=0
        )
        rows = [
            {
                "name": p.name,
                "kind": KIND_NAMES[ProtocolKind(p.kind)],
                "funding": FUNDING_NAMES[Funding(p.funding)],
                "members": ", ".join(
                    sorted(
                        names.authorities.get(m.authority_code, m.authority_code) for m in p.members
                    )
                ),
                "starts_on": p.starts_on.strftime("%-d %B %Y"),
                "ends_on": p.ends_on.strftime("%-d %B %Y") if p.ends_on else "No end date",
            }
            for p in found.items
        ]
        return page(request, "admin/protocols.html", crumbs=[HOME, ADMIN], protocols=rows)

    @get("/protocols/new")
    async def new_protocol(
        self, request: Request[Any, Any, Any], names: NamedDependency[Names]
    ) -> Template:
        return self._protocol_form(request, names, {}, [])

    @post("/protocols")
    async def create_protocol(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        principal: NamedDependency[Principal],
        names: NamedDependency[Names],
        state: State,
    ) -> Template | Redirect:
        form_data = await request.form()
        posted: dict[str, Any] = {**dict(form_data), "members": form_data.getall("members", [])}
        runtime: Runtime = state.runtime
        try:
            form = await read_form(request, ProtocolCreate, PROTOCOL_REQUIRED)
            await ProtocolService(db_session, principal, runtime).create(
                msgspec.structs.asdict(form)
            )
        except FormInvalid as invalid:
            return self._protocol_form(request, names, posted, invalid.errors)
        except InvalidInput as broken:
            return self._protocol_form(request, names, posted, errors_of(broken))
        await db_session.commit()
        return Redirect(path="/admin/protocols", status_code=303)

    @staticmethod
    def _protocol_form(
        request: Request[Any, Any, Any],
        names: Names,
        values: dict[str, Any],
        errors: list[FieldError],
    ) -> Template:
        return page(
            request,
            "admin/protocol_new.html",
            status_code=INVALID if errors else 200,
            crumbs=[HOME, ADMIN, ("Protocols", "/admin/protocols")],
            errors=errors,
            values=values,
            kinds=[("", "Choose a kind"), *((str(k), v) for k, v in KIND_NAMES.items())],
            fundings=[("", "Choose who pays"), *((str(k), v) for k, v in FUNDING_NAMES.items())],
            authorities=names.authority_options()[1:],
        )
