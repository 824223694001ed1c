/* skywarden map page: side panels (filters in the URL, alerts, sensors), sound and formatting.
 * No framework, no network but this server's /api/v1. map.js draws the map and owns the feed. */
(function () {
  'use strict';

  const CLASSES = ['drone', 'aircraft', 'bird', 'unknown', 'clutter'];
  const CLASS_COLOURS = {
    drone: '#ff5a5f', aircraft: '#4da3ff', bird: '#5fd35f', unknown: '#f5b942', clutter: '#8c98a6',
  };
  const STATE_ORDER = { active: 0, acknowledged: 1, rejected: 2, ignored: 3, cleared: 4 };
  const $ = (id) => document.getElementById(id);

  /* ---------- formatting ---------- */
  const fmt = {
    int: (v) => (v == null ? '–' : Math.round(v).toLocaleString('en-US')),
    num: (v, d) => (v == null ? '–' : Number(v).toFixed(d)),
    utc: (t) => (t == null ? '–' : new Date(t * 1000).toISOString().substring(11, 19)),
    mmss(s) {
      if (s == null || !isFinite(s)) return '--:--';
      s = Math.max(0, Math.round(s));
      const m = Math.floor(s / 60);
      return (m < 10 ? '0' : '') + m + ':' + String(s % 60).padStart(2, '0');
    },
    duration(s) {
      if (s == null) return '–';
      s = Math.round(s);
      const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60);
      return h ? `${h}h${String(m).padStart(2, '0')}m` : `${m}m${String(s % 60).padStart(2, '0')}s`;
    },
    latlon(lat, lon) {
      return `${Math.abs(lat).toFixed(5)}${lat >= 0 ? 'N' : 'S'} ${Math.abs(lon).toFixed(5)}${lon >= 0 ? 'E' : 'W'}`;
    },
  };
  function esc(text) {
    return String(text).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));
  }
  function trackName(t) {
    return t.callsign || (t.identity ? t.identity : `T${t.id}`);
  }

  /* ---------- why a track has its class (/api/v1/tracks/{id}/classification) ---------- */
  /* feature name -> [short label, unit, scale from SI]; names not listed are shown raw */
  const PCT = ['%', 100], DEG_S = ['°/s', 180 / Math.PI], MS = ['m/s', 1], M = ['m', 1], MS2 = ['m/s²', 1];
  const FEATURE_LABELS = {
    span_s: ['history', 's', 1], hit_fraction: ['detection rate', ...PCT],
    speed_mean: ['mean speed', ...MS], speed_std: ['speed variation', ...MS],
    speed_max: ['top speed', ...MS], speed_last: ['speed now', ...MS],
    height_mean: ['mean height', ...M], height_std: ['height variation', ...M],
    vz_mean: ['mean climb', ...MS], vz_std: ['climb variation', ...MS],
    accel_h_mean: ['mean accel.', ...MS2], accel_h_max: ['peak accel.', ...MS2],
    accel_v_mean: ['vertical accel.', ...MS2], turn_rate_abs_mean: ['turn rate', ...DEG_S],
    turn_rate_net: ['steady turn', ...DEG_S], turn_rate_std: ['turn variation', ...DEG_S],
    straightness: ['straightness', ...PCT], hover_fraction: ['hovering', ...PCT],
    speed_mean_short: ['recent speed', ...MS], accel_h_mean_short: ['recent accel.', ...MS2],
    turn_rate_abs_short: ['recent turn rate', ...DEG_S], net_speed: ['net speed', ...MS],
    spread_major_m: ['spread along path', ...M], spread_minor_m: ['wander off line', ...M],
    position_sigma_m: ['position noise', ...M],
    rcs_mean_dbsm: ['radar cross-section', 'dBsm', 1], rcs_std_db: ['RCS fluctuation', 'dB', 1],
  };
  function shortNumber(v) {
    const a = Math.abs(v);
    return v.toFixed(a >= 100 ? 0 : a >= 10 ? 1 : 2);
  }
  /* one reason {name, value, contribution} as [label, 'value unit, +contribution'] (plain text) */
  function featureReason(r) {
    const [label, unit, scale] = FEATURE_LABELS[r.name] || [r.name, '', 1];
    const v = r.value == null ? null : r.value * scale;
    const value = v == null ? '–' : unit === '%' ? `${Math.round(v)}%` : shortNumber(v) + (unit ? ' ' + unit : '');
    const c = Number(r.contribution);
    return [label, `${value}, ${c >= 0 ? '+' : '−'}${Math.abs(c).toFixed(2)}`];
  }
  /* the "Why: ..." line of a classification answer, as escaped HTML */
  function whyHtml(why) {
    const items = (why.top_features || []).map((r) => {
      const [label, detail] = featureReason(r);
      return `<span class="reason" title="${esc(r.name)} (contribution in logit units)">${esc(label)} (${esc(detail)})</span>`;
    });
    return `<b>Why:</b> ${items.length ? items.join(', ') : '–'}`;
  }

  /* ---------- filters, encoded in the URL query string ---------- */
  function readFilters() {
    const q = new URLSearchParams(location.search);
    const num = (k) => (q.has(k) && q.get(k) !== '' && isFinite(+q.get(k)) ? +q.get(k) : null);
    const classes = q.has('classes')
      ? q.get('classes').split(',').filter((c) => CLASSES.includes(c)) : CLASSES.slice();
    return {
      classes: new Set(classes), minAlt: num('min_alt'), maxAlt: num('max_alt'),
      trails: q.get('trails') !== '0', predicted: q.get('predicted') !== '0', labels: q.get('labels') !== '0',
    };
  }
  function writeFilters(f) {
    const q = new URLSearchParams(location.search);
    const set = (k, v, dflt) => (v === dflt || v == null ? q.delete(k) : q.set(k, v));
    set('classes', f.classes.size === CLASSES.length ? null : CLASSES.filter((c) => f.classes.has(c)).join(','));
    set('min_alt', f.minAlt, null);
    set('max_alt', f.maxAlt, null);
    set('trails', f.trails ? null : '0');
    set('predicted', f.predicted ? null : '0');
    set('labels', f.labels ? null : '0');
    const s = q.toString();
    history.replaceState(null, '', location.pathname + (s ? '?' + s.replace(/%2C/g, ',') : ''));
  }
  function passes(f, t) {
    if (!f.classes.has(t.class)) return false;
    if (f.minAlt != null && !(t.alt_m >= f.minAlt)) return false;
    if (f.maxAlt != null && !(t.alt_m <= f.maxAlt)) return false;
    return true;
  }
  function buildFilterPanel(f, onChange) {
    const box = $('class-filters');
    for (const c of CLASSES) {
      const chip = document.createElement('label');
      chip.className = 'chip' + (f.classes.has(c) ? '' : ' off');
      chip.dataset.cls = c;
      chip.innerHTML = `<input type="checkbox" ${f.classes.has(c) ? 'checked' : ''}>` +
        `<span class="dot" style="background:${CLASS_COLOURS[c]}"></span>${c}<span class="n">0</span>`;
      chip.querySelector('input').addEventListener('change', (e) => {
        if (e.target.checked) f.classes.add(c); else f.classes.delete(c);
        chip.classList.toggle('off', !e.target.checked);
        onChange();
      });
      box.appendChild(chip);
    }
    const alt = (id, key) => {
      const el = $(id);
      el.value = f[key] == null ? '' : f[key];
      el.addEventListener('input', () => {
        const ok = el.value === '' || isFinite(+el.value);
        el.classList.toggle('invalid', !ok);
        if (ok) { f[key] = el.value === '' ? null : +el.value; onChange(); }
      });
    };
    alt('min-alt', 'minAlt');
    alt('max-alt', 'maxAlt');
    for (const [id, key] of [['show-trails', 'trails'], ['show-predicted', 'predicted'], ['show-labels', 'labels']]) {
      const el = $(id);
      el.checked = f[key];
      el.addEventListener('change', () => { f[key] = el.checked; onChange(); });
    }
  }
  function updateClassCounts(tracks) {
    const n = {};
    for (const t of tracks) n[t.class] = (n[t.class] || 0) + 1;
    document.querySelectorAll('#class-filters .chip').forEach((chip) => {
      chip.querySelector('.n').textContent = n[chip.dataset.cls] || 0;
    });
  }

  /* ---------- sound: a short two-tone beep through WebAudio ---------- */
  const sound = { ctx: null, on: localStorage.getItem('skywarden.sound') !== 'off', beeps: 0 };
  function unlockAudio() {
    try {
      if (!sound.ctx) sound.ctx = new (window.AudioContext || window.webkitAudioContext)();
      if (sound.ctx.state === 'suspended') sound.ctx.resume();
    } catch (e) { sound.ctx = null; }
  }
  function beep() {
    sound.beeps += 1;
    if (!sound.on) return;
    unlockAudio();
    if (!sound.ctx) return;
    const t0 = sound.ctx.currentTime;
    [[880, 0], [660, 0.18]].forEach(([f, dt]) => {
      const osc = sound.ctx.createOscillator(), gain = sound.ctx.createGain();
      osc.type = 'square';
      osc.frequency.value = f;
      gain.gain.setValueAtTime(0.0001, t0 + dt);
      gain.gain.exponentialRampToValueAtTime(0.12, t0 + dt + 0.01);
      gain.gain.exponentialRampToValueAtTime(0.0001, t0 + dt + 0.16);
      osc.connect(gain).connect(sound.ctx.destination);
      osc.start(t0 + dt);
      osc.stop(t0 + dt + 0.17);
    });
  }
  function setupSoundButton() {
    const b = $('sound');
    const speaker = '<svg viewBox="0 0 24 24" width="16" height="16" fill="none" stroke="currentColor" stroke-width="2"' +
      ' stroke-linecap="round" stroke-linejoin="round"><path d="M4 9h4l5-4v14l-5-4H4z" fill="currentColor"/>';
    const show = () => {
      b.setAttribute('aria-pressed', String(sound.on));
      b.innerHTML = speaker + (sound.on ? '<path d="M16.5 8.5a5 5 0 0 1 0 7M19 6a8.5 8.5 0 0 1 0 12"/></svg>'
        : '<path d="M17 9l5 6M22 9l-5 6"/></svg>');
    };
    b.addEventListener('click', () => {
      sound.on = !sound.on;
      localStorage.setItem('skywarden.sound', sound.on ? 'on' : 'off');
      if (sound.on) unlockAudio();
      show();
    });
    document.addEventListener('pointerdown', unlockAudio, { once: true });
    show();
  }

  /* ---------- toast ---------- */
  let toastTimer = null;
  function toast(text, ok) {
    const el = $('toast');
    el.textContent = text;
    el.className = 'toast' + (ok ? ' ok' : '');
    el.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => { el.hidden = true; }, 4000);
  }

  /* ---------- alerts panel: keyed cards, countdown ticking locally ---------- */
  const alertsUI = { cards: new Map(), known: new Set(), receivedAt: 0, zones: {}, onSelect: null };
  function alertOrder(a, b) {
    return (STATE_ORDER[a.state] ?? 9) - (STATE_ORDER[b.state] ?? 9) || a.priority - b.priority ||
      (a.time_to_entry_s ?? Infinity) - (b.time_to_entry_s ?? Infinity) || a.id - b.id;
  }
  function operatorName() {
    const el = $('operator');
    const who = el.value.trim();
    el.classList.toggle('invalid', !who);
    if (!who) { el.focus(); toast('Enter your operator name first'); }
    return who;
  }
  async function act(alert, action, button) {
    const signedIn = window.skyAuth && window.skyAuth.user(); // the server takes the name from the token
    const who = signedIn || operatorName();
    if (!who) return;
    button.disabled = true;
    try {
      const r = await fetch(`/api/v1/alerts/${alert.id}/${action}`, {
        method: 'POST', headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(signedIn ? { note: '' } : { who, note: '' }),
      });
      const body = await r.json().catch(() => ({}));
      if (!r.ok) throw new Error(typeof body.detail === 'string' ? body.detail : `HTTP ${r.status}`);
      toast(`Alert ${alert.id} ${body.state} by ${who}`, true);
      renderAlertCard(body);
    } catch (e) {
      toast(`Could not ${action} alert ${alert.id}: ${e.message}`);
    } finally {
      button.disabled = false;
    }
  }
  function makeCard(a) {
    const li = document.createElement('li');
    li.dataset.id = a.id;
    li.innerHTML = `<div class="top"><span class="prio"></span><span class="state"></span>
      <div><div class="tte"></div><div class="tte-label"></div></div></div>
      <div class="zone"></div><div class="what"></div>
      <div class="actions"><button class="btn primary ack">Acknowledge</button>
      <button class="btn reject">Reject</button><button class="btn ignore">Ignore</button></div>
      <div class="who"></div>`;
    for (const [cls, action] of [['ack', 'acknowledge'], ['reject', 'reject'], ['ignore', 'ignore']]) {
      const b = li.querySelector('.' + cls);
      b.addEventListener('click', (e) => { e.stopPropagation(); act(li._alert, action, b); });
    }
    li.addEventListener('click', () => alertsUI.onSelect && alertsUI.onSelect(li._alert));
    return li;
  }
  function renderAlertCard(a) {
    let li = alertsUI.cards.get(a.id);
    if (!li) { li = makeCard(a); alertsUI.cards.set(a.id, li); }
    li._alert = a;
    li.className = `alert p${Math.min(a.priority, 2)} state-${a.state}` + (li.classList.contains('fresh') ? ' fresh' : '');
    li.querySelector('.prio').textContent = 'P' + a.priority;
    li.querySelector('.state').textContent = a.state;
    const zone = alertsUI.zones[a.zone_id];
    li.querySelector('.zone').textContent = zone ? zone : a.zone_id;
    li.querySelector('.what').innerHTML = `Track <b>${a.track_id}</b> · ${esc(a.target_class)} · ${esc(a.object)}<br>` +
      `<span class="prob">p now <b>${a.probability == null ? '–' : fmt.num(100 * a.probability, 0) + '%'}</b></span>` +
      ` · alt ${fmt.int(a.alt_m)} m · raised ${fmt.utc(a.t_raised)}Z <span class="age"></span>` +
      (a.summary ? `<div class="decision">${esc(a.summary)}</div>` : '');
    li.querySelector('.actions').hidden = a.state !== 'active';
    li.querySelector('.who').textContent = a.state === 'active' ? '' : `${a.state} at ${fmt.utc(a.t_state)}Z`;
    tickAlert(li);
    return li;
  }
  /* the picture's time now (the last snapshot's time plus what passed since it came) */
  function pictureNow() {
    const snap = window.skywarden && window.skywarden.snapshot;
    return snap ? snap.t + (performance.now() - alertsUI.receivedAt) / 1000 : null;
  }
  function ago(s) {
    if (s == null || !isFinite(s)) return '';
    s = Math.max(0, Math.round(s));
    return s < 60 ? `${s} s ago` : s < 3600 ? `${Math.floor(s / 60)} min ${s % 60} s ago` : `${fmt.duration(s)} ago`;
  }
  function tickAlert(li) {
    const a = li._alert;
    const el = li.querySelector('.tte'), label = li.querySelector('.tte-label');
    const now = pictureNow();
    li.querySelector('.age').textContent = now == null ? '' : `(${ago(now - a.t_raised)})`;
    if (a.inside) { el.textContent = 'INSIDE'; el.className = 'tte inside'; label.textContent = ''; return; }
    if (a.time_to_entry_s == null) { /* no entry forecast now: the object turned away or is lost */
      el.textContent = 'NO ENTRY'; el.className = 'tte none'; label.textContent = 'forecast now'; return;
    }
    const left = a.time_to_entry_s - (performance.now() - alertsUI.receivedAt) / 1000;
    el.className = 'tte';
    el.textContent = fmt.mmss(left);
    label.textContent = 'to entry';
  }
  function renderAlerts(alerts, zones) {
    alertsUI.receivedAt = performance.now();
    alertsUI.zones = zones;
    const list = $('alerts');
    const sorted = alerts.slice().sort(alertOrder);
    const seen = new Set();
    let fresh = false;
    sorted.forEach((a, i) => {
      seen.add(a.id);
      const li = renderAlertCard(a);
      if (!alertsUI.known.has(a.id) && a.state === 'active') {
        fresh = true;
        li.classList.add('fresh');
        setTimeout(() => li.classList.remove('fresh'), 3200);
      }
      alertsUI.known.add(a.id);
      if (list.children[i] !== li) list.insertBefore(li, list.children[i] || null);
    });
    for (const [id, li] of alertsUI.cards) {
      if (!seen.has(id)) { li.remove(); alertsUI.cards.delete(id); }
    }
    if (fresh) beep();
    const active = alerts.filter((a) => a.state === 'active').length;
    $('alert-count').textContent = active;
    $('alert-count').classList.toggle('hot', active > 0);
    $('stat-alerts').textContent = active;
    $('stat-alerts').classList.toggle('alerting', active > 0);
    $('no-alerts').hidden = alerts.length > 0;
  }
  setInterval(() => alertsUI.cards.forEach(tickAlert), 250);

  /* ---------- sensors panel: live sensor list + polled /api/v1/health ---------- */
  const healthUI = { prev: null, rates: {}, sensors: [] };
  /* a sensor's counts: what /api/v1/health says about its source (messages, records, rejects),
   * else what the snapshot's sensor list says */
  function sensorCounts(s) {
    const h = window.skywarden && window.skywarden.health;
    const src = h && h.sources ? h.sources[s.name] : null;
    if (!src) return { messages: s.messages, records: null, rejects: s.rejects || {} };
    return { messages: src.messages, records: src.records, rejects: src.rejects || s.rejects || {} };
  }
  function renderSensors(sensors) {
    const ul = $('sensors');
    healthUI.sensors = sensors;
    ul.innerHTML = '';
    for (const s of sensors) {
      const c = sensorCounts(s);
      const rejects = Object.values(c.rejects).reduce((x, y) => x + y, 0);
      const rate = healthUI.rates[s.name];
      const li = document.createElement('li');
      li.className = 'sensor' + (s.connected ? ' up' : '');
      li.dataset.name = s.name;
      li.dataset.messages = c.messages ?? 0;
      li.innerHTML = `<span class="led" title="${s.connected ? 'connected' : 'disconnected'}"></span>` +
        `<span class="sname">${esc(s.name)}</span><span class="kind">${esc(s.kind)}</span>` +
        `<span class="detail"><span class="msgs">${fmt.int(c.messages)} msgs</span>` +
        `${c.records != null ? ` · ${fmt.int(c.records)} rec` : ''}${rate != null ? ` · ${fmt.num(rate, 1)}/s` : ''}` +
        `${rejects ? ` · <span class="rej" title="${esc(JSON.stringify(c.rejects))}">${fmt.int(rejects)} rejected</span>` : ''}` +
        `${s.connected ? '' : ' · <span class="rej">offline</span>'}</span>`;
      ul.appendChild(li);
    }
  }
  async function pollHealth() {
    try {
      const r = await fetch('/api/v1/health');
      if (!r.ok) throw new Error('HTTP ' + r.status);
      const h = await r.json();
      const now = performance.now();
      if (healthUI.prev) {
        const dt = (now - healthUI.prev.at) / 1000;
        for (const [name, src] of Object.entries(h.sources || {})) {
          const before = healthUI.prev.h.sources && healthUI.prev.h.sources[name];
          const key = src.records != null && before && before.records != null ? 'records' : 'messages';
          if (before && dt > 0) healthUI.rates[name] = Math.max(0, (src[key] - before[key]) / dt);
        }
      }
      healthUI.prev = { at: now, h };
      const lat = h.tick_latency_ms || {};
      $('system-health').innerHTML = `tick p50 <b class="num">${fmt.num(lat.p50, 1)}</b> ms · p99 <b class="num">${fmt.num(lat.p99, 1)}</b> ms` +
        ` · queue <b class="num">${fmt.int(h.queue_depth)}</b><br>up ${fmt.duration(h.uptime_s)} · ${h.live ? h.live.clients : 0} live client(s)`;
      window.skywarden.health = h;
      renderSensors(healthUI.sensors);
    } catch (e) {
      $('system-health').textContent = 'health unavailable: ' + e.message;
    }
  }

  function setupOperator() {
    const el = $('operator');
    el.value = localStorage.getItem('skywarden.operator') || '';
    el.addEventListener('input', () => {
      localStorage.setItem('skywarden.operator', el.value.trim());
      el.classList.remove('invalid');
    });
  }

  window.skywardenUI = {
    CLASSES, CLASS_COLOURS, fmt, esc, trackName, readFilters, writeFilters, passes, buildFilterPanel,
    updateClassCounts, renderAlerts, renderSensors, pollHealth, setupSoundButton, setupOperator, toast,
    alertsUI, sound, FEATURE_LABELS, featureReason, whyHtml,
  };
})();
