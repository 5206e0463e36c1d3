/**
 * `fn` called at most once per `ttlMs`: callers within that time get the last result, and callers
 * while a call is in flight share it (1,000 concurrent requests make one call). A failed call is
 * not remembered.
 */
export function singleFlight<T>(fn: () => Promise<T>, ttlMs: number, now: () => number = Date.now): () => Promise<T> {
  let last: { at: number; value: T } | undefined;
  let inflight: Promise<T> | undefined;
  return () => {
    if (last && now() - last.at < ttlMs) return Promise.resolve(last.value);
    inflight ??= fn().then(
      (value) => {
        last = { at: now(), value };
        inflight = undefined;
        return value;
      },
      (err: unknown) => {
        inflight = undefined;
        throw err;
      },
    );
    return inflight;
  };
}
