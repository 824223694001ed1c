"""The operator map page and the files it needs, served offline: the page and its scripts
(``web/``, with the bundled Natural Earth world layer), MapLibre GL JS, pmtiles and Swagger UI
vendored at build time (``web/vendor/``, by ``scripts/vendor_maplibre.sh``), the API docs page
that uses them, and the site's PMTiles basemap when one is configured."""

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
    "pmtiles.js",
    "pmtiles-LICENSE.txt",
)
BASEMAP_URL = "/basemap.pmtiles"


def add_map_page(app: FastAPI, basemap: Path | None = None) -> None:
    """Serve the map page at ``/``, its static files, the vendored MapLibre, pmtiles and
    Swagger UI files (offline), the API docs at ``/docs``, and the site's basemap (one PMTiles
    file, with HTTP range requests: the page reads only the tiles it shows) at BASEMAP_URL."""

    if basemap is not None:

        @app.get(BASEMAP_URL, include_in_schema=False)
        def site_basemap() -> FileResponse:
            return FileResponse(basemap, media_type="application/vnd.pmtiles")

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
