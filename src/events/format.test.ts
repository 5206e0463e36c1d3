import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FakeEngine, type EngineEvent } from '../engine/index.js';
import { dockerEventJson } from './format.js';
import { compileTemplate, eventContext } from './interpolate.js';
import { startRulesReactor } from './run.js';
import { deployEvent, fromBusEvent } from './types.js';

/** A line `docker events --format '{{json .}}'` printed (Engine 20.10, CLI 28.2). */
const DOCKER_LINE =
  '{"status":"die","id":"101603d1923879f452fc835c27b918e98ca8df9bb06c3c6151ba0824de0599a8","from":"kiboko/busybox:local","Type":"container","Action":"die","Actor":{"ID":"101603d1923879f452fc835c27b918e98ca8df9bb06c3c6151ba0824de0599a8","Attributes":{"exitCode":"0","image":"kiboko/busybox:local","kiboko.test":"probe18","name":"hardcore_ganguly"}},"scope":"local","time":1796558767,"timeNano":1796558767443856181}';
const NETWORK_LINE =
  '{"Type":"network","Action":"connect","Actor":{"ID":"94a923693fe68107f28c2967074d852326f3253f76deb6871807e698a312011d","Attributes":{"container":"c8fc63d89210524cccbacbd6a92754745eb7dc70eeccb822d06dda985b7e5c02","name":"bridge","type":"bridge"}},"scope":"local","time":1796558580,"timeNano":1796558580904976162}';

const die: EngineEvent = {
  type: 'container',
  action: 'die',
  id: '101603d1923879f452fc835c27b918e98ca8df9bb06c3c6151ba0824de0599a8',
  // Out of order on purpose: Go writes a map's keys sorted.
  attributes: { name: 'hardcore_ganguly', image: 'kiboko/busybox:local', exitCode: '0', 'kiboko.test': 'probe18' },
  time: 1796558767,
  timeNano: '1796558767443856181',
  scope: 'local',
};

describe('dockerEventJson', () => {
  it('prints a container event byte for byte as docker events --format {{json .}} does, timeNano with all its digits', () => {
    expect(dockerEventJson(die)).toBe(DOCKER_LINE);
  });
  it('leaves the deprecated status/id/from out of other types, as the engine does', () => {
    const e: EngineEvent = {
      type: 'network',
      action: 'connect',
      id: '94a923693fe68107f28c2967074d852326f3253f76deb6871807e698a312011d',
      attributes: { type: 'bridge', name: 'bridge', container: 'c8fc63d89210524cccbacbd6a92754745eb7dc70eeccb822d06dda985b7e5c02' },
      time: 1796558580,
      timeNano: '1796558580904976162',
      scope: 'local',
    };
    expect(dockerEventJson(e)).toBe(NETWORK_LINE);
  });
  it('gives kiboko events the same shape, and {{json .}} in a template prints the same', () => {
    const d = JSON.parse(dockerEventJson(deployEvent({ project: 'shop', rev: 3, outcome: 'ok', trigger: 'apply', source: 'compose.yaml' }, 1_800_000_000_123)));
    expect(Object.keys(d)).toEqual(['Type', 'Action', 'Actor', 'scope', 'time', 'timeNano']);
    expect(d).toMatchObject({ Type: 'deploy', Action: 'applied', Actor: { ID: 'shop', Attributes: { project: 'shop', revision: '3' } }, time: 1_800_000_000 });
    expect(compileTemplate('{{json .}}').render(eventContext(die))).toBe(DOCKER_LINE);
    expect(compileTemplate('{{json .Actor.Attributes.name}}').render(eventContext(die))).toBe('"hardcore_ganguly"');
  });
});

describe('deploy events', () => {
  it('make `failed` cover every failed outcome, saying which in `outcome`', () => {
    const rolled = deployEvent({ project: 'p', rev: 2, outcome: 'failed', trigger: 'apply', source: 'x', result: { services: [{ outcome: 'rolled-back' }] } });
    expect([rolled.action, rolled.attributes.outcome]).toEqual(['failed', 'rolled-back']);
    const crashed = deployEvent({ project: 'p', rev: 3, outcome: 'crashed', trigger: 'apply', source: 'x' });
    expect([crashed.action, crashed.attributes.outcome]).toEqual(['failed', 'crashed']);
    expect(deployEvent({ project: 'p', rev: 4, outcome: 'cancelled', trigger: 'apply', source: 'x' }).action).toBe('cancelled');
    const bus = (status: string) => fromBusEvent({ type: 'deploy.job.finished', time: new Date().toISOString(), data: { project: 'p', status } })!;
    expect(['succeeded', 'failed', 'rolled-back', 'rejected', 'cancelled'].map((s) => [bus(s).action, bus(s).attributes.outcome])).toEqual([
      ['applied', 'succeeded'],
      ['failed', 'failed'],
      ['failed', 'rolled-back'],
      ['failed', 'rejected'],
      ['cancelled', 'cancelled'],
    ]);
  });
});

describe('the firing log', () => {
  it('gets every firing, whatever its outcome: ok, debounced, and in a dry run', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kiboko-firings-'));
    try {
      const rules = join(dir, 'rules.yaml');
      writeFileSync(rules, 'rules:\n  - name: r\n    on: { event: die }\n    debounce: 1h\n    actions: [ { exec: { container: w, cmd: [x] } } ]\n');
      const engine = new FakeEngine();
      engine.add({ name: 'w' });
      const run = async (dryRun: boolean, stateDir: string) => {
        let n = 0;
        let connected = false;
        const r = startRulesReactor(engine, rules, { stateDir, dryRun, onNotice: (x) => void (x.type === 'firing' ? n++ : x.type === 'connected' && (connected = true)) });
        for (let i = 0; i < 2000 && !connected; i++) await new Promise((res) => setTimeout(res, 1));
        engine.emitEvent({ action: 'die', id: 'a', attributes: { name: 'a' } });
        engine.emitEvent({ action: 'die', id: 'a', attributes: { name: 'a' } });
        for (let i = 0; i < 2000 && n < 2; i++) await new Promise((res) => setTimeout(res, 1));
        await r.stop();
        return readFileSync(r.firingLogPath, 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { outcome: string }).outcome).sort();
      };
      expect(await run(false, join(dir, 'a'))).toEqual(['debounced', 'ok']);
      expect(await run(true, join(dir, 'b'))).toEqual(['debounced', 'dry-run']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
