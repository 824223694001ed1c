/* skywarden map page: the MapLibre map (offline: grid, range rings, zones, sensors; tiles only if
 * configured), tracks from the live WebSocket or a replay (replay.js), labels, track details.
 * Panels live in panels.js. */
(function () {
  'use strict';

  const UI = window.skywardenUI;
  const Basemap = window.skywardenBasemap;
  const Replay = window.skywardenReplay;
  const $ = (id) => document.getElementById(id);
  const RINGS_KM = [1, 2, 5, 10, 20, 50];
  const MAX_LABELS = 300;
  const EMPTY = { type: 'FeatureCollection', features: [] };

  /* Shared state, also what the browser test reads. */
  const S = (window.skywarden = {
    map: null, mapReady: false, config: null, snapshot: null, tracks: [], alerts: [], zones: EMPTY,
    zoneNames: {}, filters: UI.readFilters(), connected: false, frames: 0, lastFrameAt: 0,
    trackFeatures: EMPTY, selected: null, popup: null, health: null, replay: Replay.state,
    why: { id: null, data: null, error: null, at: 0, pending: false },
    link: ['CONNECTING', 'warn'],
    positions() {
      const out = {};
      for (const f of S.trackFeatures.features) out[f.properties.id] = f.geometry.coordinates.slice();
      return out;
    },
    get beeps() { return UI.sound.beeps; },
  });

  /* ---------- geometry ---------- */
  function circle(lon, lat, r, n = 128) {
    const dLat = r / 111320, dLon = r / (111320 * Math.cos((lat * Math.PI) / 180));
    const pts = [];
    for (let i = 0; i <= n; i++) {
      const a = (2 * Math.PI * i) / n;
      pts.push([lon + dLon * Math.sin(a), lat + dLat * Math.cos(a)]);
    }
    return pts;
  }
  function line(coords, props) {
    return { type: 'Feature', properties: props || {}, geometry: { type: 'LineString', coordinates: coords } };
  }
  function point(lon, lat, props) {
    return { type: 'Feature', properties: props || {}, geometry: { type: 'Point', coordinates: [lon, lat] } };
  }

  /* ---------- icons drawn on a canvas (no sprite server needed) ---------- */
  function icon(draw, size) {
    const c = document.createElement('canvas');
    c.width = c.height = size;
    const g = c.getContext('2d');
    draw(g, size);
    return g.getImageData(0, 0, size, size);
  }
  function arrow(colour) {
    return icon((g, s) => {
      g.beginPath();
      g.moveTo(s / 2, 4); g.lineTo(s - 9, s - 7); g.lineTo(s / 2, s - 15); g.lineTo(9, s - 7);
      g.closePath();
      g.fillStyle = colour; g.fill();
      g.lineWidth = 2.5; g.strokeStyle = 'rgba(0,0,0,.85)'; g.stroke();
    }, 44);
  }
  function sensorIcon(colour) {
    return icon((g, s) => {
      g.fillStyle = '#0a0f16'; g.strokeStyle = colour; g.lineWidth = 3;
      g.beginPath(); g.moveTo(s / 2, 4); g.lineTo(s - 4, s / 2); g.lineTo(s / 2, s - 4); g.lineTo(4, s / 2);
      g.closePath(); g.fill(); g.stroke();
      g.fillStyle = colour; g.beginPath(); g.arc(s / 2, s / 2, 4, 0, 2 * Math.PI); g.fill();
    }, 30);
  }

  /* ---------- the style: blank background, optional raster tiles, no glyphs needed ---------- */
  function baseStyle(cfg) {
    const style = {
      version: 8, sources: {},
      layers: [{ id: 'background', type: 'background', paint: { 'background-color': '#0c141d' } }],
    };
    if (cfg.tile_url) {
      style.sources.tiles = { type: 'raster', tiles: [cfg.tile_url], tileSize: 256 };
      style.layers.push({ id: 'tiles', type: 'raster', source: 'tiles', paint: { 'raster-opacity': 0.55 } });
    }
    return style;
  }
  const classColour = ['match', ['get', 'cls'], ...Object.entries(UI.CLASS_COLOURS).flat(), '#f5b942'];
  function addLayers(map) {
    for (const [c, col] of Object.entries(UI.CLASS_COLOURS)) map.addImage('arrow-' + c, arrow(col), { pixelRatio: 2 });
    map.addImage('sensor-up', sensorIcon('#3ccf8e'), { pixelRatio: 2 });
    map.addImage('sensor-down', sensorIcon('#ff5a5f'), { pixelRatio: 2 });
    for (const id of ['grid', 'rings', 'coverage', 'clutter', 'zones', 'trails', 'predicted', 'tracks', 'sensors', 'site']) {
      map.addSource(id, { type: 'geojson', data: EMPTY });
    }
    Basemap.addWorld(map, map.getLayer('tiles') ? 'tiles' : undefined);
    const layers = [
      { id: 'grid', type: 'line', source: 'grid', paint: { 'line-color': '#1b2a3a', 'line-width': 1 } },
      { id: 'coverage', type: 'line', source: 'coverage',
        paint: { 'line-color': '#2c4a66', 'line-width': 1, 'line-dasharray': [1, 3] } },
      { id: 'rings', type: 'line', source: 'rings', paint: { 'line-color': '#2f4a64', 'line-width': 1.2 } },
      // the tracker's learnt clutter map: more opaque = more unexplained plots per km^2 per scan
      { id: 'clutter-fill', type: 'fill', source: 'clutter',
        paint: { 'fill-color': '#a07be0',
          'fill-opacity': ['interpolate', ['linear'], ['ln', ['+', 1e-3, ['get', 'rate_per_km2_per_scan']]],
            -6.9, 0.0, -2.3, 0.12, 2.3, 0.45] } },
      { id: 'zones-fill', type: 'fill', source: 'zones',
        paint: { 'fill-color': ['match', ['get', 'role'], 'protected', '#ff5a5f', 'warning', '#f5b942', '#8c98a6'],
          'fill-opacity': ['match', ['get', 'role'], 'protected', 0.16, 'warning', 0.09, 0.06] } },
      { id: 'zones-line', type: 'line', source: 'zones',
        paint: { 'line-color': ['match', ['get', 'role'], 'protected', '#ff5a5f', 'warning', '#f5b942', '#8c98a6'],
          'line-width': ['match', ['get', 'role'], 'protected', 2, 1.5] } },
      { id: 'trails', type: 'line', source: 'trails', layout: { 'line-cap': 'round', 'line-join': 'round' },
        paint: { 'line-color': classColour, 'line-width': 2, 'line-opacity': 0.55 } },
      { id: 'predicted', type: 'line', source: 'predicted',
        paint: { 'line-color': classColour, 'line-width': 1.6, 'line-opacity': 0.9, 'line-dasharray': [2, 2] } },
      { id: 'track-halo', type: 'circle', source: 'tracks', filter: ['get', 'alerting'],
        paint: { 'circle-radius': 17, 'circle-color': 'rgba(255,90,95,0.14)', 'circle-stroke-color': '#ff5a5f',
          'circle-stroke-width': 1.5 } },
      { id: 'track-selected', type: 'circle', source: 'tracks', filter: ['get', 'selected'],
        paint: { 'circle-radius': 14, 'circle-opacity': 0, 'circle-stroke-color': '#ffffff', 'circle-stroke-width': 1.5 } },
      { id: 'tracks', type: 'symbol', source: 'tracks',
        layout: { 'icon-image': ['concat', 'arrow-', ['get', 'cls']], 'icon-rotate': ['get', 'course'],
          'icon-rotation-alignment': 'map', 'icon-allow-overlap': true, 'icon-ignore-placement': true } },
      { id: 'sensors', type: 'symbol', source: 'sensors',
        layout: { 'icon-image': ['case', ['get', 'connected'], 'sensor-up', 'sensor-down'], 'icon-allow-overlap': true } },
      { id: 'site', type: 'circle', source: 'site',
        paint: { 'circle-radius': 5, 'circle-color': '#0c141d', 'circle-stroke-color': '#d9e3ee', 'circle-stroke-width': 2 } },
    ];
    layers.forEach((l) => map.addLayer(l));
  }

  /* ---------- static pictures: rings, grid, zones, sensors ---------- */
  let staticMarkers = { rings: [], grid: [], zones: [], sensors: [] };
  function textMarker(kind, lngLat, text, cls, anchor) {
    const el = document.createElement('div');
    el.className = 'map-text ' + (cls || '');
    el.textContent = text;
    const m = new maplibregl.Marker({ element: el, anchor: anchor || 'bottom' }).setLngLat(lngLat).addTo(S.map);
    staticMarkers[kind].push(m);
  }
  function clearMarkers(kind) { staticMarkers[kind].forEach((m) => m.remove()); staticMarkers[kind] = []; }
  function drawRings(site) {
    S.map.getSource('rings').setData({ type: 'FeatureCollection',
      features: RINGS_KM.map((km) => line(circle(site.lon, site.lat, km * 1000), { km })) });
    S.map.getSource('site').setData({ type: 'FeatureCollection', features: [point(site.lon, site.lat)] });
    clearMarkers('rings');
    for (const km of RINGS_KM) {
      textMarker('rings', [site.lon, site.lat - (km * 1000) / 111320], km + ' km', 'ring-label', 'top');
    }
  }
  function niceStep(span) {
    const steps = [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30];
    return steps.find((s) => span / s <= 10) || 30;
  }
  function drawGrid() {
    const b = S.map.getBounds();
    const step = niceStep(Math.max(b.getNorth() - b.getSouth(), b.getEast() - b.getWest()) / 1.3);
    const digits = Math.max(0, -Math.floor(Math.log10(step) + 1e-9));
    const features = [];
    clearMarkers('grid');
    for (let lon = Math.ceil(b.getWest() / step) * step; lon <= b.getEast(); lon += step) {
      features.push(line([[lon, Math.max(-85, b.getSouth() - step)], [lon, Math.min(85, b.getNorth() + step)]]));
      textMarker('grid', [lon, b.getNorth()], `${Math.abs(lon).toFixed(digits)}°${lon >= 0 ? 'E' : 'W'}`, 'grid-label', 'top');
    }
    for (let lat = Math.ceil(b.getSouth() / step) * step; lat <= b.getNorth(); lat += step) {
      features.push(line([[b.getWest() - step, lat], [b.getEast() + step, lat]]));
      textMarker('grid', [b.getWest(), lat], `${Math.abs(lat).toFixed(digits)}°${lat >= 0 ? 'N' : 'S'}`, 'grid-label', 'left');
    }
    S.map.getSource('grid').setData({ type: 'FeatureCollection', features });
  }
  function zonePolygon(f) {
    const p = f.properties || {};
    if (f.geometry && f.geometry.type === 'Point' && p.radius_m > 0) {
      const [lon, lat] = f.geometry.coordinates;
      return { type: 'Feature', id: f.id, properties: p, geometry: { type: 'Polygon', coordinates: [circle(lon, lat, p.radius_m)] } };
    }
    return f;
  }
  async function loadZones() {
    try {
      const r = await fetch('/api/v1/zones');
      if (!r.ok) throw new Error('HTTP ' + r.status);
      const fc = await r.json();
      S.zoneNames = {};
      const features = (fc.features || []).map(zonePolygon);
      for (const f of fc.features || []) S.zoneNames[f.id ?? (f.properties || {}).id] = (f.properties || {}).name || f.id;
      S.zones = { type: 'FeatureCollection', features };
      if (!S.mapReady) return;
      S.map.getSource('zones').setData(S.zones);
      clearMarkers('zones');
      for (const f of features) {
        const ring = (f.geometry.type === 'Polygon' ? f.geometry.coordinates[0] : f.geometry.coordinates[0][0]);
        const top = ring.reduce((a, c) => (c[1] > a[1] ? c : a), ring[0]);
        const p = f.properties || {};
        const band = p.floor_m != null ? ` · ${Math.round(p.floor_m)}–${Math.round(p.ceiling_m)} m` : '';
        textMarker('zones', top, `${p.name || f.id}${band}`, 'zone-label ' + (p.role || ''), 'bottom');
      }
    } catch (e) {
      console.warn('zones unavailable', e);
    }
  }
  async function loadClutter() {
    try {
      const r = await fetch('/api/v1/clutter');
      if (!r.ok) throw new Error('HTTP ' + r.status);
      S.clutter = await r.json();
      if (S.mapReady) S.map.getSource('clutter').setData(S.clutter);
    } catch (e) {
      console.warn('clutter map unavailable', e);
    }
  }
  let sensorsKey = '';
  function drawSensors(sensors) {
    const key = JSON.stringify(sensors.map((s) => [s.name, s.lat, s.lon, s.connected, s.range_m]));
    if (!S.mapReady || key === sensorsKey) return;
    sensorsKey = key;
    const ok = sensors.filter((s) => s.lat != null && s.lon != null);
    S.map.getSource('sensors').setData({ type: 'FeatureCollection',
      features: ok.map((s) => point(s.lon, s.lat, { name: s.name, connected: !!s.connected })) });
    S.map.getSource('coverage').setData({ type: 'FeatureCollection',
      features: ok.filter((s) => s.range_m > 0 && s.range_m <= 100000).map((s) => line(circle(s.lon, s.lat, s.range_m))) });
    clearMarkers('sensors');
    ok.forEach((s) => textMarker('sensors', [s.lon, s.lat], s.name, 'sensor-label', 'top-left'));
  }

  /* ---------- tracks ---------- */
  /* the tracks drawn now: the live snapshot's, or the replay's at the slider time */
  function picture() { return S.replay.active ? S.replay.picture : S.tracks; }
  function renderTracks() {
    const f = S.filters;
    const live = S.replay.active ? [] : S.alerts.filter((a) => a.state === 'active');
    const alerting = new Set(live.map((a) => a.track_id));
    const shown = picture().filter((t) => t.lat != null && t.lon != null && UI.passes(f, t));
    const pts = [], trails = [], preds = [];
    for (const t of shown) {
      const here = [t.lon, t.lat];
      const props = { id: t.id, cls: t.class, course: t.course_deg || 0, alerting: alerting.has(t.id), selected: S.selected === t.id };
      pts.push({ type: 'Feature', id: t.id, properties: props, geometry: { type: 'Point', coordinates: here } });
      const trail = t.trailLL || t.trail.map((p) => [p[1], p[0]]);
      if (f.trails && trail.length) trails.push(line(trail.concat([here]), { cls: t.class }));
      if (f.predicted && t.predicted.length) preds.push(line([here].concat(t.predicted.map((p) => [p[1], p[0]])), { cls: t.class }));
    }
    S.trackFeatures = { type: 'FeatureCollection', features: pts };
    S.shownTracks = shown;
    if (!S.mapReady) return;
    S.map.getSource('tracks').setData(S.trackFeatures);
    S.map.getSource('trails').setData({ type: 'FeatureCollection', features: trails });
    S.map.getSource('predicted').setData({ type: 'FeatureCollection', features: preds });
    placeLabels();
    updatePopup();
  }
  /* labels: one per track, or one per swarm (labels.js places them without overprinting) */
  const placeLabels = window.skywardenLabels.placer(S, UI, MAX_LABELS);

  /* ---------- track details popup ---------- */
  function detailsHtml(t) {
    const c = UI.CLASS_COLOURS[t.class] || '#ccc';
    const bars = Object.entries(t.p || {}).map(([k, v]) => `<div class="pbar"><span>${k}</span>` +
      `<span class="bar"><i style="width:${Math.round(100 * (v || 0))}%;background:${UI.CLASS_COLOURS[k] || '#ccc'}"></i></span>` +
      `<span class="num">${UI.fmt.num(100 * (v || 0), 0)}%</span></div>`).join('');
    const age = S.snapshot && t.t_update != null ? S.snapshot.t - t.t_update : null;
    const rows = t.replay ? [
      ['Track', t.id], ['Identity', t.identity || '–'], ['Callsign', t.callsign || '–'],
      ['Position', UI.fmt.latlon(t.lat, t.lon)], ['Altitude', UI.fmt.int(t.alt_m) + ' m'],
      ['Speed', UI.fmt.num(t.speed_mps, 1) + ' m/s'], ['Course', UI.fmt.num(t.course_deg, 0) + '°'],
      ['Stored sample', UI.fmt.utc(t.t_update) + 'Z'],
    ] : [
      ['Track', t.id], ['Identity', t.identity || '–'], ['Callsign', t.callsign || '–'], ['Status', t.status],
      ['Position', UI.fmt.latlon(t.lat, t.lon)], ['Altitude', UI.fmt.int(t.alt_m) + ' m'],
      ['Speed', UI.fmt.num(t.speed_mps, 1) + ' m/s'], ['Course', UI.fmt.num(t.course_deg, 0) + '°'],
      ['Vertical', UI.fmt.num(t.v_enu ? t.v_enu[2] : t.enu ? t.enu[5] : null, 1) + ' m/s'], ['Accuracy', '±' + UI.fmt.int(t.sigma_m) + ' m'],
      ['Behaviour', t.behaviour || '–'], ['Updated', age == null ? '–' : UI.fmt.num(age, 1) + ' s ago'],
      ['Decision', t.summary || '–'],
      ['Ground', t.on_ground ? 'on the ground (no drone alerts)' : '–'],
      ['Reported', (t.evidence || []).join(', ') || '–'],
      ...(t.members ? [['Site tracks', t.members.map((m) => `${m.site} #${m.track_id}`).join(', ')]] : []),
    ];
    return `<div class="details"><h3><span class="cls" style="background:${c}">${UI.esc(t.class)}</span>${UI.esc(UI.trackName(t))}</h3>` +
      `<table>${rows.map(([k, v]) => `<tr><td>${k}</td><td>${UI.esc(v)}</td></tr>`).join('')}</table>` +
      `<div style="margin-top:6px">${bars}</div>${t.replay ? '' : whyLine(t.id)}</div>`;
  }
  /* the classifier's top features for the selected live track, fetched on demand */
  const WHY_REFRESH_MS = 5000;
  function whyLine(id) {
    const w = S.why;
    if (w.id !== id || (!w.data && !w.error)) return '<div class="why muted">Why: …</div>';
    if (!w.data) return `<div class="why muted" title="${UI.esc(w.detail || '')}">Why: ${UI.esc(w.error)}</div>`;
    return `<div class="why">${UI.whyHtml(w.data)}</div>`;
  }
  async function fetchWhy(id) {
    if (S.why.id !== id) S.why = { id, data: null, error: null, at: 0, pending: false };
    S.why.pending = true;
    S.why.at = performance.now();
    let data = null, error = null, detail = '';
    try {
      const r = await fetch(`/api/v1/tracks/${encodeURIComponent(id)}/classification`);
      const body = await r.json().catch(() => ({}));
      if (r.ok) data = body;
      else [error, detail] = [r.status === 404 ? 'not available' : `error ${r.status}`, String(body.detail || '')];
    } catch (e) { error = 'not available (no connection)'; }
    if (S.why.id !== id) return; /* another track was selected meanwhile */
    S.why = { id, data: data || S.why.data, error: data ? null : error, detail, at: performance.now(), pending: false };
    updatePopup();
  }
  function refreshWhy() {
    if (S.selected == null || S.replay.active || (S.why.pending && S.why.id === S.selected)) return;
    if (S.why.id !== S.selected || performance.now() - S.why.at > WHY_REFRESH_MS) fetchWhy(S.selected);
  }
  function select(id) {
    S.selected = id;
    const t = picture().find((x) => x.id === id);
    if (!S.popup) {
      S.popup = new maplibregl.Popup({ closeOnClick: false, maxWidth: '300px', offset: 14 });
      S.popup.on('close', () => { S.popup = null; S.selected = null; renderTracks(); });
    }
    if (t) S.popup.setLngLat([t.lon, t.lat]).setHTML(detailsHtml(t)).addTo(S.map);
    renderTracks();
  }
  function updatePopup() {
    if (!S.popup || S.selected == null) return;
    refreshWhy();
    const t = picture().find((x) => x.id === S.selected);
    if (t) S.popup.setLngLat([t.lon, t.lat]).setHTML(detailsHtml(t));
    else S.popup.setHTML(`<div class="details"><h3>Track ${S.selected}</h3><div class="muted">track lost</div></div>`);
  }

  /* ---------- the live feed ---------- */
  function setLink(text, kind) {
    S.link = [text, kind];
    showLink();
  }
  function showLink() {
    const el = $('link'), [text, kind] = S.replay.active ? ['REPLAY', 'replay'] : S.link;
    el.textContent = text;
    el.className = 'pill pill-' + kind;
    el.title = S.replay.active ? 'replaying stored tracks; alerts and sensors stay live' : 'live feed';
  }
  /* header numbers and tracks of the picture shown (live, or the replay at the slider time) */
  function showPicture() {
    if (!S.replay.active && !S.snapshot) { renderTracks(); return; }
    const tracks = picture();
    $('stat-tracks').textContent = tracks.length;
    $('stat-time').textContent = UI.fmt.utc(S.replay.active ? S.replay.at : S.snapshot.t);
    UI.updateClassCounts(tracks);
    renderTracks();
  }
  function onSnapshot(snap) {
    S.snapshot = snap;
    S.tracks = snap.tracks || [];
    S.alerts = snap.alerts || [];
    S.frames += 1;
    S.lastFrameAt = performance.now();
    if (!S.replay.active) showPicture();
    if (S.alerts.some((a) => !(a.zone_id in S.zoneNames))) loadZonesSoon();
    UI.renderAlerts(S.alerts, S.zoneNames);
    UI.renderSensors(snap.sensors || []);
    drawSensors(snap.sensors || []);
  }
  let zoneTimer = null;
  function loadZonesSoon() {
    if (!zoneTimer) zoneTimer = setTimeout(() => { zoneTimer = null; loadZones(); }, 2000);
  }
  let backoff = 500;
  function connect() {
    /* the compact encoding (quantised binary deltas, zlib: skywarden.server.live_compact,
       decoded by live_compact.js) where the browser can inflate; plain JSON otherwise.
       Messages are inflated and applied one after the other: a delta needs the one before */
    const compact = typeof DecompressionStream === 'function' && window.skywardenCompact;
    const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/api/v1/live` +
      (compact ? '?encoding=compact' : '');
    const ws = new WebSocket(url, window.skyAuth ? window.skyAuth.wsProtocols() : []);
    const decoder = new TextDecoder();
    const stream = compact ? window.skywardenCompact.client() : null;
    let queue = Promise.resolve();
    ws.binaryType = 'arraybuffer';
    ws.onopen = () => { S.connected = true; backoff = 500; setLink('LIVE', 'ok'); };
    const snapshotOf = async (data) => {
      if (typeof data === 'string') return JSON.parse(data);
      if (!compact) return JSON.parse(decoder.decode(data));
      const inflated = new Blob([data]).stream().pipeThrough(new DecompressionStream('deflate'));
      return stream.apply(new Uint8Array(await new Response(inflated).arrayBuffer()));
    };
    ws.onmessage = (ev) => {
      queue = queue.then(() => snapshotOf(ev.data)).then((snap) => {
        if (S.snapshot && snap.seq <= S.snapshot.seq) return;
        onSnapshot(snap);
      }).catch((e) => {
        console.warn('live message not applied; reconnecting', e);
        ws.close();
      });
    };
    ws.onclose = () => {
      S.connected = false;
      setLink('RECONNECTING', 'bad');
      setTimeout(connect, backoff);
      backoff = Math.min(backoff * 2, 10000);
    };
  }
  setInterval(() => {
    if (!S.connected || !S.config) return;
    const stale = (performance.now() - S.lastFrameAt) / 1000 > Math.max(5, 4 / S.config.live_rate_hz);
    setLink(stale ? 'STALE' : 'LIVE', stale ? 'warn' : 'ok');
  }, 1000);

  /* ---------- start ---------- */
  function banner(html) { const b = $('banner'); b.innerHTML = html; b.hidden = false; }
  function viewFromUrl() {
    const v = new URLSearchParams(location.search).get('view');
    const p = v ? v.split(',').map(Number) : [];
    return p.length === 3 && p.every(isFinite) ? { center: [p[1], p[0]], zoom: p[2] } : null;
  }
  function saveView() {
    const q = new URLSearchParams(location.search), c = S.map.getCenter();
    q.set('view', `${c.lat.toFixed(5)},${c.lng.toFixed(5)},${S.map.getZoom().toFixed(2)}`);
    history.replaceState(null, '', location.pathname + '?' + q.toString().replace(/%2C/g, ','));
  }
  function startMap(cfg) {
    if (!window.maplibregl) {
      banner('Map unavailable: MapLibre GL JS is not installed on this server. Run ' +
        '<code>scripts/vendor_maplibre.sh</code> and reload. Alerts and sensors still update.');
      return;
    }
    const site = cfg.site, view = viewFromUrl();
    try {
      S.map = new maplibregl.Map({
        container: 'map', style: baseStyle(cfg), attributionControl: { compact: true },
        center: view ? view.center : [site.lon, site.lat], zoom: view ? view.zoom : 12, maxPitch: 0,
        dragRotate: false,
      });
    } catch (e) {
      banner('Map unavailable: this browser cannot draw it (WebGL): ' + UI.esc(e.message));
      return;
    }
    S.map.addControl(new maplibregl.NavigationControl({ showCompass: false }), 'top-left');
    S.map.addControl(new maplibregl.ScaleControl({ unit: 'metric' }), 'bottom-left');
    S.map.on('load', () => {
      addLayers(S.map);
      Basemap.addSiteBasemap(S.map, cfg.basemap, 'grid');
      S.mapReady = true;
      if (!view) {
        const d = 6500 / 111320, dl = d / Math.cos((site.lat * Math.PI) / 180);
        S.map.fitBounds([[site.lon - dl, site.lat - d], [site.lon + dl, site.lat + d]], { duration: 0 });
      }
      drawRings(site);
      drawGrid();
      loadZones();
      loadClutter();
      if (S.snapshot) onSnapshot(S.snapshot);
      showPicture();
    });
    S.map.on('moveend', () => { if (S.mapReady) { drawGrid(); saveView(); Basemap.placeCities(S.map); } });
    S.map.on('render', () => { if (S.mapReady) placeLabels(); });
    S.map.on('click', 'tracks', (e) => select(e.features[0].properties.id));
    S.map.on('mouseenter', 'tracks', () => { S.map.getCanvas().style.cursor = 'pointer'; });
    S.map.on('mouseleave', 'tracks', () => { S.map.getCanvas().style.cursor = ''; });
    S.map.on('mousemove', (e) => { $('stat-cursor').textContent = UI.fmt.latlon(e.lngLat.lat, e.lngLat.lng); });
    S.map.on('error', (e) => console.warn('map:', e && e.error ? e.error.message : e));
  }
  UI.alertsUI.onSelect = (a) => {
    const t = picture().find((x) => x.id === a.track_id);
    if (t && S.mapReady) { S.map.easeTo({ center: [t.lon, t.lat], duration: 600 }); select(t.id); }
  };
  async function start() {
    UI.buildFilterPanel(S.filters, () => { UI.writeFilters(S.filters); renderTracks(); });
    UI.setupSoundButton();
    UI.setupOperator();
    for (;;) {
      try {
        const r = await fetch('/api/v1/map-config');
        if (r.ok) { S.config = await r.json(); break; }
      } catch (e) { /* server not up yet */ }
      await new Promise((ok) => setTimeout(ok, 1000));
    }
    if (window.skyAuth) window.skyAuth.refresh();
    startMap(S.config);
    Replay.setup({
      enter() { if (S.popup) S.popup.remove(); showLink(); },
      render: showPicture,
      leave() { if (S.popup) S.popup.remove(); showLink(); showPicture(); },
    });
    loadZones();
    connect();
    UI.pollHealth();
    setInterval(UI.pollHealth, 5000);
    setInterval(loadZones, 30000);
    setInterval(loadClutter, 15000);
  }
  start();
})();
