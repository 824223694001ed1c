#!/usr/bin/env bash
# Vendor the browser libraries the service serves, so the map and /docs work offline.
#
# Fetches pinned releases from the npm registry with `npm pack` and copies the browser files
# and their licences to src/skywarden/server/web/vendor/ (git-ignored):
#   maplibre-gl      5.24.1  BSD-3-Clause  dist/maplibre-gl.js, dist/maplibre-gl.css  (the map)
#   swagger-ui-dist  5.35.0  Apache-2.0    swagger-ui-bundle.js, swagger-ui.css       (/docs)
# MapLibre 5.x is pinned on purpose: it ships the single-file UMD bundle (worker inlined) that a
# plain <script> tag loads; 6.x ships ES modules with a separate worker file.
# Without swagger-ui-dist, /docs falls back to the CDN; without MapLibre the page says so.
# Usage: scripts/vendor_maplibre.sh            (needs npm; idempotent)
set -euo pipefail

MAPLIBRE_VERSION="5.24.1"
SWAGGER_UI_VERSION="5.35.0"
STAMP="maplibre-gl $MAPLIBRE_VERSION, swagger-ui-dist $SWAGGER_UI_VERSION"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DEST="$ROOT/src/skywarden/server/web/vendor"

if [[ -f "$DEST/VERSION" && "$(cat "$DEST/VERSION")" == "$STAMP" \
      && -f "$DEST/maplibre-gl.js" && -f "$DEST/swagger-ui-bundle.js" ]]; then
    echo "already vendored in $DEST: $STAMP"
    exit 0
fi

command -v npm >/dev/null || { echo "error: npm is needed (apt-get install -y npm)" >&2; exit 1; }

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
fetch() {  # fetch NAME VERSION -> unpacked in $WORK/NAME/package
    mkdir -p "$WORK/$1"
    (cd "$WORK/$1" && npm pack --silent "$1@$2" >/dev/null && tar -xzf ./*.tgz)
}
fetch maplibre-gl "$MAPLIBRE_VERSION"
fetch swagger-ui-dist "$SWAGGER_UI_VERSION"

mkdir -p "$DEST"
M="$WORK/maplibre-gl/package"
S="$WORK/swagger-ui-dist/package"
cp "$M/dist/maplibre-gl.js" "$M/dist/maplibre-gl.css" "$DEST/"
cp "$M/LICENSE.txt" "$DEST/LICENSE.txt"
cp "$S/swagger-ui-bundle.js" "$S/swagger-ui.css" "$DEST/"
cp "$S/LICENSE" "$DEST/swagger-ui-LICENSE.txt"
if [[ -f "$S/NOTICE" ]]; then cp "$S/NOTICE" "$DEST/swagger-ui-NOTICE.txt"; fi
echo "$STAMP" > "$DEST/VERSION"
echo "vendored into $DEST: $STAMP"
