import { resolve } from 'node:path';
import { invalidArgument } from '../common/errors.js';
import { connectEngine } from '../engine/index.js';
import type { AuditMatch, BuildEvent, ExamineResult, PackageRecord } from '../packages/index.js';
import { connectionFlags } from './options.js';
import type { PackagesOptions } from './packages-options.js';
import { installSignalHandlers } from './signals.js';

const out = (line: string) => process.stdout.write(`${line}\n`);
const err = (line: string) => process.stderr.write(`${line}\n`);
const short = (id: string) => id.replace(/^sha256:/, '').slice(0, 12);

/** `KEY=value` pairs; `KEY` alone takes the value from the environment when `fromEnv`, as docker's --build-arg does. */
export function parsePairs(values: readonly string[], flag: string, fromEnv: NodeJS.ProcessEnv | undefined): Record<string, string> {
  const result: Record<string, string> = {};
  for (const v of values) {
    const eq = v.indexOf('=');
    const key = eq < 0 ? v : v.slice(0, eq);
    if (!/^[A-Za-z0-9_][A-Za-z0-9_.\-/]*$/.test(key)) throw invalidArgument(`invalid ${flag} '${v}': expected KEY=value`, `e.g. ${flag} VERSION=1.2`);
    if (eq >= 0) result[key] = v.slice(eq + 1);
    else if (fromEnv) {
      const env = fromEnv[key];
      if (env !== undefined) result[key] = env;
    } else throw invalidArgument(`invalid ${flag} '${v}': expected key=value`, `e.g. ${flag} ${key}=value`);
  }
  return result;
}

function describeGit(r: PackageRecord): string {
  if (!r.git) return 'no git';
  return `git ${r.git.revision.slice(0, 10)}${r.git.ref ? ` (${r.git.ref}${r.git.dirty ? ', dirty' : ''})` : r.git.dirty ? ' (dirty)' : ''}`;
}

function recordLine(r: PackageRecord): string {
  const ci = r.ci ? `, ${r.ci.system}${r.ci.buildTag ? ` ${r.ci.buildTag}` : ''}` : '';
  return `${r.tags.join(', ')} — project ${r.project}, ${describeGit(r)}, built ${r.builtAt} on ${r.builtBy.host} (${r.cause}${ci})`;
}

export async function runBuildCommand(o: PackagesOptions<'build'>, args: string[]): Promise<number> {
  const json = Boolean(o.json);
  const quiet = Boolean(o.quiet) || json;
  const cwd = process.cwd();
  const contextDir = resolve(cwd, args[0] ?? '.');
  const tags = o.tag ?? [];
  if (tags.length === 0) throw invalidArgument('kiboko build needs a name for the image', 'give one with -t name:tag (repeatable; the first is the main tag)');
  const p = await import('../packages/index.js');
  const methods = Object.fromEntries((o.method ?? []).map((m) => p.parseMethodOption(m)));
  const artifacts = (o.artifact ?? []).map((a) => p.parseArtifactOption(a, cwd));
  if (artifacts.length && !o.builder) throw invalidArgument('--artifact needs --builder', 'e.g. --builder Dockerfile.build --artifact /out/app:./dist/app');
  const emit = (e: BuildEvent) => {
    if (json) {
      if (e.type !== 'output') out(JSON.stringify({ event: e.type, time: new Date().toISOString(), ...Object.fromEntries(Object.entries(e).filter(([k]) => k !== 'type')) }));
      return;
    }
    switch (e.type) {
      case 'output':
        if (!quiet && e.step !== 'metadata') err(e.line);
        break;
      case 'build-started':
        if (!quiet) err(e.step === 'builder' ? `building the builder image from ${e.dockerfile}` : e.step === 'image' ? `building ${e.tag} from ${e.dockerfile}` : `adding kiboko metadata to ${e.tag}`);
        break;
      case 'artifact-copied':
        err(`copied ${e.path} → ${e.local} (${e.bytes} bytes)`);
        break;
      case 'warning':
        err(`warning: ${e.message}`);
        break;
      case 'built':
        out(`built ${e.tags[0]} (${short(e.id)})`);
        out(`  ${recordLine(e.record)}`);
        out(`  ancestry: ${e.ancestors} kiboko-built ancestor${e.ancestors === 1 ? '' : 's'}; methods: ${Object.keys(e.record.methods).join(', ') || 'none'}`);
        break;
    }
  };
  const engine = await connectEngine(connectionFlags(o));
  const signals = installSignalHandlers((m) => err(m));
  try {
    const request = {
      contextDir,
      dockerfile: o.file === undefined ? undefined : resolve(cwd, o.file),
      tags,
      buildArgs: parsePairs(o.buildArg ?? [], '--build-arg', process.env),
      target: o.target,
      noCache: o.cache === false,
      pull: Boolean(o.pull),
      labels: parsePairs(o.label ?? [], '--label', undefined),
      methods,
      project: o.project,
      cause: o.cause,
      version: o.imageVersion,
      signal: signals.signal,
      onEvent: emit,
    };
    if (o.builder) await p.buildWithBuilder(engine, { ...request, builderDockerfile: resolve(cwd, o.builder), artifacts });
    else await p.buildPackage(engine, request);
    return 0;
  } finally {
    signals.dispose();
    engine.close();
  }
}

function renderExamine(r: ExamineResult): string[] {
  const lines: string[] = [];
  if (r.container) {
    const c = r.container;
    lines.push(`container ${c.name} (${short(c.id)}) ${c.status}`);
    lines.push(`  created ${c.created}; last started ${c.startedAt ?? 'never'}; restarts ${c.restartCount}`);
    lines.push(`  first started ${c.firstStartedAt ?? (c.startedAt ? 'unknown (no longer in the engine’s event log)' : 'never')}`);
  }
  lines.push(`image ${r.image.tags[0] ?? '<untagged>'} (${short(r.image.id)}) created ${r.image.created}`);
  if (r.levels.length === 0) lines.push('  not built by kiboko: no metadata');
  else {
    lines.push(`metadata (${r.levels.length} level${r.levels.length === 1 ? '' : 's'}, oldest first${r.metadataFile ? `; also in the image at ${r.metadataFile}` : ''}):`);
    for (const l of r.levels) {
      const m = l.record;
      lines.push(`  [${l.depth}] ${m.image}${l.self ? ' (this image)' : ''}`);
      lines.push(`      ${recordLine(m)}`);
      if (m.version) lines.push(`      version ${m.version}`);
      if (m.git?.source) lines.push(`      source ${m.git.source}`);
      if (m.base) lines.push(`      from ${m.base.name}${m.base.id ? ` (${short(m.base.id)})` : ''}`);
      if (m.ci?.url) lines.push(`      ci ${m.ci.url}`);
      if (m.buildContainer) lines.push(`      build container ${m.buildContainer.dockerfile}: ${m.buildContainer.artifacts.map((a) => `${a.path} → ${a.local}`).join(', ')}`);
      const methods = Object.keys(m.methods);
      if (methods.length) lines.push(`      methods ${methods.join(', ')}`);
    }
  }
  if (r.methods.length) {
    lines.push('methods:');
    for (const m of r.methods) lines.push(`  ${m.name.padEnd(10)} ${m.command}${m.error ? `  (invalid: ${m.error})` : ''}`);
  } else lines.push('methods: none declared');
  const oci = Object.entries(r.oci);
  if (oci.length) {
    lines.push('oci:');
    for (const [k, v] of oci) lines.push(`  ${k.padEnd(12)} ${v}`);
  }
  for (const w of r.warnings) lines.push(`warning: ${w}`);
  return lines;
}

function renderAudit(matches: AuditMatch[]): string[] {
  if (matches.length === 0) return ['no containers match'];
  const rows = matches.map((m) => [
    m.container.name,
    m.container.status,
    m.meta ? m.meta.tags[0] ?? m.meta.image : m.container.image,
    m.meta?.project ?? '-',
    m.meta?.git ? `${m.meta.git.revision.slice(0, 10)}${m.meta.git.dirty ? '+dirty' : ''}` : '-',
    m.meta?.git?.ref ?? '-',
    m.meta?.builtAt ?? '-',
  ]);
  const header = ['CONTAINER', 'STATUS', 'IMAGE', 'PROJECT', 'REVISION', 'REF', 'BUILT'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  return [header, ...rows].map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  '));
}

export async function runExamineCommand(o: PackagesOptions<'examine'>, args: string[]): Promise<number> {
  const json = Boolean(o.json);
  const p = await import('../packages/index.js');
  const filters = o.audit ?? [];
  const type = o.type;
  if (type !== undefined && type !== 'container' && type !== 'image') throw invalidArgument(`invalid --type '${type}': expected container or image`, 'e.g. --type image');
  if (filters.length && args.length) throw invalidArgument('give a target or --audit, not both', 'kiboko examine web-1, or kiboko examine --audit git.ref=main');
  if (!filters.length && !args.length) throw invalidArgument('kiboko examine needs a container or image (or --audit FILTER)', 'e.g. kiboko examine acme/app:1');
  const conditions = filters.flatMap((f) => p.parseAuditFilter(f));
  const engine = await connectEngine(connectionFlags(o));
  try {
    if (conditions.length) {
      const matches = await p.audit(engine, conditions, { all: Boolean(o.all) });
      if (json) for (const m of matches) out(JSON.stringify(m));
      else for (const line of renderAudit(matches)) out(line);
      return 0;
    }
    const result = await p.examine(engine, args[0]!, { type });
    if (json) out(JSON.stringify(result));
    else for (const line of renderExamine(result)) out(line);
    return 0;
  } finally {
    engine.close();
  }
}
