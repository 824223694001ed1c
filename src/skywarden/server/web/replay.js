/* skywarden map page: replay of a stored time window (GET /api/v1/history/span and
 * /api/v1/history/tracks). The panel picks the window, the bar over the map plays it; tracks are
 * interpolated between their stored samples at the slider time. The state is in the URL as
 * ?replay=t0,t1&at=t (POSIX s). map.js draws whichever picture is shown (live or replay). */
(function () {
  'use strict';

  const UI = window.skywardenUI;
  const $ = (id) => document.getElementById(id);
  const DEFAULT_WINDOW_S = 600; // the last 10 minutes of history
  const HOLD_S = 2; // a track stays drawn this long after its last stored sample
  const URL_EVERY_MS = 1000; // history.replaceState is rate-limited by browsers
  const BINS = 160; // activity strip above the slider
  const MAX_SAMPLES = 3600; // per track: longer windows are thinned by the server (step_s)

  /* The replay state, also what the browser test reads (window.skywarden.replay). */
  const R = {
    active: false, loading: false, t0: null, t1: null, at: null, paths: [], picture: [],
    playing: false, speed: 1, span: null, raf: 0, lastNow: 0, urlWrittenAt: 0, hooks: null,
  };

  /* ---------- times: the inputs hold UTC as 'YYYY-MM-DD hh:mm[:ss]' (24 h) ---------- */
  const toInput = (t) => new Date(Math.round(t) * 1000).toISOString().slice(0, 19).replace('T', ' ');
  function fromInput(v) {
    const m = /^\s*(\d{4}-\d\d-\d\d)[ T](\d\d:\d\d)(:\d\d(\.\d+)?)?\s*(Z|UTC)?\s*$/i.exec(v || '');
    if (!m) return null;
    const ms = Date.parse(`${m[1]}T${m[2]}${m[3] || ':00'}Z`);
    return isFinite(ms) ? ms / 1000 : null;
  }
  const utcDate = (t) => new Date(t * 1000).toISOString().slice(0, 10);
  const utcFull = (t) => `${utcDate(t)} ${UI.fmt.utc(t)}`;
  const urlNum = (t) => String(Math.round(t * 10) / 10);

  /* ---------- stored paths -> the picture at one time ---------- */
  function preparePath(p) {
    const keep = [];
    for (let i = 0; i < (p.t || []).length; i++) {
      if (isFinite(p.t[i]) && p.lat[i] != null && p.lon[i] != null) keep.push(i);
    }
    const pick = (a) => keep.map((i) => (a && a[i] !== undefined ? a[i] : null));
    return {
      id: p.id, identity: p.identity || '', callsign: p.callsign || '', cls: pick(p.class_seq),
      t: pick(p.t), lat: pick(p.lat), lon: pick(p.lon), alt: pick(p.alt_m),
      ll: keep.map((i) => [p.lon[i], p.lat[i]]), last: p.class || 'unknown',
    };
  }
  function firstAfter(ts, x) { // index of the first sample later than x (binary search)
    let lo = 0, hi = ts.length;
    while (lo < hi) { const mid = (lo + hi) >> 1; if (ts[mid] <= x) lo = mid + 1; else hi = mid; }
    return lo;
  }
  function leg(p, a, b) { // course (deg from north) and speed (m/s) from sample a to sample b
    const k = Math.cos((p.lat[a] * Math.PI) / 180);
    const de = (p.lon[b] - p.lon[a]) * 111320 * k, dn = (p.lat[b] - p.lat[a]) * 111320;
    const dt = p.t[b] - p.t[a];
    return [((Math.atan2(de, dn) * 180) / Math.PI + 360) % 360, dt > 0 ? Math.hypot(de, dn) / dt : null];
  }
  function trackAt(p, t) {
    const n = p.t.length;
    if (!n || t < p.t[0] || t > p.t[n - 1] + HOLD_S) return null;
    const i = firstAfter(p.t, t) - 1;
    const j = Math.min(i + 1, n - 1), f = j > i ? (t - p.t[i]) / (p.t[j] - p.t[i]) : 0;
    const mix = (a) => (a[i] == null || a[j] == null ? a[i] : a[i] + f * (a[j] - a[i]));
    const [course, speed] = n > 1 ? leg(p, j > i ? i : i - 1, j > i ? j : i) : [0, null];
    return {
      id: p.id, class: p.cls[i] || p.last, identity: p.identity, callsign: p.callsign,
      lat: mix(p.lat), lon: mix(p.lon), alt_m: mix(p.alt), course_deg: course, speed_mps: speed,
      t_update: p.t[i], trailLL: p.ll.slice(0, i + 1), predicted: [], replay: true,
    };
  }
  function pictureAt(t) {
    const out = [];
    for (const p of R.paths) { const x = trackAt(p, t); if (x) out.push(x); }
    return out;
  }

  /* ---------- panel messages ---------- */
  function say(text, kind) {
    const el = $('replay-msg');
    el.textContent = text || '';
    el.className = 'replay-msg' + (kind ? ' ' + kind : '');
    el.hidden = !text;
  }
  async function getJson(url) {
    const r = await fetch(url);
    const body = await r.json().catch(() => ({}));
    return { status: r.status, ok: r.ok, body };
  }
  const NO_STORE = 'This server keeps no track history, so there is nothing to replay. ' +
    'Set [storage] path in the site configuration to record one.';
  function failure(res, what) {
    if (res.status === 501) return NO_STORE;
    const detail = res.body && typeof res.body.detail === 'string' ? res.body.detail : 'HTTP ' + res.status;
    return `Could not ${what}: ${detail}`;
  }
  function showSpan() {
    const s = R.span, el = $('replay-span');
    const end = s && utcDate(s.t0) === utcDate(s.t1) ? UI.fmt.utc(s.t1) : s && utcFull(s.t1);
    el.innerHTML = s ? `<span class="k">Stored history</span> ${UI.fmt.duration(s.t1 - s.t0)}<br>` +
      `${utcFull(s.t0)} → ${end} UTC` : '';
    el.hidden = !s;
  }

  /* ---------- the panel: open, presets, load ---------- */
  async function fetchSpan() {
    try {
      const res = await getJson('/api/v1/history/span');
      if (!res.ok) { R.span = null; showSpan(); say(failure(res, 'read the history'), 'error'); return null; }
      R.span = res.body.t0 == null ? null : { t0: res.body.t0, t1: res.body.t1 };
      showSpan();
      if (!R.span) say('The history is empty: nothing has been recorded yet.', 'error');
      return R.span;
    } catch (e) {
      say('Could not reach the server: ' + e.message, 'error');
      return null;
    }
  }
  function setWindow(t0, t1) {
    for (const [id, t] of [['replay-from', t0], ['replay-to', t1]]) {
      $(id).value = toInput(t);
      $(id).classList.remove('invalid');
    }
  }
  function preset(seconds) {
    const s = R.span;
    if (!s) return;
    setWindow(seconds ? Math.max(s.t0, s.t1 - seconds) : s.t0, s.t1);
  }
  async function open(fillDefaults = true) {
    $('replay-closed').hidden = true;
    $('replay-form').hidden = false;
    say('');
    const span = await fetchSpan();
    if (span && fillDefaults) preset(DEFAULT_WINDOW_S);
  }
  function close() {
    if (R.active) backToLive();
    $('replay-form').hidden = true;
    $('replay-closed').hidden = false;
    say('');
  }
  /* Seconds between kept samples for a window of more than MAX_SAMPLES s, else null (all). */
  function stepFor(t0, t1) {
    return t1 - t0 > MAX_SAMPLES ? Math.ceil((t1 - t0) / MAX_SAMPLES) : null;
  }
  async function load(t0, t1, at) {
    if (t0 == null || t1 == null) {
      say('Enter both times of the window in UTC, as YYYY-MM-DD hh:mm:ss.', 'error');
      return false;
    }
    if (!(t1 > t0)) { say('“From” must be before “To”.', 'error'); return false; }
    const button = $('replay-load');
    R.loading = true;
    button.disabled = true;
    button.textContent = 'Loading…';
    say('');
    try {
      const step = stepFor(t0, t1);
      const thin = step ? `&step_s=${step}` : '';
      const res = await getJson(`/api/v1/history/tracks?t0=${t0}&t1=${t1}${thin}`);
      if (!res.ok) { say(failure(res, 'load the history'), 'error'); return false; }
      if (!Array.isArray(res.body) || res.body.length === 0) {
        const where = R.span ? ` The history covers ${utcFull(R.span.t0)} → ${utcFull(R.span.t1)} UTC.` : '';
        say(`No tracks were stored between ${utcFull(t0)} and ${utcFull(t1)} UTC.${where}`, 'error');
        return false;
      }
      enter(res.body.map(preparePath), t0, t1, at);
      const n = res.body.length;
      const every = step ? ` (one sample per ${step} s per track)` : '';
      say(`${n} track${n === 1 ? '' : 's'} over ${UI.fmt.duration(t1 - t0)} loaded${every}.`, 'ok');
      return true;
    } catch (e) {
      say('Could not reach the server: ' + e.message, 'error');
      return false;
    } finally {
      R.loading = false;
      button.disabled = false;
      button.textContent = 'Load';
    }
  }

  /* ---------- replay mode ---------- */
  function enter(paths, t0, t1, at) {
    pause();
    Object.assign(R, { active: true, paths, t0, t1 });
    document.body.classList.add('replaying');
    $('replay-bar').hidden = false;
    $('replay-live-2').hidden = false;
    $('replay-close').hidden = true;
    const slider = $('replay-slider');
    slider.max = String(Math.round((t1 - t0) * 10) / 10);
    $('replay-start').textContent = UI.fmt.utc(t0) + 'Z';
    $('replay-end').textContent = UI.fmt.utc(t1) + 'Z';
    if (R.hooks) R.hooks.enter();
    setAt(at != null && isFinite(at) ? at : t0);
    drawActivity();
  }
  function backToLive() {
    if (!R.active) return;
    pause();
    Object.assign(R, { active: false, paths: [], picture: [], at: null });
    document.body.classList.remove('replaying');
    $('replay-bar').hidden = true;
    $('replay-live-2').hidden = true;
    $('replay-close').hidden = false;
    say('');
    writeUrl();
    if (R.hooks) R.hooks.leave();
  }
  function setAt(t, writeNow = true) {
    R.at = Math.min(R.t1, Math.max(R.t0, t));
    R.picture = pictureAt(R.at);
    const rel = R.at - R.t0, span = R.t1 - R.t0;
    const slider = $('replay-slider');
    slider.value = String(rel);
    slider.style.setProperty('--pct', `${(100 * rel) / span}%`);
    $('replay-now').textContent = UI.fmt.utc(R.at) + 'Z';
    $('replay-date').textContent = utcDate(R.at);
    $('replay-offset').textContent = `${UI.fmt.mmss(rel)} / ${UI.fmt.mmss(span)}`;
    if (writeNow) writeUrl(); else writeUrlSoon();
    if (R.hooks) R.hooks.render();
  }
  function frame(now) {
    if (!R.playing) return;
    const dt = Math.min(0.25, (now - R.lastNow) / 1000);
    R.lastNow = now;
    setAt(R.at + dt * R.speed, false);
    if (R.at >= R.t1) pause();
    else R.raf = requestAnimationFrame(frame);
  }
  function play() {
    if (!R.active || R.playing) return;
    if (R.at >= R.t1) setAt(R.t0);
    R.playing = true;
    R.lastNow = performance.now();
    showPlaying();
    R.raf = requestAnimationFrame(frame);
  }
  function pause() {
    if (!R.playing) return;
    R.playing = false;
    cancelAnimationFrame(R.raf);
    showPlaying();
    if (R.active) writeUrl();
  }
  function showPlaying() {
    const b = $('replay-play');
    b.classList.toggle('playing', R.playing);
    b.setAttribute('aria-label', R.playing ? 'pause' : 'play');
    b.title = (R.playing ? 'Pause' : 'Play') + ' (space)';
  }
  function setSpeed(speed) {
    R.speed = speed;
    document.querySelectorAll('#replay-speeds button').forEach((b) => {
      b.classList.toggle('on', Number(b.dataset.speed) === speed);
      b.setAttribute('aria-pressed', String(Number(b.dataset.speed) === speed));
    });
  }

  /* ---------- activity strip: how many stored tracks are up at each time ---------- */
  function drawActivity() {
    const c = $('replay-activity');
    const w = c.clientWidth, h = c.clientHeight, ratio = window.devicePixelRatio || 1;
    if (!R.active || !w) return;
    c.width = Math.round(w * ratio);
    c.height = Math.round(h * ratio);
    const g = c.getContext('2d');
    g.scale(ratio, ratio);
    const counts = new Array(BINS).fill(0), dt = (R.t1 - R.t0) / BINS;
    for (const p of R.paths) {
      const a = Math.max(0, Math.floor((p.t[0] - R.t0) / dt));
      const b = Math.min(BINS - 1, Math.floor((p.t[p.t.length - 1] - R.t0) / dt));
      for (let k = a; k <= b; k++) counts[k] += 1;
    }
    const top = Math.max(1, ...counts), bw = w / BINS;
    g.beginPath(); // a step area: the height is the number of tracks up
    g.moveTo(0, h);
    counts.forEach((n, k) => {
      const y = n ? h - Math.max(2, ((h - 1) * n) / top) : h;
      g.lineTo(k * bw, y);
      g.lineTo((k + 1) * bw, y);
    });
    g.lineTo(w, h);
    g.closePath();
    g.fillStyle = 'rgba(180, 140, 255, 0.22)';
    g.fill();
    g.strokeStyle = 'rgba(180, 140, 255, 0.6)';
    g.lineWidth = 1;
    g.stroke();
  }

  /* ---------- URL: ?replay=t0,t1&at=t ---------- */
  function writeUrl() {
    const q = new URLSearchParams(location.search);
    if (R.active) {
      q.set('replay', `${urlNum(R.t0)},${urlNum(R.t1)}`);
      q.set('at', urlNum(R.at));
    } else {
      q.delete('replay');
      q.delete('at');
    }
    const s = q.toString().replace(/%2C/g, ',');
    history.replaceState(null, '', location.pathname + (s ? '?' + s : ''));
    R.urlWrittenAt = performance.now();
  }
  let urlTimer = 0;
  function writeUrlSoon() { // at most once a second, the last position always written
    const wait = URL_EVERY_MS - (performance.now() - R.urlWrittenAt);
    if (wait <= 0) writeUrl();
    else if (!urlTimer) urlTimer = setTimeout(() => { urlTimer = 0; writeUrl(); }, wait);
  }
  function readUrl() {
    const q = new URLSearchParams(location.search);
    const w = (q.get('replay') || '').split(',').map(Number);
    if (w.length !== 2 || !w.every(isFinite) || !(w[1] > w[0])) return null;
    const at = q.has('at') && isFinite(+q.get('at')) ? +q.get('at') : null;
    return { t0: w[0], t1: w[1], at };
  }

  /* ---------- wiring ---------- */
  function typing(e) {
    return e.target.closest('input, select, textarea, button') && !e.target.matches('input[type=range]');
  }
  function setup(hooks) {
    R.hooks = hooks;
    $('replay-open').addEventListener('click', () => open(true));
    $('replay-close').addEventListener('click', close);
    document.querySelectorAll('[data-preset]').forEach((b) =>
      b.addEventListener('click', () => preset(Number(b.dataset.preset))));
    for (const id of ['replay-from', 'replay-to']) {
      $(id).addEventListener('input', (e) => e.target.classList.toggle('invalid', !!e.target.value && fromInput(e.target.value) == null));
    }
    $('replay-form').addEventListener('submit', (e) => {
      e.preventDefault();
      load(fromInput($('replay-from').value), fromInput($('replay-to').value));
    });
    $('replay-slider').addEventListener('input', (e) => {
      if (R.active) setAt(R.t0 + Number(e.target.value), false);
    });
    $('replay-slider').addEventListener('change', () => { if (R.active) writeUrl(); });
    $('replay-play').addEventListener('click', () => (R.playing ? pause() : play()));
    document.querySelectorAll('#replay-speeds button').forEach((b) =>
      b.addEventListener('click', () => setSpeed(Number(b.dataset.speed))));
    for (const id of ['replay-live', 'replay-live-2']) $(id).addEventListener('click', backToLive);
    document.addEventListener('keydown', (e) => {
      if (R.active && e.code === 'Space' && !typing(e)) { e.preventDefault(); R.playing ? pause() : play(); }
    });
    window.addEventListener('resize', drawActivity);
    setSpeed(1);
    const fromUrl = readUrl();
    if (fromUrl) {
      open(false).then(() => {
        setWindow(fromUrl.t0, fromUrl.t1);
        return load(fromUrl.t0, fromUrl.t1, fromUrl.at);
      }).then((ok) => { if (!ok) writeUrl(); });
    }
  }

  window.skywardenReplay = { state: R, setup, open, load, play, pause, setAt, setSpeed, backToLive, pictureAt };
})();
