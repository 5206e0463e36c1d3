import { LABELS } from '../common/labels.js';
import type { ContainerSpec } from '../engine/index.js';
import { canonicalJson, configHash, type ContainerConfig } from './hash.js';
import type { VolumeMount } from './model.js';

export const defaultNetwork = (project: string): string => `${project}_default`;
export const projectNetwork = (project: string, name: string): string => `${project}_${name}`;
export const projectVolume = (project: string, name: string): string => `${project}_${name}`;

/** A service's volumes as engine binds (`source:/target[:ro]`) and anonymous volume paths; `named` maps a named volume to its engine name. */
export function volumeMounts(volumes: readonly VolumeMount[], named: (name: string) => string): { binds: string[]; anonymous: string[] } {
  const binds: string[] = [];
  const anonymous: string[] = [];
  for (const v of volumes) {
    if (v.type === 'anonymous' || !v.source) anonymous.push(v.target);
    else binds.push(`${v.type === 'volume' ? named(v.source) : v.source}:${v.target}${v.readOnly ? ':ro' : ''}`);
  }
  return { binds, anonymous };
}

export function replicaName(project: string, service: string, slot: number, hash: string): string {
  return `${project}-${service}-${slot}-${hash.slice(0, 8)}`;
}

/** The engine spec of one replica: the service's container config plus kiboko's labels. */
/** `publish: false` when a front proxy holds the service's host ports: the replica only exposes them. */
export function replicaSpec(project: string, service: string, slot: number, cfg: ContainerConfig, revision: number, publish = true): ContainerSpec & { name: string } {
  const hash = configHash(cfg);
  const { binds, anonymous } = volumeMounts(cfg.volumes, (named) => projectVolume(project, named));
  return {
    name: replicaName(project, service, slot, hash),
    image: cfg.image,
    cmd: cfg.command,
    entrypoint: cfg.entrypoint,
    env: Object.entries(cfg.environment).map(([k, v]) => `${k}=${v}`),
    labels: {
      ...cfg.labels,
      [LABELS.managed]: 'true',
      [LABELS.deployProject]: project,
      [LABELS.deployService]: service,
      [LABELS.deploySlot]: String(slot),
      [LABELS.deployHash]: hash,
      [LABELS.deployConfig]: canonicalJson(cfg),
      [LABELS.deployRevision]: String(revision),
    },
    ports: publish ? cfg.ports : [],
    binds,
    volumes: anonymous,
    networks: [
      { name: defaultNetwork(project), aliases: [service] },
      ...cfg.networks.filter((n) => n !== 'default').map((n) => ({ name: projectNetwork(project, n), aliases: [service] })),
    ],
    healthcheck: cfg.healthcheck,
    // deploy.restart_policy wins over restart:, mapped to the engine's policy as compose does.
    restartPolicy: cfg.restartPolicy
      ? { name: cfg.restartPolicy.condition === 'none' ? 'no' : cfg.restartPolicy.condition === 'any' ? 'always' : 'on-failure', maximumRetryCount: cfg.restartPolicy.condition === 'on-failure' ? (cfg.restartPolicy.maxAttempts ?? 0) : 0 }
      : { name: cfg.restart },
    user: cfg.user,
    workingDir: cfg.workingDir,
    stopSignal: cfg.stopSignal,
    stopTimeout: cfg.stopGracePeriodMs === undefined ? undefined : Math.ceil(cfg.stopGracePeriodMs / 1000),
  } as ContainerSpec & { name: string };
}
