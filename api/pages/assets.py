"""The pages' browser assets, served by the service itself: no CDN, nothing at run time.

GOV.UK Frontend and htmx come from npm packages pinned exactly in package.json and
package-lock.json, installed by `scripts/bootstrap.sh` (`npm ci`) into `node_modules/`
(as the docs assets are, see `api.docs_assets`). GOV.UK Frontend's stylesheet names its
fonts and images under `/assets/` (its default `$govuk-assets-path`), so its assets
folder is served there; the stylesheet and scripts under `/static/`, beside the pages'
own (`api/pages/static/`: the script that starts GOV.UK Frontend, since the pages'
Content-Security-Policy allows no inline script).
"""

from __future__ import annotations

from pathlib import Path

from litestar import Router
from litestar.static_files import create_static_files_router

from api.docs_assets import NODE_MODULES

GOVUK_DIST = NODE_MODULES / "govuk-frontend" / "dist" / "govuk"
HTMX_DIST = NODE_MODULES / "htmx.org" / "dist"
OWN = Path(__file__).resolve().parent / "static"

GOVUK_ASSETS_URL = "/assets"
GOVUK_URL = "/static/govuk"
HTMX_URL = "/static/htmx"
OWN_URL = "/static/pages"
ASSET_PREFIXES = (GOVUK_ASSETS_URL + "/", "/static/")
"""Paths of files that hold no one's data: cacheable, and no session is looked up."""


def page_asset_routers() -> list[Router]:
    """Static routes (outside the OpenAPI document). Missing files before `npm ci` has
    run are a 404 for that asset; the pages still render, unstyled."""
    served = (
        (GOVUK_ASSETS_URL, GOVUK_DIST / "assets", "govuk-assets"),
        (GOVUK_URL, GOVUK_DIST, "govuk-frontend"),
        (HTMX_URL, HTMX_DIST, "htmx"),
        (OWN_URL, OWN, "page-assets"),
    )
    return [
        create_static_files_router(
            path=path, directories=[directory], name=name, include_in_schema=False
        )
        for path, directory, name in served
    ]
