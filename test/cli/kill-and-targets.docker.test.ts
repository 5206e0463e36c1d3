import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEAF, events, runCli, scope, state, TEST_LABEL, waitFor } from '../helpers.js';

const s = scope('kill');
afterAll(() => s.cleanup());

describe('kiboko chaos kill (real engine)', () => {
  it('delivers SIGTERM to a PID 1 that traps it: the container exits with the trap’s code', async () => {
    const id = await s.create('trap');
    const r = await runCli(['chaos', 'kill', '--signal', 'SIGTERM', `${s.prefix}trap`], { stateDir: s.stateDir });
    expect(r.code, r.stderr).toBe(0);
    const st = await waitFor(async () => {
      const x = await state(id);
      return x.status === 'exited' && x;
    });
    expect(st.exitCode).toBe(42);
  });

  it('kills with SIGKILL by default (exit 137, even a PID 1 that ignores SIGTERM)', async () => {
    const id = await s.create('deaf', { cmd: DEAF });
    const r = await runCli(['chaos', 'kill', `${s.prefix}deaf`], { stateDir: s.stateDir });
    expect(r.code, r.stderr).toBe(0);
    const st = await waitFor(async () => {
      const x = await state(id);
      return x.status === 'exited' && x;
    });
    expect(st.exitCode).toBe(137);
  });

  it('rejects an invalid signal before touching anything', async () => {
    const id = await s.create('badsig');
    const r = await runCli(['chaos', 'kill', '-s', 'SIGFOO', `${s.prefix}badsig`], { stateDir: s.stateDir });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/invalid signal 'SIGFOO'.* — /);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect((await state(id)).status).toBe('running');
  });
});

describe('target selection (real engine)', () => {
  let ids: Record<string, string> = {};
  beforeAll(async () => {
    ids = {
      web1: await s.create('sel-web-1', { labels: { tier: 'front' } }),
      web2: await s.create('sel-web-2', { labels: { tier: 'back' } }),
      db: await s.create('sel-db'),
      skip: await s.create('sel-web-skip', { labels: { 'kiboko.skip': 'true' } }),
      pumbaSkip: await s.create('sel-web-pskip', { labels: { 'com.gaiaadm.pumba.skip': 'true' } }),
      stopped: await s.create('sel-web-stopped', { start: false }),
    };
  });

  const selected = async (args: string[]) => {
    const r = await runCli(['chaos', '--json', '--dry-run', ...args], { stateDir: s.stateDir });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const ev = events(r.stdout).find((e) => e.event === 'targets-selected') as { targets?: { name: string }[]; seed?: number } | undefined;
    return { names: (ev?.targets ?? []).map((t) => t.name).sort(), seed: ev?.seed, stdout: r.stdout };
  };

  it('re2:^name selects exactly the matching running containers', async () => {
    const { names } = await selected(['kill', `re2:^${s.prefix}sel-web-\\d$`]);
    expect(names).toEqual([`${s.prefix}sel-web-1`, `${s.prefix}sel-web-2`]);
  });

  it('a list selects those names', async () => {
    const { names } = await selected(['kill', `${s.prefix}sel-web-1`, `${s.prefix}sel-db`]);
    expect(names).toEqual([`${s.prefix}sel-db`, `${s.prefix}sel-web-1`]);
  });

  it('--label narrows (AND, repeatable)', async () => {
    const { names } = await selected(['kill', '--label', 'tier=front', `re2:^${s.prefix}sel-web`]);
    expect(names).toEqual([`${s.prefix}sel-web-1`]);
    const none = await selected(['kill', '--label', 'tier=front', '--label', 'tier=back', `re2:^${s.prefix}sel`]);
    expect(none.names).toEqual([]);
  });

  it('--random picks one, and --seed makes the pick repeatable', async () => {
    const pattern = `re2:^${s.prefix}sel-`;
    const picks = new Set<string>();
    for (const seed of [1, 2, 3, 4, 5, 6, 7, 8]) {
      const a = await selected(['kill', '--random', '--seed', String(seed), pattern]);
      const b = await selected(['kill', '--random', '--seed', String(seed), pattern]);
      expect(a.names).toHaveLength(1);
      expect(b.names).toEqual(a.names);
      expect(a.seed).toBe(seed);
      picks.add(a.names[0]!);
    }
    expect(picks.size).toBeGreaterThan(1);
  });

  it('skip-labelled containers survive re2:.* (a real kill, fenced to this test’s containers by label)', async () => {
    const r = await runCli(['chaos', 'kill', '--label', `${TEST_LABEL}=${s.id}`, 're2:.*'], { stateDir: s.stateDir });
    expect(r.code, r.stderr).toBe(0);
    expect((await state(ids.skip!)).status).toBe('running');
    expect((await state(ids.pumbaSkip!)).status).toBe('running');
    for (const k of ['web1', 'web2', 'db'] as const) {
      expect((await waitFor(async () => (await state(ids[k]!)).status === 'exited' && 'exited'))).toBe('exited');
    }
    expect((await state(ids.stopped!)).status).toBe('created');
  });
});
