import { describe, expect, it } from 'vitest';
import { KibokoError } from '../common/errors.js';
import { FakeEngine, type ContainerStatus, type ContainerSummary } from '../engine/index.js';
import { parseTargetArgs } from './query.js';
import { planSelection, selectTargets } from './select.js';

let n = 0;
function container(name: string, extra: Partial<ContainerSummary> = {}): ContainerSummary {
  n++;
  return {
    id: extra.id ?? `${n.toString(16).padStart(4, '0')}${'ab'.repeat(30)}`,
    name,
    image: 'busybox:latest',
    labels: {},
    status: 'running',
    created: 1_700_000_000 + n,
    ...extra,
  };
}

const names = (cs: readonly ContainerSummary[]) => cs.map((c) => c.name);
const q = (...args: string[]) => parseTargetArgs(args);

describe('planSelection', () => {
  const web1 = container('web-1');
  const web2 = container('web-2');
  const db = container('db');
  const all = [web2, db, web1];

  it('selects by exact name, sorted by name', () => {
    const s = planSelection(all, q('web-2', 'web-1'), { seed: 1 });
    expect(names(s.selected)).toEqual(['web-1', 'web-2']);
    expect(s.unmatched).toEqual([]);
    expect(s.skipped).toEqual([]);
    expect(s.seed).toBe(1);
  });

  it('does not treat a name as a pattern or prefix', () => {
    expect(planSelection(all, q('web'), { seed: 1 }).selected).toEqual([]);
  });

  it('selects by full id and by an id prefix of at least 12 characters', () => {
    expect(names(planSelection(all, q(db.id), { seed: 1 }).selected)).toEqual(['db']);
    expect(names(planSelection(all, q(db.id.slice(0, 12)), { seed: 1 }).selected)).toEqual(['db']);
  });

  it('ignores an id prefix shorter than 12 characters and reports it unmatched', () => {
    const short = db.id.slice(0, 11);
    const s = planSelection(all, q(short), { seed: 1 });
    expect(s.selected).toEqual([]);
    expect(s.unmatched).toEqual([short]);
  });

  it('selects by RE2 pattern (unanchored)', () => {
    expect(names(planSelection(all, q('re2:^web-'), { seed: 1 }).selected)).toEqual(['web-1', 'web-2']);
    expect(names(planSelection(all, q('re2:b'), { seed: 1 }).selected)).toEqual(['db', 'web-1', 'web-2']);
    expect(names(planSelection(all, q('re2:2$', 'db'), { seed: 1 }).selected)).toEqual(['db', 'web-2']);
  });

  it('selects every eligible container for an empty query', () => {
    expect(names(planSelection(all, q(), { seed: 1 }).selected)).toEqual(['db', 'web-1', 'web-2']);
  });

  it('reports names that matched nothing', () => {
    const s = planSelection(all, q('web-1', 'ghost', '/phantom'), { seed: 1 });
    expect(names(s.selected)).toEqual(['web-1']);
    expect(s.unmatched).toEqual(['ghost', 'phantom']);
  });

  it.each([
    ['kiboko.skip', 'true'],
    ['com.gaiaadm.pumba.skip', 'true'],
    ['com.gaiaadm.pumba', 'true'],
    ['kiboko.skip', 'TRUE'],
  ])('skips a container labelled %s=%s, with the reason', (key, value) => {
    const guarded = container('guarded', { labels: { [key]: value } });
    for (const query of [q(), q('guarded'), q('re2:guard')]) {
      const s = planSelection([guarded, web1], query, { seed: 1 });
      expect(names(s.selected)).not.toContain('guarded');
      expect(s.skipped).toEqual([{ container: guarded, reason: 'skip-label' }]);
      expect(s.unmatched).toEqual([]);
    }
  });

  it('does not skip when the skip label is not true', () => {
    const c = container('c', { labels: { 'kiboko.skip': 'false', 'com.gaiaadm.pumba': 'no' } });
    expect(names(planSelection([c], q('c'), { seed: 1 }).selected)).toEqual(['c']);
  });

  it('skips its own container', () => {
    const self = container('kiboko');
    const s = planSelection([self, web1], q(), { seed: 1, selfId: self.id });
    expect(names(s.selected)).toEqual(['web-1']);
    expect(s.skipped).toEqual([{ container: self, reason: 'self' }]);
  });

  it('filters by state (running by default) and reports ineligible matches', () => {
    const states: ContainerStatus[] = ['created', 'running', 'paused', 'restarting', 'exited', 'dead'];
    const cs = states.map((status) => container(`c-${status}`, { status }));
    const s = planSelection(cs, q('re2:^c-'), { seed: 1 });
    expect(names(s.selected)).toEqual(['c-running']);
    expect(s.skipped.map((x) => [x.container.name, x.reason])).toEqual(
      states.filter((st) => st !== 'running').map((st) => [`c-${st}`, 'state']),
    );
    const s2 = planSelection(cs, q('re2:^c-'), { seed: 1, states: ['exited', 'paused'] });
    expect(names(s2.selected)).toEqual(['c-exited', 'c-paused']);
  });

  it('does not skip containers the query did not match', () => {
    const exited = container('old', { status: 'exited' });
    const s = planSelection([exited, web1], q('web-1'), { seed: 1 });
    expect(s.skipped).toEqual([]);
  });

  describe('limit and random', () => {
    const many = Array.from({ length: 12 }, (_, i) => container(`svc-${String(i).padStart(2, '0')}`));
    const shuffled = [...many].reverse();

    it('limit keeps N of the matches, sorted by name', () => {
      const s = planSelection(shuffled, q('re2:^svc-'), { seed: 7, limit: 3 });
      expect(s.selected).toHaveLength(3);
      expect(new Set(s.selected.map((c) => c.id)).size).toBe(3);
      for (const c of s.selected) expect(many).toContain(c);
      expect(names(s.selected)).toEqual([...names(s.selected)].sort());
    });

    it('limit 0 or a limit above the count keeps all', () => {
      expect(planSelection(many, q(), { seed: 7, limit: 0 }).selected).toHaveLength(12);
      expect(planSelection(many, q(), { seed: 7, limit: 50 }).selected).toHaveLength(12);
    });

    it('random keeps exactly one', () => {
      const s = planSelection(many, q(), { seed: 7, random: true });
      expect(s.selected).toHaveLength(1);
      expect(many).toContain(s.selected[0]);
    });

    it('the same seed picks the same targets whatever the candidate order', () => {
      for (const seed of [0, 1, 123456, 0xffffffff]) {
        const a = planSelection(many, q(), { seed, limit: 4 });
        const b = planSelection(shuffled, q(), { seed, limit: 4 });
        expect(names(a.selected)).toEqual(names(b.selected));
        const r1 = planSelection(many, q(), { seed, random: true });
        const r2 = planSelection(shuffled, q(), { seed, random: true });
        expect(names(r1.selected)).toEqual(names(r2.selected));
      }
    });

    it('different seeds eventually pick differently', () => {
      const randomPicks = new Set<string>();
      const limitPicks = new Set<string>();
      for (let seed = 0; seed < 200; seed++) {
        randomPicks.add(names(planSelection(many, q(), { seed, random: true }).selected).join());
        limitPicks.add(names(planSelection(many, q(), { seed, limit: 2 }).selected).join());
      }
      // 200 draws over 12 (or 66) outcomes: seeing fewer than half would mean the seed barely matters.
      expect(randomPicks.size).toBeGreaterThanOrEqual(6);
      expect(limitPicks.size).toBeGreaterThan(20);
    });

    it('random with a single match keeps it', () => {
      expect(names(planSelection(many, q('svc-03'), { seed: 3, random: true }).selected)).toEqual(['svc-03']);
    });
  });

  // Regression: two arguments naming the same container (its name and its id) — the second was reported
  // as "not found" because only the first matching name was recorded per container.
  it('does not report a name as unmatched when another argument selected the same container', () => {
    const s = planSelection(all, q('db', db.id.slice(0, 12)), { seed: 1 });
    expect(names(s.selected)).toEqual(['db']);
    expect(s.unmatched).toEqual([]);
  });

  it('refuses an ambiguous id prefix, as docker does, before anything is touched', () => {
    const a = container('a', { id: `000000000000${'1'.repeat(52)}` });
    const b = container('b', { id: `000000000000${'2'.repeat(52)}` });
    expect(() => planSelection([a, b], q('000000000000'), { seed: 1 })).toThrow(/ambiguous ID prefix '000000000000': it matches 2 containers/);
    expect(planSelection([a, b], q(`0000000000001`), { seed: 1 }).selected.map((c) => c.name)).toEqual(['a']);
  });
});

describe('selectTargets (FakeEngine)', () => {
  function setup() {
    const engine = new FakeEngine();
    const prodWeb = engine.add({ name: 'prod-web', labels: { env: 'prod', tier: 'web' } });
    const prodDb = engine.add({ name: 'prod-db', labels: { env: 'prod', tier: 'db' } });
    const devWeb = engine.add({ name: 'dev-web', labels: { env: 'dev', tier: 'web' } });
    const stopped = engine.add({ name: 'prod-old', labels: { env: 'prod' }, status: 'exited' });
    return { engine, prodWeb, prodDb, devWeb, stopped };
  }

  it('honours label filters (ANDed, engine side)', async () => {
    const { engine } = setup();
    const s = await selectTargets(engine, parseTargetArgs([], ['env=prod']), { selfId: null, seed: 1 });
    expect(names(s.selected)).toEqual(['prod-db', 'prod-web']);
    const s2 = await selectTargets(engine, parseTargetArgs([], ['env=prod,tier=web']), { selfId: null, seed: 1 });
    expect(names(s2.selected)).toEqual(['prod-web']);
    const s3 = await selectTargets(engine, parseTargetArgs(['re2:web'], ['tier']), { selfId: null, seed: 1 });
    expect(names(s3.selected)).toEqual(['dev-web', 'prod-web']);
    expect(engine.calls.map((c) => c.op)).toEqual(['list', 'list', 'list']);
  });

  it('lists stopped containers only when a stopped state is eligible', async () => {
    const { engine } = setup();
    const running = await selectTargets(engine, parseTargetArgs(['prod-old']), { selfId: null, seed: 1 });
    expect(running.selected).toEqual([]);
    expect(running.unmatched).toEqual(['prod-old']);
    const withExited = await selectTargets(engine, parseTargetArgs(['prod-old']), { selfId: null, seed: 1, states: ['exited'] });
    expect(names(withExited.selected)).toEqual(['prod-old']);
  });

  it('refuses an empty query when targets must be explicit, before calling the engine', async () => {
    const { engine } = setup();
    const err = await selectTargets(engine, parseTargetArgs([]), { requireExplicit: true, selfId: null }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KibokoError);
    expect((err as KibokoError).code).toBe('INVALID_ARGUMENT');
    expect(engine.calls).toEqual([]);
  });

  it('draws and reports a seed when none is given', async () => {
    const { engine } = setup();
    const s = await selectTargets(engine, parseTargetArgs([]), { selfId: null, random: true });
    expect(Number.isInteger(s.seed)).toBe(true);
    expect(s.seed).toBeGreaterThanOrEqual(0);
    const replay = await selectTargets(engine, parseTargetArgs([]), { selfId: null, random: true, seed: s.seed });
    expect(names(replay.selected)).toEqual(names(s.selected));
  });

  it('skips the given self id', async () => {
    const { engine, prodWeb } = setup();
    const s = await selectTargets(engine, parseTargetArgs([]), { selfId: prodWeb.id, seed: 1 });
    expect(names(s.selected)).not.toContain('prod-web');
    expect(s.skipped.map((x) => [x.container.name, x.reason])).toEqual([['prod-web', 'self']]);
  });
});
