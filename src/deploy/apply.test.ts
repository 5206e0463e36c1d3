import { tmpdir } from 'node:os';
import { describe, expect, it } from 'vitest';
import type { Clock } from '../common/clock.js';
import { KibokoError } from '../common/errors.js';
import { FakeEngine, type ContainerRef, type ContainerSpec, type RemoveOptions } from '../engine/index.js';
import { applyDeploy, type ApplyResult, type DeployEvent } from './apply.js';
import { FRONT_IMAGE } from './front/index.js';
import { configHash, containerConfig } from './hash.js';
import { DEFAULT_ROLLBACK, DEFAULT_UPDATE, type DependsCondition, type ServiceSpec, type SystemConfig, type UpdateConfig } from './model.js';
import { newService } from './model.js';
import { observeProject } from './observe.js';
import { planDeploy, type DeployPlan } from './plan.js';

const PROJECT = 'p';

/** A clock that never waits: sleeping moves time forward; an aborted signal rejects like timers/promises. */
class FakeClock implements Clock {
  t = Date.parse('2030-01-01T00:00:00Z');
  readonly sleeps: number[] = [];
  constructor(private readonly timeline: string[]) {}
  now(): number {
    return this.t;
  }
  async sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) throw new DOMException('The operation was aborted', 'AbortError');
    this.sleeps.push(ms);
    this.timeline.push(`sleep ${ms}`);
    this.t += ms;
    await Promise.resolve();
    if (signal?.aborted) throw new DOMException('The operation was aborted', 'AbortError');
  }
}

/** The fake engine, remembering names and specs of what it created and how many replicas ran after each change. */
class TestEngine extends FakeEngine {
  readonly names = new Map<string, string>();
  readonly specs = new Map<string, ContainerSpec>();
  /** Running replicas per service, sampled after every start, stop and remove. */
  readonly samples: Record<string, number>[] = [];
  /** Containers whose name matches exit with code 0 as soon as they start (one-shot jobs). */
  completes: (name: string) => boolean = () => false;

  override async create(spec: ContainerSpec): Promise<ContainerRef> {
    const ref = await super.create(spec);
    this.names.set(ref.id, ref.name);
    this.specs.set(ref.name, spec);
    return ref;
  }
  override async start(id: string): Promise<void> {
    await super.start(id);
    const name = this.names.get(id) ?? '';
    // FakeEngine's staysUp=false always exits with code 1; a clean exit goes through stop().
    if (this.completes(name) && (await super.inspect(id)).status === 'running') await super.stop(id, 0);
    await this.sample();
  }
  override async stop(id: string, timeoutSeconds: number): Promise<void> {
    await super.stop(id, timeoutSeconds);
    await this.sample();
  }
  override async remove(id: string, options?: RemoveOptions): Promise<void> {
    await super.remove(id, options);
    await this.sample();
  }
  private async sample() {
    const counts: Record<string, number> = {};
    for (const c of await super.list({ labels: [`kiboko.deploy.project=${PROJECT}`] })) {
      const s = c.labels['kiboko.deploy.service'];
      if (s) counts[s] = (counts[s] ?? 0) + 1;
    }
    this.samples.push(counts);
  }
  minRunning(service: string, fromSample = 0): number {
    return Math.min(...this.samples.slice(fromSample).map((s) => s[service] ?? 0));
  }
  /** create/start/stop/remove/rename calls since `from`, as `op name` (the name it was created with). */
  ops(from = 0): string[] {
    return this.calls
      .slice(from)
      .filter((c) => ['create', 'start', 'stop', 'remove', 'rename'].includes(c.op))
      .map((c) => `${c.op} ${c.op === 'create' ? c.id : (this.names.get(c.id) ?? c.id)}`);
  }
}

function upd(over: Partial<UpdateConfig> = {}): UpdateConfig {
  return { ...DEFAULT_UPDATE, monitorMs: 100, ...over };
}

function svc(name: string, over: Partial<ServiceSpec> = {}): ServiceSpec {
  return newService(name, `repo/${name}:1`, { update: upd(), rollback: { ...DEFAULT_ROLLBACK, monitorMs: 100 }, ...over });
}

const HEALTHCHECK = { test: ['CMD', 'true'], intervalMs: 1000 };
const needs = (service: string, condition: DependsCondition = 'service_started') => ({ service, condition });
/** The replica's container name, compose's: `project-service-slot`. */
const nameOf = (s: ServiceSpec, slot: number) => `${PROJECT}-${s.name}-${slot}`;
/** Its name while the replica it replaces still runs (start-first): `project-service-slot-hash8`, renamed once that one is gone. */
const interimOf = (s: ServiceSpec, slot: number) => `${PROJECT}-${s.name}-${slot}-${configHash(s).slice(0, 8)}`;

interface Run {
  plan: DeployPlan;
  result: ApplyResult;
  events: DeployEvent[];
  /** Engine operations of this run (create/start/stop/remove). */
  ops: string[];
  /** Index of the first sample taken during this run. */
  sampleFrom: number;
}

function harness() {
  const timeline: string[] = [];
  const engine = new TestEngine();
  const clock = new FakeClock(timeline);
  let rev = 0;
  return {
    engine,
    clock,
    timeline,
    async deploy(services: ServiceSpec[], opts: { signal?: AbortSignal; onEvent?: (e: DeployEvent) => void } = {}): Promise<Run> {
      const config: SystemConfig = { project: PROJECT, services, networks: [], volumes: [], sources: [] };
      const plan = planDeploy(config, await observeProject(engine, PROJECT));
      const mark = engine.calls.length;
      const sampleFrom = engine.samples.length;
      const events: DeployEvent[] = [];
      const result = await applyDeploy(config, plan, ++rev, {
        engine,
        clock,
        healthTimeoutMs: 1000,
        pollMs: 50,
        ...(opts.signal ? { signal: opts.signal } : {}),
        onEvent: (e) => {
          events.push(e);
          timeline.push(e.type);
          opts.onEvent?.(e);
        },
      });
      return { plan, result, events, ops: engine.ops(mark), sampleFrom };
    },
    /** The service's replicas on the engine (all states), by slot. */
    async replicas(service: string) {
      const list = await engine.list({ all: true, labels: [`kiboko.deploy.project=${PROJECT}`, `kiboko.deploy.service=${service}`] });
      return list
        .map((c) => ({ id: c.id, name: c.name, image: c.image, status: c.status, slot: Number(c.labels['kiboko.deploy.slot']), hash: c.labels['kiboko.deploy.config-hash'] }))
        .sort((a, b) => a.slot - b.slot || a.name.localeCompare(b.name));
    },
  };
}

const outcomeOf = (r: ApplyResult, service: string) => r.services.find((s) => s.service === service);
const ofType = <T extends DeployEvent['type']>(events: DeployEvent[], type: T) => events.filter((e): e is Extract<DeployEvent, { type: T }> => e.type === type);

describe('applyDeploy: create and no-op', () => {
  it('creates the replicas of a new service, named and labelled by slot and config', async () => {
    const h = harness();
    const web = svc('web', { replicas: 3, environment: { A: '1' } });
    const run = await h.deploy([web]);
    expect(run.result).toEqual({ outcome: 'ok', services: [{ service: 'web', outcome: 'ok', image: 'repo/web:1' }] });
    const hash = configHash(web);
    const reps = await h.replicas('web');
    expect(reps.map((r) => r.name)).toEqual(['p-web-1', 'p-web-2', 'p-web-3']);
    void hash;
    expect(reps.every((r) => r.status === 'running' && r.image === 'repo/web:1')).toBe(true);

    const labels = (await h.engine.inspect(reps[1]!.id)).labels;
    expect(labels).toMatchObject({
      'kiboko.managed': 'true',
      'kiboko.deploy.project': 'p',
      'kiboko.deploy.service': 'web',
      'kiboko.deploy.slot': '2',
      'kiboko.deploy.config-hash': hash,
      'kiboko.deploy.revision': '1',
    });
    expect(JSON.parse(labels['kiboko.deploy.config']!)).toEqual(containerConfig(web));
    expect(h.engine.specs.get(reps[0]!.name)?.env).toEqual(['A=1']);
    expect((await h.engine.listNetworks()).map((n) => n.name)).toEqual(['p_default']);

    // New slots start together, then each is watched.
    expect(run.ops.slice(0, 3)).toEqual(reps.map((r) => `create ${r.name}`));
    expect(ofType(run.events, 'replica-ready')).toHaveLength(3);
    expect(ofType(run.events, 'service-started')[0]).toMatchObject({ service: 'web', action: 'create', causes: ['new service'] });
    expect(ofType(run.events, 'service-finished')[0]).toMatchObject({ service: 'web', outcome: 'ok' });
  });

  it('a second apply with no change does nothing', async () => {
    const h = harness();
    const web = svc('web', { replicas: 3 });
    await h.deploy([web]);
    const before = await h.replicas('web');
    const run = await h.deploy([web]);
    expect(run.plan.changes).toBe(false);
    expect(run.result).toEqual({ outcome: 'ok', services: [{ service: 'web', outcome: 'unchanged', image: 'repo/web:1' }] });
    expect(run.ops).toEqual([]);
    expect(run.events).toEqual([]);
    expect(await h.replicas('web')).toEqual(before);
  });

  it('recreates a replica that stopped, keeping the others', async () => {
    const h = harness();
    const web = svc('web', { replicas: 2 });
    await h.deploy([web]);
    const [one, two] = await h.replicas('web');
    await h.engine.stop(two!.id, 0);
    const run = await h.deploy([web]);
    expect(run.plan.steps[0]?.action).toBe('update');
    expect(run.ops).toEqual([`stop ${two!.name}`, `remove ${two!.name}`, `create ${two!.name}`, `start ${two!.name}`]);
    const after = await h.replicas('web');
    expect(after[0]!.id).toBe(one!.id);
    expect(after.map((r) => r.status)).toEqual(['running', 'running']);
  });
});

describe('applyDeploy: rolling updates', () => {
  async function rolled(update: Partial<UpdateConfig>) {
    const h = harness();
    const v1 = svc('web', { replicas: 3 });
    const v2 = { ...v1, image: 'repo/web:2', update: upd(update) };
    await h.deploy([v1]);
    const run = await h.deploy([v2]);
    return { h, v1, v2, run };
  }

  it('start-first, parallelism 1: slot by slot, the new replica is ready before the old one goes', async () => {
    const { h, v1, v2, run } = await rolled({ parallelism: 1, order: 'start-first' });
    expect(run.result.outcome).toBe('ok');
    const perSlot = (slot: number) => [`create ${interimOf(v2, slot)}`, `start ${interimOf(v2, slot)}`, `stop ${nameOf(v1, slot)}`, `remove ${nameOf(v1, slot)}`, `rename ${interimOf(v2, slot)}`];
    expect(run.ops).toEqual([...perSlot(1), ...perSlot(2), ...perSlot(3)]);
    expect(h.engine.minRunning('web', run.sampleFrom)).toBe(3);
    const ready = ofType(run.events, 'replica-ready');
    expect(ready.map((e) => e.slot)).toEqual([1, 2, 3]);
    expect(ofType(run.events, 'batch-done').map((e) => [e.updated, e.total])).toEqual([
      [1, 3],
      [2, 3],
      [3, 3],
    ]);
    const after = await h.replicas('web');
    expect(after.map((r) => r.name)).toEqual([1, 2, 3].map((slot) => nameOf(v2, slot)));
    expect(after.every((r) => r.image === 'repo/web:2' && r.status === 'running')).toBe(true);
    expect(ofType(run.events, 'service-started')[0]?.causes).toEqual(['image repo/web:1 → repo/web:2']);
  });

  it('stop-first removes the old replica before creating the new one', async () => {
    const { h, v1, v2, run } = await rolled({ parallelism: 1, order: 'stop-first' });
    expect(run.result.outcome).toBe('ok');
    const perSlot = (slot: number) => [`stop ${nameOf(v1, slot)}`, `remove ${nameOf(v1, slot)}`, `create ${nameOf(v2, slot)}`, `start ${nameOf(v2, slot)}`];
    expect(run.ops).toEqual([...perSlot(1), ...perSlot(2), ...perSlot(3)]);
    expect(h.engine.minRunning('web', run.sampleFrom)).toBe(2);
  });

  it('parallelism 2 replaces two slots at a time', async () => {
    const { h, v1, v2, run } = await rolled({ parallelism: 2 });
    const at = (op: string) => {
      const i = run.ops.indexOf(op);
      expect(i, op).toBeGreaterThanOrEqual(0);
      return i;
    };
    const firstBatchStops = Math.min(at(`stop ${nameOf(v1, 1)}`), at(`stop ${nameOf(v1, 2)}`));
    expect(at(`create ${interimOf(v2, 1)}`)).toBeLessThan(firstBatchStops);
    expect(at(`create ${interimOf(v2, 2)}`)).toBeLessThan(firstBatchStops);
    const secondBatch = at(`create ${interimOf(v2, 3)}`);
    expect(at(`remove ${nameOf(v1, 1)}`)).toBeLessThan(secondBatch);
    expect(at(`remove ${nameOf(v1, 2)}`)).toBeLessThan(secondBatch);
    expect(ofType(run.events, 'batch-done').map((e) => e.updated)).toEqual([2, 3]);
    expect(h.engine.minRunning('web', run.sampleFrom)).toBe(3);
  });

  it('parallelism 0 replaces every slot at once', async () => {
    const { v1, v2, run } = await rolled({ parallelism: 0 });
    const creates = [1, 2, 3].map((s) => run.ops.indexOf(`create ${interimOf(v2, s)}`));
    const stops = [1, 2, 3].map((s) => run.ops.indexOf(`stop ${nameOf(v1, s)}`));
    expect(Math.min(...creates)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...creates)).toBeLessThan(Math.min(...stops));
    expect(ofType(run.events, 'batch-done').map((e) => e.updated)).toEqual([3]);
  });

  it('sleeps the update delay between batches on the injected clock, not after the last', async () => {
    const { h, run } = await rolled({ parallelism: 1, delayMs: 7000 });
    expect(run.result.outcome).toBe('ok');
    expect(h.clock.sleeps.filter((ms) => ms === 7000)).toHaveLength(2);
    const batches = h.timeline.filter((x) => x === 'batch-done' || x === 'sleep 7000');
    expect(batches.slice(-5)).toEqual(['batch-done', 'sleep 7000', 'batch-done', 'sleep 7000', 'batch-done']);
  });

  it('scales down by removing the highest slots, leaving the rest alone', async () => {
    const h = harness();
    const web = svc('web', { replicas: 3 });
    await h.deploy([web]);
    const [one] = await h.replicas('web');
    const run = await h.deploy([{ ...web, replicas: 1 }]);
    expect(run.plan.steps[0]?.action).toBe('scale');
    expect(run.result.outcome).toBe('ok');
    expect(run.ops).toEqual([`stop ${nameOf(web, 3)}`, `remove ${nameOf(web, 3)}`, `stop ${nameOf(web, 2)}`, `remove ${nameOf(web, 2)}`]);
    expect((await h.replicas('web')).map((r) => r.id)).toEqual([one!.id]);
  });

  it('scales up by adding slots with the same config', async () => {
    const h = harness();
    const web = svc('web', { replicas: 2 });
    await h.deploy([web]);
    const run = await h.deploy([{ ...web, replicas: 3 }]);
    expect(run.plan.steps[0]?.action).toBe('scale');
    expect(run.ops).toEqual([`create ${nameOf(web, 3)}`, `start ${nameOf(web, 3)}`]);
  });

  it('deletes every replica of a service that left the configuration', async () => {
    const h = harness();
    const web = svc('web', { replicas: 3 });
    const db = svc('db');
    await h.deploy([web, db]);
    const run = await h.deploy([db]);
    expect(run.plan.steps.map((s) => [s.service, s.action])).toEqual([
      ['db', 'unchanged'],
      ['web', 'delete'],
    ]);
    expect(run.result.outcome).toBe('ok');
    expect(await h.replicas('web')).toEqual([]);
    expect(await h.replicas('db')).toHaveLength(1);
    expect(ofType(run.events, 'replica-removed').map((e) => e.slot).sort()).toEqual([1, 2, 3]);
  });
});

describe('applyDeploy: failures', () => {
  /** v1 (3 replicas, healthcheck) deployed; then v2, whose replicas in `failingSlots` turn unhealthy. */
  async function failingUpdate(update: Partial<UpdateConfig>, failingSlots = [1, 2, 3]) {
    const h = harness();
    const v1 = svc('web', { replicas: 3, healthcheck: HEALTHCHECK });
    const v2 = { ...v1, image: 'repo/web:2', update: upd(update) };
    h.engine.healthOf = (c) => (c.image === 'repo/web:2' && failingSlots.includes(Number(c.labels['kiboko.deploy.slot'])) ? 'unhealthy' : 'healthy');
    void nameOf(v2, 1);
    await h.deploy([v1]);
    const before = await h.replicas('web');
    const run = await h.deploy([v2]);
    return { h, v1, v2, before, run };
  }

  it('an unhealthy new replica rolls the service back: old replicas kept, new ones removed', async () => {
    const { h, v2, before, run } = await failingUpdate({});
    expect(run.result.outcome).toBe('failed');
    const r = outcomeOf(run.result, 'web')!;
    expect(r.outcome).toBe('rolled-back');
    expect(r.error).toContain('replica 1: unhealthy');
    expect(r.error).toContain('restored repo/web:1');
    expect(r.image).toBe('repo/web:1');
    expect(ofType(run.events, 'rollback-started')).toHaveLength(1);
    expect(ofType(run.events, 'replica-failed')[0]).toMatchObject({ slot: 1, reason: 'unhealthy' });
    expect(ofType(run.events, 'service-finished')[0]?.outcome).toBe('rolled-back');
    // Only slot 1 was tried; the old replica never stopped.
    expect(run.ops).toEqual([`create ${interimOf(v2, 1)}`, `start ${interimOf(v2, 1)}`, `stop ${interimOf(v2, 1)}`, `remove ${interimOf(v2, 1)}`]);
    expect(await h.replicas('web')).toEqual(before);
    expect(h.engine.minRunning('web', run.sampleFrom)).toBe(3);
  });

  it('a rollback restores old-config replicas in slots already replaced', async () => {
    const { h, v1, v2, run } = await failingUpdate({}, [2]);
    expect(outcomeOf(run.result, 'web')?.outcome).toBe('rolled-back');
    expect(run.result.outcome).toBe('failed');
    const after = await h.replicas('web');
    expect(after.map((r) => r.name)).toEqual([1, 2, 3].map((s) => nameOf(v1, s)));
    expect(after.every((r) => r.status === 'running' && r.image === 'repo/web:1' && r.hash === configHash(v1))).toBe(true);
    expect(run.ops).toContain(`remove ${interimOf(v2, 1)}`);
    expect(run.ops).toContain(`remove ${interimOf(v2, 2)}`);
    expect(run.ops).not.toContain(`create ${interimOf(v2, 3)}`);
    // Slot 1's old replica was gone, so the rollback starts one with the old config before removing the new one.
    expect(run.ops.indexOf(`start ${interimOf(v1, 1)}`)).toBeLessThan(run.ops.indexOf(`remove ${interimOf(v2, 1)}`));
    // …and gives it compose's name back once the new one is gone.
    expect(run.ops.indexOf(`rename ${interimOf(v1, 1)}`)).toBeGreaterThan(run.ops.indexOf(`remove ${interimOf(v2, 1)}`));
  });

  it("failure_action 'pause' stops the update where it failed", async () => {
    const { h, v2, run } = await failingUpdate({ failureAction: 'pause' }, [2]);
    expect(run.result.outcome).toBe('failed');
    const r = outcomeOf(run.result, 'web')!;
    expect(r.outcome).toBe('paused');
    expect(r.error).toMatch(/paused after 1 failure/);
    expect(ofType(run.events, 'rollback-started')).toEqual([]);
    expect(run.ops).not.toContain(`create ${interimOf(v2, 3)}`);
    // Slot 1 is on v2; slots 2 and 3 still on v1. The failed new replica of slot 2 was removed at
    // once (start-first: the old one kept serving), so a later apply cannot mistake it for done.
    const after = await h.replicas('web');
    expect(after.filter((x) => x.image === 'repo/web:2').map((x) => x.slot)).toEqual([1]);
    expect(after.filter((x) => x.image === 'repo/web:1').map((x) => x.slot)).toEqual([2, 3]);
  });

  it("'unhealthy' carries the reason the engine kept: failing streak, last exit code and output", async () => {
    const h = harness();
    const v1 = svc('web', { replicas: 2, healthcheck: HEALTHCHECK });
    const v2 = { ...v1, image: 'repo/web:2' };
    h.engine.healthOf = (c) => (c.image === 'repo/web:2' ? 'unhealthy' : 'healthy');
    h.engine.lastHealthcheckOf = (c) => (c.image === 'repo/web:2' ? { start: '2030-01-01T00:00:01Z', exitCode: 1, output: "wget: can't connect\n  to remote host (127.0.0.1): Connection refused\n" } : undefined);
    await h.deploy([v1]);
    const run = await h.deploy([v2]);
    const reason = "unhealthy (3 failed checks in a row, last exit 1: wget: can't connect to remote host (127.0.0.1): Connection refused)";
    expect(ofType(run.events, 'replica-failed')[0]).toMatchObject({ slot: 1, reason });
    expect(outcomeOf(run.result, 'web')?.error).toContain(`replica 1: ${reason}`);
    // Progress while waiting: the state and the last check as the engine reported them.
    expect(ofType(run.events, 'replica-waiting')[0]).toMatchObject({ service: 'web', slot: 1, status: 'running', health: 'unhealthy', attempts: 1, failingStreak: 3, lastCheck: { exitCode: 1 } });
    // The failed replica is never counted as replaced.
    expect(ofType(run.events, 'batch-done').map((e) => [e.updated, e.failed, e.total])).toEqual([[0, 1, 2]]);
  });

  it('batch-done counts replaced replicas and failed ones apart (never "1/2 replaced" for a failure)', async () => {
    const { run } = await failingUpdate({ maxFailureRatio: 0.5 }, [2]);
    expect(ofType(run.events, 'batch-done').map((e) => [e.updated, e.failed, e.total])).toEqual([
      [1, 0, 3],
      [1, 1, 3],
      [2, 1, 3],
    ]);
  });

  it("failure_action 'continue' goes on through every slot", async () => {
    const { run, v2 } = await failingUpdate({ failureAction: 'continue' });
    const r = outcomeOf(run.result, 'web')!;
    expect(r.outcome).toBe('ok');
    expect(r.error).toMatch(/3 replica\(s\) failed/);
    expect(run.result.outcome).toBe('ok');
    expect(ofType(run.events, 'replica-failed').map((e) => e.slot)).toEqual([1, 2, 3]);
    for (const s of [1, 2, 3]) expect(run.ops).toContain(`create ${interimOf(v2, s)}`);
    expect(ofType(run.events, 'rollback-started')).toEqual([]);
  });

  it('max_failure_ratio 0.5 tolerates one failure of three', async () => {
    const { run } = await failingUpdate({ maxFailureRatio: 0.5 }, [2]);
    expect(outcomeOf(run.result, 'web')?.outcome).toBe('ok');
    expect(outcomeOf(run.result, 'web')?.error).toMatch(/1 replica\(s\) failed/);
    expect(run.result.outcome).toBe('ok');
    expect(ofType(run.events, 'rollback-started')).toEqual([]);
  });

  it('max_failure_ratio 0.5 rolls back at the second failure of three', async () => {
    const { h, v1, run } = await failingUpdate({ maxFailureRatio: 0.5 }, [1, 2]);
    expect(outcomeOf(run.result, 'web')?.outcome).toBe('rolled-back');
    expect((await h.replicas('web')).map((r) => r.name)).toEqual([1, 2, 3].map((s) => nameOf(v1, s)));
  });

  it('a health that never turns healthy fails after the health timeout, on the fake clock', async () => {
    const h = harness();
    h.engine.healthOf = () => 'starting';
    const t0 = h.clock.now();
    const run = await h.deploy([svc('web', { healthcheck: HEALTHCHECK })]);
    expect(outcomeOf(run.result, 'web')?.outcome).toBe('rolled-back');
    expect(ofType(run.events, 'replica-failed')[0]?.reason).toBe('not healthy within 1s (starting)');
    expect(h.clock.now() - t0).toBeGreaterThan(1000);
    expect(h.clock.now() - t0).toBeLessThan(1500);
    expect(await h.replicas('web')).toEqual([]);
  });

  it('a container that exits at once is not ready; a new service is removed again', async () => {
    const h = harness();
    h.engine.staysUp = (c) => c.image !== 'repo/web:1';
    const run = await h.deploy([svc('web', { replicas: 2 })]);
    expect(run.result.outcome).toBe('failed');
    const r = outcomeOf(run.result, 'web')!;
    expect(r.outcome).toBe('rolled-back');
    expect(r.error).toContain('exited with 1');
    expect(r.error).toContain('removed the new replicas');
    expect(ofType(run.events, 'replica-failed').map((e) => e.reason)).toEqual(['exited with 1', 'exited with 1']);
    expect(await h.replicas('web')).toEqual([]);
  });

  it('an engine error while creating a replica fails the update and rolls back', async () => {
    const h = harness();
    const v1 = svc('web', { replicas: 2, update: upd({ order: 'stop-first' }) });
    const v2 = { ...v1, image: 'repo/web:2' };
    await h.deploy([v1]);
    // The first create of slot 1 (v2's) fails; the rollback's create of v1 under the same name works.
    let failed = false;
    h.engine.failWith = (op, id) => (op === 'create' && id === nameOf(v2, 1) && !failed ? ((failed = true), new KibokoError('ENGINE_ERROR', 'no space left on device')) : undefined);
    const run = await h.deploy([v2]);
    const r = outcomeOf(run.result, 'web')!;
    expect(r.outcome).toBe('rolled-back');
    expect(r.error).toContain('no space left on device');
    // stop-first had removed slot 1's old replica: the rollback brings it back.
    expect((await h.replicas('web')).map((x) => [x.name, x.status])).toEqual([
      [nameOf(v1, 1), 'running'],
      [nameOf(v1, 2), 'running'],
    ]);
  });
});

describe('applyDeploy: dependencies', () => {
  it('applies services in dependency order', async () => {
    const h = harness();
    const run = await h.deploy([svc('web', { dependsOn: [needs('api')] }), svc('api', { dependsOn: [needs('db', 'service_healthy')] }), svc('db', { healthcheck: HEALTHCHECK })]);
    expect(run.result.outcome).toBe('ok');
    expect(ofType(run.events, 'service-started').map((e) => e.service)).toEqual(['db', 'api', 'web']);
    // Each service is ready before the next one starts.
    const firstApiCreate = run.ops.findIndex((o) => o.startsWith('create p-api-'));
    const dbReady = h.timeline.indexOf('replica-ready');
    expect(firstApiCreate).toBeGreaterThan(run.ops.findIndex((o) => o.startsWith('start p-db-')));
    expect(dbReady).toBeLessThan(h.timeline.lastIndexOf('service-started'));
  });

  it('a failing service stops the services after it, which are cancelled with a reason', async () => {
    const h = harness();
    h.engine.staysUp = (c) => c.image !== 'repo/api:1';
    const run = await h.deploy([svc('web', { dependsOn: [needs('api')] }), svc('api', { dependsOn: [needs('db')] }), svc('db')]);
    expect(run.result.outcome).toBe('failed');
    expect(run.result.services.map((s) => [s.service, s.outcome])).toEqual([
      ['db', 'ok'],
      ['api', 'rolled-back'],
      ['web', 'cancelled'],
    ]);
    expect(outcomeOf(run.result, 'web')?.error).toMatch(/earlier service failed/);
    expect(await h.replicas('web')).toEqual([]);
    expect(ofType(run.events, 'service-started').map((e) => e.service)).toEqual(['db', 'api']);
  });

  it('a job (service_completed_successfully) is ready when it exits 0', async () => {
    const h = harness();
    const migrate = svc('migrate');
    h.engine.completes = (name) => name.startsWith('p-migrate-');
    const run = await h.deploy([svc('web', { dependsOn: [needs('migrate', 'service_completed_successfully')] }), migrate]);
    expect(run.result.outcome).toBe('ok');
    expect(ofType(run.events, 'replica-ready').map((e) => [e.service, e.health])).toEqual([
      ['migrate', 'completed'],
      ['web', 'running'],
    ]);
    expect((await h.replicas('migrate')).map((r) => r.status)).toEqual(['exited']);
    expect((await h.engine.inspect(nameOf(migrate, 1))).exitCode).toBe(0);
  });

  it('a job that exits non-zero fails, and its dependents are not started', async () => {
    const h = harness();
    h.engine.staysUp = (c) => c.image !== 'repo/migrate:1'; // FakeEngine: exits with code 1
    const run = await h.deploy([svc('web', { dependsOn: [needs('migrate', 'service_completed_successfully')] }), svc('migrate')]);
    expect(run.result.outcome).toBe('failed');
    expect(ofType(run.events, 'replica-failed')[0]?.reason).toBe('exited with 1');
    expect(outcomeOf(run.result, 'web')?.outcome).toBe('cancelled');
  });

  it('the same container exiting 0 is a failure for a long-running service', async () => {
    const h = harness();
    h.engine.completes = (name) => name.startsWith('p-web-');
    const run = await h.deploy([svc('web')]);
    expect(ofType(run.events, 'replica-failed')[0]?.reason).toBe('exited with 0');
    expect(outcomeOf(run.result, 'web')?.outcome).toBe('rolled-back');
  });
});

describe('applyDeploy: cancellation', () => {
  it('cancelling between batches rolls the service back to one version', async () => {
    const h = harness();
    const v1 = svc('web', { replicas: 3 });
    const v2 = { ...v1, image: 'repo/web:2' };
    const after = svc('after', { dependsOn: [needs('web')] });
    await h.deploy([v1, after]);
    const ac = new AbortController();
    const run = await h.deploy([v2, { ...after, image: 'repo/after:2' }], { signal: ac.signal, onEvent: (e) => e.type === 'batch-done' && ac.abort() });
    expect(run.result.outcome).toBe('cancelled');
    expect(outcomeOf(run.result, 'web')?.outcome).toBe('cancelled');
    expect(outcomeOf(run.result, 'after')).toMatchObject({ outcome: 'cancelled', error: expect.stringMatching(/cancelled/) });
    expect(ofType(run.events, 'batch-done')).toHaveLength(1);
    expect(ofType(run.events, 'rollback-started')[0]?.reason).toBe('cancelled');
    const reps = await h.replicas('web');
    expect(reps.map((r) => r.name)).toEqual([1, 2, 3].map((s) => nameOf(v1, s)));
    expect(reps.every((r) => r.status === 'running')).toBe(true);
    expect(run.ops.some((o) => o.startsWith('create p-after-'))).toBe(false);
  });

  it('cancelling during the update delay stops without waiting it out', async () => {
    const h = harness();
    const v1 = svc('web', { replicas: 3 });
    await h.deploy([v1]);
    const ac = new AbortController();
    const run = await h.deploy([{ ...v1, image: 'repo/web:2', update: upd({ delayMs: 60_000 }) }], {
      signal: ac.signal,
      onEvent: (e) => e.type === 'batch-done' && ac.abort(),
    });
    expect(run.result.outcome).toBe('cancelled');
    expect(h.clock.sleeps).not.toContain(60_000);
    expect((await h.replicas('web')).every((r) => r.image === 'repo/web:1')).toBe(true);
  });
});

describe('applyDeploy: published ports', () => {
  it('a fixed UDP host port with start-first warns and updates stop-first', async () => {
    const h = harness();
    const v1 = svc('dns', { replicas: 2, ports: [{ target: 53, published: 5353, protocol: 'udp' }] });
    const v2 = { ...v1, image: 'repo/dns:2' };
    await h.deploy([v1]);
    const run = await h.deploy([v2]);
    expect(run.result.outcome).toBe('ok');
    const warnings = ofType(run.events, 'warning');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]?.message).toMatch(/fixed host port.*stop-first/);
    expect(run.ops.slice(0, 4)).toEqual([`stop ${nameOf(v1, 1)}`, `remove ${nameOf(v1, 1)}`, `create ${nameOf(v2, 1)}`, `start ${nameOf(v2, 1)}`]);
  });

  it('a fixed TCP host port without a front proxy warns twice and updates stop-first', async () => {
    const h = harness();
    await h.engine.buildImage({ contextDir: tmpdir(), tag: FRONT_IMAGE.tag });
    h.engine.failWith = (op, id) => (op === 'create' && id.endsWith('-front') ? new KibokoError('ENGINE_ERROR', 'front image for another architecture') : undefined);
    const v1 = svc('web', { replicas: 2, ports: [{ target: 80, published: 8080, protocol: 'tcp' }] });
    const v2 = { ...v1, image: 'repo/web:2' };
    await h.deploy([v1]);
    const run = await h.deploy([v2]);
    expect(run.result.outcome).toBe('ok');
    const warnings = ofType(run.events, 'warning').map((w) => w.message);
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toMatch(/no front proxy/);
    expect(warnings[1]).toMatch(/stop-first/);
    expect(run.ops.filter((o) => !o.includes('-front')).slice(0, 2)).toEqual([`stop ${nameOf(v1, 1)}`, `remove ${nameOf(v1, 1)}`]);
    expect(h.engine.specs.get(nameOf(v2, 1))?.ports).toEqual(v2.ports);
  });

  it('with a front proxy a fixed TCP port keeps start-first; replicas publish nothing', async () => {
    const h = harness();
    await h.engine.buildImage({ contextDir: tmpdir(), tag: FRONT_IMAGE.tag });
    const v1 = svc('web', { replicas: 2, ports: [{ target: 80, published: 8080, protocol: 'tcp' }] });
    const v2 = { ...v1, image: 'repo/web:2' };
    await h.deploy([v1]);
    const run = await h.deploy([v2]);
    expect(run.result.outcome).toBe('ok');
    expect(ofType(run.events, 'warning')).toEqual([]);
    expect(run.ops.filter((o) => !o.includes('-front')).slice(0, 5)).toEqual([`create ${interimOf(v2, 1)}`, `start ${interimOf(v2, 1)}`, `stop ${nameOf(v1, 1)}`, `remove ${nameOf(v1, 1)}`, `rename ${interimOf(v2, 1)}`]);
    expect(h.engine.specs.get(interimOf(v2, 1))?.ports).toEqual([]);
    const front = await h.engine.inspect('p-web-front');
    expect(front.status).toBe('running');
    expect(h.engine.specs.get('p-web-front')?.ports).toMatchObject([{ published: 8080, protocol: 'tcp' }]);
    expect(h.engine.minRunning('web', run.sampleFrom)).toBe(2);
  });
});

describe('applyDeploy: lifecycle method gate (kiboko.deploy.gate)', () => {
  const GATED = { 'kiboko.deploy.gate': 'validate', 'kiboko.method.validate': '/srv/bin/validate --quick' };

  it('a replica counts as ready only once the gate method exits 0 (retried about once a second)', async () => {
    const h = harness();
    let attempts = 0;
    h.engine.execHandler = (_id, cmd) => (cmd[0] === '/srv/bin/validate' && ++attempts >= 2 ? { exitCode: 0, stdout: '', stderr: '' } : { exitCode: 1, stdout: '', stderr: 'warming up\n' });
    const run = await h.deploy([svc('web', { labels: GATED })]);
    expect(run.result.outcome).toBe('ok');
    expect(attempts).toBe(2);
    expect(h.engine.calls.filter((c) => c.op === 'exec').map((c) => c.args)).toEqual([
      ['/srv/bin/validate', '--quick'],
      ['/srv/bin/validate', '--quick'],
    ]);
    expect(ofType(run.events, 'replica-ready')[0]).toMatchObject({ health: 'running, validate passed' });
  });

  it('an update whose gate never passes is rolled back, naming the gate', async () => {
    const h = harness();
    h.engine.execHandler = () => ({ exitCode: 0, stdout: '', stderr: '' });
    const v1 = svc('web', { labels: GATED });
    await h.deploy([v1]);
    const [old] = await h.replicas('web');
    h.engine.execHandler = () => ({ exitCode: 1, stdout: '', stderr: 'db unreachable\n' });
    const run = await h.deploy([{ ...v1, image: 'repo/web:2' }]);
    expect(outcomeOf(run.result, 'web')).toMatchObject({ outcome: 'rolled-back', error: expect.stringMatching(/gate not passed within 1s \(validate exited with 1 — db unreachable\)/) });
    expect((await h.replicas('web')).map((r) => [r.id, r.status])).toEqual([[old!.id, 'running']]);
  });

  it('a gate method the image does not declare fails at once, without running anything', async () => {
    const h = harness();
    const run = await h.deploy([svc('web', { labels: { 'kiboko.deploy.gate': 'validate' } })]);
    expect(run.result.outcome).toBe('failed');
    expect(ofType(run.events, 'replica-failed')[0]?.reason).toMatch(/^gate validate: .* does not declare validate/);
    expect(h.engine.calls.filter((c) => c.op === 'exec')).toEqual([]);
  });
});

describe('applyDeploy: x-kiboko.gate (ServiceSpec.gate)', () => {
  const DECLARES = { 'kiboko.method.validate': '/srv/bin/validate' };

  it('gates like the label: ready only once the method exits 0', async () => {
    const h = harness();
    let attempts = 0;
    h.engine.execHandler = (_id, cmd) => (cmd[0] === '/srv/bin/validate' && ++attempts >= 2 ? { exitCode: 0, stdout: '', stderr: '' } : { exitCode: 1, stdout: '', stderr: 'warming up\n' });
    const run = await h.deploy([svc('web', { labels: DECLARES, gate: { method: 'validate' } })]);
    expect(run.result.outcome).toBe('ok');
    expect(attempts).toBe(2);
    expect(ofType(run.events, 'replica-ready')[0]).toMatchObject({ health: 'running, validate passed' });
  });

  it('wins over a kiboko.deploy.gate label', async () => {
    const h = harness();
    const ran: string[] = [];
    h.engine.execHandler = (_id, cmd) => (ran.push(cmd[0]!), { exitCode: 0, stdout: '', stderr: '' });
    const labels = { ...DECLARES, 'kiboko.deploy.gate': 'check', 'kiboko.method.check': '/srv/bin/check' };
    const run = await h.deploy([svc('web', { labels, gate: { method: 'validate' } })]);
    expect(run.result.outcome).toBe('ok');
    expect(ran).toEqual(['/srv/bin/validate']);
  });

  it('its timeout fails the replica before the health timeout, and the update is rolled back', async () => {
    const h = harness();
    h.engine.execHandler = () => ({ exitCode: 0, stdout: '', stderr: '' });
    const v1 = svc('web', { labels: DECLARES, gate: { method: 'validate', timeoutMs: 500 } });
    await h.deploy([v1]);
    const [old] = await h.replicas('web');
    let attempts = 0;
    h.engine.execHandler = () => (attempts++, { exitCode: 1, stdout: '', stderr: 'not ready\n' });
    const run = await h.deploy([{ ...v1, image: 'repo/web:2' }]);
    expect(outcomeOf(run.result, 'web')).toMatchObject({ outcome: 'rolled-back', error: expect.stringMatching(/gate not passed within 500ms \(validate exited with 1 — not ready\)/) });
    expect(attempts).toBe(2);
    expect((await h.replicas('web')).map((r) => [r.id, r.status])).toEqual([[old!.id, 'running']]);
  });

  it('is a rollout setting: adding or changing it never recreates containers', async () => {
    const h = harness();
    const v1 = svc('web', { labels: DECLARES });
    await h.deploy([v1]);
    const run = await h.deploy([{ ...v1, gate: { method: 'validate', timeoutMs: 1000 } }]);
    expect(run.plan.steps.map((s) => s.action)).toEqual(['unchanged']);
    expect(run.ops).toEqual([]);
    expect(configHash({ ...v1, gate: { method: 'validate' } })).toBe(configHash(v1));
  });
});

describe('post_start and pre_stop hooks', () => {
  it('post_start runs in each new replica after it starts; pre_stop runs in the old one before it stops; a failing post_start fails the replica and rolls back', async () => {
    const h = harness();
    const execs: string[] = [];
    h.engine.execHandler = (id, cmd) => {
      execs.push(`${h.engine.names.get(id)} ${cmd.join(' ')}`);
      return cmd.includes('fail') ? { exitCode: 7, stdout: '', stderr: 'nope' } : { exitCode: 0, stdout: '', stderr: '' };
    };
    const v1 = svc('web', { postStart: [{ command: ['warm', 'up'] }], preStop: [{ command: ['drain'] }] });
    expect((await h.deploy([v1])).result.outcome).toBe('ok');
    expect(execs).toEqual(['p-web-1 warm up']);

    const v2 = svc('web', { image: 'repo/web:2', update: upd({ order: 'stop-first' }), postStart: [{ command: ['warm', 'up'] }], preStop: [{ command: ['drain'] }] });
    expect((await h.deploy([v2])).result.outcome).toBe('ok');
    expect(execs.slice(1)).toEqual(['p-web-1 drain', 'p-web-1 warm up']);

    const v3 = svc('web', { image: 'repo/web:3', update: upd({ order: 'stop-first' }), postStart: [{ command: ['fail'] }], preStop: [{ command: ['drain'] }] });
    const run = await h.deploy([v3]);
    expect(run.result.outcome).not.toBe('ok');
    expect(run.events).toContainEqual(expect.objectContaining({ type: 'replica-failed', service: 'web', reason: expect.stringMatching(/post_start hook 1 \(fail\) exited with 7: nope/) }));
    const [replica] = await h.replicas('web');
    expect(replica).toMatchObject({ image: 'repo/web:2' });
  });
});
