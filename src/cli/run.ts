// The CLI bundles' entries: dist/cli.cjs runs every command (this module); a command group that
// starts often has a bundle of its own with only its commands (./run-chaos.ts, ./run-deploy.ts),
// which reads, compiles and runs less. bin.ts picks the bundle and loads it through V8's code
// cache (./code-cache.ts).
import type { RunResult } from './finished.js';
import { runWith } from './run-group.js';

/** Runs `kiboko ARGS…` with every command. */
export async function run(args: string[]): Promise<RunResult> {
  return runWith(args, (await import('./program.js')).COMMAND_GROUPS);
}
