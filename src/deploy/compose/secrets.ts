/** `secrets:`/`configs:` — the top-level definitions and a service's references to them. */
import { withSecretValue, type FileObjectDefinition, type FileRef } from '../model.js';
import type { Context, Mutable } from './context.js';
import { textKey, type KeyReader } from './key-readers.js';
import { closest, DOCS, svcDocs } from './problems.js';
import { readEngineObject } from './engine-objects.js';
import { fileMode, hostPath, mapOf, omitUndefined, seqOf, str } from './scalars.js';
import { isNull, scalarText, show, type Entry } from './yaml.js';

type Kind = 'secrets' | 'configs';

/** The sources a secret's or config's options named, and the environment variable's value. */
interface Found {
  sources: string[];
  value?: string | undefined;
}

/** The options of a secret or config besides the common ones; each source read is noted in `found`. */
function fileObjectOptions(kind: Kind, found: Found): Record<string, KeyReader<Mutable<FileObjectDefinition>>> {
  return {
    file: (v, def, ctx, docs) => {
      const f = str(v, ctx, 'a file path', docs);
      if (f === undefined) return;
      def.file = hostPath(f, ctx);
      found.sources.push('file');
      // As docker compose config: a missing file is no error until it is mounted (apply reports it).
      if (ctx.readFile(def.file) === undefined) ctx.problems.warn(v.loc, `${kind.slice(0, -1)} file ${JSON.stringify(f)} not found (looked for ${ctx.display(def.file)}); create it before deploying`);
    },
    environment: (v, def, ctx, docs) => {
      def.environment = str(v, ctx, 'a variable name', docs);
      found.sources.push('environment');
      if (def.environment === undefined) return;
      found.value = ctx.lookup(def.environment);
      // As docker compose config: an unset variable matters only when the secret is mounted.
      if (found.value === undefined) ctx.problems.warn(v.loc, `variable ${def.environment} is not set; set it in the environment or in the project's .env before deploying`);
    },
    content: (v, def, ctx, docs, o) => {
      if (kind === 'secrets') ctx.problems.add(o.keyLoc, 'a secret cannot have content: (it would sit in the compose file)', 'use file: or environment:');
      else if (v.kind === 'scalar') def.content = scalarText(v);
      else ctx.problems.add(v.loc, `expected text, got ${show(v)}`, docs);
      found.sources.push('content');
    },
    template_driver: textKey('templateDriver', 'a template driver name'),
  };
}

/** Top-level `secrets:` or `configs:`: exactly one source each (file, environment, content for configs, or external). */
export function readFileObjects(entry: Entry | undefined, kind: Kind, ctx: Context, project: string): Record<string, FileObjectDefinition> {
  const docs = `see ${DOCS}/${kind}/`;
  const out: Record<string, FileObjectDefinition> = {};
  if (!entry || isNull(entry.value)) return out;
  const map = mapOf(entry.value, ctx, `a mapping of ${kind} names`, docs);
  for (const e of map?.entries.values() ?? []) {
    if (!mapOf(e.value, ctx, `a mapping with file, environment${kind === 'configs' ? ', content' : ''} or external`, docs)) continue;
    const found: Found = { sources: [] };
    const { def } = readEngineObject<FileObjectDefinition>(e, ctx, project, {
      kind: kind.slice(0, -1),
      docs,
      expected: `a mapping with file, environment${kind === 'configs' ? ', content' : ''} or external`,
      keys: ['name', 'file', 'environment', ...(kind === 'configs' ? ['content'] : []), 'external', 'labels', 'driver', 'driver_opts', 'template_driver'],
      options: fileObjectOptions(kind, found),
    });
    const { sources } = found;
    if (def.external) sources.push('external');
    if (sources.length !== 1) {
      ctx.problems.add(
        e.keyLoc,
        sources.length === 0 ? `${kind.slice(0, -1)} ${JSON.stringify(e.key)} has no source` : `${kind.slice(0, -1)} ${JSON.stringify(e.key)} has several sources (${sources.join(', ')})`,
        `give exactly one of file:, environment:${kind === 'configs' ? ', content:' : ''} or external: true; ${docs}`,
      );
    }
    out[e.key] = withSecretValue(def, found.value);
  }
  return out;
}

/** A service's `secrets:`/`configs:` list: `name` or `{ source, target, uid, gid, mode }`, with compose's default targets. */
export function readFileRefs(entry: Entry | undefined, kind: Kind, ctx: Context): FileRef[] | undefined {
  if (!entry || isNull(entry.value)) return undefined;
  const docs = svcDocs(kind);
  const declared = kind === 'secrets' ? ctx.secrets : ctx.configs;
  const list = seqOf(entry.value, ctx, `a list of ${kind}`, docs);
  if (!list) return undefined;
  const byTarget = new Map<string, FileRef>();
  for (const item of list.items) {
    const ref: Mutable<FileRef> = { source: '', target: '' };
    let target: string | undefined;
    if (item.kind === 'scalar') ref.source = str(item, ctx, `a ${kind.slice(0, -1)} name`, docs) ?? '';
    else if (item.kind === 'map') {
      for (const o of item.entries.values()) {
        if (isNull(o.value)) continue;
        if (o.key === 'source') ref.source = str(o.value, ctx, `a ${kind.slice(0, -1)} name`, docs) ?? '';
        else if (o.key === 'target') target = str(o.value, ctx, 'a path', docs);
        else if (o.key === 'uid') ref.uid = str(o.value, ctx, 'a user id', docs, true);
        else if (o.key === 'gid') ref.gid = str(o.value, ctx, 'a group id', docs, true);
        else if (o.key === 'mode') ref.mode = fileMode(o.value, ctx, docs);
        else ctx.problems.add(o.keyLoc, `unknown ${kind.slice(0, -1)} key ${JSON.stringify(o.key)}`, `expected source, target, uid, gid or mode; ${docs}`);
      }
      if (!item.entries.has('source')) ctx.problems.add(item.loc, `a ${kind.slice(0, -1)} entry needs source:`, docs);
    } else {
      ctx.problems.add(item.loc, `expected a ${kind.slice(0, -1)} name or { source, target, uid, gid, mode }, got ${show(item)}`, docs);
      continue;
    }
    if (!ref.source) continue;
    if (!declared.has(ref.source)) {
      const guess = closest(ref.source, [...declared]);
      ctx.problems.add(item.loc, `refers to undefined ${kind.slice(0, -1)} ${JSON.stringify(ref.source)}`, guess ? `did you mean ${guess}?` : `declare it under the top-level ${kind}:`);
      continue;
    }
    // compose: secrets land in /run/secrets/<target or source>; configs at /<source>, a relative target under /.
    if (kind === 'secrets') ref.target = target?.startsWith('/') ? target : `/run/secrets/${target ?? ref.source}`;
    else ref.target = target?.startsWith('/') ? target : `/${target ?? ref.source}`;
    byTarget.set(ref.target, omitUndefined(ref));
  }
  return [...byTarget.values()];
}
