/**
 * A reader that goes away (`kiboko events | head -1`) closes the pipe: the next write fails with
 * EPIPE, emitted as an 'error' on process.stdout that would otherwise end the process with a
 * stack trace. It is not an error of the command: it is swallowed here, once for the process,
 * and commands that stream (events, react) hear of it and end quietly with their normal exit.
 */
const listeners = new Set<() => void>();
let closed = false;
let installed = false;

const isClosedPipe = (err: NodeJS.ErrnoException) => err.code === 'EPIPE' || err.code === 'ERR_STREAM_DESTROYED' || err.code === 'ECONNRESET';

/** Installs the handler (idempotent). Errors other than a closed pipe are rethrown. */
export function guardStdout(): void {
  if (installed) return;
  installed = true;
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (!isClosedPipe(err)) throw err;
    if (closed) return;
    closed = true;
    for (const l of [...listeners]) l();
  });
}

/** Calls `listener` once stdout's reader is gone (at once if it already is); returns the unsubscribe. */
export function onStdoutClosed(listener: () => void): () => void {
  guardStdout();
  if (closed) {
    listener();
    return () => undefined;
  }
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export const stdoutClosed = (): boolean => closed;

/** Writes unless the reader is gone. */
export function writeOut(text: string): void {
  if (!closed) process.stdout.write(text);
}
