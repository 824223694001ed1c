/* skywarden map page: sign-in with the service's bearer tokens (`skywarden user add`).
 * Loaded first. Every same-origin /api/ fetch carries `Authorization: Bearer TOKEN`; a 401
 * opens the sign-in form and the request is retried once a token is accepted. The live
 * WebSocket sends the token as its second subprotocol (`skywarden.bearer`, TOKEN), because a
 * browser cannot set headers on a WebSocket. The token lives in sessionStorage (this tab only)
 * and is never put in a URL. Without authentication on the server nothing here shows. */
(() => {
  'use strict';
  const KEY = 'skywarden.token';
  const nativeFetch = window.fetch.bind(window);
  let waiting = null; // one sign-in for every request that got a 401

  const token = () => sessionStorage.getItem(KEY) || '';
  const user = () => (token() ? token().split('.')[0] : '');

  function isApi(input) {
    try {
      const u = new URL(typeof input === 'string' ? input : input.url, location.href);
      return u.origin === location.origin && u.pathname.startsWith('/api/');
    } catch (e) { return false; }
  }

  function withToken(init, value) {
    const opts = Object.assign({}, init || {});
    const headers = new Headers(opts.headers || {});
    if (value) headers.set('Authorization', `Bearer ${value}`);
    opts.headers = headers;
    return opts;
  }

  async function authFetch(input, init) {
    if (!isApi(input)) return nativeFetch(input, init);
    for (;;) {
      const r = await nativeFetch(input, withToken(init, token()));
      if (r.status !== 401) return r;
      const had = token();
      if (had) sessionStorage.removeItem(KEY);
      await signIn(had ? 'That token is no longer accepted. Sign in again.' : 'This service needs you to sign in.');
    }
  }

  function form() {
    let el = document.getElementById('signin');
    if (el) return el;
    el = document.createElement('div');
    el.id = 'signin';
    el.hidden = true;
    el.innerHTML = `
      <form class="signin-card" novalidate>
        <h2>Sign in</h2>
        <p class="signin-msg muted small"></p>
        <label for="signin-token">Token</label>
        <input id="signin-token" type="password" autocomplete="off" spellcheck="false" placeholder="name.secret">
        <p class="signin-err small"></p>
        <button class="btn" type="submit">Sign in</button>
        <p class="muted small">Tokens come from <code>skywarden user add NAME --role ROLE</code>.</p>
      </form>`;
    document.body.appendChild(el);
    return el;
  }

  function signIn(message) {
    if (waiting) return waiting;
    const el = form();
    el.querySelector('.signin-msg').textContent = message || '';
    el.querySelector('.signin-err').textContent = '';
    el.hidden = false;
    const input = el.querySelector('#signin-token');
    input.value = '';
    input.focus();
    waiting = new Promise((done) => {
      el.querySelector('form').onsubmit = async (ev) => {
        ev.preventDefault();
        const candidate = input.value.trim();
        if (!candidate) return;
        const r = await nativeFetch('/api/v1/me', withToken({}, candidate)).catch(() => null);
        if (!r || !r.ok) {
          el.querySelector('.signin-err').textContent = r ? `Not accepted (HTTP ${r.status})` : 'Server unreachable';
          return;
        }
        sessionStorage.setItem(KEY, candidate);
        el.hidden = true;
        waiting = null;
        showUser(await r.json());
        done();
      };
    });
    return waiting;
  }

  function showUser(me) {
    const operator = document.getElementById('operator');
    if (!operator || !me || !me.authenticated) return;
    operator.value = me.name;
    operator.readOnly = true;
    operator.title = `signed in as ${me.name} (${me.role})`;
    const bar = document.getElementById('topbar');
    if (bar && !document.getElementById('signout')) {
      const out = document.createElement('button');
      out.id = 'signout';
      out.className = 'btn';
      out.textContent = `${me.name} (${me.role}) · sign out`;
      out.onclick = signOut;
      bar.appendChild(out);
    }
  }

  function signOut() {
    sessionStorage.removeItem(KEY);
    location.reload();
  }

  window.fetch = authFetch;
  window.skyAuth = {
    token, user, signIn, signOut,
    wsProtocols: () => (token() ? ['skywarden.bearer', token()] : []),
    refresh: async () => {
      const r = await authFetch('/api/v1/me').catch(() => null);
      if (r && r.ok) showUser(await r.json());
    },
  };
})();
