import { describe, expect, it } from 'vitest';
import { engineContract } from './contract.js';
import { FakeEngine } from './fake.js';

engineContract('FakeEngine', async () => {
  const engine = new FakeEngine();
  engine.addImage({ tags: ['busybox:latest'] });
  return { engine, image: 'busybox:latest', label: ['kiboko.test', 'contract-fake'] };
});

describe('FakeEngine events', () => {
  it('streams live events, then throws ENGINE_UNREACHABLE when the stream is dropped', async () => {
    const engine = new FakeEngine();
    const seen: string[] = [];
    const reader = (async () => {
      try {
        for await (const e of engine.events({ filters: { event: ['die'] } })) seen.push(`${e.action}:${e.attributes.exitCode}`);
        return 'ended';
      } catch (err) {
        return (err as { code?: string }).code;
      }
    })();
    await new Promise((r) => setTimeout(r, 5));
    const c = engine.add({ name: 'a' });
    await engine.kill(c.id, 'SIGKILL');
    await new Promise((r) => setTimeout(r, 5));
    engine.dropEventStreams();
    expect(await reader).toBe('ENGINE_UNREACHABLE');
    expect(seen).toEqual(['die:137']);
  });

  it('ends at abort', async () => {
    const engine = new FakeEngine();
    const ac = new AbortController();
    const reader = (async () => {
      for await (const _ of engine.events({ signal: ac.signal })) void _;
      return 'ended';
    })();
    await new Promise((r) => setTimeout(r, 5));
    ac.abort();
    expect(await reader).toBe('ended');
  });
});
