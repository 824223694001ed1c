"""The operator map page and the files it needs, served offline: the page and its scripts
(``web/``), MapLibre GL JS and Swagger UI vendored at build time (``web/vendor/``, by
``scripts/vendor_maplibre.sh``), and the API docs page that uses them."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, HTTPException
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse
from fastapi.staticfiles import StaticFiles

WEB_DIR = Path(__file__).parent / "web"
VENDOR_DIR = WEB_DIR / "vendor"
VENDOR_FILES = (
    "maplibre-gl.js",
    "maplibre-gl.css",
    "LICENSE.txt",
    "VERSION",
    "swagger-ui-bundle.js",
    "swagger-ui.css",
    "swagger-ui-LICENSE.txt",
    "swagger-ui-NOTICE.txt",
)


def add_map_page(app: FastAPI) -> None:
    """Serve the map page at ``/``, its static files, the vendored MapLibre and Swagger UI
    files (offline), and the API docs at ``/docs``."""

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        urls = {}
        if (VENDOR_DIR / "swagger-ui-bundle.js").is_file():  # else the CDN, as FastAPI does
            urls = {"swagger_js_url": "/vendor/swagger-ui-bundle.js",
                    "swagger_css_url": "/vendor/swagger-ui.css"}  # fmt: skip
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title="skywarden API",
            swagger_favicon_url="data:,",
            **urls,
        )

    @app.get("/", include_in_schema=False)
    def index() -> FileResponse:
        return FileResponse(WEB_DIR / "index.html", headers={"Cache-Control": "no-cache"})

    @app.get("/vendor/{name}", include_in_schema=False)
    def vendor(name: str) -> FileResponse:
        if name not in VENDOR_FILES:
            raise HTTPException(404, f"no vendored file {name!r}")
        path = VENDOR_DIR / name
        if not path.is_file():
            raise HTTPException(
                404, f"{name} is not vendored: run scripts/vendor_maplibre.sh to install MapLibre"
            )
        return FileResponse(path)

    app.mount("/static", StaticFiles(directory=WEB_DIR), name="static")
