/**
 * Toxics with toxiproxy's names, attributes and defaults. A toxic acts on one stream of every
 * connection: `upstream` (client → server) or `downstream` (server → client, toxiproxy's default),
 * and applies to a connection with probability `toxicity` (rolled per connection and stream when
 * the connection opens or the toxic is added/updated, as toxiproxy does).
 */
export type Stream = 'upstream' | 'downstream';
export const STREAMS: readonly Stream[] = ['upstream', 'downstream'];

export interface ToxicAttributesByType {
  /** Delay every chunk by latency ± jitter ms (uniform), keeping order. */
  latency: { latency: number; jitter: number };
  /** Pass data at `rate` KB/s (1 KB = 1000 bytes). */
  bandwidth: { rate: number };
  /** Delay the close (FIN) by `delay` ms after the stream ends. */
  slow_close: { delay: number };
  /** Drop all data; close the connection after `timeout` ms without data (0: never close). */
  timeout: { timeout: number };
  /** On the first data, wait `timeout` ms, then reset the connection (TCP RST). */
  reset_peer: { timeout: number };
  /** Cut data into pieces of average_size ± size_variation bytes, `delay` µs apart. */
  slicer: { average_size: number; size_variation: number; delay: number };
  /** Close the connection once `bytes` bytes have passed on this stream. */
  limit_data: { bytes: number };
}

export type ToxicType = keyof ToxicAttributesByType;
export const TOXIC_TYPES: readonly ToxicType[] = ['latency', 'bandwidth', 'slow_close', 'timeout', 'reset_peer', 'slicer', 'limit_data'];

export type Toxic = {
  [T in ToxicType]: { name: string; type: T; stream: Stream; toxicity: number; attributes: ToxicAttributesByType[T] };
}[ToxicType];

const DEFAULTS: { [T in ToxicType]: ToxicAttributesByType[T] } = {
  latency: { latency: 0, jitter: 0 },
  bandwidth: { rate: 0 },
  slow_close: { delay: 0 },
  timeout: { timeout: 0 },
  reset_peer: { timeout: 0 },
  slicer: { average_size: 0, size_variation: 0, delay: 0 },
  limit_data: { bytes: 0 },
};

/** An API error with toxiproxy's message and HTTP status (`{"error": …, "status": …}`). */
export class ProxyApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

export const badBody = (why: string) => new ProxyApiError(`bad request body: ${why}`, 400);

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Attributes of a type from JSON: unknown keys ignored (as Go's decoder does), numbers checked. */
function parseAttributes<T extends ToxicType>(type: T, raw: unknown, base: ToxicAttributesByType[T]): ToxicAttributesByType[T] {
  if (raw === undefined || raw === null) return { ...base };
  if (!isObject(raw)) throw badBody('attributes must be an object');
  const out: Record<string, number> = { ...(base as unknown as Record<string, number>) };
  for (const key of Object.keys(base)) {
    if (!(key in raw)) continue;
    const v = raw[key];
    if (typeof v !== 'number' || !Number.isFinite(v)) throw badBody(`attribute ${key} of ${type} must be a number, got ${JSON.stringify(v)}`);
    if (!Number.isInteger(v)) throw badBody(`attribute ${key} of ${type} must be a whole number, got ${v}`);
    out[key] = v;
  }
  validateAttributes(type, out as unknown as ToxicAttributesByType[T]);
  return out as unknown as ToxicAttributesByType[T];
}

function validateAttributes<T extends ToxicType>(type: T, a: ToxicAttributesByType[T]): void {
  const neg = Object.entries(a).find(([, v]) => (v as number) < 0);
  if (neg) throw badBody(`attribute ${neg[0]} of ${type} must be ≥ 0, got ${String(neg[1])}`);
  if (type === 'slicer') {
    const s = a as ToxicAttributesByType['slicer'];
    if (s.size_variation > s.average_size && s.average_size > 0) throw badBody('slicer size_variation must not exceed average_size');
  }
}

function parseToxicity(v: unknown, fallback: number): number {
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > 1) throw badBody(`toxicity must be a number between 0 and 1, got ${JSON.stringify(v)}`);
  return v;
}

/** Parses a toxic as toxiproxy's `POST /proxies/{p}/toxics` does (defaults: downstream, toxicity 1, name type_stream). */
export function parseToxic(body: unknown): Toxic {
  if (!isObject(body)) throw badBody('expected a JSON object');
  const stream = body.stream === undefined || body.stream === '' ? 'downstream' : body.stream;
  if (stream !== 'upstream' && stream !== 'downstream') throw new ProxyApiError('stream was invalid, can be either upstream or downstream', 400);
  const type = body.type;
  if (typeof type !== 'string' || !(TOXIC_TYPES as readonly string[]).includes(type)) throw new ProxyApiError('invalid toxic type', 400);
  if (body.name !== undefined && typeof body.name !== 'string') throw badBody('name must be a string');
  const name = (body.name as string | undefined) || `${type}_${stream}`;
  const t = type as ToxicType;
  return { name, type: t, stream, toxicity: parseToxicity(body.toxicity, 1), attributes: parseAttributes(t, body.attributes, DEFAULTS[t]) } as Toxic;
}

/** Applies an update body (`attributes`, `toxicity`) to an existing toxic, as toxiproxy's `POST/PATCH …/toxics/{t}`. */
export function updateToxic(existing: Toxic, body: unknown): Toxic {
  if (!isObject(body)) throw badBody('expected a JSON object');
  return {
    ...existing,
    toxicity: parseToxicity(body.toxicity, existing.toxicity),
    attributes: parseAttributes(existing.type, body.attributes, existing.attributes as never),
  } as Toxic;
}

/** Toxics from the CLI's `type:key=value,key=value` form (stream and toxicity as keys too). */
export function parseToxicSpec(spec: string): Toxic {
  const m = /^([a-z_]+)(?::(.*))?$/.exec(spec.trim());
  if (!m) throw badBody(`expected TYPE[:key=value,…], got '${spec}'`);
  const body: Record<string, unknown> = { type: m[1], attributes: {} };
  for (const pair of (m[2] ?? '').split(',').filter(Boolean)) {
    const [k, v] = pair.split('=');
    if (!k || v === undefined) throw badBody(`expected key=value in '${spec}', got '${pair}'`);
    if (k === 'stream' || k === 'name') body[k] = v;
    else if (k === 'toxicity') body.toxicity = Number(v);
    else (body.attributes as Record<string, unknown>)[k] = Number(v);
  }
  return parseToxic(body);
}
