import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { ExpiringKeys } from '../common/expiring-keys.js';
import { HttpError } from './errors.js';

/**
 * What the deploy hook has already accepted, remembered for a window so a delivery is acted on
 * once: delivery ids (GitHub's `X-GitHub-Delivery`, kiboko's signed `X-Kiboko-Delivery`) and, for
 * body-only signatures (`X-Hub-Signature-256`, which GitHub computes over the body alone), the
 * digest of the signed bytes. Bounded: past `max` entries the oldest are forgotten first.
 */
export class DeliveryLog extends ExpiringKeys {
  /** A key "seen within the window" is one added at most windowMs ago: kept windowMs + 1 ms. */
  constructor(
    readonly windowMs = 24 * 3600_000,
    max = 10_000,
    now: () => number = Date.now,
  ) {
    super(windowMs + 1, max, now);
  }

  /** True when any key was seen within the window; otherwise records them all. */
  replayed(keys: readonly string[]): boolean {
    this.sweep();
    if (keys.some((k) => this.has(k))) return true;
    for (const k of keys) this.add(k);
    return false;
  }

  /** Forgets keys (a delivery that was refused for another reason may be sent again). */
  forget(keys: readonly string[]): void {
    for (const k of keys) this.delete(k);
  }
}

const header = (req: IncomingMessage, name: string): string | undefined => {
  const v = req.headers[name];
  return typeof v === 'string' && v.length > 0 && v.length <= 200 ? v : undefined;
};

/** The keys a hook delivery is known by (empty: nothing to recognise it by, e.g. a bearer-token call without a delivery id). */
export function deliveryKeys(req: IncomingMessage, body: Buffer | undefined, bodyOnlySignature: boolean): string[] {
  const keys: string[] = [];
  const github = header(req, 'x-github-delivery');
  if (github) keys.push(`github:${github}`);
  const kiboko = header(req, 'x-kiboko-delivery');
  if (kiboko) keys.push(`kiboko:${kiboko}`);
  if (bodyOnlySignature) keys.push(`body:${createHash('sha256').update(body ?? Buffer.alloc(0)).digest('hex')}`);
  return keys;
}

export const replayError = (windowMs: number) =>
  new HttpError(409, 'REPLAYED', `this delivery was already accepted (a delivery id or the same signed body within ${Math.round(windowMs / 3600_000)} h); nothing was deployed`, 'send a new delivery: kiboko-signed hooks carry X-Kiboko-Delivery and X-Kiboko-Timestamp (see docs/serve-security.md); to deploy an earlier tag again use POST /v1/deploys/rollback');
