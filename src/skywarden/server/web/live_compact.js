/* The live stream's compact encoding, client side (skywarden.server.live_compact; the
 * reference client is skywarden.server.live_compact_reference, which this mirrors).
 * window.skywardenCompact.client() gives { apply(bytes) -> snapshot document }: bytes is one
 * inflated message (Uint8Array); deltas must be applied in order. Throws on a delta whose
 * base is not the held picture (the caller reconnects: the server starts with a keyframe). */
(function () {
  'use strict';
  const QCOLS = ['lat', 'lon', 'alt', 've', 'vn', 'vu', 'sigma', 't_update',
    'p_drone', 'p_bird', 'p_aircraft', 'p_unknown', 'pred_lat', 'pred_lon', 'pred_alt',
    'status', 'class', 'evidence', 'behaviour', 'identity', 'callsign', 'summary', 'reasons',
    'flags', 'members'];
  const NUMBERS = 15, NCOLS = 1 + QCOLS.length + 3;
  const QUANTUM = [1e-6, 1e-6, 0.1, 0.01, 0.01, 0.01, 0.1, 1e-3, 1e-3, 1e-3, 1e-3, 1e-3, 1e-6, 1e-6, 0.1];
  const CLASS_NAMES = ['unknown', 'drone', 'aircraft', 'bird', 'clutter'];
  const STATUS_NAMES = ['tentative', 'confirmed', 'coasting'];
  const P_KEYS = ['drone', 'bird', 'aircraft', 'unknown'];
  const ON_GROUND_BIT = 4;
  const round = (v, d) => (v == null ? null : Math.round(v * 10 ** d) / 10 ** d);

  /* k columns of n zigzag int32 values in byte planes, from body at offset */
  function columns(body, at, k, n) {
    const out = [];
    for (let c = 0; c < k; c++) {
      const col = new Float64Array(n);
      const b0 = at, b1 = at + n, b2 = at + 2 * n, b3 = at + 3 * n;
      if (b3 + n > body.length) throw new Error('compact message too short');
      for (let i = 0; i < n; i++) {
        const z = (body[b0 + i] | (body[b1 + i] << 8) | (body[b2 + i] << 16) | (body[b3 + i] << 24)) >>> 0;
        col[i] = (z >>> 1) ^ -(z & 1);
      }
      out.push(col);
      at += 4 * n;
    }
    return [out, at];
  }

  function parse(body) {
    if (body.length < 8 || body[0] !== 83 || body[1] !== 87 || body[2] !== 67 || body[3] !== 49) {
      throw new Error('not a compact live message');
    }
    const size = new DataView(body.buffer, body.byteOffset, body.byteLength).getUint32(4, true);
    const header = JSON.parse(new TextDecoder().decode(body.subarray(8, 8 + size)));
    let at = 8 + size, cols, pts;
    [cols, at] = columns(body, at, NCOLS, header.n);
    [pts, at] = columns(body, at, 3, header.m);
    if (at !== body.length) throw new Error('compact message length');
    return [header, cols, pts];
  }

  function client() {
    let seq = null, tracks = new Map(), strings = [], header = null;
    function apply(body) {
      const [h, cols, pts] = parse(body);
      if (h.type === 'key') { tracks = new Map(); strings = []; }
      else if (h.base !== seq) throw new Error(`delta on ${h.base}, but ${seq} is held`);
      if (h.strings_from !== strings.length) throw new Error('string table out of step');
      for (const s of h.strings) strings.push(s);
      const dflt = new Array(QCOLS.length).fill(0);
      dflt[0] = Math.round(h.site.lat / QUANTUM[0]);
      dflt[1] = Math.round(h.site.lon / QUANTUM[1]);
      dflt[7] = Math.round(h.t / QUANTUM[7]);
      const next = new Map();
      let id = 0, p = 0;
      for (let i = 0; i < h.n; i++) {
        id += cols[0][i];
        const old = tracks.get(id), held = old ? old.q : dflt;
        const q = new Array(QCOLS.length);
        for (let k = 0; k < QCOLS.length; k++) q[k] = held[k] + cols[1 + k][i];
        const missing = cols[1 + QCOLS.length][i];
        for (let k = 0; k < NUMBERS; k++) if ((missing >> k) & 1) q[k] = dflt[k];
        const keep = cols[NCOLS - 2][i], add = cols[NCOLS - 1][i];
        const trail = old && keep ? old.trail.slice(old.trail.length - keep) : [];
        let last = trail.length ? trail[trail.length - 1] : [q[0], q[1], q[2]];
        for (let a = 0; a < add; a++, p++) {
          last = [last[0] + pts[0][p], last[1] + pts[1][p], last[2] + pts[2][p]];
          trail.push(last);
        }
        next.set(id, { q, missing, trail });
      }
      tracks = next; seq = h.seq; header = h;
      return picture();
    }
    function point(pt) { return [round(pt[0] * 1e-6, 7), round(pt[1] * 1e-6, 7), round(pt[2] * 0.1, 1)]; }
    function row(id, held) {
      const { q, missing } = held;
      const v = (k) => ((missing >> k) & 1 ? null : q[k] * QUANTUM[k]);
      const text = (name) => strings[q[QCOLS.indexOf(name)]];
      const ve = v(3), vn = v(4), moving = ve != null && vn != null;
      const evidence = q[17], names = header.evidence_bits;
      const p = {};
      P_KEYS.forEach((k, j) => { p[k] = round(v(8 + j), 3); });
      let predicted = [];
      if (header.steps > 0 && !(missing & 0b111) && !((missing >> 12) & 0b111)) {
        for (let k = 1; k <= header.steps; k++) {
          predicted.push(point([0, 1, 2].map((c) => q[c] + Math.floor(q[12 + c] * k / header.steps + 0.5))));
        }
      }
      const r = {
        id, lat: round(v(0), 7), lon: round(v(1), 7), alt_m: round(v(2), 1),
        v_enu: [round(ve, 2), round(vn, 2), round(v(5), 2)],
        speed_mps: moving ? round(Math.hypot(ve, vn), 2) : null,
        course_deg: moving ? round(((Math.atan2(ve, vn) * 180 / Math.PI) % 360 + 360) % 360, 1) : null,
        sigma_m: round(v(6), 1), status: STATUS_NAMES[q[15]], class: CLASS_NAMES[q[16]], p,
        behaviour: text('behaviour') || '', identity: text('identity') || '',
        callsign: text('callsign') || '', t_update: round(v(7), 3),
        trail: held.trail.map(point), predicted,
        flags: text('flags') || [], on_ground: !!((evidence >> ON_GROUND_BIT) & 1),
        evidence: names.filter((_, b) => (evidence >> b) & 1),
        reasons: text('reasons') || [], summary: text('summary') || '',
      };
      if (header.members) r.members = (text('members') || []).map(([site, track_id]) => ({ site, track_id }));
      return r;
    }
    function picture() {
      const ids = [...tracks.keys()].sort((a, b) => a - b);
      return {
        schema: header.schema, seq: header.seq, t: header.t, site: header.site,
        tracks: ids.map((i) => row(i, tracks.get(i))),
        alerts: header.alerts, sensors: header.sensors, health: header.health,
      };
    }
    return { apply, picture, get seq() { return seq; } };
  }
  window.skywardenCompact = { client };
})();
