import { createHash } from 'node:crypto';
import { VERSION } from '../common/version.js';
import { isTemplate, templateOf, unitNameError } from './name.js';
import type { Machine, UnitOption } from './types.js';
import { XFLEET_KEYS } from './xfleet.js';
import { decodePageToken, paginate } from './pagination.js';
import { own } from '../common/own.js';

export type DesiredState = 'inactive' | 'loaded' | 'launched';
export const DESIRED_STATES: readonly DesiredState[] = ['inactive', 'loaded', 'launched'];

export type { Machine, UnitOption } from './types.js';

export interface FleetUnit {
  name: string;
  options: UnitOption[];
  desiredState: DesiredState;
  /** What the engine says (fleet: the last known state); absent until reconciled. */
  currentState?: DesiredState | undefined;
  machineID?: string | undefined;
  /** kiboko's addition (fleet clients ignore it): why the unit is not where it should be. */
  message?: string | undefined;
}

export interface UnitStateRecord {
  name: string;
  hash: string;
  machineID: string;
  systemdLoadState: string;
  systemdActiveState: string;
  systemdSubState: string;
  /** kiboko's addition: why the unit failed or waits (a failed ExecStartPre, a conflict, …). */
  message?: string | undefined;
}

/** Where units live and how they run: the daemon backs this with its store and the engine. */
export interface UnitRegistry {
  list(): Promise<FleetUnit[]>;
  get(name: string): Promise<FleetUnit | undefined>;
  /** Creates the unit, or replaces one with different contents. */
  put(unit: { name: string; options: UnitOption[]; desiredState: DesiredState }): Promise<void>;
  setDesiredState(name: string, state: DesiredState): Promise<void>;
  remove(name: string): Promise<boolean>;
  states(): Promise<UnitStateRecord[]>;
  machines(): Promise<Machine[]>;
  /** Refuses units the backend cannot run (e.g. an ExecStart that is not `docker run`): a message, or undefined. */
  validate?(name: string, options: readonly UnitOption[]): string | undefined;
}

export interface FleetRequest {
  method: string;
  /** Path without the query, e.g. `/fleet/v1/units/web.service`. */
  path: string;
  query: URLSearchParams;
  contentType?: string | undefined;
  body?: string | undefined;
}

export interface FleetResponse {
  status: number;
  body?: unknown;
  headers: Record<string, string>;
}

const headers = () => ({ 'content-type': 'application/json', server: `kiboko/${VERSION}` });
const ok = (status: number, body?: unknown): FleetResponse => ({ status, body, headers: headers() });
/** fleet's error body; 5xx messages stay empty (details are logged, not sent). */
export const fleetError = (code: number, message: string): FleetResponse => ({ status: code, body: { error: { code, message: code >= 500 ? '' : message } }, headers: headers() });

/** SHA1 of the unit file, as fleet's `hash` field. */
export function unitHash(options: readonly UnitOption[]): string {
  return createHash('sha1').update(fleetUnitBytes(options)).digest('hex');
}

/**
 * The bytes fleet hashes: go-systemd's Serialize of the options — sections in order of first
 * appearance, `Name=Value` lines, a blank line between sections — written as they are. fleet
 * accepts any value without a line break (one ending in `\`, say), so this refuses nothing: a
 * unit kiboko stored always has a hash, and `/state` can always list it.
 */
export function fleetUnitBytes(options: readonly UnitOption[]): string {
  const sections = new Map<string, string[]>();
  for (const o of options) {
    const lines = sections.get(o.section) ?? [];
    lines.push(`${o.name}=${o.value}\n`);
    sections.set(o.section, lines);
  }
  return [...sections].map(([name, lines]) => `[${name}]\n${lines.join('')}`).join('\n');
}

/** fleet's ValidateOptions: option shapes and the [X-Fleet] combinations that cannot be satisfied. */
export function optionsError(options: unknown): string | undefined {
  if (!Array.isArray(options)) return 'options must be a list of {section, name, value}';
  for (const o of options) {
    if (!o || typeof o !== 'object' || typeof o.section !== 'string' || typeof o.name !== 'string' || typeof o.value !== 'string' || !o.section || !o.name) {
      return 'each option needs string section, name and value';
    }
    if (/[\n\r]/.test(o.value)) return `option ${o.section}.${o.name} contains a line break`;
  }
  const fleet = new Map<string, string[]>();
  for (const o of options as UnitOption[]) {
    if (o.section !== 'X-Fleet') continue;
    const key = own(XFLEET_KEYS, o.name);
    if (!key) return `unrecognized requirement in [X-Fleet] section: "${o.name}"`;
    fleet.set(key, [...(fleet.get(key) ?? []), o.value]);
  }
  const has = (k: string) => fleet.has(k);
  if (has('MachineID') && (has('MachineOf') || has('Conflicts') || has('Global') || has('Replaces'))) return 'MachineID cannot be combined with MachineOf, Conflicts, Global or Replaces';
  if (has('Global') && (has('MachineOf') || has('Replaces'))) return 'Global cannot be combined with MachineOf or Replaces';
  if (has('Conflicts') && has('Replaces')) return 'Conflicts cannot be combined with Replaces';
  return undefined;
}

const PREFIXES = ['/fleet/v1', '/v1-alpha'];

/**
 * fleet's v1 API semantics, framework-free: routing, validation, status codes and bodies exactly
 * as fleet clients and scripts expect them (201 create, 204 state change, 409 missing fields,
 * 415 non-JSON, `{"error":{"code","message"}}`).
 */
export async function handleFleet(req: FleetRequest, registry: UnitRegistry): Promise<FleetResponse> {
  const prefix = PREFIXES.find((p) => req.path === p || req.path.startsWith(`${p}/`));
  if (!prefix) return req.path === '/' ? fleetError(405, 'only GET supported against this resource') : fleetError(404, 'not found');
  const rest = req.path.slice(prefix.length).replace(/^\/+/, '');
  const [collection, ...tail] = rest.split('/');
  let item: string | undefined;
  try {
    item = tail.length ? decodeURIComponent(tail.join('/')) : undefined;
  } catch {
    return fleetError(400, 'invalid percent-encoding in the path');
  }
  switch (collection) {
    case 'units':
      return item === undefined ? unitsCollection(req, registry) : unitItem(req, registry, item);
    case 'state':
      return stateCollection(req, registry, item);
    case 'machines':
      if (req.method !== 'GET') return fleetError(405, 'only GET supported against this resource');
      return page(req, await registry.machines(), 'machines');
    case 'discovery':
      if (req.method !== 'GET') return fleetError(405, 'only GET supported against this resource');
      return ok(200, discoveryDocument());
    default:
      return fleetError(404, 'not found');
  }
}

function page<T>(req: FleetRequest, all: readonly T[], key: string): FleetResponse {
  const tokens = req.query.getAll('nextPageToken');
  if (tokens.length > 1) return fleetError(400, 'too many values for page token');
  let index = 1; // fleet's DefaultPageToken: page 1
  if (tokens.length === 1) {
    const d = decodePageToken(tokens[0]!);
    if ('error' in d) return fleetError(400, d.error);
    index = d.page;
  }
  const p = paginate(all, index);
  return ok(200, { [key]: p.items, ...(p.nextPageToken ? { nextPageToken: p.nextPageToken } : {}) });
}

async function unitsCollection(req: FleetRequest, registry: UnitRegistry): Promise<FleetResponse> {
  if (req.method !== 'GET') return fleetError(405, 'only GET supported against this resource');
  return page(req, await registry.list(), 'units');
}

async function unitItem(req: FleetRequest, registry: UnitRegistry, name: string): Promise<FleetResponse> {
  if (req.method === 'GET') {
    const u = await registry.get(name);
    return u ? ok(200, u) : fleetError(404, 'unit does not exist');
  }
  if (req.method === 'DELETE') return (await registry.remove(name)) ? ok(204) : fleetError(404, 'unit does not exist');
  if (req.method !== 'PUT') return fleetError(405, 'only GET, PUT and DELETE supported against this resource');

  if (!/^application\/json\b/i.test(req.contentType ?? '')) return fleetError(415, 'expected Content-Type application/json');
  let body: { name?: unknown; options?: unknown; desiredState?: unknown };
  try {
    body = JSON.parse(req.body ?? '') as typeof body;
  } catch {
    return fleetError(400, 'unable to decode body');
  }
  if (!body || typeof body !== 'object' || Array.isArray(body)) return fleetError(400, 'unable to decode body');
  if (body.name !== undefined && body.name !== '' && body.name !== name) return fleetError(400, `name in URL "${name}" differs from unit name in request body "${String(body.name)}"`);
  const nameError = unitNameError(name);
  if (nameError) return fleetError(400, nameError);
  const state = body.desiredState === '' ? undefined : body.desiredState;
  if (state !== undefined && !DESIRED_STATES.includes(state as DesiredState)) return fleetError(400, `invalid desiredState: ${String(state)}`);
  if (state !== undefined && state !== 'inactive' && isTemplate(name)) return fleetError(400, `cannot activate template "${name}"`);

  const existing = await registry.get(name);
  let options = body.options;
  if (options !== undefined && options !== null && !Array.isArray(options)) return fleetError(400, 'options must be a list of {section, name, value}');
  let hasOptions = Array.isArray(options) && options.length > 0;
  // kiboko's addition (fleetctl does it client-side): a new instance without options of its own
  // (`PUT app@1.service {"desiredState":"launched"}`) is made from its template in the registry.
  const template = !existing && !hasOptions ? templateOf(name) : undefined;
  if (template) {
    const t = await registry.get(template);
    if (t) {
      options = t.options;
      hasOptions = t.options.length > 0;
    }
  }
  // fleet's unitsResource.set: a new name, or new contents under an existing name, is a creation
  // (201) whose desired state defaults to inactive — fleetctl creates units with `options` only.
  if (!existing && !hasOptions) return fleetError(409, 'unit does not exist and options field empty');
  const optErr = hasOptions ? optionsError(options) : undefined;
  if (optErr) return fleetError(400, optErr);
  if (hasOptions && (!existing || unitHash(existing.options) !== unitHash(options as UnitOption[]))) {
    const refused = registry.validate?.(name, options as UnitOption[]);
    if (refused) return fleetError(400, refused);
    await registry.put({ name, options: options as UnitOption[], desiredState: (state as DesiredState | undefined) ?? 'inactive' });
    return ok(201);
  }
  if (state === undefined) return fleetError(409, 'must provide DesiredState to update existing unit');
  await registry.setDesiredState(name, state as DesiredState);
  return ok(204);
}

async function stateCollection(req: FleetRequest, registry: UnitRegistry, item: string | undefined): Promise<FleetResponse> {
  if (req.method !== 'GET') return fleetError(405, 'only GET supported against this resource');
  let states = await registry.states();
  if (item !== undefined) {
    const s = states.find((x) => x.name === item);
    return s ? ok(200, s) : fleetError(404, 'unit does not exist');
  }
  const machine = req.query.get('machineID');
  const unit = req.query.get('unitName');
  if (machine) states = states.filter((s) => s.machineID === machine);
  if (unit) states = states.filter((s) => s.name === unit);
  return page(req, states, 'states');
}

/** A Google Discovery v1 document describing the API, as fleet serves it. */
export function discoveryDocument(): Record<string, unknown> {
  const method = (id: string, path: string, httpMethod: string) => ({ id, path, httpMethod });
  return {
    kind: 'discovery#restDescription',
    discoveryVersion: 'v1',
    id: 'fleet:v1',
    name: 'schema',
    version: 'v1',
    title: 'fleet API (served by kiboko)',
    protocol: 'rest',
    basePath: '/fleet/v1/',
    servicePath: 'fleet/v1/',
    rootUrl: 'https://kiboko.invalid/',
    resources: {
      Machines: { methods: { List: method('fleet.Machine.List', 'machines', 'GET') } },
      Units: {
        methods: {
          List: method('fleet.Unit.List', 'units', 'GET'),
          Get: method('fleet.Unit.Get', 'units/{unitName}', 'GET'),
          Set: method('fleet.Unit.Set', 'units/{unitName}', 'PUT'),
          Delete: method('fleet.Unit.Delete', 'units/{unitName}', 'DELETE'),
        },
      },
      UnitState: { methods: { List: method('fleet.UnitState.List', 'state', 'GET') } },
    },
  };
}
