/**
 * Ctrl-C / SIGTERM handling for long commands: the first signal aborts (held faults are
 * restored at once, the interval loop ends); the second says restores are still running; the
 * third exits, leaving whatever is unrestored in the journal for `kiboko chaos recover`.
 */
export interface SignalHandle {
  signal: AbortSignal;
  dispose: () => void;
}

export function installSignalHandlers(warn: (message: string) => void): SignalHandle {
  const controller = new AbortController();
  const dispose = onSignals(['SIGINT', 'SIGTERM', 'SIGHUP'], (sig, count) => {
    if (count === 1) {
      warn(`${sig}: stopping; restoring what this run changed…`);
      controller.abort(new Error(sig));
    } else if (count === 2) {
      warn(`${sig} again: still restoring; send it once more to quit now (unrestored changes stay journaled for \`kiboko chaos recover\`)`);
    } else {
      process.exit(exitCodeOf(sig));
    }
  });
  return { signal: controller.signal, dispose };
}

/**
 * Ctrl-C / SIGTERM for commands with nothing to restore (following events, waiting on units):
 * the first calls `stop`, a second quits at once. Returns what stops listening.
 */
export function onStopSignals(stop: () => void): () => void {
  return onSignals(['SIGINT', 'SIGTERM'], (sig, count) => {
    if (count === 1) stop();
    else process.exit(exitCodeOf(sig));
  });
}

/** The shell's exit status for a process ended by the signal (128 + its number). */
const exitCodeOf = (sig: NodeJS.Signals) => (sig === 'SIGINT' ? 130 : 143);

/** Calls `handle` with each of these signals and how many have come so far; returns what stops listening. */
function onSignals(signals: readonly NodeJS.Signals[], handle: (sig: NodeJS.Signals, count: number) => void): () => void {
  let count = 0;
  const listener = (sig: NodeJS.Signals) => handle(sig, ++count);
  for (const s of signals) process.on(s, listener);
  return () => {
    for (const s of signals) process.off(s, listener);
  };
}
