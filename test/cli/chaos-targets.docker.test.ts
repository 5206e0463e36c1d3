import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, scope, state } from '../helpers.js';

// Containers labelled as a deploy's replicas would be (project, service, slot), and a front
// container (project, no slot): --project/--service must hit the service's replicas only.
const s = scope('ctgt');
const project = `${s.id}-shop`;
const ids: Record<string, string> = {};
beforeAll(async () => {
  const replica = (service: string, slot: string) => ({ 'kiboko.deploy.project': project, 'kiboko.deploy.service': service, 'kiboko.deploy.slot': slot });
  ids.web1 = await s.create('web-1', { labels: replica('web', '1') });
  ids.web2 = await s.create('web-2', { labels: replica('web', '2') });
  ids.api1 = await s.create('api-1', { labels: replica('api', '1') });
  ids.front = await s.create('web-front', { labels: { 'kiboko.deploy.project': project, 'kiboko.deploy.front': 'web' } });
});
afterAll(() => s.cleanup());

describe('chaos targets: --project/--service, and runs that hit nothing', () => {
  it('--project P --service S pauses that service’s replicas and nothing else', async () => {
    const r = await runCli(['chaos', 'pause', '-d', '2s', '--project', project, '--service', 'web', '--json'], { stateDir: s.stateDir });
    expect(r.code, r.stderr).toBe(0);
    const targets = r.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { event?: string; targets?: { name: string }[] }).find((e) => e.targets)?.targets?.map((t) => t.name).sort();
    expect(targets).toEqual([`${s.prefix}web-1`, `${s.prefix}web-2`]);
    for (const id of Object.values(ids)) expect((await state(id)).status).toBe('running'); // restored
  });

  it('a typo exits 0 with a warning naming close names (Pumba’s exit code)', async () => {
    const r = await runCli(['chaos', 'kill', `${s.prefix}web-9`], { stateDir: s.stateDir });
    expect(r.code).toBe(0);
    expect(r.stdout + r.stderr).toContain(`no container matched ${s.prefix}web-9 — close names: ${s.prefix}web-1, ${s.prefix}web-2`);
    expect((await state(ids.web1!)).status).toBe('running');
  });

  it('--fail-on-no-targets exits 5 with one line', async () => {
    const r = await runCli(['chaos', 'kill', '--fail-on-no-targets', `${s.prefix}web-9`], { stateDir: s.stateDir });
    expect(r.code).toBe(5);
    expect(r.stderr).toBe(`kiboko: no container matched ${s.prefix}web-9 — close names: ${s.prefix}web-1, ${s.prefix}web-2\n`);
  });
});
