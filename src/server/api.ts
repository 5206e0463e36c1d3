import type { ServerResponse } from 'node:http';
import * as z from 'zod/mini';
import { invalidArgument } from '../common/errors.js';
import type { UnitRegistry } from '../units/index.js';
import type { EventBus } from './bus.js';
import type { ChaosService } from './chaos.js';
import { jobView, type DeployService } from './deploys.js';
import { describeIssue, HttpError } from './errors.js';
import type { Metrics } from './metrics.js';
import { operatorRoutes } from './operator.js';
import { streamEvents } from './sse.js';
import { deliveryKeys, DeliveryLog, replayError } from './replay.js';
import type { WatchService } from './watch.js';
import { parseHookPayload } from './webhook.js';

export interface NativeApiDeps {
  registry: UnitRegistry;
  deploys?: DeployService | undefined;
  chaos?: ChaosService | undefined;
  bus?: EventBus | undefined;
  watch?: WatchService | undefined;
  metrics: Metrics;
  sse?: { heartbeatMs?: number | undefined; maxStreams?: number | undefined; maxStreamsPerClient?: number | undefined; maxBufferedBytes?: number | undefined } | undefined;
  /** Open SSE responses, so closing the server can end them. */
  streams: Set<ServerResponse>;
  /** Hook deliveries already accepted (replays are refused with 409). */
  deliveries?: DeliveryLog | undefined;
  /** The engine, for the operator's views (`/v1/services`, `/v1/chaos/runs`). */
  engine?: import('../engine/index.js').Engine | undefined;
}

export type { ApiCall, ApiReply, Credential } from './api-types.js';
import type { ApiCall, ApiReply } from './api-types.js';

/** Concurrent event streams (defaults: 2,000 in all, 1,000 per client address). */
export const SSE_LIMITS = { maxStreams: 2000, maxStreamsPerClient: 1000, maxBufferedBytes: 256 * 1024 };


interface Route {
  method: string;
  pattern: string;
  re: RegExp;
  keys: string[];
  handler: (call: ApiCall) => Promise<ApiReply>;
}

const compile = (pattern: string) => {
  const keys: string[] = [];
  const re = new RegExp(`^${pattern.replace(/:([a-z]+)/g, (_, k: string) => (keys.push(k), '([^/]+)'))}$`);
  return { re, keys };
};

/** The request body as JSON: JSON media types (any `+json`), or GitHub's form encoding (`payload=`). */
export function jsonBody(call: Pick<ApiCall, 'req' | 'body'>): unknown {
  const type = (call.req.headers['content-type'] ?? '').toLowerCase();
  let text = call.body?.toString('utf8') ?? '';
  if (type.startsWith('application/x-www-form-urlencoded')) {
    const p = new URLSearchParams(text).get('payload');
    if (p === null) throw invalidArgument('form-encoded body without a payload field', 'send JSON, or GitHub’s form encoding (payload=…)');
    text = p;
  } else if (type && !type.includes('json')) {
    throw new HttpError(415, 'UNSUPPORTED_MEDIA_TYPE', `expected a JSON body, got content-type ${type.slice(0, 80)}`, 'send content-type: application/json');
  }
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw invalidArgument(`the body is not valid JSON: ${(err as Error).message}`, 'send a JSON object');
  }
}

function parse<T>(schema: z.ZodMiniType<T>, value: unknown, what: string, example: string): T {
  const r = schema.safeParse(value ?? {});
  if (r.success) return r.data;
  throw invalidArgument(`invalid ${what}: ${describeIssue(r.error.issues[0]!, value)}`, `e.g. ${example}`);
}

const projectName = z.string().check(z.regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, { error: 'expected a project name (lowercase letters, digits, - and _)' }));
const projectBody = z.object({ project: projectName });
const rollbackBody = z.object({ project: projectName, to: z.optional(z.number().check(z.int(), z.gte(1), z.lte(1_000_000_000))) });

function unavailable(what: string): never {
  throw new HttpError(503, 'NOT_ENABLED', `${what} is not enabled on this daemon`, 'start kiboko serve with the engine connection and --project NAME=PATH');
}

/**
 * kiboko's native API under /v1 (JSON, behind the bearer token), the deploy hook and /metrics.
 * Every route validates its input and answers errors as `{"error": {"code", "message", "hint"}}`.
 */
export class NativeApi {
  private readonly routes: Route[] = [];

  constructor(d: NativeApiDeps) {
    this.add('GET', '/metrics', async () => {
      const m = await d.metrics.text();
      return { status: 200, body: m.body, headers: { 'content-type': m.contentType } };
    });
    this.add('GET', '/v1/units', async () => ({ status: 200, body: { units: await d.registry.list() } }));
    this.deployRoutes(d);
    this.chaosRoutes(d);
    this.watchRoutes(d);
    for (const r of operatorRoutes(d)) this.add(r.method, r.pattern, r.handler);
    this.eventRoutes(d);
  }

  private add(method: string, pattern: string, handler: Route['handler']): void {
    this.routes.push({ method, pattern, ...compile(pattern), handler });
  }

  /** Projects, plans, deploys, rollbacks, their history, and the deploy hook. */
  private deployRoutes(d: NativeApiDeps): void {
    const deploys = () => d.deploys ?? unavailable('deploying');
    this.add('GET', '/v1/projects', async () => ({ status: 200, body: { projects: await deploys().projects() } }));
    this.add('POST', '/v1/deploys/plan', async (c) => {
      const { project } = parse(projectBody, jsonBody(c), 'plan request', '{"project": "shop"}');
      return { status: 200, body: await deploys().plan(project) };
    });
    this.add('POST', '/v1/deploys', async (c) => {
      const { project } = parse(projectBody, jsonBody(c), 'deploy request', '{"project": "shop"}');
      const job = deploys().startApply(project);
      return { status: 202, body: jobView(job), headers: { location: `/v1/deploys/${job.id}` } };
    });
    this.add('POST', '/v1/deploys/rollback', async (c) => {
      const { project, to } = parse(rollbackBody, jsonBody(c), 'rollback request', '{"project": "shop", "to": 3}');
      const job = deploys().startRollback(project, to);
      return { status: 202, body: jobView(job), headers: { location: `/v1/deploys/${job.id}` } };
    });
    this.add('GET', '/v1/deploys', async (c) => {
      const q = c.url.searchParams;
      const project = q.get('project') ?? undefined;
      if (project !== undefined) parse(projectName, project, 'project', '?project=shop');
      const limitRaw = q.get('limit') ?? '50';
      if (!/^\d{1,4}$/.test(limitRaw) || Number(limitRaw) < 1 || Number(limitRaw) > 500) throw invalidArgument(`invalid limit '${limitRaw.slice(0, 20)}': expected a whole number from 1 to 500`, '?limit=20');
      return { status: 200, body: deploys().history({ project, limit: Number(limitRaw) }) };
    });
    this.add('GET', '/v1/deploys/:id', async (c) => ({ status: 200, body: deploys().find(c.params.id!) }));
    const deliveries = d.deliveries ?? new DeliveryLog();
    this.add('POST', '/hooks/deploy', async (c) => {
      const event = c.req.headers['x-github-event'];
      const parsed = parseHookPayload(jsonBody(c), typeof event === 'string' ? event : undefined);
      if (parsed.kind === 'ping') return { status: 200, body: { ok: true, event: 'ping' } };
      if (parsed.notices.length === 0) return { status: 200, body: { jobs: [], ignored: parsed.ignored, unmatched: [] } };
      const source = parsed.notices[0]!.source;
      // A delivery is acted on once: its id, or (for GitHub's body-only signature) its signed bytes, within the window.
      const keys = deliveryKeys(c.req, c.body, c.credential === 'signature');
      if (keys.length > 0 && deliveries.replayed(keys)) throw replayError(deliveries.windowMs);
      let admitted;
      try {
        admitted = await deploys().hook(parsed.notices, source);
      } catch (err) {
        deliveries.forget(keys); // refused: the sender may correct things and send it again
        throw err;
      }
      const { jobs, unmatched } = admitted;
      if (jobs.length === 0) return { status: 200, body: { jobs: [], ignored: parsed.ignored + unmatched.length, unmatched } };
      return {
        status: 202,
        body: { ...jobView(jobs[0]!, false), jobs: jobs.map((j) => jobView(j, false)), ignored: parsed.ignored, unmatched },
        headers: { location: `/v1/deploys/${jobs[0]!.id}` },
      };
    });
  }

  private chaosRoutes(d: NativeApiDeps): void {
    const chaos = () => d.chaos ?? unavailable('chaos');
    this.add('GET', '/v1/chaos/experiments', async () => ({ status: 200, body: { experiments: chaos().list() } }));
    this.add('POST', '/v1/chaos/experiments', async (c) => {
      const x = await chaos().start(jsonBody(c));
      return { status: 201, body: x, headers: { location: x.links.self } };
    });
    this.add('GET', '/v1/chaos/experiments/:id', async (c) => ({ status: 200, body: chaos().get(c.params.id!) }));
    this.add('DELETE', '/v1/chaos/experiments/:id', async (c) => ({ status: 200, body: await chaos().stop(c.params.id!) }));
  }

  /** `kiboko serve --watch`: the passes' reports, and a pass on request. */
  private watchRoutes(d: NativeApiDeps): void {
    const watching = () => d.watch ?? (() => {
      throw new HttpError(503, 'NOT_ENABLED', 'watching the registry is not enabled on this daemon', 'start kiboko serve with --watch (and the watch options: --interval, --schedule, --monitor-only, --label-enable…)');
    })();
    // The newest pass reports first (the daemon keeps the last 20): what the dashboard renders.
    this.add('GET', '/v1/watch/reports', async () => ({ status: 200, body: { reports: watching().reports() } }));
    // A pass now; while one runs, requests fold into one pass after it. ?wait=true answers with its report.
    this.add('POST', '/v1/watch/run', async (c) => {
      if (c.credential !== 'token' && c.credential !== 'socket' && c.credential !== 'certificate') throw new HttpError(403, 'FORBIDDEN', 'running a watch pass needs the bearer token (a dashboard session is read-only)', 'send Authorization: Bearer <token>');
      const wait = c.url.searchParams.get('wait');
      if (wait !== null && wait !== 'true' && wait !== 'false') throw invalidArgument(`invalid wait '${wait.slice(0, 20)}': expected true or false`, '?wait=true');
      const t = watching().trigger('api');
      if (wait === 'true') {
        const report = await t.done;
        if (!report) throw new HttpError(500, 'WATCH_PASS_FAILED', `watch pass ${t.pass} did not finish`, 'see the daemon log and the watch.pass.failed event');
        return { status: 200, body: { pass: t.pass, coalesced: t.coalesced, report } };
      }
      void t.done.catch(() => undefined);
      return { status: 202, body: { pass: t.pass, coalesced: t.coalesced }, headers: { location: '/v1/watch/reports' } };
    });
  }

  /** The event stream (server-sent events), bounded per client and in all. */
  private eventRoutes(d: NativeApiDeps): void {
    const perClient = new Map<string, number>();
    const maxStreams = d.sse?.maxStreams ?? SSE_LIMITS.maxStreams;
    const maxPerClient = d.sse?.maxStreamsPerClient ?? SSE_LIMITS.maxStreamsPerClient;
    this.add('GET', '/v1/events', async (c) => {
      const bus = d.bus ?? unavailable('the event stream');
      const client = c.client ?? 'unknown';
      const mine = perClient.get(client) ?? 0;
      if (mine >= maxPerClient) throw new HttpError(429, 'TOO_MANY_STREAMS', `this client has ${mine} event streams open (at most ${maxPerClient})`, 'close streams you no longer read; one stream can carry every event type', { 'retry-after': '10' });
      if (d.streams.size >= maxStreams) throw new HttpError(429, 'TOO_MANY_STREAMS', `the daemon serves ${d.streams.size} event streams (at most ${maxStreams})`, 'retry later', { 'retry-after': '10' });
      d.streams.add(c.res);
      perClient.set(client, mine + 1);
      try {
        await streamEvents(c.req, c.res, c.url, bus, { heartbeatMs: d.sse?.heartbeatMs, maxBufferedBytes: d.sse?.maxBufferedBytes ?? SSE_LIMITS.maxBufferedBytes });
      } finally {
        d.streams.delete(c.res);
        const left = (perClient.get(client) ?? 1) - 1;
        if (left > 0) perClient.set(client, left);
        else perClient.delete(client);
      }
      return 'streamed';
    });
  }

  /** True for the paths this API owns (so the edge answers unknown ones in this API's error shape). */
  owns(path: string): boolean {
    return path === '/metrics' || path.startsWith('/v1/') || path === '/v1' || path.startsWith('/hooks/');
  }

  /** The route pattern a path belongs to, for metrics labels (never throws). */
  label(path: string): string | undefined {
    return this.routes.find((r) => r.re.test(path))?.pattern;
  }

  /** The route for a request: its handler and params, a 405 with the allowed methods, or none. */
  resolve(method: string, path: string): { route: Route; params: Record<string, string> } | { allowed: string[]; pattern: string } | undefined {
    let allowed: string[] = [];
    let pattern = '';
    for (const r of this.routes) {
      const m = r.re.exec(path);
      if (!m) continue;
      const params: Record<string, string> = {};
      for (const [i, k] of r.keys.entries()) {
        try {
          params[k] = decodeURIComponent(m[i + 1]!);
        } catch {
          throw new HttpError(400, 'INVALID_ARGUMENT', 'invalid percent-encoding in the path', 'encode path segments with encodeURIComponent');
        }
      }
      if (r.method === method) return { route: r, params };
      allowed = [...allowed, r.method];
      pattern ||= r.pattern;
    }
    return allowed.length ? { allowed, pattern } : undefined;
  }
}
