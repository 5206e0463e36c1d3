import { createHmac } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kibokoSignatureHeaders } from '../../src/server/index.js';
import { docker, IMAGE, scope, startCli, state, type CliProcess } from '../helpers.js';

/**
 * `kiboko serve --project` on the real engine: the deploy hook (HMAC-signed) deploys a new tag,
 * the revision shows in the history, a replayed delivery is 409 and deploys nothing (the same
 * containers after), concurrent hooks queue in order, a chaos pause started and
 * stopped through the API leaves the container running, the event stream carries engine and
 * deploy events, and /metrics is Prometheus text.
 */
const PROJECT = `kt-hooks-${Math.random().toString(16).slice(2, 8)}`;
const REPO = `kiboko-test/hookapp-${PROJECT}`;
const TAGS = ['1.0.0', '1.1.0', '1.2.0', '1.3.0', '1.4.0'];
const SECRET = 'serve-api-test-webhook-secret';
const dir = mkdtempSync(join(tmpdir(), 'kiboko-serve-api-'));
const compose = join(dir, 'compose.yaml');
const secretFile = join(dir, 'hook.secret');
const sc = scope('serveapi');
let daemon: CliProcess | undefined;
let base = '';
let token = '';

const service = (name: string, policy: string) => `  ${name}:
    image: ${REPO}:1.0.0
    command: ["sleep", "3600"]
    stop_signal: SIGKILL
    x-kiboko: {tag-policy: ${policy}}
    deploy: {update_config: {monitor: 300ms}}
`;

const api = (path: string, init: RequestInit & { json?: unknown } = {}) =>
  fetch(`${base}${path}`, {
    ...init,
    ...(init.json !== undefined ? { body: JSON.stringify(init.json) } : {}),
    headers: { authorization: `Bearer ${token}`, ...(init.json !== undefined ? { 'content-type': 'application/json' } : {}), ...((init.headers as Record<string, string>) ?? {}) },
  });
const signedHook = (body: unknown, secret = SECRET) => {
  const text = JSON.stringify(body);
  const sig = `sha256=${createHmac('sha256', secret).update(text).digest('hex')}`;
  return fetch(`${base}/hooks/deploy`, { method: 'POST', body: text, headers: { 'content-type': 'application/json', 'x-hub-signature-256': sig } });
};
type Job = { id: string; status: string; seq: number; revision?: number; tag?: string };
async function waitJob(id: string): Promise<Job> {
  for (let i = 0; i < 600; i++) {
    const j = (await (await api(`/v1/deploys/${id}`)).json()) as Job;
    if (!['queued', 'running'].includes(j.status)) return j;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`deploy job ${id} did not finish`);
}
const containersOf = async (svc: string) => docker.listContainers({ all: true, filters: JSON.stringify({ label: [`kiboko.deploy.project=${PROJECT}`, `kiboko.deploy.service=${svc}`] }) });
const imageOf = async (svc: string) => Promise.all((await containersOf(svc)).map(async (c) => (await docker.getContainer(c.Id).inspect()).Config.Image));

beforeAll(async () => {
  for (const t of TAGS) await docker.getImage(IMAGE).tag({ repo: REPO, tag: t });
  writeFileSync(compose, `# deployed by kiboko serve\nservices:\n${service('web', 'semver')}${service('worker', 'any')}`);
  writeFileSync(secretFile, `${SECRET}\n`, { mode: 0o600 });
  daemon = startCli(['serve', '--listen', '127.0.0.1:0', '--project', `${PROJECT}=${compose}`, '--webhook-secret-file', secretFile], { stateDir: sc.stateDir });
  await daemon.waitForOutput('"event":"listening"');
  const line = JSON.parse(daemon.stdout().split('\n').find((l) => l.includes('"listening"'))!) as { addresses: string[]; tokenFile: string };
  base = line.addresses[0]!;
  token = readFileSync(line.tokenFile, 'utf8').trim();
});

afterAll(async () => {
  if (daemon && daemon.child.exitCode === null) daemon.child.kill('SIGKILL');
  const list = await docker.listContainers({ all: true, filters: JSON.stringify({ label: [`kiboko.deploy.project=${PROJECT}`] }) });
  await Promise.all(list.map((c) => docker.getContainer(c.Id).remove({ force: true, v: true })));
  for (const n of await docker.listNetworks({ filters: JSON.stringify({ label: [`kiboko.deploy.project=${PROJECT}`] }) })) await docker.getNetwork(n.Id).remove().catch(() => undefined);
  for (const t of TAGS) await docker.getImage(`${REPO}:${t}`).remove().catch(() => undefined);
  await sc.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

describe('kiboko serve: deploy hook and native API on the real engine', () => {
  it('deploys by hook, queues concurrent hooks in order, runs chaos through the API, streams events and serves metrics', async () => {
    // The event stream, read in the background for the whole test.
    const sse = new AbortController();
    const streamed: { type: string; data: Record<string, unknown> }[] = [];
    const reading = (async () => {
      const r = await api('/v1/events', { signal: sse.signal });
      expect(r.status).toBe(200);
      const reader = r.body!.getReader();
      let text = '';
      for (;;) {
        const { value, done } = await reader.read().catch(() => ({ value: undefined, done: true as const }));
        if (done) return;
        text += new TextDecoder().decode(value);
        let sep: number;
        while ((sep = text.indexOf('\n\n')) >= 0) {
          const data = text.slice(0, sep).split('\n').find((l) => l.startsWith('data: '));
          text = text.slice(sep + 2);
          if (data) streamed.push(JSON.parse(data.slice(6)));
        }
      }
    })();

    // No token → 401 everywhere but /healthz.
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    expect((await fetch(`${base}/v1/deploys`)).status).toBe(401);
    expect((await fetch(`${base}/metrics`)).status).toBe(401);

    // First deploy through the API.
    const first = await api('/v1/deploys', { method: 'POST', json: { project: PROJECT } });
    expect(first.status).toBe(202);
    expect(await waitJob(((await first.json()) as Job).id)).toMatchObject({ status: 'succeeded', revision: 1 });
    expect(await imageOf('web')).toEqual([`${REPO}:1.0.0`]);

    // A wrong signature is refused and changes nothing.
    const before = readFileSync(compose, 'utf8');
    const wrong = await signedHook({ service: 'web', tag: '1.1.0' }, 'not-the-secret');
    expect(wrong.status).toBe(401);
    expect(((await wrong.json()) as { error: { code: string } }).error.code).toBe('UNAUTHENTICATED');
    expect(readFileSync(compose, 'utf8')).toBe(before);

    // A signed hook deploys the new tag; the revision shows in the history.
    const hooked = await signedHook({ service: 'web', tag: '1.1.0' });
    expect(hooked.status).toBe(202);
    const job = await waitJob(((await hooked.json()) as Job).id);
    expect(job).toMatchObject({ status: 'succeeded', revision: 2 });
    expect(await imageOf('web')).toEqual([`${REPO}:1.1.0`]);
    // Only the web tag changed in the file; the worker line (same image) and the rest are untouched.
    expect(readFileSync(compose, 'utf8')).toBe(before.replace(`web:\n    image: ${REPO}:1.0.0`, `web:\n    image: ${REPO}:1.1.0`));
    const history = (await (await api(`/v1/deploys?project=${PROJECT}`)).json()) as { deploys: { revision: number; trigger: string; outcome: string; images: Record<string, string> }[] };
    expect(history.deploys[0]).toMatchObject({ revision: 2, trigger: 'webhook', outcome: 'ok', images: { web: `${REPO}:1.1.0` } });

    // The same signed delivery again (a replay, as an attacker who captured it would send it):
    // 409 REPLAYED — under GitHub's scheme with and without a delivery id, and under kiboko's
    // timestamped one — and the engine shows nothing new: the same containers, no new revision.
    const webIds = (await containersOf('web')).map((c) => c.Id).sort();
    const fileAfter = readFileSync(compose, 'utf8');
    const text = JSON.stringify({ service: 'web', tag: '1.1.0' });
    const sig = `sha256=${createHmac('sha256', SECRET).update(text).digest('hex')}`;
    const kiboko = { service: 'web', tag: '1.1.0', project: PROJECT };
    const kText = JSON.stringify(kiboko);
    const kHeaders = kibokoSignatureHeaders(kText, SECRET, `replay-${PROJECT}`);
    const k1 = await fetch(`${base}/hooks/deploy`, { method: 'POST', body: kText, headers: { 'content-type': 'application/json', ...kHeaders } });
    expect(k1.status).toBe(202); // first delivery of these bytes: accepted (same tag, a no-op deploy)
    const k1Job = await waitJob(((await k1.json()) as Job).id);
    expect(k1Job.status).toBe('succeeded');
    const revisionsBefore = ((await (await api(`/v1/deploys?project=${PROJECT}`)).json()) as { deploys: unknown[] }).deploys.length;
    const hubHeaders: Record<string, string>[] = [{ 'x-hub-signature-256': sig }, { 'x-hub-signature-256': sig, 'x-github-delivery': `gh-${PROJECT}` }];
    for (const headers of hubHeaders) {
      const again = await fetch(`${base}/hooks/deploy`, { method: 'POST', body: text, headers: { 'content-type': 'application/json', ...headers } });
      expect(again.status).toBe(409);
      expect(((await again.json()) as { error: { code: string } }).error.code).toBe('REPLAYED');
    }
    const kAgain = await fetch(`${base}/hooks/deploy`, { method: 'POST', body: kText, headers: { 'content-type': 'application/json', ...kHeaders } });
    expect(kAgain.status).toBe(409);
    expect(((await kAgain.json()) as { error: { code: string } }).error.code).toBe('REPLAYED');
    const queue = (await (await api(`/v1/deploys?project=${PROJECT}`)).json()) as { deploys: unknown[]; jobs: unknown[] };
    expect(queue.jobs).toEqual([]);
    expect(queue.deploys.length).toBe(revisionsBefore);
    expect((await containersOf('web')).map((c) => c.Id).sort()).toEqual(webIds);
    expect(readFileSync(compose, 'utf8')).toBe(fileAfter);

    // The semver policy refuses going back: 409, nothing deployed.
    expect((await signedHook({ service: 'web', tag: '1.0.0' })).status).toBe(409);

    // Three hooks at once: all accepted, none lost; those that find a job of the project still
    // waiting join it (the newest tag wins); jobs deploy one after another in the order accepted.
    const burst = await Promise.all(['1.2.0', '1.3.0', '1.4.0'].map((tag) => signedHook({ service: 'worker', tag })));
    expect(burst.map((r) => r.status)).toEqual([202, 202, 202]);
    const ids = await Promise.all(burst.map(async (r) => ((await r.json()) as Job).id));
    const jobs = await Promise.all([...new Set(ids)].map((id) => waitJob(id)));
    expect(jobs.every((j) => j.status === 'succeeded')).toBe(true);
    const ordered = [...jobs].sort((a, b) => a.seq - b.seq);
    expect(ordered.map((j) => j.revision)).toEqual(ordered.map((_, i) => revisionsBefore + 1 + i));
    expect(await imageOf('worker')).toEqual([`${REPO}:${ordered.at(-1)!.tag}`]);

    // A chaos pause started and stopped through the API leaves the container running.
    const victim = await sc.create('victim');
    const started = await api('/v1/chaos/experiments', { method: 'POST', json: { action: 'pause', targets: [`${sc.prefix}victim`], duration: '5m' } });
    expect(started.status).toBe(201);
    const x = (await started.json()) as { id: string; status: string };
    expect(x.status).toBe('running');
    for (let i = 0; i < 100 && !(await state(victim)).paused; i++) await new Promise((r) => setTimeout(r, 50));
    expect((await state(victim)).paused).toBe(true);
    const stopped = await api(`/v1/chaos/experiments/${x.id}`, { method: 'DELETE' });
    expect(stopped.status).toBe(200);
    expect(((await stopped.json()) as { status: string }).status).toBe('stopped');
    expect(await state(victim)).toMatchObject({ status: 'running', paused: false });

    // The stream saw the engine's container events and kiboko's deploy and chaos events.
    for (let i = 0; i < 50 && !streamed.some((e) => e.type === 'chaos.experiment.finished'); i++) await new Promise((r) => setTimeout(r, 100));
    expect(streamed.some((e) => e.type.startsWith('engine.container.') && e.data.id === victim)).toBe(true);
    expect(streamed.some((e) => e.type === 'deploy.job.finished' && e.data.status === 'succeeded')).toBe(true);
    expect(streamed.some((e) => e.type === 'chaos.experiment.finished')).toBe(true);
    sse.abort();
    await reading;

    // /metrics parses as Prometheus text.
    const metrics = await (await api('/metrics')).text();
    for (const l of metrics.split('\n').filter((x) => x && !x.startsWith('#'))) expect(l).toMatch(/^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[^}]*\})? \S+$/);
    expect(metrics).toMatch(new RegExp(`kiboko_deploy_jobs_total\\{outcome="succeeded"\\} ${3 + jobs.length}`));
    expect(metrics).toMatch(/kiboko_engine_up 1/);
    expect(metrics).toMatch(/kiboko_chaos_experiments_total\{outcome="stopped"\} 1/);
    expect(metrics).toMatch(/kiboko_auth_failures_total\{reason="signature"\} 1/);

    // A stop sent the moment the start is answered lands while the pause is still being applied:
    // it ends the experiment at once (the hold used to miss that abort and keep the pause 5 minutes).
    for (let i = 0; i < 5; i++) {
      const quick = await api('/v1/chaos/experiments', { method: 'POST', json: { action: 'pause', targets: [`${sc.prefix}victim`], duration: '5m' } });
      expect(quick.status).toBe(201);
      const end = await api(`/v1/chaos/experiments/${((await quick.json()) as { id: string }).id}`, { method: 'DELETE', signal: AbortSignal.timeout(30_000) });
      expect(end.status).toBe(200);
      expect(((await end.json()) as { status: string }).status).toBe('stopped');
      expect(await state(victim)).toMatchObject({ status: 'running', paused: false });
    }

    // SIGTERM while an experiment holds a pause: the daemon restores it before exiting.
    const held = await api('/v1/chaos/experiments', { method: 'POST', json: { action: 'pause', targets: [`${sc.prefix}victim`], duration: '5m' } });
    expect(held.status).toBe(201);
    for (let i = 0; i < 100 && !(await state(victim)).paused; i++) await new Promise((r) => setTimeout(r, 50));
    expect((await state(victim)).paused).toBe(true);
    daemon!.child.kill('SIGTERM');
    expect((await daemon!.done).code).toBe(0);
    expect(await state(victim)).toMatchObject({ status: 'running', paused: false });
  });
});
