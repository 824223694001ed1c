/* skywarden map page: what lies under the picture, all served by skywarden itself (offline).
 *
 * - the bundled world layer (/static/world-110m.geojson, Natural Earth 1:110m, public domain):
 *   land, coastlines and borders, major cities with their names;
 * - the site basemap, when the site configures one ([service] basemap = "site.pmtiles"): one
 *   PMTiles file served at /basemap.pmtiles with HTTP range requests and read by the vendored
 *   pmtiles.js; raster tiles (PNG, JPEG, WebP) are drawn as they are, vector tiles as plain
 *   fills and lines per layer (no fonts needed).
 * state: what is loaded, for the page and the browser test.
 */
(function () {
  'use strict';

  const WORLD_URL = '/static/world-110m.geojson';
  const MAX_CITY_LABELS = 40;
  const state = { worldFeatures: 0, cities: [], cityMarkers: [], basemap: null, basemapError: null };
  const isKind = (k) => ['==', ['get', 'kind'], k];

  function addWorld(map, beforeId) {
    map.addSource('world', { type: 'geojson', data: { type: 'FeatureCollection', features: [] } });
    map.addLayer({ id: 'world-land', type: 'fill', source: 'world', filter: isKind('country'),
      paint: { 'fill-color': '#122031' } }, beforeId);
    map.addLayer({ id: 'world-borders', type: 'line', source: 'world', filter: isKind('country'),
      paint: { 'line-color': '#34506b', 'line-width': 1 } }, beforeId);
    map.addLayer({ id: 'world-cities', type: 'circle', source: 'world', filter: isKind('city'),
      paint: { 'circle-radius': 2.5, 'circle-color': '#8aa4bd', 'circle-stroke-color': '#0c141d',
        'circle-stroke-width': 1 } }, beforeId);
    fetch(WORLD_URL).then((r) => (r.ok ? r.json() : Promise.reject(new Error('HTTP ' + r.status))))
      .then((fc) => {
        map.getSource('world').setData(fc);
        state.worldFeatures = fc.features.length;
        state.cities = fc.features.filter((f) => f.properties.kind === 'city');
        placeCities(map);
      })
      .catch((e) => console.warn('world layer unavailable', e));
  }

  /* city names as HTML text (the style has no fonts): those in view, at most MAX_CITY_LABELS */
  function placeCities(map) {
    state.cityMarkers.forEach((m) => m.remove());
    state.cityMarkers = [];
    const b = map.getBounds();
    const inView = state.cities.filter((f) => b.contains(f.geometry.coordinates)).slice(0, MAX_CITY_LABELS);
    for (const f of inView) {
      const el = document.createElement('div');
      el.className = 'map-text city-label';
      el.textContent = f.properties.name;
      state.cityMarkers.push(new maplibregl.Marker({ element: el, anchor: 'left', offset: [5, 0] })
        .setLngLat(f.geometry.coordinates).addTo(map));
    }
  }

  const VECTOR_COLOURS = ['#1d3045', '#24384f', '#2b4159', '#314a63'];
  async function addSiteBasemap(map, url, beforeId) {
    if (!url) return;
    if (!window.pmtiles) {
      state.basemapError = 'pmtiles.js is not vendored (scripts/vendor_maplibre.sh)';
      return;
    }
    try {
      const protocol = new pmtiles.Protocol();
      maplibregl.addProtocol('pmtiles', protocol.tile);
      const archive = new pmtiles.PMTiles(new URL(url, location.href).href);
      protocol.add(archive);
      const header = await archive.getHeader();
      const source = 'pmtiles://' + archive.source.getKey();
      if (header.tileType === pmtiles.TileType.Mvt) {
        const meta = await archive.getMetadata();
        map.addSource('basemap', { type: 'vector', url: source });
        (meta.vector_layers || []).forEach((vl, i) => {
          const colour = VECTOR_COLOURS[i % VECTOR_COLOURS.length];
          map.addLayer({ id: `basemap-${vl.id}-fill`, type: 'fill', source: 'basemap', 'source-layer': vl.id,
            filter: ['==', ['geometry-type'], 'Polygon'], paint: { 'fill-color': colour, 'fill-opacity': 0.6 } }, beforeId);
          map.addLayer({ id: `basemap-${vl.id}-line`, type: 'line', source: 'basemap', 'source-layer': vl.id,
            filter: ['==', ['geometry-type'], 'LineString'], paint: { 'line-color': '#4a6783', 'line-width': 1 } }, beforeId);
        });
      } else {
        map.addSource('basemap', { type: 'raster', url: source, tileSize: 256 });
        map.addLayer({ id: 'basemap', type: 'raster', source: 'basemap', paint: { 'raster-opacity': 0.75 } }, beforeId);
      }
      state.basemap = { tileType: header.tileType, minZoom: header.minZoom, maxZoom: header.maxZoom };
    } catch (e) {
      state.basemapError = String(e && e.message ? e.message : e);
      console.warn('site basemap unavailable', e);
    }
  }

  window.skywardenBasemap = { state, addWorld, addSiteBasemap, placeCities };
})();
