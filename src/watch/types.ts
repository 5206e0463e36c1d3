import type { ErrorSummary } from '../common/errors.js';
import type { RegistryStats } from '../registry/index.js';

export type ItemStatus = 'up-to-date' | 'newer' | 'updated' | 'rolled-back' | 'failed' | 'skipped';

/** One watched thing and what the pass found and did. */
export interface WatchItem {
  kind: 'service' | 'container';
  /** `project/service` or the container's name. */
  name: string;
  /** What it runs now (as written / as the container was created). */
  image: string;
  status: ItemStatus;
  /** The newer image found (`repo:100-develop`, or `repo@sha256:…` for a new digest of the same tag). */
  newImage?: string | undefined;
  /** `tag` (a newer tag under the policy) or `digest` (the same tag moved). */
  change?: 'tag' | 'digest' | undefined;
  digest?: string | undefined;
  /** Why skipped / failed / rolled back. */
  reason?: string | undefined;
  error?: ErrorSummary | undefined;
  /** Deploy revision that applied it (services). */
  revision?: number | undefined;
  monitorOnly?: boolean | undefined;
}

/** The report of one pass: also what notifications and `--json` carry. */
export interface WatchReport {
  startedAt: string;
  finishedAt: string;
  ms: number;
  checked: number;
  newer: number;
  updated: number;
  rolledBack: number;
  failed: number;
  skipped: number;
  items: WatchItem[];
  registry: RegistryStats;
}

/** Typed progress; the CLI renders it for humans or as NDJSON. */
export type WatchEvent =
  | { type: 'pass-started'; at: string; targets: number }
  | { type: 'item'; at: string; item: WatchItem }
  | { type: 'pull-retry'; at: string; image: string; attempt: number; waitMs: number; reason: string }
  | { type: 'pull-progress'; at: string; image: string; line: string }
  | { type: 'warning'; at: string; message: string }
  | { type: 'pass-finished'; at: string; report: WatchReport };

export function summarize(items: WatchItem[], startedAt: number, now: number, registry: RegistryStats): WatchReport {
  const count = (s: WatchItem['status']) => items.filter((i) => i.status === s).length;
  return {
    startedAt: new Date(startedAt).toISOString(),
    finishedAt: new Date(now).toISOString(),
    ms: now - startedAt,
    checked: items.length,
    newer: items.filter((i) => i.newImage !== undefined).length,
    updated: count('updated'),
    rolledBack: count('rolled-back'),
    failed: count('failed'),
    skipped: count('skipped'),
    items,
    registry: { ...registry },
  };
}

/** Which standalone containers a pass watches, by Watchtower's rules (see watchedContainers). */
export interface WatchSelection {
  /** Only these container names (Watchtower's positional arguments). */
  names?: readonly string[] | undefined;
  disableContainers?: readonly string[] | undefined;
  /** Only containers labelled com.centurylinklabs.watchtower.enable=true (or kiboko.watch.enable=true). */
  labelEnable?: boolean | undefined;
  /** Only containers with com.centurylinklabs.watchtower.scope=<scope>. */
  scope?: string | undefined;
  includeStopped?: boolean | undefined;
}

/** How a standalone container is replaced with its newer image. */
export interface ContainerUpdateSettings {
  /** Run Watchtower's lifecycle.pre-update / post-update label commands. */
  lifecycleHooks?: boolean | undefined;
  /** Stop timeout for containers (default 10 s). */
  stopTimeoutMs?: number | undefined;
  /** How long a new container or replica may take to be healthy (default 60 s). */
  healthTimeoutMs?: number | undefined;
  /** A new container without a healthcheck must keep running this long (default 2 s). */
  settleMs?: number | undefined;
  /** Start stopped containers after updating them (default: keep them stopped). */
  reviveStopped?: boolean | undefined;
  /** Remove the old image after a successful container update. */
  cleanup?: boolean | undefined;
}

/** What one pass watches and how it acts. */
export interface WatchOptions extends WatchSelection, ContainerUpdateSettings {
  /** kiboko deploy projects: compose files (or folders), updated through deploys. */
  projects?: readonly { files: readonly string[]; name?: string | undefined; tagPolicies?: Readonly<Record<string, import('../deploy/index.js').TagPolicy>> | undefined }[] | undefined;
  /** Watch standalone containers (everything not deployed by kiboko). Default true. */
  containers?: boolean | undefined;
  /** Report newer images, change nothing. */
  monitorOnly?: boolean | undefined;
  /** Only images built at least this long ago (the registry's config `created`). */
  minAgeMs?: number | undefined;
  /** Only these images (repository names, with or without tag): Watchtower's /v1/update?image=. */
  images?: readonly string[] | undefined;
  /** Registry checks in flight at once (default 8). */
  concurrency?: number | undefined;
}
