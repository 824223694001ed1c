/* skywarden map page: track label placement without overprinting (pure: screen boxes in, boxes out).
 *
 * layout(items, view) takes the tracks on screen, [{id, x, y, w, h, rank}] (x, y the track's
 * pixel position; w, h its label's size; rank: lower is placed first), and the view {width,
 * height}. Tracks closer than GROUP_PX to each other, in clusters of GROUP_MIN or more (a swarm,
 * a flock), get one group label instead of one each. Every other label tries four places around
 * its track (right above, right below, left above, left below) and takes the first that overlaps
 * no placed label, no track symbol and stays on screen; a label with no free place is hidden
 * (counted). Returns {labels: [{id, x, y}], groups: [{ids, x, y}], hidden: [id]}.
 * placer(S, UI, max) gives the map page its placeLabels(): label elements in #labels for the
 * tracks shown, placed by layout(); S.labels says what was shown, grouped and hidden.
 */
(function () {
  'use strict';

  const GROUP_PX = 26; /* tracks closer than this on screen form a group ... */
  const GROUP_MIN = 3; /* ... of at least this many */
  const ICON_PX = 9; /* half the size of a track symbol */
  const GAP = 3;

  function overlaps(a, b) {
    return a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
  }

  /* clusters of points closer than GROUP_PX (single link), via a grid of GROUP_PX cells */
  function clusters(items) {
    const parent = items.map((_, i) => i);
    const find = (i) => { while (parent[i] !== i) { parent[i] = parent[parent[i]]; i = parent[i]; } return i; };
    const cells = new Map();
    items.forEach((it, i) => {
      const cx = Math.floor(it.x / GROUP_PX), cy = Math.floor(it.y / GROUP_PX);
      for (let dx = -1; dx <= 1; dx++) {
        for (let dy = -1; dy <= 1; dy++) {
          for (const j of cells.get(`${cx + dx},${cy + dy}`) || []) {
            if (Math.hypot(items[j].x - it.x, items[j].y - it.y) < GROUP_PX) parent[find(i)] = find(j);
          }
        }
      }
      const key = `${cx},${cy}`;
      if (!cells.has(key)) cells.set(key, []);
      cells.get(key).push(i);
    });
    const out = new Map();
    items.forEach((_, i) => {
      const r = find(i);
      if (!out.has(r)) out.set(r, []);
      out.get(r).push(i);
    });
    return [...out.values()];
  }

  function layout(items, view, groupSize) {
    const placed = [], labels = [], groups = [], hidden = [];
    const free = (box) => box.x >= 0 && box.y >= 0 && box.x + box.w <= view.width &&
      box.y + box.h <= view.height && !placed.some((p) => overlaps(p, box));
    for (const it of items) placed.push({ x: it.x - ICON_PX, y: it.y - ICON_PX, w: 2 * ICON_PX, h: 2 * ICON_PX });
    const singles = [];
    for (const members of clusters(items)) {
      if (members.length < GROUP_MIN) { members.forEach((i) => singles.push(items[i])); continue; }
      const its = members.map((i) => items[i]);
      const size = groupSize(its);
      const right = Math.max(...its.map((t) => t.x)), top = Math.min(...its.map((t) => t.y));
      const left = Math.min(...its.map((t) => t.x)), bottom = Math.max(...its.map((t) => t.y));
      const spots = [[right + ICON_PX + GAP, top - size.h - GAP], [right + ICON_PX + GAP, bottom + GAP],
        [left - ICON_PX - GAP - size.w, top - size.h - GAP], [left - ICON_PX - GAP - size.w, bottom + GAP]];
      const at = spots.map(([x, y]) => ({ x, y, w: size.w, h: size.h })).find(free) ||
        { x: right + ICON_PX + GAP, y: top - size.h - GAP, w: size.w, h: size.h };
      placed.push(at); /* a group label is always shown: it stands for the whole swarm */
      groups.push({ ids: its.map((t) => t.id), x: at.x, y: at.y });
    }
    singles.sort((a, b) => a.rank - b.rank || a.id - b.id);
    for (const it of singles) {
      const spots = [[it.x + ICON_PX + GAP, it.y - it.h - GAP + ICON_PX / 2], [it.x + ICON_PX + GAP, it.y + GAP],
        [it.x - ICON_PX - GAP - it.w, it.y - it.h - GAP + ICON_PX / 2], [it.x - ICON_PX - GAP - it.w, it.y + GAP]];
      const at = spots.map(([x, y]) => ({ x, y, w: it.w, h: it.h })).find(free);
      if (!at) { hidden.push(it.id); continue; }
      placed.push(at);
      labels.push({ id: it.id, x: at.x, y: at.y });
    }
    return { labels, groups, hidden };
  }

  /* the label boxes of the page's placed labels and groups, for checks (no two overlap) */
  function overlapping(boxes) {
    const out = [];
    for (let i = 0; i < boxes.length; i++) {
      for (let j = i + 1; j < boxes.length; j++) if (overlaps(boxes[i], boxes[j])) out.push([i, j]);
    }
    return out;
  }


  /* the page's label layer: a placeLabels() for the map page's state S (labels in #labels) */
  function placer(S, UI, MAX_LABELS) {
    const $ = (id) => document.getElementById(id);
    const labelEls = new Map(), groupEls = [];
    const RANK = { drone: 1, unknown: 2, aircraft: 3, bird: 4, clutter: 5 };
    function labelEl(key, cls) {
      const el = document.createElement('div');
      el.className = cls;
      $('labels').appendChild(el);
      return el;
    }
    function setHtml(el, html) {
      if (el._html !== html) { el.innerHTML = html; el._html = html; el._size = null; }
      if (!el._size) { /* measured while shown: a hidden element measures 0 x 0 */
        el.style.display = '';
        el._size = { w: el.offsetWidth, h: el.offsetHeight };
      }
      return el._size;
    }
    function groupHtml(ts) {
      const counts = {};
      ts.forEach((t) => { counts[t.class] = (counts[t.class] || 0) + 1; });
      const kinds = Object.entries(counts).sort((a, b) => b[1] - a[1]);
      const what = kinds.length === 1 ? `${ts.length} ${kinds[0][0]}s` :
        `${ts.length} tracks: ${kinds.map(([k, n]) => `${n} ${k}`).join(', ')}`;
      const alts = ts.map((t) => t.alt_m).filter((a) => a != null);
      const band = alts.length ? `${UI.fmt.int(Math.min(...alts))}–${UI.fmt.int(Math.max(...alts))}m` : '';
      return `${kinds.length === 1 && kinds[0][0] === 'drone' ? 'SWARM · ' : 'GROUP · '}${UI.esc(what)}<div class="l2">${band}</div>`;
    }
    function placeLabels() {
      const want = S.filters.labels && S.mapReady ? (S.shownTracks || []).slice(0, MAX_LABELS) : [];
      const alerting = new Set(S.replay.active ? [] : S.alerts.filter((a) => a.state === 'active').map((a) => a.track_id));
      const canvas = S.map ? S.map.getCanvas() : null;
      const view = canvas ? { width: canvas.clientWidth, height: canvas.clientHeight } : { width: 0, height: 0 };
      const byId = new Map(), items = [];
      for (const t of want) {
        byId.set(t.id, t);
        let el = labelEls.get(t.id);
        if (!el) { el = labelEl(t.id, 'tlabel'); labelEls.set(t.id, el); }
        const html = `${UI.esc(UI.trackName(t))}<div class="l2">${t.class.toUpperCase()} ${UI.fmt.int(t.alt_m)}m ${UI.fmt.int(t.speed_mps)}m/s</div>`;
        const size = setHtml(el, html);
        const p = S.map.project([t.lon, t.lat]);
        const rank = t.id === S.selected ? -1 : alerting.has(t.id) ? 0 : RANK[t.class] ?? 6;
        items.push({ id: t.id, x: p.x, y: p.y, w: size.w, h: size.h, rank });
      }
      for (const [id, el] of labelEls) if (!byId.has(id)) { el.remove(); labelEls.delete(id); }
      let k = 0;
      const out = window.skywardenLabels.layout(items, view, (its) => {
        while (groupEls.length <= k) groupEls.push(labelEl('g', 'tlabel group'));
        return setHtml(groupEls[k++], groupHtml(its.map((i) => byId.get(i.id))));
      });
      const shown = new Set(out.labels.map((l) => l.id));
      for (const l of out.labels) {
        const el = labelEls.get(l.id);
        el.style.display = '';
        el.style.transform = `translate(${Math.round(l.x)}px, ${Math.round(l.y)}px)`;
      }
      for (const [id, el] of labelEls) if (!shown.has(id)) el.style.display = 'none';
      groupEls.forEach((el, i) => {
        const g = out.groups[i];
        el.style.display = g ? '' : 'none';
        if (g) {
          el.style.transform = `translate(${Math.round(g.x)}px, ${Math.round(g.y)}px)`;
          el.dataset.ids = g.ids.join(',');
        }
      });
      S.labels = { shown: out.labels.length, groups: out.groups.map((g) => g.ids), hidden: out.hidden };
    }
    return placeLabels;
  }

  window.skywardenLabels = { layout, overlapping, placer, GROUP_PX, GROUP_MIN };
})();
