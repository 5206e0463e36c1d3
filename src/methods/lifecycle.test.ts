import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Clock } from '../common/clock.js';
import { KibokoError } from '../common/errors.js';
import { FakeEngine, type ExecOptions, type ExecResult } from '../engine/index.js';
import { checkMethodGate, declaredMethods, parseMethodCommand, resolveMethod, runLifecycle, runMethod, selectLifecycleTargets, worstCode, type LifecycleCode, type LifecycleEvent } from './lifecycle.js';

/** Sleeping never waits: a sleep resolves when the test advances time past it. */
class ManualClock implements Clock {
  t = 0;
  private timers: { at: number; resolve: () => void; reject: (e: unknown) => void }[] = [];
  now() {
    return this.t;
  }
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(new DOMException('aborted', 'AbortError'));
      const timer = { at: this.t + ms, resolve, reject };
      this.timers.push(timer);
      signal?.addEventListener('abort', () => {
        this.timers = this.timers.filter((x) => x !== timer);
        reject(new DOMException('aborted', 'AbortError'));
      });
    });
  }
  advance(ms: number) {
    this.t += ms;
    const due = this.timers.filter((x) => x.at <= this.t);
    this.timers = this.timers.filter((x) => x.at > this.t);
    for (const d of due) d.resolve();
  }
}

/** A fake engine whose exec can stream, hang, or fail per container. */
class ExecEngine extends FakeEngine {
  hang = new Set<string>();
  override async exec(id: string, options: ExecOptions): Promise<ExecResult> {
    const r = await super.exec(id, options);
    const c = await this.inspect(id);
    if (this.hang.has(c.name)) {
      return new Promise((_, reject) => options.signal?.addEventListener('abort', () => reject(new KibokoError('CANCELLED', `exec in ${id}: cancelled`))));
    }
    if (r.stdout) options.onOutput?.('stdout', r.stdout);
    if (r.stderr) options.onOutput?.('stderr', r.stderr);
    return r;
  }
}

const M = 'kiboko.method.validate';

describe('method declarations', () => {
  it('reads JSON argv lists and shell words, never a shell', () => {
    expect(parseMethodCommand('["/srv/bin/validate.sh", "--deep", "a b"]')).toEqual(['/srv/bin/validate.sh', '--deep', 'a b']);
    expect(parseMethodCommand("/srv/bin/validate.sh --name 'a b' \"c d\"")).toEqual(['/srv/bin/validate.sh', '--name', 'a b', 'c d']);
    expect(parseMethodCommand(`sh -c 'exit 1'`)).toEqual(['sh', '-c', 'exit 1']);
  });

  it('refuses what would need a shell, and malformed lists, with "expected" messages', () => {
    expect(() => parseMethodCommand('check && rm -rf /')).toThrow(/shell operator/);
    expect(() => parseMethodCommand('[1, 2]')).toThrow(/expected a non-empty JSON list of strings/);
    expect(() => parseMethodCommand('[]')).toThrow(/expected a non-empty JSON list/);
    expect(() => parseMethodCommand('["unterminated"')).toThrow(/expected a JSON list of strings/);
    expect(() => parseMethodCommand('   ')).toThrow(/expected a command/);
  });

  it('JSON argv round-trips for any list of non-empty strings', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ minLength: 1 }), { minLength: 1, maxLength: 6 }), (argv) => {
        expect(parseMethodCommand(JSON.stringify(argv))).toEqual(argv);
      }),
    );
  });

  it('resolves from labels: absent, declared, badly declared; lists declared methods', () => {
    expect(resolveMethod({}, 'validate')).toEqual({ declared: false });
    expect(resolveMethod({ [M]: '/bin/true' }, 'validate')).toEqual({ declared: true, command: ['/bin/true'] });
    expect(resolveMethod({ [M]: 'a | b' }, 'validate')).toMatchObject({ declared: true, error: expect.stringMatching(/invalid declaration kiboko.method.validate/) });
    expect(declaredMethods({ [M]: 'x', 'kiboko.method.metrics': 'y', 'kiboko.method.': 'z', other: '1' })).toEqual(['metrics', 'validate']);
  });
});

describe('exit code aggregation', () => {
  it('orders 1 > 3 > 2 > 0 and is 0 for nothing', () => {
    expect(worstCode([])).toBe(0);
    expect(worstCode([0, 2])).toBe(2);
    expect(worstCode([2, 3, 0])).toBe(3);
    expect(worstCode([3, 1, 2, 0])).toBe(1);
  });

  it('is order-independent and always one of its inputs', () => {
    const code = fc.constantFrom<LifecycleCode>(0, 1, 2, 3);
    fc.assert(
      fc.property(fc.array(code, { minLength: 1 }), (codes) => {
        const w = worstCode(codes);
        expect(codes).toContain(w);
        expect(worstCode([...codes].reverse())).toBe(w);
      }),
    );
  });
});

describe('runLifecycle', () => {
  function setup() {
    const engine = new ExecEngine();
    engine.add({ name: 'ok', labels: { [M]: '/bin/validate' } });
    engine.add({ name: 'bad', labels: { [M]: `sh -c 'exit 1'` } });
    engine.add({ name: 'none', labels: {} });
    engine.add({ name: 'stopped', status: 'exited', labels: { [M]: '/bin/validate' } });
    engine.add({ name: 'missing-bin', labels: { [M]: '/nope' } });
    engine.add({ name: 'broken', labels: { [M]: '[not json' } });
    engine.execHandler = (_id, cmd) => {
      if (cmd[0] === 'sh') return { exitCode: 1, stdout: '', stderr: 'db unreachable\n' };
      if (cmd[0] === '/nope') return { exitCode: 127, stdout: '', stderr: 'exec: "/nope": not found' };
      return { exitCode: 0, stdout: 'all good\n', stderr: '' };
    };
    return engine;
  }

  it('gives each container its own typed outcome and the worst overall', async () => {
    const engine = setup();
    const events: LifecycleEvent[] = [];
    const r = await runLifecycle(engine, ['ok', 'bad', 'none', 'stopped', 'missing-bin', 'broken', 'ghost'], 'validate', { onEvent: (e) => events.push(e) });
    const by = Object.fromEntries(r.results.map((x) => [x.container.name, x]));
    expect(by.ok).toMatchObject({ code: 0, outcome: 'ok', exitCode: 0, stdout: 'all good\n', command: ['/bin/validate'] });
    expect(by.bad).toMatchObject({ code: 1, outcome: 'failed', exitCode: 1, stderr: 'db unreachable\n', command: ['sh', '-c', 'exit 1'] });
    expect(by.none).toMatchObject({ code: 2, outcome: 'not-declared' });
    expect(by.stopped).toMatchObject({ code: 3, reason: 'container is exited, not running' });
    expect(by['missing-bin']).toMatchObject({ code: 3, exitCode: 127, reason: expect.stringMatching(/not found/) });
    expect(by.broken).toMatchObject({ code: 3, reason: expect.stringMatching(/invalid declaration/) });
    expect(by.ghost).toMatchObject({ code: 3, reason: 'no such container: ghost' });
    expect(r.code).toBe(1);
    expect(events.filter((e) => e.type === 'method-finished')).toHaveLength(7);
    expect(events).toContainEqual(expect.objectContaining({ type: 'method-output', stream: 'stdout', text: 'all good\n' }));
    // Only declared methods on running containers were executed.
    expect(engine.calls.filter((c) => c.op === 'exec').map((c) => c.args)).toEqual([['/bin/validate'], ['sh', '-c', 'exit 1'], ['/nope']]);
  });

  it('exit code 2 when nothing declares it, 0 when all pass', async () => {
    const engine = setup();
    expect((await runLifecycle(engine, ['none'], 'validate')).code).toBe(2);
    expect((await runLifecycle(engine, ['ok'], 'validate')).code).toBe(0);
    expect((await runLifecycle(engine, [], 'validate')).code).toBe(2);
  });

  it('a method that outlives --timeout could not run (3), without real waiting', async () => {
    const engine = setup();
    engine.hang.add('ok');
    const clock = new ManualClock();
    const p = runMethod(engine, 'ok', 'validate', { timeoutMs: 5_000, clock });
    await new Promise((r) => setTimeout(r, 0));
    clock.advance(5_000);
    const r = await p;
    expect(r).toMatchObject({ code: 3, outcome: 'could-not-run', reason: expect.stringMatching(/did not finish within 5s/) });
    expect(r.durationMs).toBe(5_000);
  });

  it('cancelling reports could-not-run for the container in flight', async () => {
    const engine = setup();
    engine.hang.add('ok');
    const ac = new AbortController();
    const p = runMethod(engine, 'ok', 'validate', { signal: ac.signal, clock: new ManualClock() });
    await new Promise((r) => setTimeout(r, 0));
    ac.abort();
    expect(await p).toMatchObject({ code: 3, reason: 'cancelled' });
  });

  it('refuses an invalid method name', async () => {
    await expect(runLifecycle(setup(), ['ok'], 'bad name')).rejects.toThrow(/invalid method name/);
  });
});

describe('selectLifecycleTargets', () => {
  it('--all: running containers that declare the method; names: any state; labels alone: running ones', async () => {
    const engine = new FakeEngine();
    engine.add({ name: 'web-1', labels: { [M]: 'x', tier: 'web' } });
    engine.add({ name: 'web-2', labels: { tier: 'web' } });
    engine.add({ name: 'web-3', status: 'exited', labels: { [M]: 'x', tier: 'web' } });
    engine.add({ name: 'db', labels: { [M]: 'x', 'kiboko.skip': 'true' } });
    const names = (xs: (string | { name: string })[]) => xs.map((x) => (typeof x === 'string' ? x : x.name));
    expect(names(await selectLifecycleTargets(engine, 'validate', [], { all: true }))).toEqual(['db', 'web-1']);
    expect(names(await selectLifecycleTargets(engine, 'validate', ['re2:^web-'], {}))).toEqual(['web-1', 'web-2', 'web-3']);
    expect(names(await selectLifecycleTargets(engine, 'validate', ['web-3', 'nope'], {}))).toEqual(['web-3', 'nope']);
    expect(names(await selectLifecycleTargets(engine, 'validate', [], { labels: ['tier=web'] }))).toEqual(['web-1', 'web-2']);
    await expect(selectLifecycleTargets(engine, 'validate', [], {})).rejects.toThrow(/no containers given/);
  });
});

describe('checkMethodGate', () => {
  it('ok, retryable failure, and permanent failure (not declared, binary missing)', async () => {
    const engine = new FakeEngine();
    const a = engine.add({ name: 'a', labels: { [M]: '/bin/v' } });
    const b = engine.add({ name: 'b', labels: {} });
    let code = 1;
    engine.execHandler = (_id, cmd) => (cmd[0] === '/bin/v' ? { exitCode: code, stdout: '', stderr: 'not ready yet\n' } : { exitCode: 127, stdout: '', stderr: '' });
    expect(await checkMethodGate(engine, a.id, 'validate')).toEqual({ ok: false, retry: true, reason: 'validate exited with 1 — not ready yet' });
    code = 0;
    expect(await checkMethodGate(engine, a.id, 'validate')).toEqual({ ok: true });
    expect(await checkMethodGate(engine, b.id, 'validate')).toMatchObject({ ok: false, retry: false });
  });
});
