import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Journal } from '../../journal/index.js';
import { PROXY_JOURNAL_KIND } from './hold.js';
import { transparentProxies } from './list.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
const journal = () => {
  const d = mkdtempSync(join(tmpdir(), 'kiboko-list-'));
  dirs.push(d);
  return new Journal(d);
};
const toxic = { name: 'lat', type: 'latency' as const, stream: 'downstream' as const, toxicity: 1, attributes: { latency: 200, jitter: 0 } };

describe('transparentProxies', () => {
  it('lists each open proxy fault in toxiproxy shape: one per incoming port, one for outgoing traffic; closed entries and other kinds are not listed', async () => {
    const j = journal();
    const target = { id: 'c1', name: 'web' };
    const proxy = { incoming: { '80': 41000, '8080': 41001 }, outgoing: { destinations: [{ cidr: '172.17.0.3', port: 5432 }, { port: 53 }], agentPort: 41002 }, toxics: [toxic], httpFaults: 0 };
    await j.record({ runId: 'r1', kind: PROXY_JOURNAL_KIND, target, deadline: new Date(Date.now() + 60_000).toISOString(), data: { proxy } });
    await j.record({ runId: 'r1', kind: 'pause', target, deadline: new Date(Date.now() + 60_000).toISOString(), data: {} });
    const closed = await j.record({ runId: 'r0', kind: PROXY_JOURNAL_KIND, target: { id: 'c0', name: 'old' }, deadline: new Date().toISOString(), data: { proxy } });
    await j.close(closed, 'restored');
    await j.record({ runId: 'r2', kind: PROXY_JOURNAL_KIND, target: { id: 'c2', name: 'before' }, deadline: new Date().toISOString(), data: {} }); // written before listings existed
    expect(await transparentProxies(j)).toEqual([
      { name: 'kiboko:web:in:80', listen: 'web:80', upstream: '127.0.0.1:80', enabled: true, toxics: [toxic] },
      { name: 'kiboko:web:in:8080', listen: 'web:8080', upstream: '127.0.0.1:8080', enabled: true, toxics: [toxic] },
      { name: 'kiboko:web:out', listen: '127.0.0.1:41002', upstream: '172.17.0.3:5432,*:53', enabled: true, toxics: [toxic] },
    ]);
  });

  it('an empty or missing state directory lists nothing', async () => {
    expect(await transparentProxies(new Journal(join(tmpdir(), `kiboko-none-${process.pid}-${Date.now()}`)))).toEqual([]);
  });
});
