/**
 * A command whose work is all done when it returns — nothing it started (a stream, a child
 * process, a request, a timer) still has to run to its end — can say so, and the executable
 * (./bin.ts) then ends the process with `process.exit()` once the code cache is saved and stdout
 * and stderr are written out, instead of letting Node free the environment and the heap first:
 * ~5 ms of a no-op `deploy plan`. The output, the exit code and the 'exit' listeners are the same
 * either way. A command that does not say so ends as before, when nothing is left to run.
 */
let finished = false;

/** Marks the running command's work as all done (call it just before returning). */
export function commandFinished(): void {
  finished = true;
}

/** What a CLI bundle's `run` resolves to. */
export interface RunResult {
  /** The command said nothing it started is left to run. */
  finished: boolean;
}

export const runResult = (): RunResult => ({ finished });

/**
 * Ends the process now when the command finished and nothing is waiting to be written (stdout
 * and stderr write synchronously to files, terminals and Linux pipes; elsewhere a write may still
 * be queued, and then Node's own exit, after it, is kept).
 */
export function exitIfFinished(result: RunResult | void): void {
  if (result?.finished && process.stdout.writableLength === 0 && process.stderr.writableLength === 0) process.exit();
}
