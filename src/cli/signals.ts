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
  let count = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    count++;
    if (count === 1) {
      warn(`${sig}: stopping; restoring what this run changed…`);
      controller.abort(new Error(sig));
    } else if (count === 2) {
      warn(`${sig} again: still restoring; send it once more to quit now (unrestored changes stay journaled for \`kiboko chaos recover\`)`);
    } else {
      process.exit(sig === 'SIGINT' ? 130 : 143);
    }
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('SIGHUP', onSignal);
  return {
    signal: controller.signal,
    dispose: () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      process.off('SIGHUP', onSignal);
    },
  };
}
