import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeEngine } from '../engine/index.js';
import { RegistryClient } from '../registry/index.js';
import { runWatchPass } from './pass.js';

const A = `sha256:${'a'.repeat(64)}`;
const B = `sha256:${'b'.repeat(64)}`;
let server: Server;
let host = '';
let heads = 0;

beforeAll(async () => {
  server = createServer((req, res) => {
    if (req.method === 'HEAD' && req.url === '/v2/team/app/manifests/stable') {
      heads++;
      res.writeHead(200, { 'docker-content-digest': B, 'content-type': 'application/vnd.oci.image.index.v1+json' });
      return res.end();
    }
    res.writeHead(404, { 'content-type': 'application/json' });
    res.end('{"errors":[{"code":"MANIFEST_UNKNOWN"}]}');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  host = `127.0.0.1:${(server.address() as { port: number }).port}`;
});
afterAll(() => void server.close());

function setup() {
  const engine = new FakeEngine();
  const image = `${host}/team/app:stable`;
  engine.addImage({ id: `sha256:${image}`, tags: [image], labels: {}, repoDigests: [`${host}/team/app@${A}`] });
  const mk = (name: string, labels: Record<string, string>) => engine.add({ name, image, labels, status: 'running' });
  mk('enabled', { 'com.centurylinklabs.watchtower.enable': 'true' });
  mk('monitored', { 'com.centurylinklabs.watchtower.enable': 'true', 'com.centurylinklabs.watchtower.monitor-only': 'true' });
  mk('plain', {});
  return { engine, registry: new RegistryClient({ clock: { now: () => Date.now(), sleep: async () => undefined } }) };
}

describe('runWatchPass on standalone containers', () => {
  it('asks the registry once per tag, honours label-enable and monitor-only, and recreates the container with the new image', async () => {
    const { engine, registry } = setup();
    heads = 0;
    const clock = { now: () => Date.now(), sleep: async () => undefined };
    const report = await runWatchPass({ engine, registry, clock, credentials: { configFile: '/nonexistent' } }, { labelEnable: true, settleMs: 0 });
    expect(heads).toBe(1);
    expect(report).toMatchObject({ checked: 2, newer: 2, updated: 1, failed: 0 });
    expect(report.items.map((i) => [i.name, i.status, i.newImage])).toEqual([
      ['monitored', 'newer', `${host}/team/app@${B}`],
      ['enabled', 'updated', `${host}/team/app@${B}`],
    ]);
    const names = (await engine.list({ all: true })).map((c) => c.name).sort();
    expect(names).toEqual(['enabled', 'monitored', 'plain']);
    const ops = engine.calls.map((c) => c.op);
    expect(ops.indexOf('pull')).toBeLessThan(ops.indexOf('rename'));
    expect(ops.filter((o) => o === 'clone')).toHaveLength(1);
    registry.close();
  });

  it('a failed pull leaves everything as it was', async () => {
    const { engine, registry } = setup();
    const { KibokoError } = await import('../common/errors.js');
    engine.failWith = (op) => (op === 'pull' ? new KibokoError('REGISTRY_UNAUTHORIZED', 'pull: unauthorized') : undefined);
    const before = await engine.list({ all: true });
    const report = await runWatchPass({ engine, registry, clock: { now: () => Date.now(), sleep: async () => undefined }, credentials: { configFile: '/nonexistent' } }, { labelEnable: true, settleMs: 0 });
    expect(report).toMatchObject({ updated: 0, failed: 1, items: expect.arrayContaining([expect.objectContaining({ name: 'enabled', status: 'failed', error: expect.objectContaining({ code: 'REGISTRY_UNAUTHORIZED' }) })]) });
    expect(await engine.list({ all: true })).toEqual(before);
    expect(engine.calls.some((c) => ['rename', 'clone', 'stop', 'remove'].includes(c.op))).toBe(false);
    registry.close();
  });
});
