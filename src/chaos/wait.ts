import { onAbort } from '../common/abort.js';
import type { Clock } from '../common/clock.js';
import { isAbortError } from '../common/errors.js';

/**
 * Holds a fault until its deadline, until `ended` settles (the fault ended by itself), or until
 * the run is cancelled. Returns true when cancelled: the caller restores at once either way.
 */
export async function holdUntil(clock: Clock, deadline: number, signal: AbortSignal, ended?: Promise<unknown>): Promise<boolean> {
  const stop = new AbortController();
  // A stop that came while the fault was being applied has fired already: this sees it too.
  const off = onAbort(signal, () => stop.abort());
  try {
    await Promise.race([clock.sleep(Math.max(0, deadline - clock.now()), stop.signal), ...(ended ? [ended.then(() => stop.abort())] : [])]);
  } catch (err) {
    if (!isAbortError(err)) throw err;
  } finally {
    off();
  }
  return signal.aborted;
}
