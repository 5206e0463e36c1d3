import type { ErrorSummary } from '../common/errors.js';
import type { ApplyResult, DeployEvent, DeployPlan, Revision } from '../deploy/index.js';

/** Deploy jobs of the daemon as the API shows them: their states, and the JSON views of jobs and stored revisions. */

export type JobStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'rolled-back' | 'cancelled' | 'rejected';
export const FINISHED: readonly JobStatus[] = ['succeeded', 'failed', 'rolled-back', 'cancelled', 'rejected'];

export interface TagChange {
  service: string;
  tag: string;
  /** Image before and after the compose file was rewritten. */
  from?: string | undefined;
  to?: string | undefined;
  file?: string | undefined;
  /** The deploy failed and the file got its previous tag back. */
  restored?: boolean | undefined;
}

export interface DeployJob {
  id: string;
  kind: 'hook' | 'apply' | 'rollback';
  project: string;
  /** webhook, api, rollback: what the revision records. */
  trigger: string;
  /** Who asked: kiboko, dockerhub, registry, github (hooks) or api. */
  source: string;
  status: JobStatus;
  /** Position in the order jobs were accepted (1, 2, 3…), across projects. */
  seq: number;
  createdAt: string;
  startedAt?: string | undefined;
  finishedAt?: string | undefined;
  changes: TagChange[];
  rollbackTo?: number | undefined;
  revision?: number | undefined;
  plan?: { changes: boolean; steps: { service: string; action: string; causes: string[] }[] } | undefined;
  result?: ApplyResult | undefined;
  error?: ErrorSummary | undefined;
  events: DeployEvent[];
}

export const planSummary = (p: DeployPlan) => ({ changes: p.changes, steps: p.steps.map((s) => ({ service: s.service, action: s.action, causes: s.causes })) });

/** The JSON shape of a job (`GET /v1/deploys/ID`, hook and apply responses). */
export function jobView(job: DeployJob, withEvents = true) {
  const first = job.changes[0];
  return {
    id: job.id,
    kind: job.kind,
    project: job.project,
    ...(first ? { service: first.service, tag: first.tag } : {}),
    status: job.status,
    seq: job.seq,
    trigger: job.trigger,
    source: job.source,
    createdAt: job.createdAt,
    startedAt: job.startedAt,
    finishedAt: job.finishedAt,
    changes: job.changes,
    ...(job.rollbackTo !== undefined ? { rollbackTo: job.rollbackTo } : {}),
    revision: job.revision,
    plan: job.plan,
    result: job.result,
    error: job.error,
    ...(withEvents ? { events: job.events } : { eventCount: job.events.length }),
    links: { self: `/v1/deploys/${job.id}`, ...(job.revision !== undefined ? { revision: `/v1/deploys/${encodeURIComponent(`${job.project}@${job.revision}`)}` } : {}) },
  };
}

/** The JSON shape of a stored revision (`GET /v1/deploys`, `GET /v1/deploys/PROJECT@REV`). */
export function revisionView(r: Revision, job?: string) {
  return {
    id: `${r.project}@${r.rev}`,
    project: r.project,
    revision: r.rev,
    createdAt: r.createdAt,
    finishedAt: r.finishedAt,
    trigger: r.trigger,
    source: r.source,
    outcome: r.outcome,
    rollbackOf: r.rollbackOf,
    images: Object.fromEntries(r.config.services.map((s) => [s.name, s.image])),
    plan: planSummary(r.plan),
    result: r.result,
    ...(job ? { job } : {}),
    links: { self: `/v1/deploys/${encodeURIComponent(`${r.project}@${r.rev}`)}`, ...(job ? { job: `/v1/deploys/${job}` } : {}) },
  };
}

export function statusOf(result: ApplyResult): JobStatus {
  if (result.outcome === 'ok') return 'succeeded';
  if (result.outcome === 'cancelled') return 'cancelled';
  return result.services.some((s) => s.outcome === 'rolled-back') ? 'rolled-back' : 'failed';
}
