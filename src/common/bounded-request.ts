import type { ClientRequest, IncomingHttpHeaders, IncomingMessage } from 'node:http';

/** One HTTP exchange, fully read (the body is bounded). */
export interface BoundedResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

export interface BoundedRequestOptions {
  /** The largest body read; a larger one ends the exchange (`errors.tooBig`). */
  maxBytes: number;
  /** From connecting to the last byte, so a peer that accepts and then stalls (a tarpit) is cut off. */
  timeoutMs: number;
  signal?: AbortSignal | undefined;
  /** The request body, if any. */
  body?: Buffer | undefined;
}

/** The errors an exchange ends with, each caller's own words. */
export interface BoundedRequestErrors {
  tooBig: () => Error;
  timedOut: () => Error;
  aborted: () => Error;
  /** The request or the response failed (refused, reset, TLS…). */
  failed: (err: NodeJS.ErrnoException) => Error;
}

/**
 * Sends a request `open` creates (node's http/https `request` with this response callback) and
 * reads the whole response, within the bounds: it settles once, and whatever ends it early (the
 * size, the timeout, the signal) destroys the request.
 */
export function boundedRequest(open: (onResponse: (res: IncomingMessage) => void) => ClientRequest, options: BoundedRequestOptions, errors: BoundedRequestErrors): Promise<BoundedResponse> {
  const { signal } = options;
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(errors.aborted());
    let settled = false;
    const finish = (err: Error | undefined, res?: BoundedResponse) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      if (err) reject(err);
      else resolve(res!);
    };
    const req = open((res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size > options.maxBytes) {
          req.destroy();
          finish(errors.tooBig());
          return;
        }
        chunks.push(c);
      });
      res.on('end', () => finish(undefined, { status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', (e: NodeJS.ErrnoException) => finish(errors.failed(e)));
    });
    const timer = setTimeout(() => {
      req.destroy();
      finish(errors.timedOut());
    }, options.timeoutMs);
    const onAbort = () => {
      req.destroy();
      finish(errors.aborted());
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    req.on('error', (e: NodeJS.ErrnoException) => finish(errors.failed(e)));
    req.end(options.body);
  });
}
