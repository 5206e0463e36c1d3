import { defineConfig } from 'vitest/config';

/**
 * Engine tests that may run two at a time: they assert what happened (containers, files, exit
 * codes), not how fast, and they touch only what carries their own labels and names — no swarm,
 * no dockerd restart, no tc/iptables faults, no "nothing of kind X is left anywhere" checks, no
 * zero-downtime updates (their healthchecks have deadlines that load can miss: CI saw a rolling
 * update fail a 1 s healthcheck timeout beside another file). Everything else runs alone, after
 * them (vitest runs groups one after another).
 */
const PAIRED = [
  'test/cli/compose-stacks.docker.test.ts',
  'test/cli/compose-lifecycle.docker.test.ts',
  'test/deploy/compose-corpus.docker.test.ts',
  'test/template/confd-compat.docker.test.ts',
  'test/template/container.docker.test.ts',
  'test/cli/units-client.docker.test.ts',
  'test/cli/fleetctl-replay.docker.test.ts',
  'test/cli/serve-api.docker.test.ts',
  'test/cli/bad-input.docker.test.ts',
  'test/events/deps.docker.test.ts',
  'test/events/react.docker.test.ts',
  'test/cli/kill-and-targets.docker.test.ts',
  'test/cli/json-output.docker.test.ts',
  // Small functional files, beside compose-stacks' ~210 s critical path.
  'test/template/fixtures.docker.test.ts',
  'test/cli/tls.docker.test.ts',
  'test/cli/help.docker.test.ts',
  'test/cli/chaos-targets.docker.test.ts',
  'test/cli/serve-fleet.docker.test.ts',
  'test/packages/docker-test-flow.docker.test.ts',
  'test/packages/lifecycle.docker.test.ts',
];

const engine = {
  globalSetup: ['test/docker-global-setup.ts'],
  testTimeout: 120_000,
  hookTimeout: 120_000,
};

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['src/**/*.test.ts'],
          // Property and fuzz tests take 2-4 s alone; vitest's 5 s default was hit on a loaded machine.
          testTimeout: 20_000,
          exclude: ['src/**/*.docker.test.ts'],
        },
      },
      {
        test: {
          ...engine,
          name: 'docker-paired',
          include: PAIRED,
          maxWorkers: 2,
          sequence: { groupOrder: 1 },
        },
      },
      {
        test: {
          ...engine,
          name: 'docker',
          include: ['src/**/*.docker.test.ts', 'test/**/*.docker.test.ts'],
          exclude: PAIRED,
          // One engine, two cores: these files run one at a time so timing assertions stay honest.
          fileParallelism: false,
          maxWorkers: 1,
          sequence: { groupOrder: 2 },
        },
      },
    ],
  },
});
