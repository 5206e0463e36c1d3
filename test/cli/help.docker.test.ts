import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { CLI, runCli } from '../helpers.js';

// The real executable: no engine is needed to print help, but this is where the CLI is run as a user runs it.
describe('help from the real CLI', () => {
  it.each([[[]], [['chaos']], [['deploy']], [['units']], [['chaos', 'netem']], [['chaos', 'iptables']]])('`kiboko %j` prints its help on stdout and exits 0', async (argv) => {
    const r = await runCli(argv);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain(`Usage: ${['kiboko', ...argv].join(' ')} [options] [command]`);
    expect(r.stdout).toMatch(/Examples:\n {2}\$ kiboko /);
    expect(r.stdout).toMatch(/Exit codes:\n {2}0 /);
  });

  it('`kiboko --help` lists the engine flags once, under Global Options; `chaos kill --help` points there', async () => {
    const root = await runCli(['--help']);
    expect(root.code).toBe(0);
    expect(root.stdout).toMatch(/Global Options:\n {2}-H, --host <host>/);
    const kill = await runCli(['chaos', 'kill', '--help']);
    expect(kill.code).toBe(0);
    expect(kill.stdout).not.toMatch(/^\s+-H, --host/m);
    expect(kill.stdout).toContain('see `kiboko --help`');
    expect(kill.stdout).toContain('$ kiboko chaos kill --signal SIGTERM web-1');
  });

  it('"did you mean" is on the same line and names a help that exists', async () => {
    const r = await runCli(['chaos', 'kil', 'web-1']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe("kiboko: unknown command 'kil' (did you mean kill?) — see `kiboko chaos kill --help`\n");
    const help = await runCli(['chaos', 'kill', '--help']);
    expect(help.code).toBe(0);
  });

  it('the engine flags still work after a subcommand', async () => {
    const r = await runCli(['chaos', 'kill', '-H', 'tcp://127.0.0.1:1', 'web-1']);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/^kiboko: .*127\.0\.0\.1:1/);
  });

  it('`kiboko --help | head -1` stops quietly when the reader goes away', () => {
    const r = spawnSync('bash', ['-c', `node ${JSON.stringify(CLI)} chaos --help | head -1; echo "status \${PIPESTATUS[0]}"`], { encoding: 'utf8' });
    expect(r.stdout).toBe('Usage: kiboko chaos [options] [command]\nstatus 0\n');
    expect(r.stderr).toBe('');
  });
});
