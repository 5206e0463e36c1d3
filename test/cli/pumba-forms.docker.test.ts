import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectEngine } from '../../src/engine/index.js';
import { buildHostToolsImage, NETTOOLS_IMAGE } from '../../src/images/index.js';
import { helperCount, iptablesSave, journalFiles, runCli, scope, startCli } from '../helpers.js';

/**
 * Pumba's own command lines, as its sidecar integration tests write them (urfave/cli syntax:
 * `--pull-image=false`), run by the real CLI against the real engine, with the kernel state read
 * in the target's namespace.
 */
const s = scope('pumba');
let target = '';
beforeAll(async () => {
  await buildHostToolsImage(await connectEngine(), NETTOOLS_IMAGE);
  target = await s.create('target');
});
afterAll(() => s.cleanup());

describe('Pumba command lines, unchanged', () => {
  it('iptables --iptables-image … --pull-image=false loss --probability 1 TARGET: the rule is applied, then removed', async () => {
    expect(NETTOOLS_IMAGE.tag).toBe('kiboko/nettools:local');
    const before = await iptablesSave(target);
    const p = startCli(
      ['chaos', '--log-level', 'debug', 'iptables', '--duration', '5s', '--iptables-image', 'kiboko/nettools:local', '--pull-image=false', 'loss', '--probability', '1', `${s.prefix}target`],
      { stateDir: s.stateDir },
    );
    await p.waitForOutput(/applied to|restoring at/);
    expect(await iptablesSave(target)).toMatch(/-A INPUT -i eth0 .*-j DROP/);
    const r = await p.done;
    expect(r.code, r.stderr).toBe(0);
    expect(await iptablesSave(target)).toBe(before);
    expect(await helperCount()).toBe(0);
    expect(journalFiles(s.stateDir)).toHaveLength(0);
    // --log-level debug: the resolved command, its arguments, the targets and the limit, before anything ran.
    const debug = r.stdout.split('\n').find((l) => l.startsWith('command: iptables loss'));
    expect(debug, r.stdout).toMatch(/arguments: \[".*target"\]; flags: .*"pullImage":false.*; targets: .*; limit: 0; action: \{"kind":"iptables"/);
  });

  it('a netem fault whose targets match nothing exits 0 with "no containers found", before any kernel probe (this kernel has no netem)', async () => {
    const r = await runCli(['chaos', 'netem', '--duration', '5s', '--tc-image', 'kiboko/nettools:local', '--pull-image=false', 'delay', '--time', '100', 're2:^kt-nothing-matches-this-'], { stateDir: s.stateDir });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^no containers found/m);
    expect(await helperCount()).toBe(0);
  });
});
