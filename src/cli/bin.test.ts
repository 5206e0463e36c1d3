import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { bundleFor, GROUP_BUNDLES, LEFT_OUT } from './bin.js';
import { CHAOS_GROUP } from './define-chaos.js';
import { DEPLOY_GROUP } from './define-deploy.js';
import { buildTree } from './program-core.js';
import { COMMAND_GROUPS } from './program.js';

describe('bundleFor: which CLI bundle runs a command line', () => {
  it('a group with a bundle of its own runs from it', () => {
    expect(bundleFor(['chaos', 'kill', 'web'])).toBe('cli-chaos.cjs');
    expect(bundleFor(['deploy', 'plan', '-f', 'compose.yaml'])).toBe('cli-deploy.cjs');
    expect(bundleFor(['chaos'])).toBe('cli-chaos.cjs'); // a bare group prints its own help: only its commands
  });

  it('help (which lists every command), other commands and global options first run from the whole CLI', () => {
    expect(bundleFor(['chaos', 'kill', '--help'])).toBe('cli.cjs');
    expect(bundleFor(['help', 'deploy'])).toBe('cli.cjs');
    expect(bundleFor(['units', 'list-units'])).toBe('cli.cjs');
    expect(bundleFor(['--host', 'tcp://h:2375', 'chaos', 'kill', 'web'])).toBe('cli.cjs');
    expect(bundleFor([])).toBe('cli.cjs');
  });

  it("a command its group's bundle leaves out runs from the whole CLI, wherever its name is on the line", () => {
    expect(LEFT_OUT).toEqual({ chaos: ['recover'] });
    expect(bundleFor(['chaos', 'recover'])).toBe('cli.cjs');
    expect(bundleFor(['chaos', 'recover', '--dry-run'])).toBe('cli.cjs');
    expect(bundleFor(['chaos', '--json', 'recover'])).toBe('cli.cjs');
    expect(bundleFor(['chaos', '--host', 'unix:///run/docker.sock', 'recover'])).toBe('cli.cjs');
    expect(bundleFor(['chaos', 'kill', 'recover'])).toBe('cli.cjs'); // a container named so: slower, never wrong
    // every other chaos command runs from the chaos bundle
    const chaos = buildTree([CHAOS_GROUP]).commands.find((c) => c.name() === 'chaos')!;
    for (const sub of chaos.commands.map((c) => c.name()).filter((n) => n !== 'recover')) {
      expect(bundleFor(['chaos', sub, 'web'])).toBe('cli-chaos.cjs');
    }
  });

  it('each group bundle runs a group of the whole tree, the same one', () => {
    const own = { chaos: CHAOS_GROUP, deploy: DEPLOY_GROUP } as const;
    expect([...GROUP_BUNDLES].sort()).toEqual(Object.keys(own).sort());
    for (const group of Object.values(own)) expect(COMMAND_GROUPS).toContain(group);
    // scripts/build.mjs bundles one per src/cli/run-<group>.ts
    const entries = readdirSync(import.meta.dirname).flatMap((f) => /^run-(\w+)\.ts$/.exec(f)?.[1] ?? []).filter((g) => g !== 'group');
    expect(entries.sort()).toEqual([...GROUP_BUNDLES].sort());
  });
});
