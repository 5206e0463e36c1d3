import type { RE2JS } from 're2js';
import { mapSettled } from '../common/concurrency.js';
import { invalidArgument, KibokoError } from '../common/errors.js';
import type { ContainerDetails, Engine, ImageDetails } from '../engine/index.js';
import { compileRegex } from '../targets/index.js';
import { decodeMetadata, type PackageRecord } from './metadata.js';
import { compareNames } from '../common/collate.js';

/**
 * `kiboko examine --audit FILTER`: running containers whose image metadata matches.
 *
 * FILTER is one or more conditions joined by `,` (all must hold); `--audit` may be repeated.
 * A condition is `FIELD OP VALUE`:
 *
 * | field | ops | value |
 * |---|---|---|
 * | `project`, `image`, `version`, `cause`, `host`, `git.ref`, `git.source`, `ci.system`, `ci.build` | `=` `!=` `~` `!~` | text; `~` is an RE2 regex |
 * | `tag` | `=` `!=` `~` `!~` | one of the image's tags (`repo:tag`, or just `tag`) |
 * | `git.revision` | `=` `!=` | a commit prefix (≥ 4 hex digits) |
 * | `git.dirty` (alias `dirty`) | `=` `!=` | `true` / `false` |
 * | `method` | `=` `!=` | a declared lifecycle method |
 * | `age` | `>` `>=` `<` `<=` | time since the build: `30m`, `12h`, `7d`, `2w` |
 * | `built` | `>` `>=` `<` `<=` | an ISO date or time (`2026-01-31`) |
 * | `meta` | `=` `!=` | `true`: built by kiboko, `false`: not |
 * | `ancestor.<field>` | as for the field | true when any kiboko-built ancestor matches |
 *
 * A field the metadata lacks (no git, no CI) never equals a value, so `git.ref!=main` holds for
 * an image built outside git.
 */

export type AuditOp = '=' | '!=' | '~' | '!~' | '>' | '>=' | '<' | '<=';

export type AuditCondition =
  | { kind: 'text'; field: TextField; op: '=' | '!=' | '~' | '!~'; value: string; regex?: RE2JS | undefined; ancestor: boolean; source: string }
  | { kind: 'revision'; op: '=' | '!='; value: string; ancestor: boolean; source: string }
  | { kind: 'bool'; field: 'git.dirty' | 'meta'; op: '=' | '!='; value: boolean; ancestor: boolean; source: string }
  | { kind: 'method'; op: '=' | '!='; value: string; ancestor: boolean; source: string }
  | { kind: 'age'; op: '>' | '>=' | '<' | '<='; ms: number; ancestor: boolean; source: string }
  | { kind: 'built'; op: '>' | '>=' | '<' | '<='; time: number; ancestor: boolean; source: string };

const TEXT_FIELDS = ['project', 'image', 'version', 'cause', 'host', 'git.ref', 'git.source', 'ci.system', 'ci.build', 'tag'] as const;
type TextField = (typeof TEXT_FIELDS)[number];
const ALL_FIELDS = [...TEXT_FIELDS, 'git.revision', 'git.dirty', 'dirty', 'method', 'age', 'built', 'meta'];

const CONDITION = /^\s*([A-Za-z][A-Za-z.]*)\s*(!=|>=|<=|!~|=|~|>|<)\s*(.*?)\s*$/s;
const HINT = `fields: ${ALL_FIELDS.join(', ')} (and ancestor.<field>); e.g. git.ref=main, git.revision=3f2a9c1, age>7d, project=shop,dirty=true`;

const AGE_UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** `7d`, `12h`, `1d12h`, `90m`, `2w`. */
export function parseAge(text: string): number {
  const t = text.trim();
  if (!/^(\d+(?:\.\d+)?(?:w|d|h|m|s))+$/.test(t)) throw invalidArgument(`invalid age '${text}': expected a duration such as 30m, 12h, 7d or 2w`, HINT);
  let ms = 0;
  for (const m of t.matchAll(/(\d+(?:\.\d+)?)(w|d|h|m|s)/g)) ms += Number(m[1]) * AGE_UNIT_MS[m[2]!]!;
  return Math.round(ms);
}

/** Parses `FILTER` (conditions joined by `,`). */
export function parseAuditFilter(text: string): AuditCondition[] {
  const parts = splitConditions(text);
  if (parts.length === 0) throw invalidArgument('empty --audit filter', HINT);
  return parts.map(parseCondition);
}

/** Splits on commas; a `~`/`!~` value runs to the end (a regex may hold commas), so write it last or in its own --audit. */
function splitConditions(text: string): string[] {
  const out: string[] = [];
  let rest = text;
  while (rest.trim() !== '') {
    const m = CONDITION.exec(rest.split(',')[0]!);
    if (m && (m[2] === '~' || m[2] === '!~')) {
      out.push(rest.trim());
      break;
    }
    const comma = rest.indexOf(',');
    out.push((comma < 0 ? rest : rest.slice(0, comma)).trim());
    rest = comma < 0 ? '' : rest.slice(comma + 1);
  }
  return out.filter((p) => p !== '');
}

function parseCondition(source: string): AuditCondition {
  const m = CONDITION.exec(source);
  if (!m) throw invalidArgument(`invalid --audit condition '${source}': expected FIELD OP VALUE (OP one of = != ~ !~ > >= < <=)`, HINT);
  let field = m[1]!.toLowerCase();
  const op = m[2]! as AuditOp;
  const value = m[3]!;
  const ancestor = field.startsWith('ancestor.');
  if (ancestor) field = field.slice('ancestor.'.length);
  if (field === 'dirty') field = 'git.dirty';
  const bad = (expected: string) => invalidArgument(`invalid --audit condition '${source}': ${expected}`, HINT);
  const eqOnly = (): '=' | '!=' => {
    if (op !== '=' && op !== '!=') throw bad(`${field} takes = or !=, got ${op}`);
    return op;
  };
  const order = (): '>' | '>=' | '<' | '<=' => {
    if (op !== '>' && op !== '>=' && op !== '<' && op !== '<=') throw bad(`${field} takes > >= < <=, got ${op}`);
    return op;
  };
  if (value === '' && field !== 'git.ref' && field !== 'version') throw bad('expected a value after the operator');
  if ((TEXT_FIELDS as readonly string[]).includes(field)) {
    if (op !== '=' && op !== '!=' && op !== '~' && op !== '!~') throw bad(`${field} takes = != ~ !~, got ${op}`);
    const regex = op === '~' || op === '!~' ? compileRegex(value, value) : undefined;
    return { kind: 'text', field: field as TextField, op, value, regex, ancestor, source };
  }
  switch (field) {
    case 'git.revision': {
      const o = eqOnly();
      if (!/^[0-9a-fA-F]{4,64}$/.test(value)) throw bad(`expected a commit (at least 4 hex digits), got '${value}'`);
      return { kind: 'revision', op: o, value: value.toLowerCase(), ancestor, source };
    }
    case 'git.dirty':
    case 'meta': {
      const o = eqOnly();
      const v = value.toLowerCase();
      if (v !== 'true' && v !== 'false') throw bad(`expected true or false, got '${value}'`);
      return { kind: 'bool', field, op: o, value: v === 'true', ancestor, source };
    }
    case 'method':
      return { kind: 'method', op: eqOnly(), value, ancestor, source };
    case 'age':
      return { kind: 'age', op: order(), ms: parseAge(value), ancestor, source };
    case 'built': {
      const o = order();
      const time = Date.parse(value);
      if (Number.isNaN(time)) throw bad(`expected an ISO date or time (e.g. 2026-01-31 or 2026-01-31T12:00:00Z), got '${value}'`);
      return { kind: 'built', op: o, time, ancestor, source };
    }
    default:
      throw bad(`unknown field '${m[1]}'`);
  }
}

function textOf(r: PackageRecord, field: TextField): string[] {
  switch (field) {
    case 'project':
      return [r.project];
    case 'image':
      return [r.image];
    case 'version':
      return r.version === undefined ? [] : [r.version];
    case 'cause':
      return [r.cause];
    case 'host':
      return [r.builtBy.host];
    case 'git.ref':
      return r.git?.ref === undefined ? [] : [r.git.ref];
    case 'git.source':
      return r.git?.source === undefined ? [] : [r.git.source];
    case 'ci.system':
      return r.ci ? [r.ci.system] : [];
    case 'ci.build':
      return r.ci?.buildTag === undefined ? [] : [r.ci.buildTag];
    case 'tag':
      return r.tags.flatMap((t) => [t, t.slice(t.lastIndexOf(':') + 1)]);
  }
}

const compare = (a: number, op: '>' | '>=' | '<' | '<=', b: number) => (op === '>' ? a > b : op === '>=' ? a >= b : op === '<' ? a < b : a <= b);

/** Whether one record satisfies a condition (`meta` is decided by the caller). */
function recordMatches(c: AuditCondition, r: PackageRecord | undefined, nowMs: number): boolean {
  if (c.kind === 'bool' && c.field === 'meta') return (r !== undefined) === (c.op === '=' ? c.value : !c.value);
  const positive = (() => {
    if (!r) return undefined;
    switch (c.kind) {
      case 'text': {
        const values = textOf(r, c.field);
        if (c.regex) return values.some((v) => c.regex!.matcher(v).find());
        return values.includes(c.value);
      }
      case 'revision':
        return r.git ? r.git.revision.toLowerCase().startsWith(c.value) : undefined;
      case 'bool':
        return r.git ? r.git.dirty === c.value : undefined;
      case 'method':
        return Object.prototype.hasOwnProperty.call(r.methods, c.value);
      case 'age': {
        const t = Date.parse(r.builtAt);
        return Number.isNaN(t) ? undefined : compare(nowMs - t, c.op, c.ms);
      }
      case 'built': {
        const t = Date.parse(r.builtAt);
        return Number.isNaN(t) ? undefined : compare(t, c.op, c.time);
      }
    }
  })();
  const negated = (c.kind === 'text' || c.kind === 'revision' || c.kind === 'bool' || c.kind === 'method') && (c.op === '!=' || c.op === '!~');
  // Unknown (no record, no git, bad time): never equal, so the negation holds.
  if (positive === undefined) return negated;
  return negated ? !positive : positive;
}

/** Whether an image's metadata (own record, ancestors) satisfies every condition. */
export function matchesAudit(conditions: readonly AuditCondition[], meta: PackageRecord | undefined, ancestry: readonly PackageRecord[], nowMs: number): boolean {
  return conditions.every((c) => {
    if (!c.ancestor) return recordMatches(c, meta, nowMs);
    const negated = 'op' in c && (c.op === '!=' || c.op === '!~');
    // ancestor.x!=v: no ancestor has v; ancestor.x=v: some ancestor has v.
    if (negated) return ancestry.every((a) => recordMatches(c, a, nowMs));
    return ancestry.some((a) => recordMatches(c, a, nowMs));
  });
}

export interface AuditMatch {
  container: { id: string; name: string; status: string; image: string; startedAt: string | undefined };
  imageId: string;
  meta: PackageRecord | undefined;
  ancestors: number;
}

export interface AuditOptions {
  /** Stopped containers too (default: running only). */
  all?: boolean | undefined;
  now?: (() => number) | undefined;
  concurrency?: number | undefined;
}

/** Containers whose image metadata satisfies every condition; each image inspected once. */
export async function audit(engine: Engine, conditions: readonly AuditCondition[], options: AuditOptions = {}): Promise<AuditMatch[]> {
  const nowMs = (options.now ?? Date.now)();
  const list = await engine.list({ all: options.all ?? false });
  const limit = options.concurrency ?? 16;
  const details = await mapSettled(list, limit, (c) => engine.inspect(c.id));
  const containers = details.flatMap((d) => (d.ok ? [d.value] : [])); // gone since the list: not running any more
  const images = new Map<string, Promise<ImageDetails | undefined>>();
  const imageOf = (c: ContainerDetails) => {
    let p = images.get(c.imageId);
    if (!p) {
      p = engine.inspectImage(c.imageId).catch((err: unknown) => {
        if (err instanceof KibokoError && err.code === 'TARGET_NOT_FOUND') return undefined;
        throw err;
      });
      images.set(c.imageId, p);
    }
    return p;
  };
  const out: AuditMatch[] = [];
  const checked = await mapSettled(containers, limit, async (c) => {
    const image = await imageOf(c);
    const d = decodeMetadata(image?.labels ?? {});
    if (!matchesAudit(conditions, d.meta, d.ancestry, nowMs)) return undefined;
    const started = c.startedAt && !c.startedAt.startsWith('0001-') ? c.startedAt : undefined;
    return { container: { id: c.id, name: c.name, status: c.status, image: c.image, startedAt: started }, imageId: c.imageId, meta: d.meta, ancestors: d.ancestry.length };
  });
  for (const r of checked) {
    if (!r.ok) throw r.error;
    if (r.value) out.push(r.value);
  }
  return out.sort((a, b) => compareNames(a.container.name, b.container.name));
}
