import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { dockerdArgv, dockerdPid, ensureDockerdRunning, startDockerd, startStopped, stopDockerd, waitForEngine } from '../dockerd.js';
import { docker, events, scope, startCli, waitFor, type CliProcess } from '../helpers.js';

/**
 * `kiboko react` while dockerd restarts under it: the event stream drops, react reports the
 * engine unreachable, reconnects when it is back; the container dockerd stopped on its way down
 * fires its rule once (delivered, or rebuilt from its state when the event was lost), and a
 * labelled container killed afterwards fires once. dockerd is stopped with SIGTERM and started again the way
 * scripts/ensure-docker.sh starts it (the same command line, in the background), and is brought
 * back in `finally` whatever happens, with the containers that were running before.
 */
const s = scope('react-restart');
const dir = mkdtempSync(join(tmpdir(), 'kiboko-react-restart-'));
const posts: { event: { Action: string; Actor: { ID: string; Attributes: Record<string, string> } } }[] = [];
let server: Server | undefined;
let proc: CliProcess | undefined;

afterAll(async () => {
  if (proc && proc.child.exitCode === null) proc.child.kill('SIGKILL');
  server?.close();
  await s.cleanup().catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
}, 60_000);

describe('kiboko react across a dockerd restart', () => {
  it('reconnects after the engine comes back and fires for a labelled container killed then, once', async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        posts.push(JSON.parse(body));
        res.end('ok');
      });
    });
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
    const rules = join(dir, 'rules.yaml');
    writeFileSync(rules, `rules:\n  - name: died\n    on: { type: container, event: die, label: ["kiboko.test=${s.id}"] }\n    actions:\n      - notify: { url: "${url}" }\n`);

    const pid = dockerdPid();
    expect(pid, 'dockerd runs on this host').toBeDefined();
    const argv = dockerdArgv(pid!);
    const liveRestore = Boolean((await docker.info()).LiveRestoreEnabled);
    // Stopped by dockerd's own shutdown (SIGTERM → exit 42): its death must fire once too.
    const doomed = await s.create('doomed');
    const before = (await docker.listContainers()).map((c) => c.Id);

    proc = startCli(['react', rules, '--json'], { stateDir: s.stateDir });
    await proc.waitForOutput('"event":"connected"');

    let restarted = false;
    try {
      await stopDockerd(pid!);
      await proc.waitForOutput('"event":"disconnected"', 15_000);
      startDockerd(argv);
      await waitForEngine();
      restarted = true;
      // Connected again (a second `connected` line).
      await waitFor(async () => events(proc!.stdout()).filter((l) => l.event === 'connected').length >= 2, 30_000, 200);
      const victim = await s.create('victim');
      await docker.getContainer(victim).kill({ signal: 'SIGKILL' });
      const expected = [...(liveRestore ? [] : [['die', doomed, '42']]), ['die', victim, '137']];
      await waitFor(async () => posts.length >= expected.length, 15_000);
      await new Promise((r) => setTimeout(r, 750));
      // The death during the shutdown fires once: from the engine's event if it was delivered, else
      // rebuilt from the container's state (kiboko.synthesized=true).
      const got = posts.map((p) => [p.event.Action, p.event.Actor.ID, p.event.Actor.Attributes.exitCode]);
      expect(got).toHaveLength(expected.length);
      expect(got).toEqual(expect.arrayContaining(expected));
    } finally {
      if (!restarted) await ensureDockerdRunning(argv);
      // Leave the engine as it was found: the containers that ran before run again.
      await startStopped(before);
    }
    proc.child.kill('SIGTERM');
    expect((await proc.done).code).toBe(0);
  }, 180_000);
});
