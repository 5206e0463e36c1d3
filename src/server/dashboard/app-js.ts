/**
 * The page's script. Sections read the daemon's own API with the session cookie (GET only):
 * `/fleet/v1/units` (all pages), `/v1/services` (configured vs running images, replicas and their
 * last healthcheck), `/v1/deploys` (revisions with their plans; jobs in flight with their events
 * for progress), `/v1/chaos/runs` (experiments of the daemon and of CLI runs in its state
 * directory), `/v1/watch/reports` where the daemon has it (a 404 hides the panel); `/v1/events` is
 * read as Server-Sent Events over fetch. Actions (Stop, Roll back) are confirmed in a dialog and
 * sent with the bearer token, asked for once and kept in the page's memory only. Everything shown
 * is set with textContent. Generated from plain ES2020 (no build step); keep it free of backticks
 * and `${`.
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
  const el = (tag, text, cls) => { const e = document.createElement(tag); if (text != null) e.textContent = String(text); if (cls) e.className = cls; return e; };
  const cell = (tr, text, cls) => { const td = el('td', text == null ? '' : text, cls); tr.appendChild(td); return td; };
  const fill = (tbody, rows, render) => {
    const frag = document.createDocumentFragment();
    for (const row of rows) { const tr = document.createElement('tr'); const more = render(tr, row); frag.appendChild(tr); if (more) frag.appendChild(more); }
    tbody.replaceChildren(frag);
  };
  const when = (t) => (t ? new Date(t).toLocaleString() : '');
  const clock = (t) => (t ? new Date(t).toLocaleTimeString() : '');
  const stateClass = (s) => 'state-' + String(s || '').split(/[^a-z-]/)[0];
  const span = (ms) => {
    const s = Math.max(0, Math.round(ms / 1000));
    if (s < 60) return s + 's';
    const m = Math.floor(s / 60);
    if (m < 60) return m + 'm ' + (s % 60) + 's';
    return Math.floor(m / 60) + 'h ' + (m % 60) + 'm';
  };

  // ---- actions: behind the token (asked once per page, kept in memory only) and a confirmation ----
  let token = '';
  const dialog = $('confirm');
  function confirmAction(message) {
    return new Promise((resolve) => {
      $('confirm-message').textContent = message;
      $('confirm-token-row').hidden = Boolean(token);
      $('confirm-token').value = '';
      $('confirm-error').textContent = '';
      dialog.returnValue = '';
      const done = (ok) => { dialog.removeEventListener('close', onClose); resolve(ok); };
      const onClose = () => done(dialog.returnValue === 'ok');
      dialog.addEventListener('close', onClose);
      dialog.showModal();
      if (!token) $('confirm-token').focus();
    });
  }
  $('confirm-ok').addEventListener('click', (ev) => {
    if (!token && !$('confirm-token').value.trim()) { ev.preventDefault(); $('confirm-error').textContent = 'The token is needed to act.'; return; }
    if (!token) token = $('confirm-token').value.trim();
  });
  function notice(text, bad) { const n = $('action-status'); n.textContent = text; n.className = bad ? 'error' : 'ok'; }
  async function act(message, path, body, describe) {
    if (!(await confirmAction(message))) return;
    notice('working\\u2026', false);
    try {
      const r = await fetch(path, { method: 'POST', credentials: 'omit', headers: { authorization: 'Bearer ' + token, 'content-type': 'application/json', accept: 'application/json' }, body: JSON.stringify(body || {}) });
      const reply = await r.json().catch(() => ({}));
      if (r.status === 401) { token = ''; notice('The token was refused; nothing was done.', true); return; }
      if (!r.ok) { notice((reply.error && (reply.error.message + (reply.error.hint ? ' \\u2014 ' + reply.error.hint : ''))) || ('failed: ' + r.status), true); return; }
      notice(describe(reply), false);
    } catch (e) { notice('failed: ' + e.message, true); }
    refresh();
  }

  // ---- units ----
  async function units() {
    const all = [];
    let next = '';
    do {
      const page = await api('/fleet/v1/units' + (next ? '?nextPageToken=' + encodeURIComponent(next) : ''));
      all.push(...(page.units || []));
      next = page.nextPageToken || '';
    } while (next && all.length < 5000);
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

  // ---- services: configured vs running image, replicas and their last healthcheck ----
  // "running 2/2" when all is well, else the other states first ("paused 1 \\u00b7 running 0/1").
  function serviceState(s) {
    const counts = {};
    for (const c of s.containers || []) counts[c.status] = (counts[c.status] || 0) + 1;
    const running = Number(counts.running || 0), replicas = Number(s.replicas ?? running);
    const others = Object.keys(counts).filter((k) => k !== 'running').sort().map((k) => k + ' ' + counts[k]);
    const main = 'running ' + running + '/' + replicas;
    if (others.length) return others.join(' \\u00b7 ') + ' \\u00b7 ' + main;
    return running === 0 && replicas > 0 ? 'not ' + main : main;
  }
  function healthSummary(s) {
    const counts = {};
    for (const c of s.containers || []) if (c.status === 'running' || c.status === 'paused') counts[c.health] = (counts[c.health] || 0) + 1;
    const keys = Object.keys(counts).sort();
    return keys.length ? keys.map((k) => (k === 'none' ? 'no healthcheck' : k) + ' ' + counts[k]).join(' \\u00b7 ') : '';
  }
  const projectNames = new Set();
  async function services() {
    const body = await api('/v1/services');
    const open = new Set([...$('services').querySelectorAll('details[open]')].map((d) => d.dataset.key));
    const rows = [];
    for (const p of body.projects || []) {
      projectNames.add(p.name);
      rows.push({ kind: 'project', p });
      for (const s of p.services || []) rows.push({ kind: 'service', p, s });
    }
    projectFilterOptions();
    fill($('services'), rows, (tr, r) => {
      if (r.kind === 'project') {
        tr.className = 'project'; tr.dataset.project = r.p.name;
        const td = cell(tr, r.p.name); td.colSpan = 5;
        if (r.p.error) td.appendChild(el('span', ' \\u2014 error: ' + r.p.error.message, 'error'));
        const b = el('button', 'Roll back\\u2026', 'action'); b.type = 'button'; b.dataset.testid = 'rollback'; b.dataset.project = r.p.name;
        b.addEventListener('click', () => act('Roll back project ' + r.p.name + ' to its previous good revision? Its containers are replaced.', '/v1/deploys/rollback', { project: r.p.name }, (j) => 'Rollback of ' + r.p.name + ' queued (' + j.id + ', ' + j.status + ').'));
        td.appendChild(b);
        return undefined;
      }
      const s = r.s;
      tr.className = 'svc' + (s.differs ? ' drift' : ''); tr.dataset.service = r.p.name + '/' + s.name;
      cell(tr, s.name); cell(tr, s.configured, 'image');
      const run = cell(tr, (s.running || []).join(', ') || '\\u2014', 'image running-image');
      if (s.differs) { const m = el('span', ' \\u2260 differs from configured', 'marker'); m.dataset.testid = 'image-drift'; m.title = 'a replica runs another image than the configuration names'; run.appendChild(m); }
      const st = serviceState(s);
      cell(tr, st, stateClass(st));
      const hc = cell(tr, '');
      const det = el('details'); det.dataset.key = r.p.name + '/' + s.name; det.open = open.has(det.dataset.key);
      det.appendChild(el('summary', healthSummary(s) || (s.containers.length ? 'replicas' : 'no replicas')));
      const ul = el('ul', null, 'replicas');
      for (const c of s.containers || []) {
        const li = el('li'); li.dataset.container = c.name;
        li.appendChild(el('span', c.name + ' \\u00b7 ' + c.status + (c.health && c.health !== 'none' ? ' \\u00b7 ' + c.health : '') + ' \\u00b7 ' + c.image));
        if (c.lastHealthcheck) {
          const h = c.lastHealthcheck;
          const pre = el('pre', 'last healthcheck ' + clock(h.start) + ', exit ' + h.exitCode + ': ' + (h.output.trim() || '(no output)'), h.exitCode === 0 ? 'hc' : 'hc error');
          pre.dataset.testid = 'healthcheck-output';
          li.appendChild(pre);
        }
        ul.appendChild(li);
      }
      det.appendChild(ul); hc.appendChild(det);
      return undefined;
    });
  }

  // ---- deploys: history, and jobs in flight with their progress ----
  function planDetails(plan, result, open) {
    const steps = (plan && Array.isArray(plan.steps)) ? plan.steps : [];
    const changed = steps.filter((s) => s.action !== 'unchanged').length;
    const det = el('details'); det.open = open;
    det.appendChild(el('summary', changed === 0 ? 'no changes' : changed === 1 ? '1 change' : changed + ' changes'));
    const box = el('div', null, 'plan');
    const ul = el('ul');
    for (const s of steps) ul.appendChild(el('li', s.service + ': ' + s.action + (s.causes && s.causes.length ? ' \\u2014 ' + s.causes.join('; ') : '')));
    box.appendChild(ul);
    for (const r of (result && Array.isArray(result.services)) ? result.services : []) {
      if (!r.error && (r.outcome === 'ok' || r.outcome === 'unchanged')) continue;
      box.appendChild(el('p', r.service + ': ' + (r.outcome || '') + (r.error ? ' \\u2014 ' + r.error : ''), 'error'));
    }
    det.appendChild(box);
    return det;
  }
  // What a running job has done so far, per service, from its events.
  function progressOf(job) {
    const per = new Map();
    const svc = (name) => { if (!per.has(name)) per.set(name, { started: 0, ready: 0, failed: 0, updated: null, total: null, outcome: '', last: '' }); return per.get(name); };
    for (const e of job.events || []) {
      if (!e.service) continue;
      const s = svc(e.service);
      if (e.type === 'replica-started') { s.started++; s.last = e.name + ' started (' + e.image + ')'; }
      else if (e.type === 'replica-ready') { s.ready++; s.last = 'replica ' + e.slot + ' ready (' + e.health + ', ' + span(e.ms) + ')'; }
      else if (e.type === 'replica-waiting') { s.last = 'replica ' + e.slot + ' ' + e.health + ', ' + e.attempts + ' healthcheck' + (e.attempts === 1 ? '' : 's') + (e.lastCheck ? ' (last: exit ' + e.lastCheck.exitCode + ' ' + String(e.lastCheck.output || '').slice(0, 80) + ')' : ''); }
      else if (e.type === 'replica-failed') { s.failed++; s.last = 'replica ' + e.slot + ' failed: ' + e.reason; }
      else if (e.type === 'batch-done') { s.updated = e.updated; s.total = e.total; }
      else if (e.type === 'rollback-started') s.last = 'rolling back: ' + e.reason;
      else if (e.type === 'service-finished') s.outcome = e.outcome;
    }
    let done = 0, all = 0;
    const parts = [];
    for (const [name, s] of per) {
      const total = s.total != null ? s.total : Math.max(s.started, 1);
      const updated = s.updated != null ? s.updated : s.ready;
      done += s.outcome ? total : Math.min(updated, total); all += total;
      parts.push(name + ': ' + (s.outcome || (updated + '/' + total + ' replaced')) + (s.last && !s.outcome ? ' \\u2014 ' + s.last : ''));
    }
    return { done, all, text: parts.join('; ') || 'starting' };
  }
  async function deploys() {
    const body = await api('/v1/deploys?limit=50');
    const open = new Set([...$('deploys').querySelectorAll('tr')].filter((tr) => { const d = tr.querySelector('details'); return d && d.open; }).map((tr) => tr.dataset.revision));
    // Jobs queued or running come first, each in place of the revision it is writing.
    const active = body.jobs || [];
    const writing = new Set(active.filter((j) => j.revision != null).map((j) => j.project + '@' + j.revision));
    const revisions = (body.deploys || []).filter((d) => !writing.has(d.id));
    // A job in flight is shown with its events (GET /v1/deploys/ID); at most a few run at once.
    const detailed = await Promise.all(active.slice(0, 10).map((j) => (j.status === 'running' ? api('/v1/deploys/' + encodeURIComponent(j.id)).catch(() => j) : j)));
    const jobs = detailed.map((j) => ({ id: j.id, job: j, project: j.project, revision: j.revision, createdAt: j.createdAt, trigger: j.trigger, outcome: j.status, plan: j.plan }));
    fill($('deploys'), jobs.concat(revisions), (tr, d) => {
      tr.dataset.revision = String(d.id);
      cell(tr, d.revision ?? ''); cell(tr, d.project); cell(tr, when(d.createdAt));
      cell(tr, d.trigger || '').title = d.source || '';
      const oc = cell(tr, d.outcome || '', stateClass(d.outcome));
      if (d.job && d.job.status === 'running') {
        tr.className = 'in-flight';
        const p = progressOf(d.job);
        const bar = el('progress'); bar.max = Math.max(1, p.all); bar.value = p.done; bar.dataset.testid = 'deploy-progress';
        oc.appendChild(bar);
        const t = el('div', p.text + ' \\u00b7 for ' + span(Date.now() - Date.parse(d.job.startedAt || d.createdAt)), 'progress-text');
        t.dataset.testid = 'deploy-progress-text';
        oc.appendChild(t);
      }
      const td = cell(tr, '');
      if (d.plan) td.appendChild(planDetails(d.plan, d.result, open.has(String(d.id))));
    });
  }

  // ---- chaos: runs of the daemon and of the CLI, containers hit, time left, Stop ----
  const label = (s) => (s === 'target-gone' ? 'target gone' : s);
  async function chaos() {
    const body = await api('/v1/chaos/runs');
    const rows = body.runs || [];
    fill($('chaos'), rows, (tr, x) => {
      tr.dataset.run = x.runId; if (x.experiment) tr.dataset.experiment = x.experiment;
      cell(tr, x.experiment || x.runId.slice(0, 8)).title = x.runId;
      cell(tr, x.source === 'daemon' ? 'daemon' : 'CLI' + (x.owner ? ' (pid ' + x.owner.pid + ')' : ''));
      cell(tr, x.action);
      const hit = cell(tr, (x.hits || []).map((h) => h.name + (h.outcome && !h.open && h.outcome !== 'ok' && h.outcome !== 'restored' ? ' (' + h.outcome + ')' : '')).join(', ') || (x.status === 'finished' ? 'none matched' : '\\u2014'));
      hit.dataset.testid = 'chaos-hits';
      const left = cell(tr, '', 'countdown'); left.dataset.testid = 'countdown';
      if (x.deadline && (x.status === 'running' || x.status === 'orphaned')) left.dataset.deadline = x.deadline;
      cell(tr, when(x.startedAt));
      cell(tr, label(x.status), stateClass(x.status)).title = x.error || '';
      const td = cell(tr, '');
      if (x.status === 'running' || x.status === 'orphaned') {
        const b = el('button', 'Stop\\u2026', 'action'); b.type = 'button'; b.dataset.testid = 'stop'; b.dataset.run = x.runId;
        const names = (x.hits || []).filter((h) => h.open !== false).map((h) => h.name).join(', ');
        b.addEventListener('click', () => act('Stop ' + x.action + ' run ' + (x.experiment || x.runId) + '? ' + (names ? names + ' will be restored now.' : 'Its held faults are restored now.'), '/v1/chaos/runs/' + encodeURIComponent(x.runId) + '/stop', {}, (r) => 'Stopped ' + (x.experiment || x.runId) + ' (' + r.by + '): ' + ((r.run && r.run.hits) || []).map((h) => h.name + ' ' + (h.outcome || '')).join(', ')));
        td.appendChild(b);
      }
    });
    $('chaos-empty').hidden = rows.length > 0;
    countdowns();
    timeline(rows);
  }
  function countdowns() {
    const now = Date.now();
    for (const td of document.querySelectorAll('td.countdown[data-deadline]')) {
      const ms = Date.parse(td.dataset.deadline) - now;
      td.textContent = ms > 0 ? span(ms) + ' left' : 'ending\\u2026';
    }
  }

  // One bar per run from its start to its end (or now), newest on top, on a shared time axis.
  function timeline(rows) {
    const svg = $('timeline');
    const ns = 'http://www.w3.org/2000/svg';
    const sv = (name, attrs, text) => { const e = document.createElementNS(ns, name); for (const k in attrs) e.setAttribute(k, String(attrs[k])); if (text != null) e.textContent = text; return e; };
    const now = Date.now();
    const spans = rows.map((x) => ({ x, a: Date.parse(x.startedAt), b: Date.parse(x.endedAt || '') || now })).filter((s) => !Number.isNaN(s.a));
    svg.replaceChildren();
    if (!spans.length) { svg.setAttribute('height', '0'); return; }
    const lo = Math.min(...spans.map((s) => s.a)), hi = Math.max(now, ...spans.map((s) => s.b));
    const W = Math.max(300, svg.clientWidth || 600), rowH = 14, gap = 4, axisH = 16, labelW = 150;
    const range = Math.max(1, hi - lo), plotW = W - labelW - 10;
    svg.setAttribute('height', String(spans.length * (rowH + gap) + gap + axisH));
    spans.forEach((s, i) => {
      const st = String(s.x.status || '');
      const y = gap + i * (rowH + gap);
      const x0 = ((s.a - lo) / range) * plotW, w = Math.max(3, ((s.b - s.a) / range) * plotW);
      const id = s.x.experiment || s.x.runId;
      const r = sv('rect', { x: x0, y, width: w, height: rowH, class: st === 'running' ? 'running' : st === 'failed' || st === 'target-gone' || st === 'orphaned' ? 'failed' : 'done', 'data-experiment': id, 'data-status': st });
      r.appendChild(sv('title', {}, s.x.action + ' ' + label(st) + ' \\u2014 ' + id + ' \\u2014 ' + when(s.x.startedAt) + (s.x.endedAt ? ' \\u2192 ' + when(s.x.endedAt) : '')));
      svg.appendChild(r);
      svg.appendChild(sv('text', { x: x0 + w + 4, y: y + rowH - 3, 'data-experiment': id }, s.x.action + ' ' + label(st)));
    });
    const axisY = spans.length * (rowH + gap) + gap;
    svg.appendChild(sv('line', { x1: 0, x2: plotW, y1: axisY, y2: axisY, class: 'axis' }));
    svg.appendChild(sv('text', { x: 0, y: axisY + 12, class: 'axis' }, new Date(lo).toLocaleTimeString()));
    svg.appendChild(sv('text', { x: plotW, y: axisY + 12, 'text-anchor': 'end', class: 'axis' }, hi >= now - 1000 ? 'now' : new Date(hi).toLocaleTimeString()));
  }

  // ---- registry watch: shown only where the daemon has GET /v1/watch/reports (404 hides it) ----
  let watchMissing = false;
  async function watch() {
    if (watchMissing) return;
    const r = await fetch('/v1/watch/reports', { credentials: 'same-origin', headers: { accept: 'application/json' } });
    // 404: a daemon without the endpoint; 503 NOT_ENABLED: one started without --watch. Asked once.
    if (r.status === 404 || r.status === 503) { watchMissing = true; $('watch-section').hidden = true; return; }
    if (r.status === 401) { location.href = '/dashboard'; return; }
    if (!r.ok) throw new Error('watch: ' + r.status);
    const body = await r.json();
    const reports = Array.isArray(body.reports) ? body.reports : [];
    $('watch-section').hidden = false;
    fill($('watch'), reports.slice(0, 20), (tr, w) => {
      cell(tr, when(w.finishedAt || w.startedAt)); cell(tr, w.checked); cell(tr, w.newer); cell(tr, w.updated);
      cell(tr, w.rolledBack, w.rolledBack ? 'state-failed' : ''); cell(tr, w.failed, w.failed ? 'state-failed' : ''); cell(tr, w.skipped);
      return undefined;
    });
    const latest = reports[0];
    fill($('watch-items'), latest && Array.isArray(latest.items) ? latest.items : [], (tr, i) => {
      cell(tr, i.name); cell(tr, i.image, 'image'); cell(tr, i.status, stateClass(i.status)); cell(tr, i.newImage || '', 'image');
      cell(tr, (i.error && i.error.message) || i.reason || (i.revision != null ? 'revision ' + i.revision : ''));
      return undefined;
    });
    $('watch-empty').hidden = reports.length > 0;
  }

  async function health() {
    try { const h = await (await fetch('/healthz')).json(); $('engine').textContent = 'engine: ' + ((h.engine && h.engine.status) || h.status); } catch { $('engine').textContent = 'engine: unknown'; }
  }

  const sections = { units, services, deploys, chaos, watch };
  async function refresh(which) {
    await Promise.all((which || Object.keys(sections)).map(async (k) => {
      try { await sections[k](); $(k + '-section').classList.remove('off'); }
      catch (e) { $(k + '-section').classList.add('off'); }
    }));
    document.body.dataset.loaded = String(Number(document.body.dataset.loaded || 0) + 1);
  }

  // ---- events: filters by project and type; healthcheck exec_* events hidden unless asked for ----
  function summary(type, d) {
    if (type.startsWith('engine.')) return ((d.attributes && d.attributes.name) || String(d.id || '').slice(0, 12)) + (d.action && d.action.indexOf(':') > 0 ? ' ' + d.action.slice(d.action.indexOf(':') + 1).trim() : '');
    if (type.startsWith('unit.')) return String(d.name || '') + (d.desiredState ? ' \\u2192 ' + d.desiredState : '');
    if (type.startsWith('deploy.')) return String(d.project || '') + (d.revision != null ? '@' + d.revision : '') + ' ' + (d.status || '') + (d.event && d.event.type ? ' ' + d.event.type : '');
    if (type.startsWith('chaos.')) return String(d.experiment || '') + ' ' + (d.action || '') + ' ' + (d.status || '');
    const s = JSON.stringify(d); return s.length > 120 ? s.slice(0, 120) + '\\u2026' : s;
  }
  const projectOf = (d) => String(d.project || (d.attributes && d.attributes['kiboko.deploy.project']) || '');
  const isExec = (type) => /^engine\\.[a-z]+\\.exec_/.test(type);
  function visible(li) {
    const p = $('filter-project').value, t = $('filter-type').value;
    if (!$('filter-exec').checked && li.dataset.exec === '1') return false;
    if (p && li.dataset.project !== p) return false;
    if (t && li.dataset.family !== t) return false;
    return true;
  }
  function applyFilters() {
    let shown = 0;
    for (const li of $('events').children) { li.hidden = !visible(li); if (!li.hidden) shown++; }
    $('events-shown').textContent = shown + ' of ' + $('events').children.length + ' shown';
  }
  function projectFilterOptions() {
    const sel = $('filter-project');
    const have = new Set([...sel.options].map((o) => o.value));
    for (const name of [...projectNames].sort()) if (!have.has(name)) { const o = el('option', name); o.value = name; sel.appendChild(o); }
  }
  for (const id of ['filter-project', 'filter-type', 'filter-exec']) $(id).addEventListener('change', applyFilters);

  function addEvent(e) {
    const d = e.data || {};
    const li = el('li');
    const t = e.time ? new Date(e.time) : new Date();
    li.textContent = t.toLocaleTimeString() + '  ' + e.type + '  ' + summary(e.type, d);
    li.dataset.type = e.type; li.dataset.id = String(e.id);
    li.dataset.family = e.type.split('.')[0];
    li.dataset.project = projectOf(d);
    if (isExec(e.type)) li.dataset.exec = '1';
    if (li.dataset.project && !projectNames.has(li.dataset.project)) { projectNames.add(li.dataset.project); projectFilterOptions(); }
    li.hidden = !visible(li);
    const ol = $('events'); ol.prepend(li);
    while (ol.children.length > 500) ol.lastChild.remove();
    applyFilters();
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
    if (/^(deploy\\.|unit\\.|chaos\\.|engine\\.container\\.(start|die|pause|unpause|destroy|health_status))/.test(e.type)) scheduleRefresh();
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
  // Deploys in flight move faster than the 5 s refresh: follow them every second while one runs.
  setInterval(() => { countdowns(); if ($('deploys').querySelector('tr.in-flight')) refresh(['deploys', 'services']); }, 1000);
})();
`;
