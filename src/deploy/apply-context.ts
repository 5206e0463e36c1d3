import type { Clock } from '../common/clock.js';
import type { Engine } from '../engine/index.js';
import type { SystemConfig } from './model.js';

/** The shapes of a deploy's apply: its progress events, its results, what it needs and what its steps share. */

export type ServiceOutcome = 'ok' | 'unchanged' | 'rolled-back' | 'paused' | 'failed' | 'cancelled';

/** Typed progress events; the CLI renders them for humans or as NDJSON. */
export type DeployEvent =
  | { type: 'service-started'; at: string; service: string; action: string; causes: string[] }
  | { type: 'replica-started'; at: string; service: string; slot: number; id: string; name: string; image: string }
  | { type: 'replica-ready'; at: string; service: string; slot: number; id: string; ms: number; health: string }
  /**
   * A replica being waited for changed: its state, its health, or a new healthcheck run (emitted
   * on changes only; a renderer ticks the time waited itself from `since`).
   */
  | {
      type: 'replica-waiting';
      at: string;
      service: string;
      slot: number;
      id: string;
      /** When the wait began (ISO), so the time waited can be shown between events. */
      since: string;
      status: string;
      health: string;
      /** Healthcheck runs seen during this wait. */
      attempts: number;
      failingStreak: number;
      /** The last healthcheck run: exit code and output (trimmed to one line). */
      lastCheck?: { exitCode: number; output: string } | undefined;
      /** Ready (healthy, or running) since then (ISO): it must stay so for `monitorMs` to count. */
      readySince?: string | undefined;
      monitorMs: number;
    }
  | { type: 'replica-failed'; at: string; service: string; slot: number; id: string; reason: string }
  /** A replica is being stopped (it gets `graceSeconds` to exit), before `replica-removed`. */
  | { type: 'replica-stopping'; at: string; service: string; slot: number; id: string; graceSeconds: number }
  | { type: 'replica-removed'; at: string; service: string; slot: number; id: string }
  /** `updated` counts replicas that were replaced and ready; `failed` those that were not. */
  | { type: 'batch-done'; at: string; service: string; updated: number; failed: number; total: number }
  | { type: 'rollback-started'; at: string; service: string; reason: string }
  | { type: 'service-finished'; at: string; service: string; outcome: ServiceOutcome; detail?: string | undefined }
  | { type: 'warning'; at: string; message: string };

export interface ServiceResult {
  service: string;
  outcome: ServiceOutcome;
  error?: string | undefined;
  /** What the service runs at the end, for the revision record. */
  image?: string | undefined;
}

export interface ApplyResult {
  outcome: 'ok' | 'failed' | 'cancelled';
  services: ServiceResult[];
}

export interface ApplyDeps {
  engine: Engine;
  clock?: Clock;
  /** Ctrl-C / SIGTERM: the current batch finishes, the service in progress is rolled back to one version. */
  signal?: AbortSignal;
  onEvent?: (e: DeployEvent) => void;
  /** Upper bound for a replica to become healthy (default: derived from its healthcheck, ≥ 60 s). */
  healthTimeoutMs?: number;
  /** Independent services applied at once (default 8). */
  concurrency?: number;
  pollMs?: number;
  /** Called around each replica started (e.g. to keep dependents' configs in step; see src/events/deps). */
  hooks?: ReplicaHooks | undefined;
}

/** Replica lifecycle hooks; a failing hook is a warning, never a failed deploy. */
export interface ReplicaHooks {
  /** The replica was started (before it is health-gated). */
  started?(service: string, slot: number, id: string): Promise<void>;
  /** The replica is ready; `replaces` (if any) is removed right after this resolves. */
  ready?(service: string, slot: number, id: string, replaces: string | undefined): Promise<void>;
}

/** What every step of one apply shares. */
export interface ApplyCtx extends Required<Pick<ApplyDeps, 'engine' | 'clock'>> {
  project: string;
  config: SystemConfig;
  revision: number;
  signal: AbortSignal;
  emit: (e: DeployEvent) => void;
  healthTimeoutMs?: number | undefined;
  pollMs: number;
  /** One-shot services: a dependent waits for them with service_completed_successfully. */
  jobs: ReadonlySet<string>;
  hooks?: ReplicaHooks | undefined;
}

/** Now, on the deploy's clock, as an event's `at`. */
export const iso = (ctx: ApplyCtx) => new Date(ctx.clock.now()).toISOString();
