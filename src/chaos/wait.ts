import type { Clock } from '../common/clock.js';
import { isAbortError } from '../common/errors.js';

/**
 * Holds a fault until its deadline, until `ended` settles (the fault ended by itself), or until
 * the run is cancelled. Returns true when cancelled: the caller restores at once either way.
 */
export async function holdUntil(clock: Clock, deadline: number, signal: AbortSignal, ended?: Promise<unknown>): Promise<boolean> {
  // Cancelled while the fault was being applied: the abort event has fired already.
  if (signal.aborted) return true;
  const stop = new AbortController();
  const onAbort = () => stop.abort();
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    await Promise.race([clock.sleep(Math.max(0, deadline - clock.now()), stop.signal), ...(ended ? [ended.then(() => stop.abort())] : [])]);
  } catch (err) {
    if (!isAbortError(err)) throw err;
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
  return signal.aborted;
}
