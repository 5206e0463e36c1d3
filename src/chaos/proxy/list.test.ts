import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Journal, type JournalEntry } from '../../journal/index.js';
import { startHoldControl } from './control.js';
import { PROXY_JOURNAL_KIND, applyHoldCommand } from './hold.js';
import { setTransparentEnabled, setTransparentToxics, transparentProxies } from './list.js';

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

describe('setTransparentToxics', () => {
  it('sends a running fault new toxics through its holder, which applies them in the agent and records them: the listing shows them per listener', async () => {
    const j = journal();
    const target = { id: 'c1', name: 'web' };
    const proxy = { incoming: { '80': 41000 }, outgoing: { destinations: [{ port: 53 }], agentPort: 41002 }, toxics: [toxic], httpFaults: 0 };
    const sent: Record<string, unknown>[] = [];
    let entry: JournalEntry | undefined;
    const control = await startHoldControl((c) => applyHoldCommand(c, { request: async (command) => void sent.push(command) }, entry, j));
    try {
      entry = await j.record({ runId: 'r1', kind: PROXY_JOURNAL_KIND, target, deadline: new Date(Date.now() + 60_000).toISOString(), data: { proxy, control: control.address } });
      const slow = { ...toxic, name: 'slow', attributes: { latency: 900, jitter: 0 } };
      await setTransparentToxics(j, 'kiboko:web:in:80', [toxic, slow]);
      expect(sent).toEqual([{ op: 'toxics', proxy: 'incoming-80', toxics: [toxic, slow] }]);
      const listed = await transparentProxies(j);
      expect(listed.find((p) => p.name === 'kiboko:web:in:80')?.toxics).toEqual([toxic, slow]);
      expect(listed.find((p) => p.name === 'kiboko:web:out')?.toxics).toEqual([toxic]); // the other listener keeps its own
      await setTransparentToxics(j, 'kiboko:web:out', []);
      expect((await transparentProxies(j)).find((p) => p.name === 'kiboko:web:out')?.toxics).toEqual([]);
      await setTransparentEnabled(j, 'kiboko:web:out', false);
      expect(sent.at(-1)).toEqual({ op: 'enabled', proxy: 'outgoing', enabled: false });
      expect((await transparentProxies(j)).map((p) => [p.name, p.enabled])).toEqual([
        ['kiboko:web:in:80', true],
        ['kiboko:web:out', false],
      ]);
      await expect(setTransparentToxics(j, 'kiboko:web:in:81', [])).rejects.toMatchObject({ status: 404 });
    } finally {
      await control.close();
    }
    // once its holder has ended, a change is refused (409), and nothing is recorded
    await expect(setTransparentToxics(j, 'kiboko:web:in:80', [])).rejects.toMatchObject({ status: 409 });
    expect(sent).toHaveLength(3);
  });

  it('a fault journaled without a control channel (an older kiboko) is read-only: 409', async () => {
    const j = journal();
    await j.record({ runId: 'r1', kind: PROXY_JOURNAL_KIND, target: { id: 'c1', name: 'web' }, deadline: new Date().toISOString(), data: { proxy: { incoming: { '80': 1 }, toxics: [], httpFaults: 0 } } });
    await expect(setTransparentToxics(j, 'kiboko:web:in:80', [])).rejects.toMatchObject({ status: 409, message: expect.stringMatching(/older kiboko/) });
    await expect(setTransparentEnabled(j, 'kiboko:web:in:80', false)).rejects.toMatchObject({ status: 409 });
  });

  it('a failed change in the agent leaves the recorded toxics as they were', async () => {
    const j = journal();
    let entry: JournalEntry | undefined;
    const control = await startHoldControl((c) => applyHoldCommand(c, { request: async () => Promise.reject(new Error('the agent exited')) }, entry, j));
    try {
      entry = await j.record({ runId: 'r1', kind: PROXY_JOURNAL_KIND, target: { id: 'c1', name: 'web' }, deadline: new Date().toISOString(), data: { proxy: { incoming: { '80': 1 }, toxics: [toxic], httpFaults: 0 }, control: control.address } });
      await expect(setTransparentToxics(j, 'kiboko:web:in:80', [])).rejects.toMatchObject({ status: 409, message: expect.stringMatching(/the agent exited/) });
      expect((await transparentProxies(j))[0]?.toxics).toEqual([toxic]);
    } finally {
      await control.close();
    }
  });
});
