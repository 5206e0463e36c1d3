/** `environment`, `env_file`, `labels` and `label_file`: the key-value keys of a service. */
import { LABELS } from '../../common/labels.js';
import { parseDotenv } from '../../shellwords/index.js';
import type { Context } from './context.js';
import { svcDocs, type Loc } from './problems.js';
import { bool, hostPath, str } from './scalars.js';
import { scalarText, show, type Entry, type Node } from './yaml.js';

export function readEnvironment(envFile: Entry | undefined, environment: Entry | undefined, ctx: Context): Record<string, string> {
  const env: Record<string, string> = {};
  if (envFile) Object.assign(env, readEnvFiles(envFile.value, ctx));
  if (!environment) return env;
  const docs = svcDocs('environment');
  for (const [key, value] of keyValues(environment.value, ctx, 'environment', docs)) {
    if (value === null) {
      // A bare KEY takes its value from the environment kiboko runs in; when unset it is left
      // out, and does not hide an env_file value (compose drops it before merging).
      const inherited = ctx.lookup(key);
      if (inherited !== undefined) env[key] = inherited;
    } else if (value !== undefined) env[key] = value;
  }
  return env;
}

export function readEnvFiles(node: Node, ctx: Context): Record<string, string> {
  const docs = svcDocs('env_file');
  const items = node.kind === 'seq' ? node.items : [node];
  const env: Record<string, string> = {};
  const seen = new Set<string>();
  for (const item of items) {
    let file: string | undefined;
    let required = true;
    let raw = false;
    if (item.kind === 'map') {
      for (const e of item.entries.values()) {
        if (e.key === 'path') file = str(e.value, ctx, 'a file path', docs);
        else if (e.key === 'required') required = bool(e.value, ctx, docs) ?? true;
        else if (e.key === 'format') {
          const f = str(e.value, ctx, 'raw', docs);
          if (f === 'raw') raw = true;
          else if (f !== undefined) ctx.problems.add(e.value.loc, `expected env_file format raw (or none for dotenv), got ${JSON.stringify(f)}`, docs);
        }
        else ctx.problems.add(e.keyLoc, `unknown env_file key ${JSON.stringify(e.key)}`, docs);
      }
      if (file === undefined && !item.entries.has('path')) ctx.problems.add(item.loc, 'env_file entry needs path:', docs);
    } else file = str(item, ctx, 'a file path, or { path, required }', docs);
    if (file === undefined) continue;
    const abs = hostPath(file, ctx);
    if (seen.has(abs)) continue;
    seen.add(abs);
    const text = ctx.readFile(abs);
    if (text === undefined) {
      if (required) ctx.problems.add(
        item.loc,
        `env file ${JSON.stringify(file)} not found (looked for ${ctx.display(abs)})`,
        'paths are relative to the project folder (the first compose file\'s); or mark it required: false',
      );
      continue;
    }
    ctx.sources.push(abs);
    const parsed = raw ? parseRaw(text) : parseDotenv(text, ctx.lookup);
    for (const p of parsed.problems) ctx.problems.add({ file: ctx.display(abs), line: p.line, path: '' }, p.message, docs);
    Object.assign(env, parsed.values);
  }
  return env;
}

/**
 * `KEY: value` mappings and `KEY=value` lists; a bare `KEY` (or `KEY:` with no value) yields null.
 * Later duplicates win, as in compose.
 */
export function keyValues(node: Node, ctx: Context, what: string, docs: string): [string, string | null | undefined, Loc][] {
  const out: [string, string | null | undefined, Loc][] = [];
  if (node.kind === 'scalar' && node.value === null) return out;
  if (node.kind === 'map') {
    for (const e of node.entries.values()) {
      const v = e.value;
      if (v.kind !== 'scalar') {
        ctx.problems.add(v.loc, `expected a string, number or boolean value, got ${show(v)}`, docs);
        out.push([e.key, undefined, e.keyLoc]);
      } else out.push([e.key, v.value === null ? null : scalarText(v), e.keyLoc]);
    }
    return out;
  }
  if (node.kind === 'seq') {
    for (const item of node.items) {
      if (item.kind !== 'scalar' || typeof item.value !== 'string' || item.value === '' || item.value.startsWith('=')) {
        ctx.problems.add(item.loc, `expected "KEY=VALUE" or "KEY", got ${show(item)}`, docs);
        continue;
      }
      const eq = item.value.indexOf('=');
      out.push(eq < 0 ? [item.value, null, item.loc] : [item.value.slice(0, eq), item.value.slice(eq + 1), item.loc]);
    }
    return out;
  }
  ctx.problems.add(node.loc, `expected ${what} as a mapping or a list of "KEY=VALUE", got ${show(node)}`, docs);
  return out;
}

// kiboko's own bookkeeping labels; kiboko.skip stays available to protect a service from chaos.
export const RESERVED_LABELS = new Set<string>([LABELS.managed, LABELS.runId, LABELS.role]);

/** `label_file` values first, then `labels:` on top. */
export function readLabels(entry: Entry | undefined, labelFile: Entry | undefined, ctx: Context): Record<string, string> {
  const labels: Record<string, string> = {};
  if (labelFile) Object.assign(labels, readLabelFiles(labelFile.value, ctx));
  if (!entry) return labels;
  for (const [key, value, loc] of keyValues(entry.value, ctx, 'labels', svcDocs('labels'))) {
    // kiboko.deploy.gate is configuration (the lifecycle method a replica must pass), not bookkeeping.
    if (RESERVED_LABELS.has(key) || (key.startsWith('kiboko.deploy.') && key !== LABELS.deployGate)) {
      ctx.problems.add(loc, `label ${key} is reserved: kiboko sets it on what it deploys`, 'use another key');
      continue;
    }
    if (value !== undefined) labels[key] = value ?? '';
  }
  return labels;
}

/** `label_file: ./app.labels` (or a list): KEY=VALUE lines, read like env files. */
function readLabelFiles(node: Node, ctx: Context): Record<string, string> {
  const docs = svcDocs('label_file');
  const out: Record<string, string> = {};
  for (const item of node.kind === 'seq' ? node.items : [node]) {
    const file = str(item, ctx, 'a file path', docs);
    if (file === undefined) continue;
    const abs = hostPath(file, ctx);
    const text = ctx.readFile(abs);
    if (text === undefined) {
      ctx.problems.add(item.loc, `label file ${JSON.stringify(file)} not found (looked for ${ctx.display(abs)})`, 'paths are relative to the project folder');
      continue;
    }
    ctx.sources.push(abs);
    const parsed = parseDotenv(text, () => undefined);
    for (const p of parsed.problems) ctx.problems.add({ file: ctx.display(abs), line: p.line, path: '' }, p.message, docs);
    Object.assign(out, parsed.values);
  }
  return out;
}

/** `format: raw`: KEY=VALUE lines taken literally (no quotes, no interpolation), `#` lines skipped. */
function parseRaw(text: string): { values: Record<string, string>; problems: { line: number; message: string }[] } {
  const values: Record<string, string> = {};
  const problems: { line: number; message: string }[] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    if (line.trim() === '' || line.trimStart().startsWith('#')) return;
    const eq = line.indexOf('=');
    if (eq <= 0) problems.push({ line: i + 1, message: `expected KEY=VALUE, got ${JSON.stringify(line)}` });
    else values[line.slice(0, eq)] = line.slice(eq + 1);
  });
  return { values, problems };
}
