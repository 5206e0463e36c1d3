import { existsSync } from 'node:fs';
import { connectEngine } from '../src/engine/index.js';
import { ensureBusyboxImage } from '../src/images/index.js';
import { randomBytes } from 'node:crypto';
import { CLI, docker, removeLabelled, TEST_LABEL, TEST_RUN_LABEL } from './helpers.js';

/** Leftovers of a run that crashed are this old at least; younger ones may belong to a run going on now. */
const STALE_MS = 3 * 3600_000;

/** Runs once before the engine tests: the engine answers, the test image exists, no leftovers. */
export default async function setup(): Promise<() => Promise<void>> {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` first (npm test does)`);
  // Both engine projects (docker-paired, docker) name this setup: the first call does the work.
  if (process.env.KIBOKO_TEST_SETUP === String(process.pid)) return async () => undefined;
  process.env.KIBOKO_TEST_SETUP = String(process.pid);
  const engine = await connectEngine();
  await engine.info();
  await ensureBusyboxImage(engine);
  // Workers are started after this, so they inherit the run id (see TEST_RUN in helpers.ts).
  const run = randomBytes(4).toString('hex');
  process.env.KIBOKO_TEST_RUN = run;
  await removeStale();
  return async () => {
    await removeLabelled(`${TEST_RUN_LABEL}=${run}`);
  };
}

/** Test containers left by an earlier run that died: on CI (one run per machine) all of them, elsewhere only old ones. */
async function removeStale(): Promise<void> {
  if (process.env.CI) return removeLabelled(TEST_LABEL);
  const list = await docker.listContainers({ all: true, filters: JSON.stringify({ label: [TEST_LABEL] }) });
  const old = list.filter((c) => Date.now() - c.Created * 1000 > STALE_MS);
  await Promise.all(old.map((c) => docker.getContainer(c.Id).remove({ force: true, v: true }).catch(() => undefined)));
}
