import { describe, expect, it } from 'vitest';
import { FakeEngine } from '../engine/index.js';
import { preStop, runLifecycleHooks } from './lifecycle-hooks.js';
import { newService, type SystemConfig } from './model.js';
import { planProject } from './run.js';

describe('post_start / pre_stop hooks', () => {
  it('runs each hook in order as an exec and stops at the first that fails, naming it and its exit code', async () => {
    const e = new FakeEngine();
    const { id } = await e.create({ image: 'x', name: 'shop-web-1' });
    await e.start(id);
    const ran: string[] = [];
    e.execHandler = (_id, cmd) => {
      ran.push(cmd.join(' '));
      return cmd[0] === 'false' ? { exitCode: 3, stdout: '', stderr: 'no good\n' } : { exitCode: 0, stdout: '', stderr: '' };
    };
    await runLifecycleHooks(e, id, 'post_start', [{ command: ['touch', '/a'] }, { command: ['touch', '/b'] }]);
    expect(ran).toEqual(['touch /a', 'touch /b']);
    await expect(runLifecycleHooks(e, id, 'post_start', [{ command: ['false'] }, { command: ['never'] }])).rejects.toThrow(/post_start hook 1 \(false\) exited with 3: no good/);
    expect(ran).not.toContain('never');
  });

  it('pre_stop runs only in a running container and a failure is a warning, never a stop refused', async () => {
    const e = new FakeEngine();
    const { id } = await e.create({ image: 'x', name: 'shop-web-1' });
    const warnings: string[] = [];
    e.execHandler = () => ({ exitCode: 1, stdout: '', stderr: 'busy' });
    await preStop(e, id, [{ command: ['drain'] }], (m) => warnings.push(m));
    expect(e.calls.filter((c) => c.op === 'exec')).toEqual([]);
    await e.start(id);
    await preStop(e, id, [{ command: ['drain'] }], (m) => warnings.push(m));
    expect(warnings).toEqual([expect.stringMatching(/pre_stop hook 1 \(drain\) exited with 1: busy; stopping it anyway/)]);
  });
});

describe('annotations', () => {
  const config: SystemConfig = { project: 'shop', services: [newService('web', 'x', { annotations: { 'com.example.team': 'a' } })], networks: [], volumes: [], sources: [] };

  it('are refused before anything changes on an engine older than API 1.43, which would drop them silently', async () => {
    const e = new FakeEngine();
    const info = e.info.bind(e);
    e.info = async () => ({ ...(await info()), apiVersion: '1.41', negotiatedApiVersion: '1.41' });
    await expect(planProject(e, config, 'docker')).rejects.toThrow(/annotations \(service web\) need Engine API 1\.43 .* speaks 1\.41 and would drop them silently/);
    expect(e.calls.filter((c) => c.op === 'create')).toEqual([]);
  });

  it('are planned on a newer engine', async () => {
    const plan = await planProject(new FakeEngine(), config, 'docker');
    expect(plan.steps).toEqual([expect.objectContaining({ service: 'web', action: 'create' })]);
  });
});
