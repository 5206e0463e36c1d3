import { errorMessage, invalidArgument, KibokoError } from '../common/errors.js';
import type { EngineEvent } from '../engine/index.js';
import { parseTemplate } from '../template/index.js';
import { dockerEventJson } from './format.js';

/**
 * The data a rule's strings see, shaped like the Engine API's event message (what
 * `docker events --format` templates use): `{{.Actor.Attributes.name}}`, `{{.Action}}`, …
 */
export interface EventContext {
  Type: string;
  Action: string;
  /** = Action (the old field `docker events --format '{{.Status}}'` still shows). */
  Status: string;
  ID: string;
  /** The image of a container event. */
  From: string;
  Actor: { ID: string; Attributes: Readonly<Record<string, string>> };
  Scope: string;
  Time: number;
  TimeNano: string;
  /** The rule that fired (set by the reactor). */
  Rule?: string | undefined;
}

/** The event each context was made from, so `{{json .}}` prints it exactly as docker does. */
const sources = new WeakMap<object, EngineEvent>();

export function eventContext(e: EngineEvent, rule?: string): EventContext {
  const ctx: EventContext = {
    Type: e.type,
    Action: e.action,
    Status: e.action,
    ID: e.id,
    From: e.attributes.image ?? '',
    Actor: { ID: e.id, Attributes: e.attributes },
    Scope: e.scope,
    Time: e.time,
    TimeNano: e.timeNano,
    ...(rule ? { Rule: rule } : {}),
  };
  sources.set(ctx, e);
  return ctx;
}

export interface CompiledTemplate {
  readonly source: string;
  render(data: unknown): string;
}

/** The helpers `docker events --format` templates have (besides Go's builtins: printf, index, eq, …). */
const FUNCS = {
  json: (v: unknown) => {
    const e = typeof v === 'object' && v !== null ? sources.get(v) : undefined;
    return e ? dockerEventJson(e) : JSON.stringify(v ?? null);
  },
  join: (list: unknown, sep: unknown) => (Array.isArray(list) ? list.map(String).join(String(sep)) : String(list ?? '')),
  split: (s: unknown, sep: unknown) => String(s ?? '').split(String(sep)),
  lower: (s: unknown) => String(s ?? '').toLowerCase(),
  upper: (s: unknown) => String(s ?? '').toUpperCase(),
};

/**
 * A Go text/template (the template library's engine, src/template) over the event:
 * `{{.Actor.Attributes.name}}`, `{{index .Actor.Attributes "com.example.key"}}`, `{{json .}}`,
 * `{{if eq .Action "die"}}…{{end}}`. Parsed when the rules load, so a typo is reported with its
 * line before anything runs; a missing key prints `<no value>`, as in `docker events --format`.
 */
export function compileTemplate(source: string): CompiledTemplate {
  let tpl: ReturnType<typeof parseTemplate>;
  try {
    tpl = parseTemplate('rule', source, FUNCS);
  } catch (err) {
    throw invalidArgument(`invalid template ${JSON.stringify(source)}: ${errorMessage(err).replace(/^template: rule:\d+: /, '')}`, 'Go template syntax: {{.Field}}, {{index .Actor.Attributes "key"}}, {{json .}}');
  }
  return {
    source,
    render: (data) => {
      try {
        return tpl.execute(data);
      } catch (err) {
        throw new KibokoError('ACTION_FAILED', `template ${JSON.stringify(source)}: ${errorMessage(err)}`);
      }
    },
  };
}
