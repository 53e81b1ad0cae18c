"""The interactive API docs pages, with their browser assets served by the service itself.

Litestar's render plugins load Scalar and Swagger UI from a CDN by default (Scalar
unpinned, neither with subresource integrity), so the pages were blank without internet
and could never pass a Content-Security-Policy of `script-src 'self'`. Here the assets
come from npm packages pinned exactly in package.json and package-lock.json, which
`scripts/bootstrap.sh` installs (`npm ci`) into `node_modules/` at the repository root,
and are served under `/schema/assets/`, so every URL the pages load is the service's own.

What the plugins still put inline, for whoever sets the Content-Security-Policy (checked
in Chromium with `script-src 'self'`): both pages carry a `<style>` for the body's margin;
Scalar's page has an empty data-carrying `<script id="api-reference" data-url=...>` (a
reported but harmless violation: Scalar still renders) and its bundle injects a `<style>`
(it takes a nonce from `<meta property="csp-nonce">`); Swagger UI's page starts from an
inline script holding the whole document, so under `script-src 'self'` it stays blank.
"""

from __future__ import annotations

from pathlib import Path

from litestar import Router
from litestar.openapi.plugins import OpenAPIRenderPlugin, ScalarRenderPlugin, SwaggerRenderPlugin
from litestar.static_files import create_static_files_router

NODE_MODULES = Path(__file__).resolve().parent.parent / "node_modules"
ASSETS_PATH = "/schema/assets"

# Only the folders holding the built bundles are served, not the packages' sources.
SCALAR_DIR = NODE_MODULES / "@scalar" / "api-reference" / "dist"
SWAGGER_DIR = NODE_MODULES / "swagger-ui-dist"
SCALAR_URL = f"{ASSETS_PATH}/scalar"
SWAGGER_URL = f"{ASSETS_PATH}/swagger-ui"

# No favicon link: the plugins' default one is an image on a CDN.
NO_FAVICON = ""


def docs_asset_routers() -> list[Router]:
    """Static routes for the two packages' bundles (outside the OpenAPI document).

    Missing files (before `npm ci` has run) are a 404 for the page's asset, not an
    error at start-up: the API itself never depends on them.
    """
    return [
        create_static_files_router(
            path=SCALAR_URL, directories=[SCALAR_DIR], name="docs-assets-scalar"
        ),
        create_static_files_router(
            path=SWAGGER_URL, directories=[SWAGGER_DIR], name="docs-assets-swagger"
        ),
    ]


def docs_render_plugins() -> list[OpenAPIRenderPlugin]:
    """Scalar at `/schema` and Swagger UI at `/schema/swagger`, both loading local assets."""
    return [
        ScalarRenderPlugin(
            js_url=f"{SCALAR_URL}/browser/standalone.js",
            css_url=f"{SCALAR_URL}/style.css",
            favicon=NO_FAVICON,
        ),
        SwaggerRenderPlugin(
            path="/swagger",
            js_url=f"{SWAGGER_URL}/swagger-ui-bundle.js",
            css_url=f"{SWAGGER_URL}/swagger-ui.css",
            standalone_preset_js_url=f"{SWAGGER_URL}/swagger-ui-standalone-preset.js",
            favicon=NO_FAVICON,
        ),
    ]
