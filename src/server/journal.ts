import type { Engine } from '../engine/index.js';
import type { FleetUnit, UnitRegistry } from '../units/index.js';

/** The label the engine-backed registry puts on each unit's container (engine-registry.ts). */
const UNIT_LABEL = 'kiboko.units.unit';
const ROUTE = /^\/v1\/units\/([^/]+)\/(journal|container)$/;
const MAX_LINES = 100_000;

export interface UnitRoutesDeps {
  registry: UnitRegistry;
  /** The engine the units run on; without it no unit has a container. */
  engine?: Engine | undefined;
}

interface Reply {
  status: number;
  body: unknown;
}

/** The native API's error body (`{"error": {"code", "message", "hint"}}`), as the rest of /v1 answers. */
const problem = (status: number, code: string, message: string, hint?: string): Reply => ({ status, body: { error: { code, message, ...(hint ? { hint } : {}) } } });

/**
 * kiboko's additions to fleet's API for `kiboko units journal|status`: `GET /v1/units/NAME/journal
 * ?lines=N&since=UNIX&timestamps=1` (the unit container's stdout+stderr, last N lines) and `GET
 * /v1/units/NAME/container` (desired/current state, the daemon's last error, the container).
 * Returns undefined for any other path, so the caller goes on routing.
 */
export async function handleUnitRoutes(method: string, url: URL, deps: UnitRoutesDeps): Promise<Reply | undefined> {
  const m = ROUTE.exec(url.pathname);
  if (!m) return undefined;
  if (method !== 'GET') return problem(405, 'METHOD_NOT_ALLOWED', `${method.slice(0, 10)} is not supported on /v1/units/{name}/${m[2]}`, 'use GET');
  let name: string;
  try {
    name = decodeURIComponent(m[1]!);
  } catch {
    return problem(400, 'INVALID_ARGUMENT', 'invalid percent-encoding in the unit name');
  }
  const unit = await deps.registry.get(name);
  if (!unit) return problem(404, 'TARGET_NOT_FOUND', `unit ${name} does not exist`, 'see `kiboko units list-unit-files`');
  const container = await containerOf(deps.engine, name);
  if (m[2] === 'container') return { status: 200, body: await containerRecord(deps, unit, container) };

  const q = url.searchParams;
  const lines = q.get('lines');
  const since = q.get('since');
  if (lines !== null && (!/^\d+$/.test(lines) || Number(lines) > MAX_LINES)) return problem(400, 'INVALID_ARGUMENT', `invalid lines '${lines.slice(0, 20)}': expected a whole number from 0 to ${MAX_LINES}`);
  if (since !== null && !/^\d+(\.\d+)?$/.test(since)) return problem(400, 'INVALID_ARGUMENT', `invalid since '${since.slice(0, 30)}': expected Unix seconds, e.g. 1700000000.5`);
  if (!container || !deps.engine) {
    return problem(404, 'TARGET_NOT_FOUND', `unit ${name} has no container (current state ${unit.currentState ?? 'inactive'})`, `start it with \`kiboko units start ${name}\``);
  }
  const text = await deps.engine.logs(container.id, {
    ...(lines !== null ? { tail: Number(lines) } : {}),
    ...(since !== null ? { since: Number(since) } : {}),
    timestamps: q.get('timestamps') === '1' || q.get('timestamps') === 'true',
  });
  const all = text.split('\n');
  if (all.at(-1) === '') all.pop();
  return {
    status: 200,
    body: { unit: name, container: { id: container.id, name: container.name, status: container.status }, lines: lines === null ? all : all.slice(Math.max(0, all.length - Number(lines))) },
  };
}

async function containerOf(engine: Engine | undefined, name: string) {
  if (!engine) return undefined;
  const list = await engine.list({ all: true, labels: [`${UNIT_LABEL}=${name}`] });
  return list.find((c) => c.status === 'running') ?? list[0];
}

async function containerRecord(deps: UnitRoutesDeps, unit: FleetUnit, c: Awaited<ReturnType<typeof containerOf>>) {
  // The engine-backed registry keeps the last error reaching the desired state (a refused start).
  const error = (deps.registry as { errorOf?: (name: string) => string | undefined }).errorOf?.(unit.name);
  let container: Record<string, unknown> | undefined;
  if (c && deps.engine) {
    const d = await deps.engine.inspect(c.id).catch(() => undefined);
    container = d
      ? { id: d.id, name: d.name, image: d.image, status: d.status, startedAt: d.startedAt, finishedAt: d.finishedAt, exitCode: d.exitCode, restartCount: d.restartCount, health: d.health }
      : undefined;
  }
  return { unit: unit.name, desiredState: unit.desiredState, currentState: unit.currentState ?? 'inactive', ...(error ? { error } : {}), ...(container ? { container } : {}) };
}
