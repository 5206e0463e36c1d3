import type { Clock } from '../common/clock.js';
import type { ContainerRef, Engine } from '../engine/index.js';
import type { Journal } from '../journal/index.js';
import type { LossMode, PacketFilter } from './net/iptables.js';
import type { NetemEffects } from './net/tc.js';
import type { ProxyFaultSpec } from './proxy/spec.js';

/** Where network faults are applied from: a helper container image, or (root, local engine) nsenter. */
export interface NetExecOptions {
  /** Helper image with tc/iptables/nft; when set, faults always go through a helper container. */
  helperImage?: string | undefined;
  /** Pull the helper image before use (Pumba's --pull-image). */
  pullImage?: boolean | undefined;
}

/** Traffic selection shared by netem and rate: peer IPs/CIDRs or container names, and ports. */
export interface TrafficScope {
  targets: readonly string[];
  egressPorts: readonly number[];
  ingressPorts: readonly number[];
}

/** Which traffic a partition cuts: `to` the peers (the target cannot open connections to them), `from` them, or both. */
export type PartitionDirection = 'to' | 'from' | 'both';

/** One lifecycle fault, with every parameter resolved (durations in ms, signals canonical). */
export type LifecycleAction =
  | { kind: 'kill'; signal: string }
  | { kind: 'stop'; timeSeconds: number; restart?: { durationMs: number } | undefined }
  | { kind: 'pause'; durationMs: number }
  | { kind: 'rm'; force: boolean; links: boolean; volumes: boolean }
  | { kind: 'restart'; timeoutSeconds: number }
  | { kind: 'exec'; command: readonly string[]; user?: string | undefined }
  | ({ kind: 'netem'; durationMs: number; iface: string; effects: NetemEffects; scope: TrafficScope } & NetExecOptions)
  | ({ kind: 'rate'; durationMs: number; iface: string; rate: string; scope: TrafficScope } & NetExecOptions)
  | ({ kind: 'iptables'; durationMs: number; loss: LossMode } & PacketFilter & NetExecOptions)
  | ({ kind: 'partition'; durationMs: number; peers: readonly string[]; direction?: PartitionDirection | undefined } & NetExecOptions)
  | ({ kind: 'proxy'; durationMs: number } & ProxyFaultSpec & NetExecOptions)
  | { kind: 'stress'; durationMs: number; stressors: readonly string[]; image?: string | undefined; pullImage?: boolean | undefined };

export type ActionKind = LifecycleAction['kind'];
export type NetAction = Extract<LifecycleAction, { kind: 'netem' | 'rate' | 'iptables' | 'partition' }>;
export const isNetAction = (a: LifecycleAction): a is NetAction => a.kind === 'netem' || a.kind === 'rate' || a.kind === 'iptables' || a.kind === 'partition';

export type Outcome =
  /** Done as asked (and restored, for temporary faults). */
  | 'ok'
  /** The engine or the command refused; see `error`. */
  | 'failed'
  /** The container disappeared before or while kiboko acted on it. */
  | 'target-gone'
  /** Not done: --dry-run. */
  | 'dry-run'
  /** Not started because the run was cancelled (Ctrl-C / SIGTERM). */
  | 'cancelled';

export interface ActionResult {
  target: ContainerRef;
  action: ActionKind;
  outcome: Outcome;
  startedAt: string;
  endedAt: string;
  error?: { code: string; message: string } | undefined;
  /** Exec: exit code and output; stop: the signal used; temporary faults: how the restore went. */
  detail?: Record<string, unknown> | undefined;
}

export interface RestoreResult {
  target: ContainerRef;
  kind: string;
  outcome: 'restored' | 'already-restored' | 'target-gone' | 'target-replaced' | 'failed' | 'dry-run';
  error?: string | undefined;
  by: 'owner' | 'recovery';
}

/** The typed events a chaos run emits; the CLI renders them for humans or as NDJSON. */
export type ChaosEvent =
  | { type: 'run-started'; at: string; runId: string; seed: number; action: LifecycleAction; dryRun: boolean; intervalMs: number }
  | { type: 'recovery'; at: string; results: RestoreResult[]; dryRun: boolean }
  | { type: 'cycle-started'; at: string; cycle: number }
  | {
      type: 'targets-selected';
      at: string;
      cycle: number;
      seed: number;
      targets: ContainerRef[];
      skipped: { target: ContainerRef; reason: string }[];
      unmatched: string[];
    }
  | { type: 'no-targets'; at: string; cycle: number; unmatched: string[] }
  | { type: 'action-started'; at: string; cycle: number; target: ContainerRef; action: ActionKind; dryRun: boolean }
  | { type: 'fault-held'; at: string; cycle: number; target: ContainerRef; action: ActionKind; untilMs: number }
  | { type: 'action-finished'; at: string; cycle: number; result: ActionResult }
  | { type: 'cycle-finished'; at: string; cycle: number; ok: number; failed: number; gone: number }
  | { type: 'waiting'; at: string; cycle: number; untilMs: number }
  | { type: 'warning'; at: string; message: string; hint?: string | undefined }
  | { type: 'run-finished'; at: string; runId: string; cycles: number; ok: number; failed: number; interrupted: boolean };

export type ChaosEventListener = (event: ChaosEvent) => void;

export interface ApplyContext {
  engine: Engine;
  journal: Journal;
  clock: Clock;
  runId: string;
  cycle: number;
  /** Cancels waits (a held pause ends early and is restored at once); restores still run. */
  signal: AbortSignal;
  emit: (event: ChaosEvent) => void;
}
