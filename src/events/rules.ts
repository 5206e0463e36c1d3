import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { isMap, LineCounter, parseDocument, type Document } from 'yaml';
import * as z from 'zod/mini';
import { parseDuration } from '../common/duration.js';
import { errorMessage, KibokoError } from '../common/errors.js';
import { compileRegex } from '../targets/index.js';
import type { RE2JS } from 're2js';
import { EVENT_TYPES, type EventFilters, type FilterKey } from './filters.js';
import { compileTemplate, type CompiledTemplate } from './interpolate.js';

/** The `docker events --filter` keys a rule's `on:` takes as they are. */
export const RULE_FILTER_KEYS = ['type', 'event', 'label', 'container', 'image'] as const satisfies readonly FilterKey[];

/**
 * Where a rule matches: the same keys as `docker events --filter` (`label`: `key` or `key=value`,
 * all of which must hold; `container`: names or ID prefixes), plus `name`: exact names or `re2:`
 * patterns on the actor's name (container name, project, run id).
 */
export interface RuleMatch extends Pick<EventFilters, (typeof RULE_FILTER_KEYS)[number]> {
  name?: readonly NameMatcher[] | undefined;
}

export type NameMatcher = { exact: string } | { pattern: string; regex: RE2JS };

/** A test on one event attribute (`exitCode: "!=0"`, `signal: "9"`, `name: "re2:^db"`). */
export interface Condition {
  attribute: string;
  op: '==' | '!=' | '>' | '>=' | '<' | '<=' | 're2' | '!re2' | 'exists' | 'absent';
  value: string;
  regex?: RE2JS | undefined;
  source: string;
}

export type Action =
  | { kind: 'notify'; url: CompiledTemplate; slack: boolean; channel?: string | undefined; text: CompiledTemplate; timeoutMs?: number | undefined }
  | { kind: 'exec'; container: CompiledTemplate; cmd: CompiledTemplate[]; user?: string | undefined; timeoutMs?: number | undefined }
  | { kind: 'restart'; container: CompiledTemplate; stopTimeoutSeconds: number; timeoutMs?: number | undefined }
  | { kind: 'lifecycle'; method: string; container: CompiledTemplate; timeoutMs?: number | undefined }
  | { kind: 'render'; confdir: string; backend: string; container?: CompiledTemplate | undefined; options: Readonly<Record<string, string>>; timeoutMs?: number | undefined }
  | { kind: 'rollback'; project: CompiledTemplate; to?: number | undefined; timeoutMs?: number | undefined };

export type ActionKind = Action['kind'];
export const ACTION_KINDS: readonly ActionKind[] = ['notify', 'exec', 'restart', 'lifecycle', 'render', 'rollback'];

export interface Rule {
  name: string;
  on: RuleMatch;
  when: readonly Condition[];
  /** After a firing, further matches within this window (per `oncePer` key) are skipped. */
  debounceMs?: number | undefined;
  /** What one firing covers: every event (default), one container, or the whole rule. */
  oncePer: 'event' | 'container' | 'rule';
  /** Default time limit of each action (default 30 s). */
  timeoutMs: number;
  actions: readonly Action[];
  /** Line in the rules file. */
  line?: number | undefined;
}

export interface RuleSet {
  file: string;
  rules: readonly Rule[];
}

export interface RuleProblem {
  file: string;
  line: number;
  path: string;
  message: string;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/;
const DEFAULT_TIMEOUT_MS = 30_000;

const listOf = (item: z.ZodMiniType<string>, what: string) =>
  z.pipe(
    z.union([item, z.array(item)], { error: `expected ${what} or a list of them` }),
    z.transform((v: string | string[]) => (Array.isArray(v) ? v : [v])),
  );
const nonEmpty = z.string({ error: 'expected a string' }).check(z.minLength(1, { error: 'expected a non-empty string' }));
const scalarText = z.pipe(z.union([z.string(), z.number(), z.boolean()], { error: 'expected a string' }), z.transform((v: string | number | boolean) => String(v)));
const durationText = z.union([z.string(), z.number()], { error: 'expected a duration like 5s or 1m' });

const onSchema = z.strictObject(
  {
    type: z.optional(listOf(nonEmpty, 'an event type')),
    event: z.optional(listOf(nonEmpty, 'an event action (die, oom, start, "health_status: unhealthy", …)')),
    action: z.optional(listOf(nonEmpty, 'an event action')),
    label: z.optional(listOf(nonEmpty, 'a label filter (key or key=value)')),
    name: z.optional(listOf(nonEmpty, "a name or 're2:<pattern>'")),
    container: z.optional(listOf(nonEmpty, 'a container name or ID prefix')),
    image: z.optional(listOf(nonEmpty, 'an image name')),
  },
  { error: 'expected a mapping with type, event, label, name, container or image' },
);

const ruleSchema = z.strictObject(
  {
    name: nonEmpty,
    on: onSchema,
    when: z.optional(z.record(z.string(), scalarText, { error: 'expected a mapping of attribute: condition' })),
    debounce: z.optional(durationText),
    once_per: z.optional(z.enum(['event', 'container', 'rule'], { error: 'expected event, container or rule' })),
    timeout: z.optional(durationText),
    actions: z.array(z.unknown(), { error: 'expected a list of actions' }).check(z.minLength(1, { error: 'expected at least one action' })),
  },
  { error: 'expected a rule: a mapping with name, on and actions' },
);

const fileSchema = z.strictObject({ rules: z.array(z.unknown(), { error: 'expected a list of rules' }) }, { error: 'expected a mapping with rules: [...]' });

const timeoutField = { timeout: z.optional(durationText) };
const actionSchemas = {
  notify: z.strictObject({
    url: nonEmpty,
    slack: z.optional(z.boolean({ error: 'expected true or false' })),
    channel: z.optional(nonEmpty),
    text: z.optional(z.string({ error: 'expected a string' })),
    ...timeoutField,
  }),
  exec: z.strictObject({
    container: nonEmpty,
    cmd: z.array(scalarText, { error: 'expected the command as a list of words, e.g. ["sh", "-c", "…"]' }).check(z.minLength(1, { error: 'expected at least one word' })),
    user: z.optional(nonEmpty),
    ...timeoutField,
  }),
  restart: z.strictObject({ container: nonEmpty, stop_timeout: z.optional(durationText), ...timeoutField }),
  lifecycle: z.strictObject({ method: z.string().check(z.regex(/^[a-z][a-z0-9-]*$/, { error: 'expected a method name like validate or reload' })), container: nonEmpty, ...timeoutField }),
  render: z.strictObject({
    confdir: nonEmpty,
    backend: z.optional(nonEmpty),
    container: z.optional(nonEmpty),
    options: z.optional(z.record(z.string(), scalarText)),
    ...timeoutField,
  }),
  rollback: z.strictObject({ project: nonEmpty, to: z.optional(z.number({ error: 'expected a revision number' }).check(z.refine((n) => Number.isInteger(n) && n > 0, { error: 'expected a revision number' }))), ...timeoutField }),
} as const;

type Path = (string | number)[];

const showPath = (path: Path) => path.reduce<string>((acc, p) => (typeof p === 'number' ? `${acc}[${p}]` : acc ? `${acc}.${p}` : p), '');

/**
 * Parses a rules file. Every problem is collected with its line and key path
 * (`rules.yaml:7 rules[0].on.event: expected …`) and thrown together; nothing runs when any is found.
 */
export function parseRules(text: string, file = 'rules.yaml', baseDir = process.cwd()): RuleSet {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true });
  const problems: RuleProblem[] = [];
  const lineOf = (path: Path): number => {
    for (let p = path; ; p = p.slice(0, -1)) {
      const node = p.length ? (doc as Document).getIn(p, true) : doc.contents;
      const range = (node as { range?: [number, number, number] } | null | undefined)?.range;
      if (range) return lc.linePos(range[0]).line;
      if (p.length === 0) return 1;
    }
  };
  const keyLine = (path: Path): number => {
    // The line of the key itself (for unknown keys), found on the parent map.
    const parent = path.length > 1 ? (doc as Document).getIn(path.slice(0, -1), true) : doc.contents;
    if (isMap(parent)) {
      const pair = parent.items.find((it) => (it.key as { value?: unknown } | null)?.value === path[path.length - 1]);
      const range = (pair?.key as { range?: [number, number, number] } | null)?.range;
      if (range) return lc.linePos(range[0]).line;
    }
    return lineOf(path);
  };
  const add = (path: Path, message: string, line = lineOf(path)) => problems.push({ file, line, path: showPath(path), message });
  const check = <T>(schema: z.ZodMiniType<T>, value: unknown, path: Path): T | undefined => {
    const r = schema.safeParse(value);
    if (r.success) return r.data;
    for (const issue of r.error.issues) {
      const at = [...path, ...(issue.path as Path)];
      if (issue.code === 'unrecognized_keys') {
        for (const k of issue.keys) add([...at, k], `unknown key ${JSON.stringify(k)}`, keyLine([...at, k]));
      } else {
        const typeIssue = issue.code === 'invalid_type' || issue.code === 'invalid_union' || issue.code === 'invalid_value';
        add(at, typeIssue ? `${issue.message}, got ${describe(valueAt(value, issue.path as Path))}` : issue.message);
      }
    }
    return undefined;
  };

  if (doc.errors.length) {
    for (const e of doc.errors) problems.push({ file, line: lc.linePos(e.pos[0]).line, path: '', message: e.message.replace(/ at line \d+, column \d+.*$/s, '') });
    throw problemsError(problems);
  }
  const root = check(fileSchema, doc.toJS({ maxAliasCount: 100 }), []);
  const rules: Rule[] = [];
  const names = new Map<string, number>();
  for (const [i, raw] of (root?.rules ?? []).entries()) {
    const at: Path = ['rules', i];
    const r = check(ruleSchema, raw, at);
    if (!r) {
      // Still check the actions, so one run reports every problem.
      const actions = (raw as { actions?: unknown } | null)?.actions;
      if (Array.isArray(actions)) for (const [j, a] of actions.entries()) readAction(a, [...at, 'actions', j], { check, add, keyLine, baseDir });
      continue;
    }
    if (!NAME.test(r.name)) add([...at, 'name'], `expected a rule name of letters, digits, _ . -, got ${JSON.stringify(r.name)}`);
    else if (names.has(r.name)) add([...at, 'name'], `duplicate rule name ${JSON.stringify(r.name)} (also rules[${names.get(r.name)}])`);
    names.set(r.name, i);
    const on = readMatch(r.on, [...at, 'on'], add);
    const when = Object.entries(r.when ?? {}).flatMap(([attribute, cond]) => {
      try {
        return [parseCondition(attribute, cond)];
      } catch (err) {
        add([...at, 'when', attribute], errorMessage(err));
        return [];
      }
    });
    const debounceMs = r.debounce === undefined ? undefined : duration(r.debounce, [...at, 'debounce'], add);
    const timeoutMs = r.timeout === undefined ? DEFAULT_TIMEOUT_MS : duration(r.timeout, [...at, 'timeout'], add) ?? DEFAULT_TIMEOUT_MS;
    const actions: Action[] = [];
    for (const [j, a] of r.actions.entries()) {
      const action = readAction(a, [...at, 'actions', j], { check, add, keyLine, baseDir });
      if (action) actions.push(action);
    }
    rules.push({ name: r.name, on, when, debounceMs, oncePer: r.once_per ?? (debounceMs !== undefined ? 'rule' : 'event'), timeoutMs, actions, line: lineOf(at) });
  }
  if (problems.length) throw problemsError(problems);
  return { file, rules };
}

export function loadRulesFile(path: string): RuleSet {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new KibokoError('INVALID_ARGUMENT', `cannot read the rules file ${path}: ${errorMessage(err)}`, { hint: 'check the path', cause: err });
  }
  return parseRules(text, path, dirname(resolve(path)));
}

type Add = (path: Path, message: string, line?: number) => void;

function duration(v: string | number, path: Path, add: Add): number | undefined {
  if (typeof v === 'number') {
    if (v < 0 || !Number.isFinite(v)) {
      add(path, `expected a duration ≥ 0, got ${v}`);
      return undefined;
    }
    return Math.round(v * 1000);
  }
  try {
    return parseDuration(v, path[path.length - 1] as string);
  } catch (err) {
    add(path, (err as KibokoError).message + ((err as KibokoError).hint ? ` — ${(err as KibokoError).hint}` : ''));
    return undefined;
  }
}

function readMatch(on: z.infer<typeof onSchema>, path: Path, add: Add): RuleMatch {
  const out: { -readonly [K in keyof RuleMatch]: RuleMatch[K] } = {};
  if (on.type) {
    for (const t of on.type) if (!(EVENT_TYPES as readonly string[]).includes(t)) add([...path, 'type'], `unknown event type ${JSON.stringify(t)}; expected one of ${EVENT_TYPES.join(', ')}`);
    out.type = on.type;
  }
  if (on.event || on.action) out.event = [...(on.event ?? []), ...(on.action ?? [])];
  if (on.label) out.label = on.label;
  if (on.container) out.container = on.container;
  if (on.image) out.image = on.image;
  if (on.name) {
    out.name = on.name.flatMap((n): NameMatcher[] => {
      if (!n.startsWith('re2:')) return [{ exact: n.replace(/^\//, '') }];
      try {
        return [{ pattern: n.slice(4), regex: compileRegex(n.slice(4), n) }];
      } catch (err) {
        add([...path, 'name'], errorMessage(err));
        return [];
      }
    });
  }
  return out;
}

/** `"!=0"`, `">=2"`, `"re2:^db"`, `"!re2:…"`, `"exists"`, `"absent"`, or a value to equal. */
export function parseCondition(attribute: string, text: string): Condition {
  const t = text.trim();
  if (t === 'exists' || t === 'absent') return { attribute, op: t, value: '', source: text };
  for (const prefix of ['!re2:', 're2:'] as const) {
    if (t.startsWith(prefix)) {
      const pattern = t.slice(prefix.length);
      return { attribute, op: prefix === 're2:' ? 're2' : '!re2', value: pattern, regex: compileRegex(pattern, t), source: text };
    }
  }
  const m = /^(==|!=|>=|<=|>|<)\s*(.*)$/.exec(t);
  if (!m) return { attribute, op: '==', value: t, source: text };
  const op = m[1] as Condition['op'];
  const value = m[2]!;
  if ((op === '>' || op === '>=' || op === '<' || op === '<=') && !Number.isFinite(Number(value))) {
    throw new KibokoError('INVALID_ARGUMENT', `expected a number after ${op} in ${JSON.stringify(text)}`, { hint: 'e.g. exitCode: ">=1"' });
  }
  return { attribute, op, value, source: text };
}

function tpl(text: string, path: Path, add: Add): CompiledTemplate | undefined {
  try {
    return compileTemplate(text);
  } catch (err) {
    add(path, errorMessage(err) + ((err as KibokoError).hint ? ` — ${(err as KibokoError).hint}` : ''));
    return undefined;
  }
}

function readAction(
  raw: unknown,
  path: Path,
  deps: { check: <T>(schema: z.ZodMiniType<T>, value: unknown, path: Path) => T | undefined; add: Add; keyLine: (path: Path) => number; baseDir: string },
): Action | undefined {
  const { check, add } = deps;
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    add(path, `expected an action (one of ${ACTION_KINDS.join(', ')}: { … }), got ${describe(raw)}`);
    return undefined;
  }
  const keys = Object.keys(raw);
  if (keys.length !== 1 || !(ACTION_KINDS as readonly string[]).includes(keys[0]!)) {
    const unknown = keys.filter((k) => !(ACTION_KINDS as readonly string[]).includes(k));
    if (unknown.length) for (const k of unknown) add([...path, k], `unknown action ${JSON.stringify(k)}; expected one of ${ACTION_KINDS.join(', ')}`, deps.keyLine([...path, k]));
    else add(path, `expected one action per list item, got ${keys.join(' and ')}`);
    return undefined;
  }
  const kind = keys[0] as ActionKind;
  const body = (raw as Record<string, unknown>)[kind];
  const at = [...path, kind];
  const timeoutOf = (t: string | number | undefined) => (t === undefined ? undefined : duration(t, [...at, 'timeout'], add));
  switch (kind) {
    case 'notify': {
      const b = check(actionSchemas.notify, body, at);
      if (!b) return undefined;
      const url = tpl(b.url, [...at, 'url'], add);
      const text = tpl(b.text ?? '{{.Rule}}: {{.Type}} {{.Action}} {{.Actor.Attributes.name}}', [...at, 'text'], add);
      if (url && !/^https?:\/\//.test(b.url)) add([...at, 'url'], `expected an http(s) URL, got ${JSON.stringify(b.url)}`);
      return url && text ? { kind, url, slack: b.slack ?? false, channel: b.channel, text, timeoutMs: timeoutOf(b.timeout) } : undefined;
    }
    case 'exec': {
      const b = check(actionSchemas.exec, body, at);
      if (!b) return undefined;
      const container = tpl(b.container, [...at, 'container'], add);
      const cmd = b.cmd.map((w, i) => tpl(w, [...at, 'cmd', i], add));
      if (!container || cmd.some((c) => !c)) return undefined;
      return { kind, container, cmd: cmd as CompiledTemplate[], user: b.user, timeoutMs: timeoutOf(b.timeout) };
    }
    case 'restart': {
      const b = check(actionSchemas.restart, body, at);
      if (!b) return undefined;
      const container = tpl(b.container, [...at, 'container'], add);
      const stop = b.stop_timeout === undefined ? 10_000 : duration(b.stop_timeout, [...at, 'stop_timeout'], add);
      return container && stop !== undefined ? { kind, container, stopTimeoutSeconds: Math.ceil(stop / 1000), timeoutMs: timeoutOf(b.timeout) } : undefined;
    }
    case 'lifecycle': {
      const b = check(actionSchemas.lifecycle, body, at);
      if (!b) return undefined;
      const container = tpl(b.container, [...at, 'container'], add);
      return container ? { kind, method: b.method, container, timeoutMs: timeoutOf(b.timeout) } : undefined;
    }
    case 'render': {
      const b = check(actionSchemas.render, body, at);
      if (!b) return undefined;
      const container = b.container === undefined ? undefined : tpl(b.container, [...at, 'container'], add);
      if (b.container !== undefined && !container) return undefined;
      return { kind, confdir: resolve(deps.baseDir, b.confdir), backend: b.backend ?? 'env', container, options: b.options ?? {}, timeoutMs: timeoutOf(b.timeout) };
    }
    case 'rollback': {
      const b = check(actionSchemas.rollback, body, at);
      if (!b) return undefined;
      const project = tpl(b.project, [...at, 'project'], add);
      return project ? { kind, project, to: b.to, timeoutMs: timeoutOf(b.timeout) } : undefined;
    }
  }
}

function valueAt(value: unknown, path: Path): unknown {
  let v = value;
  for (const p of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string | number, unknown>)[p];
  }
  return v;
}

function describe(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  const s = JSON.stringify(v);
  return s.length > 60 ? `${s.slice(0, 57)}…` : s;
}

function problemsError(list: RuleProblem[]): KibokoError {
  const sorted = [...list].sort((a, b) => a.line - b.line);
  const file = sorted[0]?.file ?? 'rules';
  const summary = `${file}: ${sorted.length} error${sorted.length === 1 ? '' : 's'}`;
  return new KibokoError('INVALID_ARGUMENT', [summary, ...sorted.map((p) => `${p.file}:${p.line}${p.path ? ` ${p.path}` : ''}: ${p.message}`)].join('\n'), {
    hint: 'fix these and run again; nothing was started',
    details: { errors: sorted },
  });
}
