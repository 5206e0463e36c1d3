/**
 * The dashboard's static assets: one HTML shell, one stylesheet, one script — no framework, no
 * build step, no third-party requests (CSP `default-src 'self'`). Everything shown is set with
 * `textContent`, never parsed as HTML, so unit names and event attributes cannot inject markup.
 */

export const LOGIN_HTML = (message: string) => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>kiboko — sign in</title>
<meta name="viewport" content="width=device-width,initial-scale=1">
<link rel="stylesheet" href="/dashboard/app.css"></head>
<body class="login"><main>
<h1>kiboko</h1>
<p>Paste the daemon's bearer token (the file <code>serve.token</code> in the state directory).</p>
<form method="post" action="/dashboard/login">
<label>Token <input type="password" name="token" autocomplete="current-password" required autofocus></label>
<button type="submit">Sign in</button>
</form>
${message ? `<p class="error" role="alert" data-testid="login-error">${message}</p>` : ''}
</main></body></html>
`;

export const APP_HTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>kiboko dashboard</title>
<meta name="viewport" content="width=device-width,initial-scale=1">
<link rel="stylesheet" href="/dashboard/app.css"></head>
<body>
<header>
  <h1>kiboko</h1>
  <span id="engine" data-testid="engine-status">engine: …</span>
  <span id="live" data-testid="live-status" class="off">events: connecting</span>
  <form method="post" action="/dashboard/logout"><button type="submit">Sign out</button></form>
</header>
<main>
  <section id="units-section">
    <h2>Units <small id="units-count" data-testid="units-count"></small></h2>
    <table data-testid="units"><thead><tr><th>Unit</th><th>Desired</th><th>Current</th><th>Machine</th></tr></thead><tbody id="units"></tbody></table>
  </section>
  <section id="services-section">
    <h2>Services</h2>
    <table data-testid="services"><thead><tr><th>Project</th><th>Service</th><th>Image</th><th>State</th></tr></thead><tbody id="services"></tbody></table>
  </section>
  <section id="deploys-section">
    <h2>Deploy history</h2>
    <table data-testid="deploys"><thead><tr><th>Revision</th><th>Project</th><th>When</th><th>Trigger</th><th>Outcome</th><th>Plan</th></tr></thead><tbody id="deploys"></tbody></table>
  </section>
  <section id="chaos-section">
    <h2>Chaos experiments</h2>
    <svg id="timeline" data-testid="chaos-timeline" width="100%" height="40" role="img" aria-label="chaos experiments on a timeline"></svg>
    <table data-testid="chaos"><thead><tr><th>Experiment</th><th>Action</th><th>Targets</th><th>Started</th><th>Ended</th><th>Status</th></tr></thead><tbody id="chaos"></tbody></table>
  </section>
  <section id="events-section">
    <h2>Live events</h2>
    <ol id="events" data-testid="events" reversed></ol>
  </section>
</main>
<script src="/dashboard/app.js"></script>
</body></html>
`;

export const APP_CSS = `
*{box-sizing:border-box}body{font:14px/1.4 system-ui,sans-serif;margin:0;color:#1d2327;background:#f6f7f7}
header{display:flex;gap:1.5em;align-items:center;padding:.6em 1.2em;background:#1d2327;color:#fff}
header h1{font-size:1.2em;margin:0}header form{margin-left:auto}
main{padding:1em 1.2em;display:grid;gap:1.2em;grid-template-columns:repeat(auto-fit,minmax(520px,1fr))}
section{background:#fff;border:1px solid #dcdcde;border-radius:6px;padding:.6em 1em;overflow:auto;max-height:60vh}
h2{font-size:1.05em;margin:.2em 0 .6em}table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:.25em .5em;border-bottom:1px solid #eee;vertical-align:top}
.state-launched,.state-running,.state-succeeded,.state-ok{color:#00794a}.state-failed,.state-rolled-back,.state-error{color:#b32d2e}
.state-loaded,.state-inactive,.state-running-chaos{color:#8a6d00}
#events li{font-family:ui-monospace,monospace;font-size:12px;border-bottom:1px dotted #eee}
.off{opacity:.6}.on{color:#7ad03a}details pre{white-space:pre-wrap;font-size:12px;margin:.3em 0}
body.login main{display:block;max-width:28em;margin:4em auto}.error{color:#b32d2e}
svg rect.running{fill:#dba617}svg rect.done{fill:#2271b1}svg rect.failed{fill:#b32d2e}svg text{font-size:10px}
`;

export const APP_JS = `'use strict';
(() => {
  const $ = (id) => document.getElementById(id);
  const api = async (path) => {
    const r = await fetch(path, { credentials: 'same-origin', headers: { accept: 'application/json' } });
    if (r.status === 401) { location.href = '/dashboard'; throw new Error('signed out'); }
    if (!r.ok) throw new Error(path + ': ' + r.status);
    return r.json();
  };
  const cell = (tr, text, cls) => { const td = document.createElement('td'); td.textContent = text == null ? '' : String(text); if (cls) td.className = cls; tr.appendChild(td); return td; };
  const fill = (tbody, rows, render) => {
    const frag = document.createDocumentFragment();
    for (const row of rows) { const tr = document.createElement('tr'); render(tr, row); frag.appendChild(tr); }
    tbody.replaceChildren(frag);
  };
  const when = (t) => (t ? new Date(t).toLocaleString() : '');
  const list = (x, ...keys) => { for (const k of keys) if (x && Array.isArray(x[k])) return x[k]; return Array.isArray(x) ? x : []; };

  async function units() {
    const all = [];
    let token = '';
    do {
      const page = await api('/fleet/v1/units' + (token ? '?nextPageToken=' + encodeURIComponent(token) : ''));
      all.push(...(page.units || []));
      token = page.nextPageToken || '';
    } while (token && all.length < 5000);
    all.sort((a, b) => a.name.localeCompare(b.name));
    $('units-count').textContent = '(' + all.length + ')';
    fill($('units'), all, (tr, u) => {
      tr.dataset.unit = u.name;
      cell(tr, u.name); cell(tr, u.desiredState, 'state-' + u.desiredState); cell(tr, u.currentState, 'state-' + u.currentState); cell(tr, u.machineID);
    });
  }

  async function services() {
    const body = await api('/v1/projects');
    const rows = [];
    for (const p of list(body, 'projects')) {
      const svcs = list(p, 'services');
      if (!svcs.length) rows.push({ project: p.name || p.project, service: '', image: '', state: p.status || '' });
      for (const s of svcs) rows.push({ project: p.name || p.project, service: s.name || s.service, image: s.image || '', state: s.state || s.status || (s.running != null ? s.running + '/' + (s.replicas ?? s.running) + ' running' : '') });
    }
    fill($('services'), rows, (tr, r) => { tr.dataset.service = r.project + '/' + r.service; cell(tr, r.project); cell(tr, r.service); cell(tr, r.image); cell(tr, r.state, 'state-' + String(r.state).split(' ')[0]); });
  }

  async function deploys() {
    const body = await api('/v1/deploys?limit=50');
    const rows = list(body, 'deploys', 'revisions', 'history');
    fill($('deploys'), rows, (tr, d) => {
      tr.dataset.revision = String(d.revision ?? d.id ?? '');
      cell(tr, d.revision ?? d.id); cell(tr, d.project); cell(tr, when(d.time || d.createdAt || d.startedAt || d.finishedAt));
      cell(tr, d.trigger || d.cause || d.source || '');
      const outcome = d.outcome || d.status || '';
      cell(tr, outcome, 'state-' + outcome);
      const td = cell(tr, '');
      const plan = d.plan || d.changes;
      if (plan) {
        const det = document.createElement('details'); const sum = document.createElement('summary');
        const changes = Array.isArray(plan) ? plan : list(plan, 'changes', 'actions', 'services');
        sum.textContent = changes.length ? changes.length + ' change(s)' : 'plan';
        const pre = document.createElement('pre'); pre.textContent = JSON.stringify(plan, null, 1);
        det.append(sum, pre); td.appendChild(det);
      }
    });
  }

  async function chaos() {
    const body = await api('/v1/chaos/experiments');
    const rows = list(body, 'experiments');
    fill($('chaos'), rows, (tr, x) => {
      tr.dataset.experiment = String(x.id);
      cell(tr, x.id); cell(tr, x.action || (x.spec && x.spec.action) || ''); cell(tr, (x.targets || []).map((t) => (typeof t === 'string' ? t : t.name)).join(', '));
      cell(tr, when(x.startedAt)); cell(tr, when(x.endedAt || x.stoppedAt)); cell(tr, x.status || x.state, 'state-' + (x.status || x.state));
    });
    timeline(rows);
  }

  function timeline(rows) {
    const svg = $('timeline');
    const ns = 'http://www.w3.org/2000/svg';
    const now = Date.now();
    const spans = rows.map((x) => ({ x, a: Date.parse(x.startedAt), b: Date.parse(x.endedAt || x.stoppedAt || '') || now })).filter((s) => !Number.isNaN(s.a));
    svg.replaceChildren();
    if (!spans.length) return;
    const lo = Math.min(...spans.map((s) => s.a)), hi = Math.max(now, ...spans.map((s) => s.b));
    const W = svg.clientWidth || 600, rowH = 14;
    svg.setAttribute('height', String(Math.max(40, spans.length * (rowH + 4) + 8)));
    spans.forEach((s, i) => {
      const r = document.createElementNS(ns, 'rect');
      const x0 = ((s.a - lo) / Math.max(1, hi - lo)) * (W - 10);
      r.setAttribute('x', String(x0)); r.setAttribute('y', String(4 + i * (rowH + 4)));
      r.setAttribute('width', String(Math.max(3, ((s.b - s.a) / Math.max(1, hi - lo)) * (W - 10)))); r.setAttribute('height', String(rowH));
      const st = String(s.x.status || s.x.state || '');
      r.setAttribute('class', st === 'running' ? 'running' : st === 'failed' ? 'failed' : 'done');
      r.dataset.experiment = String(s.x.id);
      const title = document.createElementNS(ns, 'title'); title.textContent = (s.x.action || '') + ' ' + st; r.appendChild(title);
      svg.appendChild(r);
    });
  }

  async function health() {
    try { const h = await (await fetch('/healthz')).json(); $('engine').textContent = 'engine: ' + ((h.engine && h.engine.status) || h.status); } catch { $('engine').textContent = 'engine: unknown'; }
  }

  const sections = { units, services, deploys, chaos };
  async function refresh(which) {
    await Promise.all((which || Object.keys(sections)).map(async (k) => {
      try { await sections[k](); document.getElementById(k + '-section').classList.remove('off'); }
      catch (e) { document.getElementById(k + '-section').classList.add('off'); }
    }));
    document.body.dataset.loaded = String(Number(document.body.dataset.loaded || 0) + 1);
  }

  function addEvent(type, data, id) {
    const li = document.createElement('li');
    const d = data || {};
    const what = d.name || (d.attributes && d.attributes.name) || d.unit || d.project || d.id || '';
    li.textContent = new Date().toLocaleTimeString() + '  ' + type + '  ' + (typeof what === 'string' ? what : JSON.stringify(what));
    li.dataset.type = type; if (id) li.dataset.id = id;
    const ol = $('events'); ol.prepend(li);
    while (ol.children.length > 200) ol.lastChild.remove();
  }

  // Server-Sent Events over fetch (EventSource cannot send credentials headers; this reads the
  // same text/event-stream and reconnects with Last-Event-ID).
  let lastId = '';
  async function live() {
    for (;;) {
      try {
        const r = await fetch('/v1/events', { credentials: 'same-origin', headers: Object.assign({ accept: 'text/event-stream' }, lastId ? { 'last-event-id': lastId } : {}) });
        if (r.status === 401) { location.href = '/dashboard'; return; }
        if (!r.ok || !r.body) throw new Error('events ' + r.status);
        $('live').textContent = 'events: live'; $('live').className = 'on';
        const reader = r.body.getReader(); const dec = new TextDecoder(); let buf = '';
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buf += dec.decode(value, { stream: true });
          let at;
          while ((at = buf.indexOf('\\n\\n')) >= 0) {
            const block = buf.slice(0, at); buf = buf.slice(at + 2);
            let type = 'message', data = '', id = '';
            for (const line of block.split('\\n')) {
              if (line.startsWith('event:')) type = line.slice(6).trim();
              else if (line.startsWith('data:')) data += line.slice(5).trim();
              else if (line.startsWith('id:')) id = line.slice(3).trim();
            }
            if (!data) continue;
            if (id) lastId = id;
            let parsed; try { parsed = JSON.parse(data); } catch { parsed = { text: data }; }
            const t = type !== 'message' ? type : parsed.type || 'message';
            addEvent(t, parsed.data || parsed, id);
            if (/^(deploy|unit|chaos)/.test(t) || /container/.test(t)) scheduleRefresh();
          }
        }
      } catch (e) { /* reconnect below */ }
      $('live').textContent = 'events: reconnecting'; $('live').className = 'off';
      await new Promise((r) => setTimeout(r, 2000));
    }
  }
  let pending;
  function scheduleRefresh() { clearTimeout(pending); pending = setTimeout(() => refresh(), 300); }

  health(); refresh(); live();
  setInterval(() => { health(); refresh(); }, 5000);
})();
`;
