import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { KibokoError } from '../common/errors.js';
import { packTar } from '../common/tar.js';
import type { Engine } from '../engine/index.js';
import { networkName, objectLabels, serviceNetworks, volumeName } from './containers.js';
import type { ContainerConfig } from './hash.js';
import { secretValue, type FileObjectDefinition, type FileRef, type SystemConfig } from './model.js';

/** The network keys a project needs on one engine: those its services join, and those the file declares. */
export function projectNetworkKeys(config: SystemConfig): string[] {
  const keys = new Set<string>(config.networks);
  for (const s of config.services) for (const n of serviceNetworks(s)) keys.add(n);
  return [...keys].sort();
}

/**
 * The project's networks and named volumes, created with their settings (driver, ipam, internal,
 * labels …) and compose's labels unless they exist; an `external` one must already exist.
 */
export async function ensureProjectObjects(engine: Engine, config: SystemConfig): Promise<void> {
  const existingNets = new Set((await engine.listNetworks()).map((n) => n.name));
  for (const key of projectNetworkKeys(config)) {
    const def = config.networkDefinitions?.[key];
    const name = networkName(config, key);
    if (def?.external) {
      if (!existingNets.has(name)) {
        throw new KibokoError('INVALID_ARGUMENT', `network ${name} is declared external but does not exist`, { hint: `create it first: docker network create ${name}` });
      }
      continue;
    }
    if (existingNets.has(name)) continue;
    await engine.ensureNetwork(name, objectLabels(config, 'network', key, def?.labels), {
      driver: def?.driver,
      driverOpts: def?.driverOpts,
      ipam: def?.ipam,
      internal: def?.internal,
      attachable: def?.attachable,
      enableIpv6: def?.enableIpv6,
    });
  }
  for (const key of config.volumes) {
    const def = config.volumeDefinitions?.[key];
    const name = volumeName(config, key);
    if (def?.external) {
      if (!(await engine.volumeExists(name))) {
        throw new KibokoError('INVALID_ARGUMENT', `volume ${name} is declared external but does not exist`, { hint: `create it first: docker volume create ${name}` });
      }
      continue;
    }
    await engine.ensureVolume(name, objectLabels(config, 'volume', key, def?.labels), { driver: def?.driver, driverOpts: def?.driverOpts });
  }
}

/** The bytes of a secret or config (its file, environment variable or inline content). */
export function fileObjectData(kind: 'secret' | 'config', key: string, def: FileObjectDefinition | undefined): Buffer {
  if (!def) throw new KibokoError('INVALID_ARGUMENT', `${kind} ${key} is not defined at the top level`, { hint: `add it under ${kind}s:` });
  if (def.external) {
    throw new KibokoError('INVALID_ARGUMENT', `${kind} ${key} is external: only a Swarm holds external ${kind}s`, {
      hint: `deploy with --engine swarm, or give the ${kind} a file:, environment: or content: source`,
    });
  }
  if (def.file !== undefined) {
    try {
      return readFileSync(def.file);
    } catch (cause) {
      throw new KibokoError('INVALID_ARGUMENT', `${kind} ${key}: cannot read ${def.file}: ${(cause as Error).message}`, { cause, hint: 'check the file: path' });
    }
  }
  const value = secretValue(def);
  if (value === undefined) {
    throw new KibokoError('INVALID_ARGUMENT', `${kind} ${key} has no value${def.environment ? ` (environment variable ${def.environment} is not set)` : ''}`, {
      hint: def.environment ? `export ${def.environment} before deploying` : 'give it a file:, environment: or content: source',
    });
  }
  return Buffer.from(value);
}

/**
 * A replica's secrets and configs as one tar archive rooted at `/`, extracted into the container
 * before it starts: at their compose paths (`/run/secrets/<name>`, or the config's target) with
 * their uid, gid and mode (secrets default 0444 like compose; never printed, never in a label).
 */
export async function projectFiles(config: SystemConfig, cfg: Pick<ContainerConfig, 'secrets' | 'configs'>): Promise<Buffer | undefined> {
  const refs: { kind: 'secret' | 'config'; ref: FileRef }[] = [...(cfg.secrets ?? []).map((ref) => ({ kind: 'secret' as const, ref })), ...(cfg.configs ?? []).map((ref) => ({ kind: 'config' as const, ref }))];
  if (refs.length === 0) return undefined;
  return packTar(
    refs.map(({ kind, ref }) => ({
      name: ref.target.replace(/^\/+/, ''),
      mode: ref.mode ?? 0o444,
      uid: ref.uid !== undefined ? Number(ref.uid) : 0,
      gid: ref.gid !== undefined ? Number(ref.gid) : 0,
      data: fileObjectData(kind, ref.source, (kind === 'secret' ? config.secrets : config.configs)?.[ref.source]),
    })),
  );
}

/**
 * The configuration with each service's fileDigests set from the current content of the secrets
 * and configs it mounts (one engine: they are copied into the container when it is created, so
 * new content needs a new container). A source that cannot be read gets no digest here: applying
 * reports it. Anyone who can read the container's labels can read the mounted file itself, so a
 * digest in a label tells them nothing more.
 */
export function withFileDigests(config: SystemConfig): SystemConfig {
  const cache = new Map<string, string | undefined>();
  const digest = (kind: 'secret' | 'config', key: string): string | undefined => {
    const id = `${kind}:${key}`;
    if (!cache.has(id)) {
      try {
        const data = fileObjectData(kind, key, (kind === 'secret' ? config.secrets : config.configs)?.[key]);
        cache.set(id, createHash('sha256').update(data).digest('hex'));
      } catch {
        cache.set(id, undefined);
      }
    }
    return cache.get(id);
  };
  let changed = false;
  const services = config.services.map((s) => {
    const refs = [...(s.secrets ?? []).map((r) => ['secret', r.source] as const), ...(s.configs ?? []).map((r) => ['config', r.source] as const)];
    if (refs.length === 0 && s.fileDigests === undefined) return s;
    const digests: Record<string, string> = {};
    for (const [kind, key] of refs) {
      const d = digest(kind, key);
      if (d !== undefined) digests[`${kind}:${key}`] = d;
    }
    changed = true;
    const { fileDigests: _old, ...rest } = s;
    return Object.keys(digests).length ? { ...rest, fileDigests: digests } : rest;
  });
  return changed ? { ...config, services } : config;
}
