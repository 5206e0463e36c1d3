import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Clock } from '../common/clock.js';
import { FakeEngine } from '../engine/index.js';
import { parseTargetArgs } from '../targets/index.js';
import type { Backend } from './backends/types.js';
import type { KvSnapshot } from './keys.js';
import { affects, runTemplate, type Renderer, type TemplateEvent } from './run.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'kiboko-run-'));
  mkdirSync(join(dir, 'conf.d'));
  mkdirSync(join(dir, 'templates'));
  mkdirSync(join(dir, 'out'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** A stand-in renderer: replaces {{k}} with the snapshot's value (the Go engine is tested elsewhere). */
const render: Renderer = (_r, text, snap: KvSnapshot) => text.replace(/\{\{(.*?)\}\}/g, (_m, k: string) => {
  const v = snap.get(k.trim());
  if (v === undefined) throw new Error(`key does not exist: ${k.trim()}`);
  return v;
});

/** An in-memory backend whose watch is driven by the test. */
function memoryBackend(values: Record<string, string>) {
  let notify: ((keys: string[] | undefined) => void) | undefined;
  let watching: () => void = () => undefined;
  const ready = new Promise<void>((r) => (watching = r));
  const b: Backend & { set(k: string, v: string): void; ready: Promise<void> } = {
    name: 'etcd',
    async getValues(keys) {
      return new Map(Object.entries(values).filter(([k]) => keys.some((key) => k === key || k.startsWith(`${key}/`))));
    },
    async watch(_p, signal, { onChange, onReady }) {
      notify = onChange;
      watching();
      onReady?.();
      await new Promise<void>((r) => signal.addEventListener('abort', () => r(), { once: true }));
    },
    async close() {},
    set(k, v) {
      values[k] = v;
      notify?.([k]);
    },
    ready,
  };
  return b;
}

function resource(name: string, keys: string[], template: string, extra = '') {
  writeFileSync(join(dir, 'templates', `${name}.tmpl`), template);
  writeFileSync(join(dir, 'conf.d', `${name}.toml`), `[template]\nsrc = "${name}.tmpl"\ndest = "${join(dir, 'out', name)}"\nkeys = ${JSON.stringify(keys)}\n${extra}`);
}

const out = (name: string) => readFileSync(join(dir, 'out', name), 'utf8');

describe('runTemplate', () => {
  it('--onetime renders every resource and reports failures per resource', async () => {
    resource('a', ['/app'], 'port={{/app/port}}\n');
    resource('b', ['/app'], 'missing={{/app/nope}}\n');
    const events: TemplateEvent[] = [];
    const s = await runTemplate({ backend: memoryBackend({ '/app/port': '80' }), render, confdir: dir, mode: 'onetime', onEvent: (e) => events.push(e) });
    expect(out('a')).toBe('port=80\n');
    expect(s).toMatchObject({ cycles: 1, failed: 1, changed: 1 });
    expect(events.find((e) => e.type === 'render-failed')).toMatchObject({ resource: 'b.toml' });
  });

  it('the prefix scopes keys (a global prefix replaces the resource one)', async () => {
    resource('a', ['/db'], 'host={{/db/host}}\n', 'prefix = "/staging"\n');
    await runTemplate({ backend: memoryBackend({ '/production/db/host': 'prod', '/staging/db/host': 'stg' }), render, confdir: dir, prefix: '/production', mode: 'onetime' });
    expect(out('a')).toBe('host=prod\n');
  });

  it('refuses --watch on the env backend', async () => {
    resource('a', ['/app'], 'x');
    const { envBackend } = await import('./backends/env.js');
    await expect(runTemplate({ backend: envBackend({}), render, confdir: dir, mode: 'watch' })).rejects.toThrow('the env backend cannot be watched — use --interval');
  });

  it('--watch re-renders only the resources a change concerns, after the wait', async () => {
    resource('a', ['/app'], 'port={{/app/port}}\n', `reload_cmd = "echo a >> ${join(dir, 'reloads')}"\n`);
    resource('b', ['/other'], 'v={{/other/v}}\n', `reload_cmd = "echo b >> ${join(dir, 'reloads')}"\n`);
    const backend = memoryBackend({ '/app/port': '80', '/other/v': '1' });
    const ac = new AbortController();
    const events: TemplateEvent[] = [];
    const done = runTemplate({
      backend,
      render,
      confdir: dir,
      mode: 'watch',
      signal: ac.signal,
      onEvent: (e) => {
        events.push(e);
        if (e.type === 'cycle-finished' && e.cycle === 1) backend.set('/app/port', '81');
        if (e.type === 'cycle-finished' && e.cycle === 2) ac.abort();
      },
    });
    const s = await done;
    expect(out('a')).toBe('port=81\n');
    expect(readFileSync(join(dir, 'reloads'), 'utf8').split('\n').filter(Boolean).sort()).toEqual(['a', 'a', 'b']);
    expect(events.filter((e) => e.type === 'cycle-started').map((e) => (e as { resources: string[] }).resources)).toEqual([['a.toml', 'b.toml'], ['a.toml']]);
    expect(s.interrupted).toBe(true);
  });

  it('--watch with --wait coalesces a burst of changes into one render', async () => {
    resource('a', ['/app'], 'port={{/app/port}}\n');
    const backend = memoryBackend({ '/app/port': '80' });
    const ac = new AbortController();
    let t = 0;
    const clock: Clock = {
      now: () => t,
      sleep: async (ms) => {
        // Virtual time; while the render waits for quiet, two more changes arrive.
        if (ms === 1000 && t === 0) {
          t += 300;
          backend.set('/app/port', '82');
          t += 300;
          backend.set('/app/port', '83');
        }
        t += ms;
      },
    };
    let cycles = 0;
    await runTemplate({
      backend,
      render,
      confdir: dir,
      mode: 'watch',
      wait: { minMs: 1000, maxMs: 5000 },
      clock,
      signal: ac.signal,
      onEvent: (e) => {
        if (e.type === 'cycle-finished' && ++cycles === 1) backend.set('/app/port', '81');
        if (e.type === 'cycle-finished' && cycles === 2) ac.abort();
      },
    });
    expect(cycles).toBe(2);
    expect(out('a')).toBe('port=83\n');
  });

  it('writes into containers through the engine, rendering once on the host', async () => {
    resource('a', ['/app'], 'port={{/app/port}}\n', 'reload_cmd = "kill -HUP 1"\nmode = "0600"\n');
    const engine = new FakeEngine();
    const ids = [];
    for (const name of ['web-1', 'web-2']) {
      const ref = await engine.create({ image: 'busybox', name });
      await engine.start(ref.id);
      ids.push(ref.id);
    }
    const dest = join(dir, 'out', 'a');
    engine.execHandler = (id, cmd) => {
      if (cmd[0] === 'sh' && cmd[2]?.startsWith('command -v mv')) return { exitCode: 0, stdout: 'atomic\n', stderr: '' };
      if (cmd[0] === 'mv') {
        engine.writeFile(id, cmd[3]!, engine.readFile(id, cmd[2]!)!, 0o600);
        return { exitCode: 0, stdout: '', stderr: '' };
      }
      return { exitCode: 0, stdout: '', stderr: '' };
    };
    const events: TemplateEvent[] = [];
    const s = await runTemplate({
      backend: memoryBackend({ '/app/port': '8080' }),
      render,
      confdir: dir,
      mode: 'onetime',
      containers: { engine, query: parseTargetArgs(['re2:^web-']), selection: { selfId: null } },
      onEvent: (e) => events.push(e),
    });
    expect(s.failed).toBe(0);
    for (const id of ids) expect(engine.readFile(id, dest)).toBe('port=8080\n');
    const execs = engine.calls.filter((c) => c.op === 'exec').map((c) => (c.args as string[]).join(' '));
    expect(execs.filter((c) => c.includes('kill -HUP 1'))).toHaveLength(2);
    expect(execs.some((c) => c.startsWith(`mv -f ${join(dir, 'out')}/.a.kiboko-`))).toBe(true);
  });
});

describe('affects', () => {
  it('matches a changed key against the resource’s prefixed keys', () => {
    const r = { file: 'a', name: 'a', src: 's', dest: 'd', keys: ['/db', '/web'], prefix: '/prod' };
    expect(affects(r, '/prod/db/host')).toBe(true);
    expect(affects(r, '/prod/cache/x')).toBe(false);
  });
});
