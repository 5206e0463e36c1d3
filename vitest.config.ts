import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['src/**/*.test.ts'],
          exclude: ['src/**/*.docker.test.ts'],
        },
      },
      {
        test: {
          name: 'docker',
          include: ['src/**/*.docker.test.ts', 'test/**/*.docker.test.ts'],
          globalSetup: ['test/docker-global-setup.ts'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
          // One engine, two cores: files run one at a time so timing assertions stay honest.
          fileParallelism: false,
        },
      },
    ],
  },
});
