import fc from 'fast-check';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Clock } from '../common/clock.js';
import { DeployStore } from '../deploy/index.js';
import { FakeEngine } from '../engine/index.js';
import { Journal } from '../journal/index.js';
import { MemoryRegistry } from '../units/index.js';
import { FailureThrottle, hubSignature, kibokoSignatureHeaders } from './auth.js';
import { EventBus } from './bus.js';
import { ChaosService } from './chaos.js';
import { pumpEngineEvents } from './daemon.js';
import { DeployService } from './deploys.js';
import { startServer, type RunningServer } from './http.js';

/**
 * The native API and the deploy hook over loopback HTTP, with the deploy and chaos libraries
 * running against the in-memory engine: everything but the engine is the real thing.
 */
const TOKEN = 'api-test-token-0123456789abcdef';
const SECRET = 'webhook-secret-for-tests';
const dir = mkdtempSync(join(tmpdir(), 'kiboko-api-'));
const stateDir = join(dir, 'state');
const compose = join(dir, 'shop', 'compose.yaml');
const COMPOSE = `# shop — CI sets the tags
services:
  web:
    image: acme/web:1.0.0   # semver only, never back
    x-kiboko: {tag-policy: semver}
    deploy: {update_config: {monitor: 0s}}
  worker:
    image: localhost:5000/team/worker:1
    deploy: {update_config: {monitor: 0s}}
  api:
    image: "ghcr.io/acme/api:v1"
    x-kiboko: {tag-policy: 'regex:v[0-9]+'}
    deploy: {update_config: {monitor: 0s}}
`;

/** Never really waits: deploys run at engine speed. */
const fastClock: Clock = {
  now: () => Date.now(),
  sleep: async (_ms, signal) => {
    if (signal?.aborted) throw new DOMException('The operation was aborted', 'AbortError');
    await new Promise((r) => setImmediate(r));
  },
};

const engine = new FakeEngine();
for (const t of ['acme/web:1.0.0', 'acme/web:1.1.0', 'acme/web:2.0.0', 'ghcr.io/acme/api:v1', 'ghcr.io/acme/api:v2', ...[1, 2, 3, 4, 5, 6, 7, 8].map((n) => `localhost:5000/team/worker:${n}`)]) engine.addImage({ tags: [t] });
const bus = new EventBus();
let store: DeployStore;
let deploys: DeployService;
let chaos: ChaosService;
let server: RunningServer;
let base = '';
const pump = new AbortController();

beforeAll(async () => {
  mkdirSync(join(dir, 'shop'), { recursive: true });
  writeFileSync(compose, COMPOSE);
  store = new DeployStore(stateDir);
  deploys = new DeployService({ engine, store, projects: [{ name: 'shop', paths: [compose], engine: 'docker', tagPolicies: {} }], bus, clock: fastClock });
  chaos = new ChaosService({ engine, journal: new Journal(stateDir), bus });
  void pumpEngineEvents(engine, bus, { signal: pump.signal, retryMs: 10 });
  server = await startServer({
    token: TOKEN,
    registry: new MemoryRegistry(),
    engine,
    listen: '127.0.0.1:0',
    deploys,
    chaos,
    bus,
    webhookSecret: SECRET,
    engineUp: () => true,
    sse: { heartbeatMs: 50 },
    throttle: new FailureThrottle({ freeFailures: 1_000_000, globalPerSecond: 1_000_000 }),
  });
  base = server.addresses[0]!;
});

afterAll(async () => {
  await chaos.close();
  await deploys.close();
  pump.abort();
  await server.close();
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

const call = (path: string, init: RequestInit & { token?: string | null; json?: unknown } = {}) =>
  fetch(`${base}${path}`, {
    ...init,
    ...(init.json !== undefined ? { body: JSON.stringify(init.json) } : {}),
    headers: {
      ...(init.token === null ? {} : { authorization: `Bearer ${init.token ?? TOKEN}` }),
      ...(init.json !== undefined || init.body ? { 'content-type': 'application/json' } : {}),
      ...((init.headers as Record<string, string>) ?? {}),
    },
  });
const hook = (body: unknown, headers: Record<string, string> = {}) => {
  const text = JSON.stringify(body);
  return fetch(`${base}/hooks/deploy`, { method: 'POST', body: text, headers: { 'content-type': 'application/json', 'x-hub-signature-256': hubSignature(text, SECRET), ...headers } });
};
type Job = { id: string; status: string; revision?: number; seq: number; tag?: string; service?: string; project: string; events: unknown[]; changes: { service: string; tag: string; restored?: boolean }[]; error?: { code: string } };
const finished = async (id: string): Promise<Job> => {
  await deploys.idle();
  return (await (await call(`/v1/deploys/${id}`)).json()) as Job;
};
const imageOf = async (service: string) => (await engine.list({ labels: [`kiboko.deploy.service=${service}`] })).map((c) => c.image);
const errorOf = async (r: Response) => ((await r.json()) as { error: { code: string; message: string; hint?: string } }).error;

describe('authentication on the native API', () => {
  it('answers 401 with a JSON error on every endpoint but /healthz', async () => {
    expect((await call('/healthz', { token: null })).status).toBe(200);
    const endpoints: [string, string][] = [
      ['GET', '/metrics'],
      ['GET', '/v1/projects'],
      ['GET', '/v1/units'],
      ['POST', '/v1/deploys'],
      ['POST', '/v1/deploys/plan'],
      ['POST', '/v1/deploys/rollback'],
      ['GET', '/v1/deploys'],
      ['GET', '/v1/deploys/x'],
      ['POST', '/hooks/deploy'],
      ['GET', '/v1/chaos/experiments'],
      ['POST', '/v1/chaos/experiments'],
      ['GET', '/v1/chaos/experiments/x'],
      ['DELETE', '/v1/chaos/experiments/x'],
      ['GET', '/v1/events'],
      ['GET', '/v1/nothing'],
    ];
    for (const [method, path] of endpoints) {
      for (const token of [null, 'wrong-token-0123456789']) {
        const r = await call(path, { method, token, ...(method === 'POST' ? { json: { project: 'shop' } } : {}) });
        expect(r.status, `${method} ${path}`).toBe(401);
        expect(r.headers.get('www-authenticate')).toMatch(/^Bearer/);
        const e = await errorOf(r);
        expect(e.code).toBe('UNAUTHENTICATED');
        expect(e.hint).toBeTruthy();
      }
    }
  });

  it('the hook takes a valid X-Hub-Signature-256 instead of the token; a wrong one is 401 and changes nothing', async () => {
    const before = readFileSync(compose, 'utf8');
    const text = JSON.stringify({ service: 'worker', tag: '2' });
    for (const sig of [hubSignature(text, 'not-the-secret'), hubSignature(`${text} `, SECRET), 'sha256=00', 'garbage']) {
      const r = await fetch(`${base}/hooks/deploy`, { method: 'POST', body: text, headers: { 'content-type': 'application/json', 'x-hub-signature-256': sig } });
      expect(r.status).toBe(401);
      expect((await errorOf(r)).message).toBe('invalid signature');
    }
    expect((await fetch(`${base}/hooks/deploy?token=wrong`, { method: 'POST', body: text })).status).toBe(401);
    expect(readFileSync(compose, 'utf8')).toBe(before);
    expect(deploys.history({ limit: 10 }).deploys).toHaveLength(0);
  });
});

describe('deploys through the API and the hook', () => {
  it('POST /v1/deploys applies the project as an async job; plan then says no change', async () => {
    const r = await call('/v1/deploys', { method: 'POST', json: { project: 'shop' } });
    expect(r.status).toBe(202);
    const job = (await r.json()) as Job;
    expect(r.headers.get('location')).toBe(`/v1/deploys/${job.id}`);
    expect(job).toMatchObject({ project: 'shop', kind: 'apply', links: { self: `/v1/deploys/${job.id}` } });
    const done = await finished(job.id);
    expect(done).toMatchObject({ status: 'succeeded', revision: 1, outcome: 'ok' });
    expect(done.events.length).toBeGreaterThan(0);
    expect(await imageOf('web')).toEqual(['acme/web:1.0.0']);
    const plan = (await (await call('/v1/deploys/plan', { method: 'POST', json: { project: 'shop' } })).json()) as { plan: { changes: boolean } };
    expect(plan.plan.changes).toBe(false);
    const projects = (await (await call('/v1/projects')).json()) as { projects: { name: string; services: { name: string; tagPolicy: string }[] }[] };
    expect(projects.projects[0]!.services.map((s) => [s.name, s.tagPolicy])).toEqual([
      ['web', 'semver'],
      ['worker', 'pinned'],
      ['api', 'regex:v[0-9]+'],
    ]);
    // Containers of each service by engine status (the dashboard's service state).
    expect((projects.projects[0]!.services[0] as unknown as { running: number; containers: Record<string, number> })).toMatchObject({ running: 1, containers: { running: 1 } });
  });

  it('a signed hook sets the tag in the compose file (every other byte kept), deploys it and records the revision', async () => {
    const before = readFileSync(compose, 'utf8');
    const r = await hook({ service: 'web', tag: '1.1.0' });
    expect(r.status).toBe(202);
    const job = (await r.json()) as Job;
    expect(job).toMatchObject({ project: 'shop', service: 'web', tag: '1.1.0', kind: 'hook', source: 'kiboko' });
    expect(['queued', 'running']).toContain(job.status);
    const done = await finished(job.id);
    expect(done).toMatchObject({ status: 'succeeded', revision: 2 });
    expect(readFileSync(compose, 'utf8')).toBe(before.replace('acme/web:1.0.0', 'acme/web:1.1.0'));
    expect(await imageOf('web')).toEqual(['acme/web:1.1.0']);
    const history = (await (await call('/v1/deploys?project=shop&limit=5')).json()) as { deploys: { id: string; revision: number; trigger: string; outcome: string; images: Record<string, string>; job?: string }[] };
    expect(history.deploys[0]).toMatchObject({ id: 'shop@2', revision: 2, trigger: 'webhook', outcome: 'ok', images: { web: 'acme/web:1.1.0' }, job: job.id });
    const rev = (await (await call(`/v1/deploys/${encodeURIComponent('shop@2')}`)).json()) as { outcome: string; status: string };
    expect(rev).toMatchObject({ outcome: 'ok', status: 'succeeded' });
  });

  it('a tag the policy refuses is 409 with a JSON error, and nothing is deployed or written', async () => {
    const before = readFileSync(compose, 'utf8');
    for (const [service, tag] of [
      ['web', '1.0.0'],
      ['web', 'latest'],
      ['api', 'latest'],
    ]) {
      const r = await hook({ service, tag });
      expect(r.status, `${service}:${tag}`).toBe(409);
      const e = await errorOf(r);
      expect(e.code).toBe('CONFLICT');
      expect(e.hint).toMatch(/nothing was deployed/);
    }
    await deploys.idle();
    expect(readFileSync(compose, 'utf8')).toBe(before);
    expect(deploys.history({ project: 'shop', limit: 50 }).deploys).toHaveLength(2);
  });

  /** Holds every container create until released: a deploy that is running, for as long as a test needs. */
  const holdDeploys = () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const create = engine.create.bind(engine);
    engine.create = async (spec) => {
      await gate;
      return create(spec);
    };
    return () => {
      engine.create = create;
      release();
    };
  };

  it('hooks for one project while a deploy runs: none lost, those waiting join one job (the newest tag wins), deployed one at a time', async () => {
    const release = holdDeploys();
    let ids: string[];
    try {
      const first = await hook({ service: 'worker', tag: '2' });
      expect(first.status).toBe(202);
      ids = [((await first.json()) as Job).id];
      for (let i = 0; i < 50 && deploys.counts().running === 0; i++) await new Promise((r) => setTimeout(r, 10));
      for (const tag of ['3', '4', '5', '6']) {
        const r = await hook({ service: 'worker', tag });
        expect(r.status).toBe(202);
        ids.push(((await r.json()) as Job).id);
      }
    } finally {
      release();
    }
    expect(new Set(ids.slice(1)).size).toBe(1); // 3, 4, 5, 6 joined one waiting job
    expect(ids[1]).not.toBe(ids[0]);
    const jobs = await Promise.all([ids[0]!, ids[1]!].map((id) => finished(id)));
    expect(jobs.map((j) => j.status)).toEqual(['succeeded', 'succeeded']);
    expect(jobs[0]!.revision!).toBeLessThan(jobs[1]!.revision!);
    expect(jobs[1]!.changes.map((c) => `${c.service}:${c.tag}`)).toEqual(['worker:6']);
    expect(readFileSync(compose, 'utf8')).toContain('localhost:5000/team/worker:6');
    expect(await imageOf('worker')).toEqual(['localhost:5000/team/worker:6']);
  });

  it('item 5: a replayed signed hook is refused with 409 and deploys nothing; 30 hooks under new ids queue at most a couple of jobs', async () => {
    const text = JSON.stringify({ project: 'shop', service: 'worker', tag: '8' });
    const first = await fetch(`${base}/hooks/deploy`, { method: 'POST', body: text, headers: { 'content-type': 'application/json', 'x-hub-signature-256': hubSignature(text, SECRET), 'x-github-delivery': 'd-1' } });
    expect(first.status).toBe(202);
    await finished(((await first.json()) as Job).id);
    const revisions = deploys.history({ project: 'shop', limit: 500 }).deploys.length;
    const file = readFileSync(compose, 'utf8');
    // the same signed bytes again: under the same delivery id, under a new one, and with none
    for (const extra of [{ 'x-github-delivery': 'd-1' }, { 'x-github-delivery': 'd-2' }, {} as Record<string, string>]) {
      const again = await fetch(`${base}/hooks/deploy`, { method: 'POST', body: text, headers: { 'content-type': 'application/json', 'x-hub-signature-256': hubSignature(text, SECRET), ...extra } });
      expect(again.status).toBe(409);
      expect((await errorOf(again)).code).toBe('REPLAYED');
    }
    await deploys.idle();
    expect(deploys.history({ project: 'shop', limit: 500 }).deploys.length).toBe(revisions);
    expect(readFileSync(compose, 'utf8')).toBe(file);
    // kiboko's signature covers a timestamp and the delivery id: a replay is 409, a stale one 401
    const body = JSON.stringify({ service: 'worker', tag: '7' });
    const k1 = await fetch(`${base}/hooks/deploy`, { method: 'POST', body, headers: { 'content-type': 'application/json', ...kibokoSignatureHeaders(body, SECRET, 'k-1') } });
    expect(k1.status).toBe(202);
    await finished(((await k1.json()) as Job).id);
    const k1again = await fetch(`${base}/hooks/deploy`, { method: 'POST', body, headers: { 'content-type': 'application/json', ...kibokoSignatureHeaders(body, SECRET, 'k-1') } });
    expect(k1again.status).toBe(409);
    const stale = await fetch(`${base}/hooks/deploy`, { method: 'POST', body, headers: { 'content-type': 'application/json', ...kibokoSignatureHeaders(body, SECRET, 'k-2', Date.now() - 10 * 60_000) } });
    expect(stale.status).toBe(401);
    expect((await errorOf(stale)).message).toMatch(/stale signature/);
    const forged = { ...kibokoSignatureHeaders(body, SECRET, 'k-3'), 'x-kiboko-delivery': 'k-4' };
    expect((await fetch(`${base}/hooks/deploy`, { method: 'POST', body, headers: { 'content-type': 'application/json', ...forged } })).status).toBe(401);
    // 30 hooks (the token, new ids each) while a deploy runs: they join one waiting job, not 30
    const before = deploys.history({ project: 'shop', limit: 500 }).deploys.length;
    const release = holdDeploys();
    const ids = new Set<string>();
    try {
      expect((await call('/hooks/deploy', { method: 'POST', json: { service: 'worker', tag: '2' } })).status).toBe(202);
      for (let i = 0; i < 50 && deploys.counts().running === 0; i++) await new Promise((r) => setTimeout(r, 10));
      for (let i = 0; i < 30; i++) {
        const r = await call('/hooks/deploy', { method: 'POST', json: { service: 'worker', tag: String(1 + (i % 8)) }, headers: { 'x-github-delivery': `burst-${i}` } });
        expect(r.status).toBe(202);
        ids.add(((await r.json()) as Job).id);
      }
      expect(deploys.counts().queued).toBe(1);
    } finally {
      release();
    }
    expect(ids.size).toBe(1);
    await deploys.idle();
    expect(deploys.history({ project: 'shop', limit: 500 }).deploys.length - before).toBe(2); // the held deploy and the one coalesced hook job
  });

  it('maps Docker Hub, registry v2 and GitHub package notifications to the services running that repository', async () => {
    const hub = await hook({ push_data: { tag: '2.0.0', pusher: 'ci' }, repository: { repo_name: 'acme/web' } });
    expect(hub.status).toBe(202);
    expect(await finished(((await hub.json()) as Job).id)).toMatchObject({ status: 'succeeded', service: 'web', tag: '2.0.0', source: 'dockerhub' });
    const reg = await hook({ events: [{ action: 'push', target: { repository: 'team/worker', tag: '7' }, request: { host: 'registry.internal' } }, { action: 'pull', target: { repository: 'team/worker', tag: '6' } }] });
    expect(reg.status).toBe(202);
    expect(await finished(((await reg.json()) as Job).id)).toMatchObject({ status: 'succeeded', service: 'worker', tag: '7', source: 'registry' });
    const gh = await hook({ action: 'published', registry_package: { name: 'api', namespace: 'acme', package_type: 'CONTAINER', package_version: { container_metadata: { tag: { name: 'v2' } } } } }, { 'x-github-event': 'registry_package' });
    expect(gh.status).toBe(202);
    expect(await finished(((await gh.json()) as Job).id)).toMatchObject({ status: 'succeeded', service: 'api', tag: 'v2', source: 'github' });
    expect(await imageOf('api')).toEqual(['ghcr.io/acme/api:v2']);
    // Another team's repository: acknowledged (a registry would retry a 4xx forever), nothing deployed.
    const other = await hook({ events: [{ action: 'push', target: { repository: 'other/thing', tag: '1' } }] });
    expect(other.status).toBe(200);
    expect(await other.json()).toEqual({ jobs: [], ignored: 1, unmatched: ['other/thing:1'] });
    expect((await hook({ zen: 'hi' }, { 'x-github-event': 'ping' })).status).toBe(200);
  });

  it('a failed deploy gives the compose file its previous tag back', async () => {
    const before = readFileSync(compose, 'utf8');
    const r = await hook({ service: 'worker', tag: '99' }); // no such image: the pull fails
    expect(r.status).toBe(202);
    const done = await finished(((await r.json()) as Job).id);
    expect(done.status).toBe('failed');
    expect(done.changes[0]!.restored).toBe(true);
    expect(readFileSync(compose, 'utf8')).toBe(before);
  });

  it('unknown services and projects are 404; bad bodies 400; wrong methods 405', async () => {
    expect((await hook({ service: 'nope', tag: '1' })).status).toBe(404);
    expect((await hook({ service: 'web', tag: '1', project: 'other' })).status).toBe(404);
    expect((await call('/v1/deploys', { method: 'POST', json: { project: 'other' } })).status).toBe(404);
    expect((await call('/v1/deploys/dj_nope')).status).toBe(404);
    expect((await call('/v1/deploys/shop@999')).status).toBe(404);
    const bad = await call('/v1/deploys', { method: 'POST', body: '{"project":' });
    expect(bad.status).toBe(400);
    expect((await errorOf(bad)).message).toMatch(/not valid JSON/);
    expect((await call('/v1/deploys', { method: 'POST', json: { project: 'Not A Name' } })).status).toBe(400);
    expect((await call('/v1/deploys?limit=0')).status).toBe(400);
    const m = await call('/v1/deploys/x', { method: 'DELETE' });
    expect(m.status).toBe(405);
    expect(m.headers.get('allow')).toBe('GET');
    expect((await call('/v1/deploys', { method: 'POST', body: 'x', headers: { 'content-type': 'text/plain' } })).status).toBe(415);
  });

  it('rolls back to any revision as a job', async () => {
    const r = await call('/v1/deploys/rollback', { method: 'POST', json: { project: 'shop', to: 1 } });
    expect(r.status).toBe(202);
    const done = await finished(((await r.json()) as Job).id);
    expect(done).toMatchObject({ status: 'succeeded', kind: 'rollback', rollbackTo: 1 });
    expect(await imageOf('web')).toEqual(['acme/web:1.0.0']);
    const h = deploys.history({ project: 'shop', limit: 1 }).deploys[0]!;
    expect(h).toMatchObject({ trigger: 'rollback', rollbackOf: 1 });
    expect((await call('/v1/deploys/rollback', { method: 'POST', json: { project: 'shop', to: 999 } })).status).toBe(404);
  });
});

describe('chaos experiments through the API', () => {
  it('starts a pause, lists it, and DELETE ends it early with the container unpaused', async () => {
    const victim = engine.add({ name: 'victim', labels: { tier: 'front' } });
    const r = await call('/v1/chaos/experiments', { method: 'POST', json: { action: 'pause', targets: ['victim'], duration: '1h' } });
    expect(r.status).toBe(201);
    const x = (await r.json()) as { id: string; status: string; action: string };
    expect(x).toMatchObject({ status: 'running', action: 'pause' });
    for (let i = 0; i < 100 && (await engine.inspect(victim.id)).status !== 'paused'; i++) await new Promise((res) => setTimeout(res, 10));
    expect((await engine.inspect(victim.id)).status).toBe('paused');
    const list = (await (await call('/v1/chaos/experiments')).json()) as { experiments: { id: string; status: string }[] };
    expect(list.experiments.find((e) => e.id === x.id)?.status).toBe('running');
    const stopped = await call(`/v1/chaos/experiments/${x.id}`, { method: 'DELETE' });
    expect(stopped.status).toBe(200);
    const report = (await stopped.json()) as { status: string; stoppedBy: string; endedAt: string; report: { totals: { ok: number } } };
    expect(report).toMatchObject({ status: 'stopped', stoppedBy: 'api' });
    expect(report.endedAt).toBeTruthy();
    expect((await engine.inspect(victim.id)).status).toBe('running');
    expect(((await (await call(`/v1/chaos/experiments/${x.id}`)).json()) as { status: string }).status).toBe('stopped');
  });

  it('runs a finite experiment to its end, with the report', async () => {
    engine.add({ name: 'kill-me' });
    const r = await call('/v1/chaos/experiments', { method: 'POST', json: { action: 'kill', targets: ['kill-me'], options: { signal: 'SIGTERM' } } });
    expect(r.status).toBe(201);
    const { id } = (await r.json()) as { id: string };
    let x: { status: string; report?: { totals: { ok: number } } } = { status: 'running' };
    for (let i = 0; i < 100 && x.status === 'running'; i++) {
      await new Promise((res) => setTimeout(res, 10));
      x = (await (await call(`/v1/chaos/experiments/${id}`)).json()) as typeof x;
    }
    expect(x.status).toBe('finished');
    expect(x.report?.totals.ok).toBe(1);
  });

  it('refuses bad specs with 400 before touching anything', async () => {
    for (const [spec, msg] of [
      [{ action: 'explode', targets: ['x'] }, /expected one of/],
      [{ action: 'pause', targets: ['victim'] }, /duration is required/],
      [{ action: 'kill' }, /no target/],
      [{ action: 'kill', targets: ['x'], options: { sginal: 'TERM' } }, /unknown option "sginal"/],
      [{ action: 'kill', targets: ['x'], options: { signal: 'SIGNOPE' } }, /signal/i],
      [{ action: 'netem delay', targets: ['x'], duration: '10s', options: { jitter: 500, time: 100 } }, /jitter/],
      [{ action: 'pause', targets: ['re2:(x'], duration: '1s' }, /regex/],
      [{ action: 'pause', targets: ['x'], duration: '10s', interval: '5s' }, /shorter than/],
      [{ action: 'pause', targets: ['x'], duration: '10s', extra: 1 }, /unknown field "extra"/],
    ] as const) {
      const r = await call('/v1/chaos/experiments', { method: 'POST', json: spec });
      expect(r.status, JSON.stringify(spec)).toBe(400);
      expect((await errorOf(r)).message).toMatch(msg);
    }
    expect((await call('/v1/chaos/experiments/cx_nope')).status).toBe(404);
    expect((await call('/v1/chaos/experiments/cx_nope', { method: 'DELETE' })).status).toBe(404);
  });
});

/** Reads an SSE stream until `until` returns true for the events seen so far. */
async function readEvents(path: string, until: (events: { id: number; type: string; data: Record<string, unknown> }[], heartbeats: number) => boolean, headers: Record<string, string> = {}) {
  const ac = new AbortController();
  const r = await call(path, { signal: ac.signal, headers });
  expect(r.status).toBe(200);
  expect(r.headers.get('content-type')).toMatch(/^text\/event-stream/);
  const reader = r.body!.getReader();
  const decoder = new TextDecoder();
  let text = '';
  const events: { id: number; type: string; data: Record<string, unknown> }[] = [];
  let heartbeats = 0;
  const timer = setTimeout(() => ac.abort(), 5000);
  try {
    while (!until(events, heartbeats)) {
      const { value, done } = await reader.read().catch(() => ({ value: undefined, done: true as const }));
      if (done) break;
      text += decoder.decode(value, { stream: true });
      let sep: number;
      while ((sep = text.indexOf('\n\n')) >= 0) {
        const frame = text.slice(0, sep);
        text = text.slice(sep + 2);
        if (frame.startsWith(': heartbeat')) heartbeats++;
        const data = frame.split('\n').find((l) => l.startsWith('data: '));
        if (data) events.push(JSON.parse(data.slice(6)));
      }
    }
  } finally {
    clearTimeout(timer);
    ac.abort();
  }
  return { events, heartbeats };
}

describe('GET /v1/events', () => {
  it('streams engine events and kiboko events; Last-Event-ID replays what was missed', async () => {
    const seen = readEvents('/v1/events', (es) => es.some((e) => e.type === 'engine.container.start') && es.some((e) => e.type === 'deploy.job.finished'));
    await new Promise((r) => setTimeout(r, 50));
    const c = engine.add({ name: 'sse-target', status: 'exited' });
    await engine.start(c.id);
    await hook({ service: 'worker', tag: '8' });
    const { events, heartbeats } = await seen;
    expect(events.find((e) => e.type === 'engine.container.start')!.data).toMatchObject({ id: c.id, action: 'start' });
    expect(events.find((e) => e.type === 'deploy.job.finished')!.data).toMatchObject({ project: 'shop', status: 'succeeded' });
    expect(heartbeats).toBeGreaterThanOrEqual(0);
    // Resume after the first event: the rest comes from the ring buffer, in order.
    const firstId = events[0]!.id;
    const replay = await readEvents('/v1/events?type=deploy', (es) => es.some((e) => e.type === 'deploy.job.finished'), { 'last-event-id': String(firstId) });
    expect(replay.events.every((e) => e.type.startsWith('deploy.') && e.id > firstId)).toBe(true);
    expect(replay.events.map((e) => e.id)).toEqual([...replay.events.map((e) => e.id)].sort((a, b) => a - b));
    const since = await readEvents('/v1/events?since=10m&type=chaos.experiment', (es) => es.some((e) => e.type === 'chaos.experiment.started'));
    expect(since.events[0]!.type).toBe('chaos.experiment.started');
    expect((await call('/v1/events?since=yesterday-ish')).status).toBe(400);
    expect((await call('/v1/events', { headers: { 'last-event-id': 'abc' } })).status).toBe(400);
  });

  it('sends a heartbeat comment while idle', async () => {
    const { heartbeats, events } = await readEvents('/v1/events?type=nothing.here', (_, beats) => beats > 0);
    expect(heartbeats).toBeGreaterThan(0);
    expect(events).toEqual([]);
  });
});

describe('GET /metrics', () => {
  it('is Prometheus text with requests, deploys, chaos, engine and auth metrics', async () => {
    const r = await call('/metrics');
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await r.text();
    for (const line of text.split('\n').filter((l) => l && !l.startsWith('#'))) {
      expect(line).toMatch(/^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[^}]*\})? ([-+]?[0-9.eE+-]+|NaN|[+-]Inf)$/);
    }
    expect(text).toMatch(/kiboko_http_requests_total\{method="POST",route="\/hooks\/deploy",status="202"\} \d+/);
    expect(text).toMatch(/kiboko_deploy_jobs_total\{outcome="succeeded"\} \d+/);
    expect(text).toMatch(/kiboko_deploy_jobs_total\{outcome="failed"\} 1/);
    expect(text).toMatch(/kiboko_chaos_experiments_total\{outcome="stopped"\} 1/);
    expect(text).toMatch(/kiboko_engine_up 1/);
    expect(text).toMatch(/kiboko_auth_failures_total\{reason="signature"\} \d+/);
    expect(text).toMatch(/kiboko_process_cpu_user_seconds_total/);
    expect(text).toMatch(/kiboko_http_request_duration_seconds_bucket/);
  });
});

describe('fuzzing the native API (property): 4xx with a JSON error, never a 5xx', () => {
  const expectClientError = async (r: Response, what: string) => {
    expect(r.status, what).toBeLessThan(500);
    if (r.status >= 400) {
      const e = (await r.json()) as { error: { code: unknown; message: unknown } };
      expect(typeof e.error.code, what).toBe('string');
      expect(typeof e.error.message, what).toBe('string');
    } else await r.arrayBuffer();
  };
  const segment = fc.stringMatching(/^[A-Za-z0-9@:._%~!$&'()*+,;=-]{0,40}$/);
  const body = fc.oneof(
    fc.string({ maxLength: 300 }),
    fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)),
    fc.record({ project: fc.oneof(fc.string(), fc.constant('shop'), fc.integer()), to: fc.oneof(fc.integer(), fc.string(), fc.constant(undefined)) }).map((v) => JSON.stringify(v)),
    fc.record({ service: fc.oneof(fc.constantFrom('web', 'worker', 'api'), fc.string()), tag: fc.oneof(fc.string({ maxLength: 140 }), fc.constantFrom('latest', '0.0.1', 'v', '-x')) }).map((v) => JSON.stringify(v)),
    fc
      .record({
        action: fc.oneof(fc.constantFrom('kill', 'stop', 'pause', 'restart', 'netem delay', 'netem loss', 'rate', 'partition', 'iptables loss', 'stress', 'netem:rate'), fc.string()),
        targets: fc.oneof(fc.array(fc.string(), { maxLength: 3 }), fc.constant(['re2:^fuzz-none$'])),
        duration: fc.oneof(fc.constantFrom('10s', '0', '-1s', '1x', ''), fc.integer()),
        interval: fc.oneof(fc.constantFrom('5s', '1m', 'x'), fc.constant(undefined)),
        options: fc.dictionary(fc.constantFrom('signal', 'time', 'restart', 'rate', 'peer', 'percent', 'jitter', 'mode', 'probability', 'target', 'interface', 'x'), fc.oneof(fc.string(), fc.integer(), fc.boolean())),
        dryRun: fc.constant(true),
      })
      .map((v) => JSON.stringify(v)),
  );

  it('every route, every method, any body', { timeout: 60_000 }, async () => {
    const routes = ['/v1/projects', '/v1/units', '/v1/deploys', '/v1/deploys/plan', '/v1/deploys/rollback', '/hooks/deploy', '/v1/chaos/experiments', '/metrics', '/v1', '/v1/x/y'];
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...routes), fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH'), body, fc.constantFrom('application/json', 'text/plain', 'application/x-www-form-urlencoded', ''), async (path, method, b, type) => {
        const r = await call(path, { method, ...(method === 'GET' ? {} : { body: b }), headers: type ? { 'content-type': type } : {} });
        await expectClientError(r, `${method} ${path} ${b}`);
      }),
      { numRuns: 300 },
    );
  });

  it('ids, names and query strings in the path', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('/v1/deploys/', '/v1/chaos/experiments/', '/v1/units/', '/v1/deploys?limit=', '/v1/deploys?project=', '/v1/events?since=', '/v1/events?type='), segment, fc.constantFrom('GET', 'DELETE', 'POST'), async (prefix, s, method) => {
        const ac = new AbortController();
        const r = await call(`${prefix}${s}`, { method, signal: ac.signal });
        if (r.headers.get('content-type')?.startsWith('text/event-stream')) {
          expect(r.status).toBe(200);
          ac.abort();
          return;
        }
        await expectClientError(r, `${method} ${prefix}${s}`);
      }),
      { numRuns: 300 },
    );
  });

  it('signed hooks with fuzzed bodies', { timeout: 60_000 }, async () => {
    await fc.assert(
      fc.asyncProperty(body, async (b) => {
        const r = await fetch(`${base}/hooks/deploy`, { method: 'POST', body: b, signal: AbortSignal.timeout(3000), headers: { 'content-type': 'application/json', 'x-hub-signature-256': hubSignature(b, SECRET) } });
        await expectClientError(r, b);
      }),
      { numRuns: 200 },
    );
    await deploys.idle();
    await chaos.close();
  });
});
