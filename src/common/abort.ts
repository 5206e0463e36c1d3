/**
 * Listening for an abort without missing it. An `'abort'` listener added after the signal fired
 * never runs, and a signal can fire during any `await` before the listener is added: a stop
 * request that lands while a fault is applied, Ctrl-C during a pass. These helpers look first.
 */

/** Calls `fn` once when `signal` aborts, at once if it already has. Returns what removes it. */
export function onAbort(signal: AbortSignal | undefined, fn: () => void): () => void {
  if (!signal) return () => undefined;
  if (signal.aborted) {
    fn();
    return () => undefined;
  }
  signal.addEventListener('abort', fn, { once: true });
  return () => signal.removeEventListener('abort', fn);
}

/** Resolves after `ms`, or as soon as `signal` aborts (at once if it has); never rejects. */
export function restUnlessAborted(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise<void>((resolve) => {
    let off = () => undefined as void;
    const t = Number.isFinite(ms)
      ? setTimeout(() => {
          off();
          resolve();
        }, Math.min(Math.max(0, ms), 2 ** 31 - 1))
      : undefined;
    off = onAbort(signal, () => {
      clearTimeout(t);
      resolve();
    });
  });
}
