// The CLI bundle's entry (dist/cli.cjs): bin.ts loads it through V8's code cache (./code-cache.ts).
import { guardStdout } from './stdout.js';
import { main } from './main.js';

/** Runs `kiboko ARGS…` and sets the exit code. A closed stdout (`kiboko … | head`) is not a crash: see ./stdout.ts. */
export async function run(args: string[]): Promise<void> {
  guardStdout();
  process.exitCode = await main(args);
}
