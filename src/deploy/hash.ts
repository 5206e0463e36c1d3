import { createHash } from 'node:crypto';
import type { ServiceSpec } from './model.js';

/**
 * The part of a service that, when changed, requires new containers. Like compose's config hash,
 * replica count, rollout settings, `build` and `pull_policy` are left out: scaling never
 * recreates containers, and a rebuild shows as a new image. Optional keys that are unset are
 * dropped by canonicalJson, so keys added to the model never change the hash of a spec that
 * does not use them.
 */
export type ContainerConfig = Omit<
  ServiceSpec,
  'replicas' | 'update' | 'rollback' | 'tagPolicy' | 'origin' | 'dependsOn' | 'templates' | 'gate' | 'build' | 'pullPolicy'
>;

export function containerConfig(s: ServiceSpec): ContainerConfig {
  // Config templates are rendered into running containers, and a deploy gate is a rollout
  // setting: changing either never needs new containers.
  const { replicas: _r, update: _u, rollback: _b, tagPolicy: _t, origin: _o, dependsOn: _d, templates: _c, gate: _g, build: _bu, pullPolicy: _p, ...rest } = s;
  return rest;
}

/**
 * JSON with sorted keys, so equal configs always serialize (and hash) the same: undefined as null
 * in arrays, left out in objects; keys in UTF-16 code unit order. Written as loops (a plan hashes
 * every service, cold): hash.test.ts checks it against the plain map/filter/sort form.
 */
export function canonicalJson(value: unknown): string {
  if (value === undefined) return 'null';
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) out += (i ? ',' : '') + canonicalJson(value[i]);
    return `${out}]`;
  }
  if (value && typeof value === 'object') {
    const keys = Object.keys(value).sort();
    let out = '{';
    for (const k of keys) {
      const v = (value as Record<string, unknown>)[k];
      if (v === undefined) continue;
      out += `${out.length > 1 ? ',' : ''}${JSON.stringify(k)}:${canonicalJson(v)}`;
    }
    return `${out}}`;
  }
  return JSON.stringify(value);
}

export function configHash(s: ServiceSpec | ContainerConfig): string {
  const cfg = 'replicas' in s ? containerConfig(s as ServiceSpec) : s;
  return createHash('sha256').update(canonicalJson(cfg)).digest('hex');
}

/** Human causes for a config change, naming keys but never printing values (env may hold secrets). */
export function describeChanges(from: ContainerConfig, to: ContainerConfig): string[] {
  const causes: string[] = [];
  if (from.image !== to.image) causes.push(`image ${from.image} → ${to.image}`);
  const keys = new Set([...Object.keys(from), ...Object.keys(to)]) as Set<keyof ContainerConfig>;
  for (const k of [...keys].sort()) {
    if (k === 'image' || k === 'name') continue;
    const a = (from as Record<string, unknown>)[k];
    const b = (to as Record<string, unknown>)[k];
    if (canonicalJson(a) === canonicalJson(b)) continue;
    if ((k === 'environment' || k === 'labels') && a && b && typeof a === 'object' && typeof b === 'object') {
      const ra = a as Record<string, string>;
      const rb = b as Record<string, string>;
      const added = Object.keys(rb).filter((x) => !(x in ra));
      const removed = Object.keys(ra).filter((x) => !(x in rb));
      const changed = Object.keys(rb).filter((x) => x in ra && ra[x] !== rb[x]);
      const parts = [...(added.length ? [`+${added.join(',')}`] : []), ...(removed.length ? [`-${removed.join(',')}`] : []), ...(changed.length ? [`~${changed.join(',')}`] : [])];
      causes.push(`${k} changed (${parts.join(' ')})`);
    } else if (k === 'fileDigests') {
      const ra = (a ?? {}) as Record<string, string>;
      const rb = (b ?? {}) as Record<string, string>;
      const edited = Object.keys(rb).filter((x) => x in ra && ra[x] !== rb[x]);
      if (edited.length) causes.push(`content of ${edited.map((x) => x.replace(':', ' ')).join(', ')} changed`);
      else if (!(k in from)) causes.push('secret/config content recorded');
      else causes.push('secret/config content changed');
    } else {
      causes.push(`${k} changed`);
    }
  }
  return causes;
}
