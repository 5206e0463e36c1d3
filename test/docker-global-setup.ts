import { existsSync } from 'node:fs';
import { connectEngine } from '../src/engine/index.js';
import { ensureBusyboxImage } from '../src/images/index.js';
import { CLI, removeLabelled, TEST_LABEL } from './helpers.js';

/** Runs once before the engine tests: the engine answers, the test image exists, no leftovers. */
export default async function setup(): Promise<() => Promise<void>> {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` first (npm test does)`);
  const engine = await connectEngine();
  await engine.info();
  await ensureBusyboxImage(engine);
  await removeLabelled(TEST_LABEL);
  return async () => {
    await removeLabelled(TEST_LABEL);
  };
}
