/**
 * The one NDJSON shape of `--json` event streams (docs/json-output.md): one object per line,
 * `{"level":…,"time":ISO,"event":…, …fields, "msg":…}`. `createJsonLogger` (common/log.ts) writes
 * through it too, so hand-written lines and logged ones read alike.
 */

export const JSON_LEVELS = ['debug', 'info', 'warn', 'error', 'fatal'] as const;
export type JsonLevel = (typeof JSON_LEVELS)[number];

const RESERVED = new Set(['level', 'time', 'event', 'msg']);

/** One line in the shape (with its newline). Fields never override level, time, event or msg. */
export function jsonLine(level: JsonLevel, event: string, msg: string, fields: Record<string, unknown> = {}): string {
  const rest = Object.fromEntries(Object.entries(fields).filter(([k]) => !RESERVED.has(k)));
  return `${JSON.stringify({ level, time: new Date().toISOString(), event, ...rest, msg })}\n`;
}

/** Writes one line in the shape to stdout. */
export function writeJsonLine(level: JsonLevel, event: string, msg: string, fields: Record<string, unknown> = {}): void {
  process.stdout.write(jsonLine(level, event, msg, fields));
}

/** What is wrong with a line of a `--json` event stream (empty when it has the shape). */
export function jsonLineProblems(line: string): string[] {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    return ['not JSON'];
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return ['not a JSON object'];
  const o = v as Record<string, unknown>;
  const problems: string[] = [];
  if (!(JSON_LEVELS as readonly unknown[]).includes(o.level)) problems.push(`level ${JSON.stringify(o.level)} is not one of ${JSON_LEVELS.join(', ')}`);
  if (typeof o.time !== 'string' || !/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/.test(o.time)) problems.push(`time ${JSON.stringify(o.time)} is not an ISO time in UTC`);
  if (typeof o.event !== 'string' || !/^[a-z][a-z0-9-]*$/.test(o.event)) problems.push(`event ${JSON.stringify(o.event)} is not a kebab-case name`);
  if (typeof o.msg !== 'string') problems.push('msg is not a string');
  return problems;
}
