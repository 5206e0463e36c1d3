/** Service `volumes:` (short and long syntax) and `tmpfs:`; long-syntax `type: tmpfs` mounts join the tmpfs map. */
import path from 'node:path';
import type { VolumeMount } from '../model.js';
import type { Context } from './context.js';
import { svcDocs, type Loc } from './problems.js';
import { absolutePath, bool, bytes, fileMode, mapOf, omitUndefined, seqOf, str } from './scalars.js';
import { isNull, show, type Entry, type MapNode, type Node } from './yaml.js';

const VOLUME_HINT = svcDocs('volumes');
const VOLUME_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;
const PROPAGATION = ['shared', 'slave', 'private', 'rshared', 'rslave', 'rprivate'] as const;

export interface ServiceVolumes {
  mounts: VolumeMount[];
  /** Container path → tmpfs options. */
  tmpfs: Record<string, string>;
}

export function readVolumes(entry: Entry | undefined, tmpfsEntry: Entry | undefined, ctx: Context): ServiceVolumes {
  const tmpfs = readTmpfs(tmpfsEntry, ctx);
  if (!entry || isNull(entry.value)) return { mounts: [], tmpfs };
  const node = entry.value;
  const list = seqOf(node, ctx, 'a list of volumes', VOLUME_HINT);
  if (!list) return { mounts: [], tmpfs };
  // One mount per target; a later one (an override file's) takes the earlier one's place.
  const byTarget = new Map<string, VolumeMount>();
  for (const item of list.items) {
    const mount =
      item.kind === 'map'
        ? readVolumeLong(item, ctx, tmpfs)
        : item.kind === 'scalar' && typeof item.value === 'string'
          ? parseVolumeShort(item.value, item.loc, ctx)
          : badVolume(item, ctx);
    if (mount) byTarget.set(path.posix.normalize(mount.target), mount);
  }
  return { mounts: [...byTarget.values()], tmpfs };
}

/** `tmpfs: /run` or a list of `path[:options]`. */
function readTmpfs(entry: Entry | undefined, ctx: Context): Record<string, string> {
  const out: Record<string, string> = {};
  if (!entry || isNull(entry.value)) return out;
  const docs = svcDocs('tmpfs');
  const items = entry.value.kind === 'seq' ? entry.value.items : [entry.value];
  for (const item of items) {
    const s = str(item, ctx, 'a container path like /run (optionally :size=64m)', docs);
    if (s === undefined) continue;
    const colon = s.indexOf(':');
    const target = colon < 0 ? s : s.slice(0, colon);
    if (!target.startsWith('/')) {
      ctx.problems.add(item.loc, `expected an absolute container path, got ${JSON.stringify(target)}`, docs);
      continue;
    }
    out[target] = colon < 0 ? '' : s.slice(colon + 1);
  }
  return out;
}

function badVolume(item: Node, ctx: Context): undefined {
  ctx.problems.add(
    item.loc,
    `expected "SOURCE:TARGET[:ro]" or a { type, source, target } mapping, got ${show(item)}`,
    VOLUME_HINT,
  );
  return undefined;
}

function parseVolumeShort(spec: string, loc: Loc, ctx: Context): VolumeMount | undefined {
  const parts = spec.split(':');
  if (parts.length === 1) {
    if (!spec.startsWith('/')) return badVolume({ kind: 'scalar', value: spec, loc }, ctx);
    return { target: spec, type: 'anonymous', readOnly: false };
  }
  if (parts.length > 3 || parts.some((p) => p === '')) return badVolume({ kind: 'scalar', value: spec, loc }, ctx);
  const [source, target, mode = ''] = parts as [string, string, string?];
  if (!target.startsWith('/')) {
    ctx.problems.add(loc, `expected an absolute container path after the source, got ${JSON.stringify(target)}`, VOLUME_HINT);
    return undefined;
  }
  let readOnly = false;
  const extra: Partial<VolumeMount> = {};
  for (const opt of mode ? mode.split(',') : []) {
    if (opt === 'ro') readOnly = true;
    else if (opt === 'rw') readOnly = false;
    else if (opt === 'cached' || opt === 'delegated' || opt === 'consistent') continue; // no-ops on Linux
    else if (opt === 'z' || opt === 'Z') extra.selinux = opt;
    else if (opt === 'nocopy') extra.nocopy = true;
    else if ((PROPAGATION as readonly string[]).includes(opt)) extra.propagation = opt as VolumeMount['propagation'];
    else {
      ctx.problems.add(loc, `expected volume options like ro, rw, z, Z, nocopy or a propagation mode, got ${JSON.stringify(opt)}`, VOLUME_HINT);
      return undefined;
    }
  }
  const src = mountSource(source, loc, ctx);
  if (!src) return undefined;
  if (extra.nocopy && src.type !== 'volume') {
    ctx.problems.add(loc, 'nocopy applies to named volumes only', 'remove nocopy');
    return undefined;
  }
  return { ...src, target, readOnly, ...extra };
}

/** compose's rule: a source starting with `.`, `/` or `~` is a host path, anything else a volume name. */
function mountSource(source: string, loc: Loc, ctx: Context, type?: 'bind' | 'volume'): Pick<VolumeMount, 'source' | 'type'> | undefined {
  const isPath = /^[./~]/.test(source);
  if (type === 'bind' || (type === undefined && isPath)) {
    if (source.startsWith('~') && !/^~(\/|$)/.test(source)) {
      ctx.problems.add(loc, `~user paths are not supported, got ${JSON.stringify(source)}`, 'write the absolute path');
      return undefined;
    }
    const expanded = source.startsWith('~') ? path.join(ctx.home, source.slice(1)) : source;
    return { source: path.resolve(ctx.projectDir, expanded), type: 'bind' };
  }
  if (!VOLUME_NAME.test(source)) {
    ctx.problems.add(
      loc,
      `expected a volume name or a path starting with ./, / or ~, got ${JSON.stringify(source)}`,
      `for a folder next to the compose file write ./${source}`,
    );
    return undefined;
  }
  if (!ctx.volumes.has(source)) {
    ctx.problems.add(
      loc,
      `refers to undefined volume ${JSON.stringify(source)}`,
      `declare it under the top-level volumes: (${source}: {}), or write ./${source} for a folder`,
    );
    return undefined;
  }
  return { source, type: 'volume' };
}

const LONG_TYPES = ['volume', 'bind', 'tmpfs'] as const;

function readVolumeLong(node: MapNode, ctx: Context, tmpfs: Record<string, string>): VolumeMount | undefined {
  let type: string | undefined;
  let source: string | undefined;
  let target: string | undefined;
  let readOnly = false;
  let ok = true;
  const extra: Partial<VolumeMount> = {};
  const tmpfsOpts: string[] = [];
  for (const e of node.entries.values()) {
    const v = e.value;
    if (isNull(v)) continue;
    switch (e.key) {
      case 'type':
        type = str(v, ctx, 'volume, bind or tmpfs', VOLUME_HINT);
        if (type !== undefined && !(LONG_TYPES as readonly string[]).includes(type)) {
          if (type === 'npipe') ctx.problems.add(v.loc, 'npipe mounts exist only on Windows engines', 'use a bind mount of a Unix socket instead');
          else if (type === 'cluster') ctx.problems.add(v.loc, 'cluster volumes need Swarm CSI plugins, which one engine does not have', 'use a named volume with a driver instead');
          else if (type === 'image') ctx.problems.add(v.loc, 'image mounts need Docker Engine 28 or newer, which kiboko does not drive yet', 'copy the files in a build stage instead');
          else ctx.problems.add(v.loc, `expected type volume, bind or tmpfs, got ${JSON.stringify(type)}`, VOLUME_HINT);
          ok = false;
        }
        break;
      case 'source':
        source = str(v, ctx, 'a volume name or a host path', VOLUME_HINT);
        break;
      case 'target':
        target = absolutePath(v, ctx, VOLUME_HINT);
        break;
      case 'read_only':
        readOnly = bool(v, ctx, VOLUME_HINT) ?? false;
        break;
      case 'consistency':
        break;
      case 'bind':
        for (const b of mapOf(v, ctx, 'a mapping', VOLUME_HINT)?.entries.values() ?? []) {
          if (b.key === 'create_host_path') extra.createHostPath = bool(b.value, ctx, VOLUME_HINT);
          else if (b.key === 'propagation') {
            const p = str(b.value, ctx, PROPAGATION.join(', '), VOLUME_HINT);
            if (p !== undefined && (PROPAGATION as readonly string[]).includes(p)) extra.propagation = p as VolumeMount['propagation'];
            else if (p !== undefined) ctx.problems.add(b.value.loc, `expected ${PROPAGATION.join(', ')}, got ${show(b.value)}`, VOLUME_HINT);
          } else if (b.key === 'selinux') {
            const z = str(b.value, ctx, 'z or Z', VOLUME_HINT);
            if (z === 'z' || z === 'Z') extra.selinux = z;
            else if (z !== undefined) ctx.problems.add(b.value.loc, `expected z or Z, got ${show(b.value)}`, VOLUME_HINT);
          } else ctx.problems.add(b.keyLoc, `unknown bind key ${JSON.stringify(b.key)}`, `expected propagation, create_host_path or selinux; ${VOLUME_HINT}`);
        }
        break;
      case 'volume':
        for (const b of mapOf(v, ctx, 'a mapping', VOLUME_HINT)?.entries.values() ?? []) {
          if (b.key === 'nocopy') extra.nocopy = bool(b.value, ctx, VOLUME_HINT);
          else if (b.key === 'subpath') extra.subpath = str(b.value, ctx, 'a path inside the volume', VOLUME_HINT);
          else ctx.problems.add(b.keyLoc, `unknown volume key ${JSON.stringify(b.key)}`, `expected nocopy or subpath; ${VOLUME_HINT}`);
        }
        break;
      case 'tmpfs':
        for (const b of mapOf(v, ctx, 'a mapping', VOLUME_HINT)?.entries.values() ?? []) {
          if (b.key === 'size') {
            const n = bytes(b.value, ctx, VOLUME_HINT);
            if (n !== undefined) tmpfsOpts.push(`size=${n}`);
          } else if (b.key === 'mode') {
            const m = fileMode(b.value, ctx, VOLUME_HINT);
            if (m !== undefined) tmpfsOpts.push(`mode=${m.toString(8)}`);
          } else ctx.problems.add(b.keyLoc, `unknown tmpfs key ${JSON.stringify(b.key)}`, `expected size or mode; ${VOLUME_HINT}`);
        }
        break;
      default:
        if (e.key.startsWith('x-')) break;
        ctx.problems.add(e.keyLoc, `unknown volume key ${JSON.stringify(e.key)}`, `expected type, source, target, read_only, bind, volume or tmpfs; ${VOLUME_HINT}`);
        ok = false;
    }
  }
  if (!node.entries.has('type')) ctx.problems.add(node.loc, 'a volume mapping needs type: (volume, bind or tmpfs)', VOLUME_HINT);
  if (!node.entries.has('target')) ctx.problems.add(node.loc, 'a volume mapping needs target: (the container path)', VOLUME_HINT);
  if (!ok || target === undefined || type === undefined) return undefined;
  if (type === 'tmpfs') {
    if (readOnly) tmpfsOpts.unshift('ro');
    tmpfs[target] = tmpfsOpts.join(',');
    return undefined;
  }
  if (type !== 'volume' && type !== 'bind') return undefined;
  if (source === undefined || source === '') {
    if (type === 'bind') {
      ctx.problems.add(node.loc, 'a bind mount needs source: (the host path)', VOLUME_HINT);
      return undefined;
    }
    return omitUndefined({ target, type: 'anonymous' as const, readOnly, ...extra });
  }
  const src = mountSource(source, node.entries.get('source')!.value.loc, ctx, type);
  return src && omitUndefined({ ...src, target, readOnly, ...extra });
}
