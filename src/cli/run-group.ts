import type { CommandGroup } from './program-core.js';
import { runResult, type RunResult } from './finished.js';
import { guardStdout } from './stdout.js';
import { main } from './main.js';

/**
 * Runs `kiboko ARGS…` with these command groups and sets the exit code (what each CLI bundle's
 * entry runs: ./run.ts, ./run-chaos.ts, ./run-deploy.ts). A closed stdout (`kiboko … | head`) is
 * not a crash: see ./stdout.ts.
 */
export async function runWith(args: string[], groups: readonly CommandGroup[]): Promise<RunResult> {
  guardStdout();
  process.exitCode = await main(args, groups);
  return runResult();
}
