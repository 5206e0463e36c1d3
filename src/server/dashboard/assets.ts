/**
 * The dashboard's static assets: one HTML shell, one stylesheet, one script — no framework, no
 * build step, no third-party requests (CSP `default-src 'self'`). Everything shown is set with
 * `textContent`, never parsed as HTML, so unit names and event attributes cannot inject markup.
 */

export const LOGIN_HTML = (message: string) => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>kiboko — sign in</title>
<meta name="viewport" content="width=device-width,initial-scale=1">
<link rel="icon" href="data:,">
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
<link rel="icon" href="data:,">
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
    <table data-testid="units"><thead><tr><th>Unit</th><th>Desired</th><th>Current</th><th>Machine</th><th>Note</th></tr></thead><tbody id="units"></tbody></table>
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
    <svg id="timeline" data-testid="chaos-timeline" width="100%" height="0" role="img" aria-label="chaos experiments on a timeline"></svg>
    <p id="chaos-empty" class="empty" hidden>No experiments yet.</p>
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
.state-launched,.state-running,.state-succeeded,.state-ok,.state-finished{color:#00794a}
.state-failed,.state-rolled-back,.state-error,.state-exited,.state-dead,.state-crashed,.state-cancelled,.state-rejected{color:#b32d2e}
.state-loaded,.state-inactive,.state-paused,.state-stopped,.state-queued,.state-not,.state-restarting,.state-created{color:#8a6d00}
.plan ul{margin:.3em 0;padding-left:1.2em}.plan li{font-family:ui-monospace,monospace;font-size:12px}.empty{color:#646970;margin:.2em 0}
#events li{font-family:ui-monospace,monospace;font-size:12px;border-bottom:1px dotted #eee}
.off{opacity:.6}.on{color:#7ad03a}details pre{white-space:pre-wrap;font-size:12px;margin:.3em 0}
body.login main{display:block;max-width:28em;margin:4em auto}.error{color:#b32d2e}
svg rect.running{fill:#dba617}svg rect.done{fill:#2271b1}svg rect.failed{fill:#b32d2e}svg text{font-size:10px;fill:#1d2327}svg text.axis{fill:#646970}svg line.axis{stroke:#dcdcde}
`;

/**
 * The page's script. Sections read the daemon's own API with the session cookie (GET only):
 * `/fleet/v1/units` (all pages), `/v1/projects` (services and their containers by state),
 * `/v1/deploys` (revisions with their plans, plus jobs still queued or running),
 * `/v1/chaos/experiments`; `/v1/events` is read as Server-Sent Events over fetch. Written as
 * plain ES2020 in a string (no build step); keep it free of backticks and `${`.
 */
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
  const stateClass = (s) => 'state-' + String(s || '').split(/[^a-z-]/)[0];

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
      const machine = u.machineID || '';
      cell(tr, u.name); cell(tr, u.desiredState, stateClass(u.desiredState)); cell(tr, u.currentState || '', stateClass(u.currentState));
      cell(tr, machine.length > 8 ? machine.slice(0, 8) + '\\u2026' : machine).title = machine;
      cell(tr, u.message || '');
    });
  }

  // A service's state from its containers by engine status: "running 2/2" when all is well, else
  // the other states first ("paused 1 · running 0/1", "exited 1 · running 0/1", "not running 0/1").
  function serviceState(s) {
    const counts = s.containers || {};
    const running = Number(s.running || 0), replicas = Number(s.replicas ?? running);
    const others = Object.keys(counts).filter((k) => k !== 'running' && counts[k] > 0).sort().map((k) => k + ' ' + counts[k]);
    const main = 'running ' + running + '/' + replicas;
    if (others.length) return others.join(' \\u00b7 ') + ' \\u00b7 ' + main;
    return running === 0 && replicas > 0 ? 'not ' + main : main;
  }

  async function services() {
    const body = await api('/v1/projects');
    const rows = [];
    for (const p of body.projects || []) {
      if (p.error) rows.push({ project: p.name, service: '', image: '', state: 'error: ' + p.error.message });
      for (const s of p.services || []) rows.push({ project: p.name, service: s.name, image: s.image || '', state: serviceState(s) });
    }
    fill($('services'), rows, (tr, r) => { tr.dataset.service = r.project + '/' + r.service; cell(tr, r.project); cell(tr, r.service); cell(tr, r.image); cell(tr, r.state, stateClass(r.state)); });
  }

  function planDetails(plan, result, open) {
    const steps = (plan && Array.isArray(plan.steps)) ? plan.steps : [];
    const changed = steps.filter((s) => s.action !== 'unchanged').length;
    const det = document.createElement('details');
    det.open = open;
    const sum = document.createElement('summary');
    sum.textContent = changed === 0 ? 'no changes' : changed === 1 ? '1 change' : changed + ' changes';
    const box = document.createElement('div'); box.className = 'plan';
    const ul = document.createElement('ul');
    for (const s of steps) {
      const li = document.createElement('li');
      li.textContent = s.service + ': ' + s.action + (s.causes && s.causes.length ? ' \\u2014 ' + s.causes.join('; ') : '');
      ul.appendChild(li);
    }
    box.appendChild(ul);
    for (const r of (result && Array.isArray(result.services)) ? result.services : []) {
      if (!r.error && (r.outcome === 'ok' || r.outcome === 'unchanged')) continue;
      const p = document.createElement('p'); p.className = 'error';
      p.textContent = r.service + ': ' + (r.outcome || '') + (r.error ? ' \\u2014 ' + r.error : '');
      box.appendChild(p);
    }
    det.append(sum, box);
    return det;
  }

  async function deploys() {
    const body = await api('/v1/deploys?limit=50');
    // Plans the user expanded stay expanded across refreshes (the page is the record of which).
    const open = new Set([...$('deploys').querySelectorAll('tr')].filter((tr) => { const d = tr.querySelector('details'); return d && d.open; }).map((tr) => tr.dataset.revision));
    const revisions = body.deploys || [];
    const seen = new Set(revisions.map((d) => d.id));
    // Jobs still queued or running that have no revision yet come first.
    const jobs = (body.jobs || []).filter((j) => j.revision == null || !seen.has(j.project + '@' + j.revision)).map((j) => ({ id: j.id, job: true, project: j.project, revision: j.revision, createdAt: j.createdAt, trigger: j.trigger, outcome: j.status, plan: j.plan }));
    fill($('deploys'), jobs.concat(revisions), (tr, d) => {
      tr.dataset.revision = String(d.id);
      cell(tr, d.revision ?? ''); cell(tr, d.project); cell(tr, when(d.createdAt));
      cell(tr, d.trigger || '').title = d.source || '';
      cell(tr, d.outcome || '', stateClass(d.outcome));
      const td = cell(tr, '');
      if (d.plan) td.appendChild(planDetails(d.plan, d.result, open.has(String(d.id))));
    });
  }

  async function chaos() {
    const body = await api('/v1/chaos/experiments');
    const rows = body.experiments || [];
    fill($('chaos'), rows, (tr, x) => {
      tr.dataset.experiment = String(x.id);
      cell(tr, x.id); cell(tr, x.action); cell(tr, (x.targets || []).concat((x.labels || []).map((l) => 'label ' + l)).join(', '));
      cell(tr, when(x.startedAt)); cell(tr, when(x.endedAt)); cell(tr, x.status, stateClass(x.status)).title = x.error ? x.error.message : '';
    });
    $('chaos-empty').hidden = rows.length > 0;
    timeline(rows);
  }

  // One bar per experiment from its start to its end (or now), newest on top, on a shared time axis.
  function timeline(rows) {
    const svg = $('timeline');
    const ns = 'http://www.w3.org/2000/svg';
    const el = (name, attrs, text) => { const e = document.createElementNS(ns, name); for (const k in attrs) e.setAttribute(k, String(attrs[k])); if (text != null) e.textContent = text; return e; };
    const now = Date.now();
    const spans = rows.map((x) => ({ x, a: Date.parse(x.startedAt), b: Date.parse(x.endedAt || '') || now })).filter((s) => !Number.isNaN(s.a));
    svg.replaceChildren();
    if (!spans.length) { svg.setAttribute('height', '0'); return; }
    const lo = Math.min(...spans.map((s) => s.a)), hi = Math.max(now, ...spans.map((s) => s.b));
    const W = Math.max(300, svg.clientWidth || 600), rowH = 14, gap = 4, axisH = 16, labelW = 150;
    const span = Math.max(1, hi - lo), plotW = W - labelW - 10;
    svg.setAttribute('height', String(spans.length * (rowH + gap) + gap + axisH));
    spans.forEach((s, i) => {
      const st = String(s.x.status || '');
      const y = gap + i * (rowH + gap);
      const x0 = ((s.a - lo) / span) * plotW, w = Math.max(3, ((s.b - s.a) / span) * plotW);
      const r = el('rect', { x: x0, y, width: w, height: rowH, class: st === 'running' ? 'running' : st === 'failed' ? 'failed' : 'done', 'data-experiment': s.x.id, 'data-status': st });
      r.appendChild(el('title', {}, s.x.action + ' ' + st + ' \\u2014 ' + s.x.id + ' \\u2014 ' + when(s.x.startedAt) + (s.x.endedAt ? ' \\u2192 ' + when(s.x.endedAt) : '')));
      svg.appendChild(r);
      svg.appendChild(el('text', { x: x0 + w + 4, y: y + rowH - 3, 'data-experiment': s.x.id }, s.x.action + ' ' + st));
    });
    const axisY = spans.length * (rowH + gap) + gap;
    svg.appendChild(el('line', { x1: 0, x2: plotW, y1: axisY, y2: axisY, class: 'axis' }));
    svg.appendChild(el('text', { x: 0, y: axisY + 12, class: 'axis' }, new Date(lo).toLocaleTimeString()));
    svg.appendChild(el('text', { x: plotW, y: axisY + 12, 'text-anchor': 'end', class: 'axis' }, hi >= now - 1000 ? 'now' : new Date(hi).toLocaleTimeString()));
  }

  async function health() {
    try { const h = await (await fetch('/healthz')).json(); $('engine').textContent = 'engine: ' + ((h.engine && h.engine.status) || h.status); } catch { $('engine').textContent = 'engine: unknown'; }
  }

  const sections = { units, services, deploys, chaos };
  async function refresh(which) {
    await Promise.all((which || Object.keys(sections)).map(async (k) => {
      try { await sections[k](); $(k + '-section').classList.remove('off'); }
      catch (e) { $(k + '-section').classList.add('off'); }
    }));
    document.body.dataset.loaded = String(Number(document.body.dataset.loaded || 0) + 1);
  }

  // What an event is about, in a few words (the data field names each family uses).
  function summary(type, d) {
    if (type.startsWith('engine.')) return ((d.attributes && d.attributes.name) || String(d.id || '').slice(0, 12)) + (d.action && d.action.indexOf(':') > 0 ? ' ' + d.action.slice(d.action.indexOf(':') + 1).trim() : '');
    if (type.startsWith('unit.')) return String(d.name || '') + (d.desiredState ? ' \\u2192 ' + d.desiredState : '');
    if (type.startsWith('deploy.')) return String(d.project || '') + (d.revision != null ? '@' + d.revision : '') + ' ' + (d.status || '') + (d.event && d.event.type ? ' ' + d.event.type : '');
    if (type.startsWith('chaos.')) return String(d.experiment || '') + ' ' + (d.action || '') + ' ' + (d.status || '');
    const s = JSON.stringify(d); return s.length > 120 ? s.slice(0, 120) + '\\u2026' : s;
  }

  function addEvent(e) {
    const li = document.createElement('li');
    const t = e.time ? new Date(e.time) : new Date();
    li.textContent = t.toLocaleTimeString() + '  ' + e.type + '  ' + summary(e.type, e.data || {});
    li.dataset.type = e.type; li.dataset.id = String(e.id);
    const ol = $('events'); ol.prepend(li);
    while (ol.children.length > 200) ol.lastChild.remove();
  }

  // Server-Sent Events over fetch, as the daemon frames them (id:, event:, data: one JSON line,
  // blank line). The first connection replays the last minutes; a reconnection resumes after the
  // last id seen (Last-Event-ID), so nothing is shown twice or missed.
  let lastId = '';
  function dispatch(block) {
    let data = '', id = '';
    for (const line of block.split('\\n')) {
      const v = (k) => line.slice(k.length + 1).replace(/^ /, '');
      if (line.startsWith('data:')) data += (data ? '\\n' : '') + v('data');
      else if (line.startsWith('id:')) id = v('id');
    }
    if (!data) return;
    if (id) lastId = id;
    let e; try { e = JSON.parse(data); } catch { return; }
    if (!e || typeof e.type !== 'string') return;
    addEvent(e);
    if (/^(deploy\\.job|deploy\\.revision|unit\\.|chaos\\.experiment|engine\\.container\\.)/.test(e.type)) scheduleRefresh();
  }
  async function live() {
    for (;;) {
      try {
        const url = '/v1/events' + (lastId ? '' : '?since=10m');
        const r = await fetch(url, { credentials: 'same-origin', headers: Object.assign({ accept: 'text/event-stream' }, lastId ? { 'last-event-id': lastId } : {}) });
        if (r.status === 401) { location.href = '/dashboard'; return; }
        if (!r.ok || !r.body) throw new Error('events ' + r.status);
        $('live').textContent = 'events: live'; $('live').className = 'on';
        const reader = r.body.getReader(); const dec = new TextDecoder(); let buf = '';
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buf = (buf + dec.decode(value, { stream: true })).replace(/\\r\\n/g, '\\n');
          let at;
          while ((at = buf.indexOf('\\n\\n')) >= 0) { const block = buf.slice(0, at); buf = buf.slice(at + 2); dispatch(block); }
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
