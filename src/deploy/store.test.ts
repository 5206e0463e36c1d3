import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type BetterSqlite3 from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import type { SystemConfig } from './model.js';
import type { DeployPlan } from './plan.js';
import { DeployStore } from './store.js';

const Database = createRequire(import.meta.url)('better-sqlite3') as typeof BetterSqlite3;

const cleanup: (() => void)[] = [];
afterEach(() => {
  for (const f of cleanup.splice(0).reverse()) f();
});

function stateDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'kiboko-store-'));
  cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function open(dir: string): DeployStore {
  const s = new DeployStore(dir);
  cleanup.push(() => {
    try {
      s.close();
    } catch {
      // already closed by the test
    }
  });
  return s;
}

const config = (project: string, image = 'app:1'): SystemConfig => ({
  project,
  services: [
    {
      name: 'web',
      image,
      environment: { A: '1' },
      ports: [],
      volumes: [],
      networks: [],
      labels: {},
      dependsOn: [],
      restart: 'no',
      replicas: 1,
      update: { parallelism: 1, delayMs: 0, failureAction: 'rollback', monitorMs: 5000, maxFailureRatio: 0, order: 'start-first' },
      rollback: { parallelism: 1, delayMs: 0, failureAction: 'pause', monitorMs: 5000, maxFailureRatio: 0, order: 'start-first' },
      tagPolicy: { kind: 'pinned' },
    },
  ],
  networks: [],
  volumes: [],
  sources: ['compose.yaml'],
});

const plan = (project: string): DeployPlan => ({
  project,
  steps: [{ service: 'web', action: 'create', causes: ['new service'], replicas: { from: 0, to: 1 }, image: { to: 'app:1' } }],
  order: ['web'],
  changes: true,
});

const begin = (s: DeployStore, project: string, extra: { image?: string; rollbackOf?: number } = {}) =>
  s.begin({ project, trigger: 'apply', source: 'compose.yaml', config: config(project, extra.image), plan: plan(project), rollbackOf: extra.rollbackOf });

/** The pid of a process that has already exited. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', ''], { stdio: 'ignore' });
  expect(r.status).toBe(0);
  return r.pid!;
}

describe('DeployStore', () => {
  it('numbers revisions 1, 2, 3 per project, independently', () => {
    const s = open(stateDir());
    expect(begin(s, 'a')).toBe(1);
    expect(begin(s, 'a')).toBe(2);
    expect(begin(s, 'b')).toBe(1);
    expect(begin(s, 'a')).toBe(3);
    expect(begin(s, 'b')).toBe(2);
    expect(s.projects()).toEqual(['a', 'b']);
  });

  it('records a revision as running, then its outcome and result', () => {
    const s = open(stateDir());
    const rev = begin(s, 'a', { rollbackOf: 7 });
    const started = s.get('a', rev)!;
    expect(started).toMatchObject({ project: 'a', rev: 1, trigger: 'apply', source: 'compose.yaml', outcome: 'running', rollbackOf: 7 });
    expect(started.finishedAt).toBeUndefined();
    expect(started.result).toBeUndefined();
    expect(started.config).toEqual(config('a'));
    expect(started.plan).toEqual(JSON.parse(JSON.stringify(plan('a'))));
    expect(Number.isNaN(Date.parse(started.createdAt))).toBe(false);

    const result = { outcome: 'failed', services: [{ service: 'web', outcome: 'rolled-back', error: 'unhealthy' }] };
    s.finish('a', rev, 'failed', result);
    const done = s.get('a', rev)!;
    expect(done.outcome).toBe('failed');
    expect(done.result).toEqual(result);
    expect(Date.parse(done.finishedAt!)).toBeGreaterThanOrEqual(Date.parse(done.createdAt));
  });

  it('get of a missing revision is undefined', () => {
    const s = open(stateDir());
    expect(s.get('a', 1)).toBeUndefined();
    begin(s, 'a');
    expect(s.get('a', 2)).toBeUndefined();
    expect(s.get('b', 1)).toBeUndefined();
  });

  it('lists newest first, per project, with a limit', () => {
    const s = open(stateDir());
    for (let i = 0; i < 4; i++) begin(s, 'a');
    begin(s, 'b');
    expect(s.list('a').map((r) => r.rev)).toEqual([4, 3, 2, 1]);
    expect(s.list('a', 2).map((r) => r.rev)).toEqual([4, 3]);
    expect(s.list('b').map((r) => r.rev)).toEqual([1]);
    expect(s.list('none')).toEqual([]);
  });

  it('finds the latest ok revision and the ok one before a given revision', () => {
    const s = open(stateDir());
    const outcomes = ['ok', 'failed', 'ok', 'cancelled', 'crashed'] as const;
    for (const o of outcomes) s.finish('a', begin(s, 'a'), o, {});
    begin(s, 'a'); // 6, still running
    expect(s.latestOk('a')?.rev).toBe(3);
    expect(s.previousOk('a', 3)?.rev).toBe(1);
    expect(s.previousOk('a', 6)?.rev).toBe(3);
    expect(s.previousOk('a', 1)).toBeUndefined();
    expect(s.latestOk('b')).toBeUndefined();
    expect(s.projects()).toEqual(['a']);
  });

  it('keeps the configuration of each revision, so an older one can be re-deployed', () => {
    const s = open(stateDir());
    s.finish('a', begin(s, 'a', { image: 'app:1' }), 'ok', {});
    s.finish('a', begin(s, 'a', { image: 'app:2' }), 'ok', {});
    expect(s.previousOk('a', 2)?.config.services[0]?.image).toBe('app:1');
    expect(s.latestOk('a')?.config.services[0]?.image).toBe('app:2');
  });

  it('survives a reopen', () => {
    const dir = stateDir();
    const s1 = open(dir);
    s1.finish('a', begin(s1, 'a'), 'ok', { n: 1 });
    begin(s1, 'b');
    s1.close();
    expect(existsSync(join(dir, 'deploy.db'))).toBe(true);

    const s2 = open(dir);
    expect(s2.projects()).toEqual(['a', 'b']);
    expect(s2.get('a', 1)).toMatchObject({ outcome: 'ok', result: { n: 1 } });
    // Our own process is alive: its running revision is left alone.
    expect(s2.get('b', 1)?.outcome).toBe('running');
    expect(begin(s2, 'a')).toBe(2);
  });

  it('marks a revision left running by a dead process as crashed on the next open', () => {
    const dir = stateDir();
    const s1 = open(dir);
    const crashed = begin(s1, 'a');
    const mine = begin(s1, 'b');
    s1.finish('a', begin(s1, 'a'), 'ok', {}); // finished revisions are never touched
    s1.close();

    const db = new Database(join(dir, 'deploy.db'));
    try {
      db.prepare('UPDATE revisions SET owner_pid = ? WHERE project = ? AND rev = ?').run(deadPid(), 'a', crashed);
    } finally {
      db.close();
    }

    const s2 = open(dir);
    const r = s2.get('a', crashed)!;
    expect(r.outcome).toBe('crashed');
    expect(r.finishedAt).toBeDefined();
    expect(s2.get('b', mine)?.outcome).toBe('running');
    expect(s2.get('a', 2)?.outcome).toBe('ok');
  });

  it('a running revision with no owner pid counts as crashed', () => {
    const dir = stateDir();
    const s1 = open(dir);
    begin(s1, 'a');
    s1.close();
    const db = new Database(join(dir, 'deploy.db'));
    try {
      db.prepare('UPDATE revisions SET owner_pid = NULL').run();
    } finally {
      db.close();
    }
    expect(open(dir).get('a', 1)?.outcome).toBe('crashed');
  });

  it('creates the state directory, with private permissions', () => {
    const dir = join(stateDir(), 'nested', 'state');
    open(dir);
    expect(existsSync(join(dir, 'deploy.db'))).toBe(true);
    expect(statSync(dir).mode & 0o077).toBe(0);
  });
});
