#!/usr/bin/env bash
# Vendor the browser libraries the service serves, so the map and /docs work offline.
#
# Fetches pinned releases from the npm registry with `npm pack` and copies the browser files
# and their licences to src/skywarden/server/web/vendor/ (git-ignored):
#   maplibre-gl      5.24.1  BSD-3-Clause  dist/maplibre-gl.js, dist/maplibre-gl.css  (the map)
#   swagger-ui-dist  5.35.0  Apache-2.0    swagger-ui-bundle.js, swagger-ui.css       (/docs)
#   pmtiles          4.5.0   BSD-3-Clause  dist/pmtiles.js  (the site basemap: one .pmtiles file)
# MapLibre 5.x is pinned on purpose: it ships the single-file UMD bundle (worker inlined) that a
# plain <script> tag loads; 6.x ships ES modules with a separate worker file.
# Without swagger-ui-dist, /docs falls back to the CDN; without MapLibre the page says so.
# Usage: scripts/vendor_maplibre.sh            (needs npm; idempotent)
set -euo pipefail

MAPLIBRE_VERSION="5.24.1"
SWAGGER_UI_VERSION="5.35.0"
PMTILES_VERSION="4.5.0"
STAMP="maplibre-gl $MAPLIBRE_VERSION, swagger-ui-dist $SWAGGER_UI_VERSION, pmtiles $PMTILES_VERSION"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DEST="$ROOT/src/skywarden/server/web/vendor"

if [[ -f "$DEST/VERSION" && "$(cat "$DEST/VERSION")" == "$STAMP" \
      && -f "$DEST/maplibre-gl.js" && -f "$DEST/swagger-ui-bundle.js" && -f "$DEST/pmtiles.js" ]]; then
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
fetch pmtiles "$PMTILES_VERSION"

mkdir -p "$DEST"
M="$WORK/maplibre-gl/package"
S="$WORK/swagger-ui-dist/package"
cp "$M/dist/maplibre-gl.js" "$M/dist/maplibre-gl.css" "$DEST/"
cp "$M/LICENSE.txt" "$DEST/LICENSE.txt"
cp "$S/swagger-ui-bundle.js" "$S/swagger-ui.css" "$DEST/"
cp "$S/LICENSE" "$DEST/swagger-ui-LICENSE.txt"
if [[ -f "$S/NOTICE" ]]; then cp "$S/NOTICE" "$DEST/swagger-ui-NOTICE.txt"; fi
P="$WORK/pmtiles/package"
cp "$P/dist/pmtiles.js" "$DEST/pmtiles.js"
# the npm package ships no licence file; its package.json says BSD-3-Clause (protomaps/PMTiles)
cat > "$DEST/pmtiles-LICENSE.txt" <<'LICENCE'
pmtiles (https://github.com/protomaps/PMTiles, npm package "pmtiles"), BSD-3-Clause:

Copyright 2021 Protomaps LLC

Redistribution and use in source and binary forms, with or without modification, are permitted
provided that the following conditions are met:
1. Redistributions of source code must retain the above copyright notice, this list of
   conditions and the following disclaimer.
2. Redistributions in binary form must reproduce the above copyright notice, this list of
   conditions and the following disclaimer in the documentation and/or other materials provided
   with the distribution.
3. Neither the name of the copyright holder nor the names of its contributors may be used to
   endorse or promote products derived from this software without specific prior written
   permission.

THIS SOFTWARE IS PROVIDED BY THE COPYRIGHT HOLDERS AND CONTRIBUTORS "AS IS" AND ANY EXPRESS OR
IMPLIED WARRANTIES, INCLUDING, BUT NOT LIMITED TO, THE IMPLIED WARRANTIES OF MERCHANTABILITY AND
FITNESS FOR A PARTICULAR PURPOSE ARE DISCLAIMED. IN NO EVENT SHALL THE COPYRIGHT HOLDER OR
CONTRIBUTORS BE LIABLE FOR ANY DIRECT, INDIRECT, INCIDENTAL, SPECIAL, EXEMPLARY, OR CONSEQUENTIAL
DAMAGES (INCLUDING, BUT NOT LIMITED TO, PROCUREMENT OF SUBSTITUTE GOODS OR SERVICES; LOSS OF USE,
DATA, OR PROFITS; OR BUSINESS INTERRUPTION) HOWEVER CAUSED AND ON ANY THEORY OF LIABILITY,
WHETHER IN CONTRACT, STRICT LIABILITY, OR TORT (INCLUDING NEGLIGENCE OR OTHERWISE) ARISING IN ANY
WAY OUT OF THE USE OF THIS SOFTWARE, EVEN IF ADVISED OF THE POSSIBILITY OF SUCH DAMAGE.
LICENCE
echo "$STAMP" > "$DEST/VERSION"
echo "vendored into $DEST: $STAMP"
