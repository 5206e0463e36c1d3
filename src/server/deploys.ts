import { randomBytes } from 'node:crypto';
import type { Clock } from '../common/clock.js';
import { asKibokoError, errorSummary, invalidArgument, KibokoError } from '../common/errors.js';
import { LABELS } from '../common/labels.js';
import {
  checkTagPolicy,
  deployProject,
  formatTagPolicy,
  loadConfiguration,
  parseImageRef,
  planProject,
  requiredTests,
  resolveConfiguration,
  rollbackProject,
  type DeployEvent,
  type DeployRun,
  type DeployStore,
  type SystemConfig,
} from '../deploy/index.js';
import type { Engine } from '../engine/index.js';
import type { EventBus } from './bus.js';
import { restoreTags, writeHookTags } from './compose-tags.js';
import { FINISHED, jobView, planSummary, revisionView, statusOf, type DeployJob, type JobStatus, type TagChange } from './deploy-jobs.js';
import { HttpError } from './errors.js';
import { admitHook, type HookAdmission } from './hook-admission.js';
import { ProjectQueues } from './project-queues.js';
import type { ProjectDef } from './projects.js';
import type { PushNotice } from './webhook.js';

export { FINISHED, jobView, revisionView, type DeployJob, type JobStatus, type TagChange } from './deploy-jobs.js';

const MAX_EVENTS = 1000;

export interface DeployServiceOptions {
  engine: Engine;
  store: DeployStore;
  projects: readonly ProjectDef[];
  bus?: EventBus | undefined;
  clock?: Clock | undefined;
  healthTimeoutMs?: number | undefined;
  /** Jobs kept in memory for GET /v1/deploys/ID (oldest finished ones are dropped). */
  keepJobs?: number | undefined;
  /** Jobs waiting to run, all projects together (default 100); past it new jobs are refused with 503. */
  maxQueued?: number | undefined;
}

/**
 * Deploys for the daemon: the projects it knows, deploy jobs (hooks, applies, rollbacks) run
 * through the deploy library one at a time per project, in the order they were accepted — a
 * burst of hooks is queued, none lost — and the history from the deploy store.
 */
export class DeployService {
  private readonly defs: Map<string, ProjectDef>;
  private readonly jobs = new Map<string, DeployJob>();
  private readonly byRevision = new Map<string, string>();
  private readonly queues = new ProjectQueues();
  /** Tags accepted but not yet deployed, per `project/service`: the next hook is checked against these. */
  private readonly pending = new Map<string, string>();
  private intake: Promise<unknown> = Promise.resolve();
  private readonly stop = new AbortController();
  private seq = 0;
  private closing = false;

  constructor(private readonly o: DeployServiceOptions) {
    this.defs = new Map(o.projects.map((p) => [p.name, p]));
  }

  private def(name: string): ProjectDef {
    const d = this.defs.get(name);
    if (!d) throw new KibokoError('TARGET_NOT_FOUND', `no project ${JSON.stringify(name.slice(0, 80))} is configured`, { hint: `known projects: ${[...this.defs.keys()].join(', ') || 'none'} (kiboko serve --project NAME=PATH)` });
    return d;
  }

  /** The project's configuration as written (tags not resolved), with the daemon's tag-policy overrides. */
  async load(def: ProjectDef): Promise<SystemConfig> {
    const config = await loadConfiguration(def.paths, { projectName: def.name });
    if (config.project !== def.name) {
      throw invalidArgument(`project ${def.name}: its configuration names the project ${config.project}`, `register it as --project ${config.project}=…, or drop name: from the compose file`);
    }
    return { ...config, services: config.services.map((s) => (def.tagPolicies[s.name] ? { ...s, tagPolicy: def.tagPolicies[s.name]! } : s)) };
  }

  async projects() {
    const out = [];
    for (const def of this.defs.values()) {
      const base = { name: def.name, paths: def.paths, engine: def.engine };
      try {
        const c = await this.load(def);
        // Replicas running now (single-host engine; Swarm services are not counted here).
        const running = new Map<string, number>();
        // Every container of the service by engine status (running, paused, exited…), for the dashboard.
        const statuses = new Map<string, Record<string, number>>();
        for (const ctr of await this.o.engine.list({ all: true, labels: [`${LABELS.deployProject}=${def.name}`] }).catch(() => [])) {
          const svc = ctr.labels[LABELS.deployService];
          if (svc && ctr.status === 'running') running.set(svc, (running.get(svc) ?? 0) + 1);
          if (svc) statuses.set(svc, { ...statuses.get(svc), [ctr.status]: (statuses.get(svc)?.[ctr.status] ?? 0) + 1 });
        }
        out.push({ ...base, services: c.services.map((s) => ({ name: s.name, image: s.image, replicas: s.replicas, running: running.get(s.name) ?? 0, containers: statuses.get(s.name) ?? {}, tagPolicy: formatTagPolicy(s.tagPolicy) })) });
      } catch (err) {
        const e = asKibokoError(err);
        out.push({ ...base, services: [], error: errorSummary(e) });
      }
    }
    return out;
  }

  async plan(project: string) {
    const def = this.def(project);
    const { config, notes } = await resolveConfiguration(this.o.engine, await this.load(def));
    const plan = await planProject(this.o.engine, config, def.engine);
    return { project, plan, notes };
  }

  private assertOpen() {
    if (this.closing) throw new KibokoError('CANCELLED', 'the daemon is shutting down', { hint: 'send the request again once it is back' });
  }

  private newJob(kind: DeployJob['kind'], project: string, trigger: string, source: string, changes: TagChange[] = []): DeployJob {
    const job: DeployJob = {
      id: `dj_${randomBytes(8).toString('hex')}`,
      kind,
      project,
      trigger,
      source,
      status: 'queued',
      seq: ++this.seq,
      createdAt: new Date().toISOString(),
      changes,
      events: [],
    };
    this.jobs.set(job.id, job);
    this.evict();
    return job;
  }

  /** Refuses work when `n` more jobs would pass the bound on waiting jobs. */
  private assertRoom(n = 1) {
    const max = this.o.maxQueued ?? 100;
    let queued = 0;
    for (const j of this.jobs.values()) if (j.status === 'queued') queued++;
    if (queued + n > max) throw new HttpError(503, 'QUEUE_FULL', `${queued} deploy jobs are waiting (at most ${max})`, 'retry when they have run (GET /v1/deploys)', { 'retry-after': '30' });
  }

  private evict() {
    const keep = this.o.keepJobs ?? 1000;
    if (this.jobs.size <= keep) return;
    for (const [id, j] of this.jobs) {
      if (this.jobs.size <= keep) break;
      if (FINISHED.includes(j.status)) this.jobs.delete(id);
    }
  }

  private publish(type: string, job: DeployJob, extra: Record<string, unknown> = {}) {
    this.o.bus?.publish(type, { job: job.id, project: job.project, kind: job.kind, status: job.status, revision: job.revision, ...extra });
  }

  /**
   * Runs `fn` in the project's queue: after its queued jobs, and before later ones (the watch
   * pass's registry-triggered deploys, so they never race an API or hook deploy of the project).
   */
  exclusive<T>(project: string, fn: () => Promise<T>): Promise<T> {
    return this.queues.run(project, fn);
  }

  /** Queues a job behind the project's earlier ones; resolves at once (the job runs later). */
  private enqueue(job: DeployJob, run: (job: DeployJob, signal: AbortSignal) => Promise<void>) {
    void this.queues.run(job.project, () => this.execute(job, run));
    this.publish('deploy.job.queued', job, { changes: job.changes });
  }

  private async execute(job: DeployJob, run: (job: DeployJob, signal: AbortSignal) => Promise<void>): Promise<void> {
    if (this.stop.signal.aborted) {
      this.finish(job, 'cancelled', { code: 'CANCELLED', message: 'not started: the daemon shut down' });
      return;
    }
    job.status = 'running';
    job.startedAt = new Date().toISOString();
    this.publish('deploy.job.started', job);
    try {
      await run(job, this.stop.signal);
    } catch (err) {
      const e = asKibokoError(err);
      this.finish(job, job.status === 'running' ? 'failed' : job.status, errorSummary(e));
    }
    for (const c of job.changes) {
      const key = `${job.project}/${c.service}`;
      if (this.pending.get(key) === c.tag) this.pending.delete(key);
    }
  }

  private finish(job: DeployJob, status: JobStatus, error?: DeployJob['error']) {
    job.status = status;
    if (error) job.error = error;
    job.finishedAt = new Date().toISOString();
    this.publish('deploy.job.finished', job, { ...(error ? { error } : {}), changes: job.changes });
  }

  /** The store as the library sees it, reporting the revision number as soon as it is written. */
  private tracking(job: DeployJob): DeployStore {
    const store = this.o.store;
    const self = this;
    return Object.create(store, {
      begin: {
        value(entry: Parameters<DeployStore['begin']>[0]) {
          const rev = store.begin(entry);
          job.revision = rev;
          self.byRevision.set(`${job.project}@${rev}`, job.id);
          self.publish('deploy.revision', job);
          return rev;
        },
      },
    }) as DeployStore;
  }

  private onEvent(job: DeployJob) {
    return (e: DeployEvent) => {
      if (job.events.length < MAX_EVENTS) job.events.push(e);
      this.publish('deploy.progress', job, { event: e });
    };
  }

  private done(job: DeployJob, run: DeployRun) {
    job.revision = run.revision;
    job.plan = planSummary(run.plan);
    job.result = run.result;
    const failed = run.result.services.find((s) => s.error);
    this.finish(job, statusOf(run.result), run.result.outcome === 'ok' ? undefined : { code: 'ACTION_FAILED', message: failed ? `${failed.service}: ${failed.error}` : `deploy ${run.result.outcome}` });
  }

  private async apply(job: DeployJob, def: ProjectDef, signal: AbortSignal): Promise<DeployRun> {
    const { config } = await resolveConfiguration(this.o.engine, await this.load(def));
    const options = {
      trigger: job.trigger,
      source: def.paths.join(','),
      signal,
      onEvent: this.onEvent(job),
      engineMode: def.engine,
      ...(this.o.clock ? { clock: this.o.clock } : {}),
      ...(this.o.healthTimeoutMs ? { healthTimeoutMs: this.o.healthTimeoutMs } : {}),
    };
    // The post-deploy gate of the configuration (x-kiboko.post_deploy_tests), as the CLI runs it.
    const tests = requiredTests(config);
    if (!tests) return deployProject(this.o.engine, this.tracking(job), config, options);
    const { deployWithTests } = await import('../packages/index.js');
    const gated = await deployWithTests(this.o.engine, this.tracking(job), config, options, {
      type: tests.type,
      ...(tests.timeoutMs !== undefined ? { timeoutMs: tests.timeoutMs } : {}),
    });
    if (gated.outcome === 'ok' || gated.run.result.outcome !== 'ok') return gated.run;
    // Deployed, but the tests failed (and the deploy was rolled back when it could be).
    const why = gated.detail ?? `post-deploy ${tests.type} tests did not pass`;
    return {
      ...gated.run,
      result: {
        outcome: 'failed',
        services: [...gated.run.result.services, { service: 'post-deploy tests', outcome: gated.rollback ? 'rolled-back' : 'failed', error: why }],
      },
    };
  }

  /** `POST /v1/deploys`: apply the project's configuration as it is now. */
  startApply(project: string): DeployJob {
    this.assertOpen();
    const def = this.def(project);
    this.assertRoom();
    const job = this.newJob('apply', project, 'api', 'api');
    this.enqueue(job, async (j, signal) => this.done(j, await this.apply(j, def, signal)));
    return job;
  }

  /** `POST /v1/deploys/rollback`: redeploy revision `to` (default: the previous good one). */
  startRollback(project: string, to?: number): DeployJob {
    this.assertOpen();
    const def = this.def(project);
    if (to !== undefined && !this.o.store.get(project, to)) throw new KibokoError('TARGET_NOT_FOUND', `project ${project} has no revision ${to}`, { hint: `see GET /v1/deploys?project=${project}` });
    if (this.o.store.list(project, 1).length === 0) throw new KibokoError('TARGET_NOT_FOUND', `no deploy history for project ${project}`, { hint: 'deploy it first' });
    this.assertRoom();
    const job = this.newJob('rollback', project, 'rollback', 'api');
    job.rollbackTo = to;
    this.enqueue(job, async (j, signal) => {
      const run = await rollbackProject(this.o.engine, this.tracking(j), project, {
        to,
        signal,
        onEvent: this.onEvent(j),
        engineMode: def.engine,
        ...(this.o.healthTimeoutMs ? { healthTimeoutMs: this.o.healthTimeoutMs } : {}),
      });
      j.rollbackTo = run.target;
      this.done(j, run);
    });
    return job;
  }

  /**
   * `POST /hooks/deploy`: maps the notices to services, checks each tag against the service's
   * policy (against the tag an earlier queued hook will set, if any), and queues one job per
   * project. Hooks are admitted one at a time, so jobs queue in the order requests arrived.
   * Nothing is queued when any notice is refused.
   */
  hook(notices: readonly PushNotice[], source: string): Promise<{ jobs: DeployJob[]; unmatched: string[] }> {
    const admitted = this.intake.then(() => this.admit(notices, source));
    this.intake = admitted.catch(() => undefined);
    return admitted;
  }

  private async admit(notices: readonly PushNotice[], source: string): Promise<{ jobs: DeployJob[]; unmatched: string[] }> {
    this.assertOpen();
    const { jobs, unmatched } = await admitHook({ defs: this.defs, def: (name) => this.def(name), load: (def) => this.load(def), pending: this.pending }, notices);
    return { jobs: this.queueHookJobs(jobs, source), unmatched };
  }

  /**
   * Hooks for a project whose earlier hook job has not started yet join that job (the newest tag
   * per service wins), so a burst of hooks — or replays under new ids — queues one deploy, not one each.
   */
  private queueHookJobs(jobs: HookAdmission['jobs'], source: string): DeployJob[] {
    const waiting = (project: string) => [...this.jobs.values()].find((j) => j.project === project && j.kind === 'hook' && j.status === 'queued');
    const fresh = jobs.filter(({ project }) => !waiting(project)).length;
    this.assertRoom(fresh);
    return jobs.map(({ project, changes }) => {
      const def = this.def(project);
      const joined = waiting(project);
      if (joined) {
        for (const ch of changes) {
          const i = joined.changes.findIndex((c) => c.service === ch.service);
          if (i >= 0) joined.changes[i] = ch;
          else joined.changes.push(ch);
          this.pending.set(`${project}/${ch.service}`, ch.tag);
        }
        this.publish('deploy.job.coalesced', joined, { changes: joined.changes });
        return joined;
      }
      const job = this.newJob('hook', project, 'webhook', source, changes);
      for (const ch of changes) this.pending.set(`${project}/${ch.service}`, ch.tag);
      this.enqueue(job, (j, signal) => this.runHook(j, def, signal));
      return job;
    });
  }

  private async runHook(job: DeployJob, def: ProjectDef, signal: AbortSignal): Promise<void> {
    const config = await this.load(def);
    // Checked again: an earlier job may have failed, or the file changed since the hook was accepted.
    for (const ch of job.changes) {
      const spec = config.services.find((s) => s.name === ch.service);
      if (!spec) throw new KibokoError('TARGET_NOT_FOUND', `service ${ch.service} is no longer in project ${def.name}`);
      const verdict = checkTagPolicy(spec.tagPolicy, parseImageRef(spec.image).tag, ch.tag);
      if (!verdict.ok) {
        job.status = 'rejected';
        throw new KibokoError('CONFLICT', `${def.name}/${ch.service}: ${verdict.reason} (tag policy ${formatTagPolicy(spec.tagPolicy)})`, { hint: 'nothing was deployed' });
      }
    }
    const files = config.sources.filter((f) => /\.ya?ml$/i.test(f)).reverse(); // the last file that sets the image wins, as in compose
    try {
      writeHookTags(job, files, def.name);
      const run = await this.apply(job, def, signal);
      if (statusOf(run.result) !== 'succeeded') restoreTags(job);
      this.done(job, run);
    } catch (err) {
      restoreTags(job);
      throw err;
    }
  }

  job(id: string): DeployJob | undefined {
    return this.jobs.get(id);
  }

  /** A job (by id) or a stored revision (`PROJECT@REV`). */
  find(id: string) {
    const m = /^([a-z0-9][a-z0-9_-]*)@(\d{1,9})$/.exec(id);
    if (m) {
      const r = this.o.store.get(m[1]!, Number(m[2]));
      if (!r) throw new KibokoError('TARGET_NOT_FOUND', `project ${m[1]} has no revision ${m[2]}`, { hint: 'see GET /v1/deploys' });
      const jobId = this.byRevision.get(id);
      const job = jobId ? this.jobs.get(jobId) : undefined;
      return { ...revisionView(r, jobId), ...(job ? { status: job.status, events: job.events } : {}) };
    }
    const job = this.jobs.get(id);
    if (!job) throw new KibokoError('TARGET_NOT_FOUND', `no deploy ${JSON.stringify(id.slice(0, 80))}`, { hint: 'ids are dj_… (jobs of this daemon run) or PROJECT@REVISION' });
    const r = job.revision !== undefined ? this.o.store.get(job.project, job.revision) : undefined;
    return { ...jobView(job), ...(r ? { outcome: r.outcome, images: Object.fromEntries(r.config.services.map((s) => [s.name, s.image])) } : {}) };
  }

  /** History from the store (newest first) and the jobs of this daemon run still queued or running. */
  history(options: { project?: string | undefined; limit: number }) {
    if (options.project !== undefined && !this.defs.has(options.project) && !this.o.store.projects().includes(options.project)) this.def(options.project);
    const projects = options.project ? [options.project] : [...new Set([...this.defs.keys(), ...this.o.store.projects()])];
    const revisions = projects
      .flatMap((p) => this.o.store.list(p, options.limit))
      .sort((a, b) => b.createdAt.localeCompare(a.createdAt) || b.rev - a.rev)
      .slice(0, options.limit);
    const active = [...this.jobs.values()].filter((j) => !FINISHED.includes(j.status) && (!options.project || j.project === options.project));
    return {
      deploys: revisions.map((r) => revisionView(r, this.byRevision.get(`${r.project}@${r.rev}`))),
      jobs: active.map((j) => jobView(j, false)),
    };
  }

  /** Counts by status, for /metrics. */
  counts(): Record<JobStatus, number> {
    const out = { queued: 0, running: 0, succeeded: 0, failed: 0, 'rolled-back': 0, cancelled: 0, rejected: 0 } as Record<JobStatus, number>;
    for (const j of this.jobs.values()) out[j.status]++;
    return out;
  }

  /** Waits for every queued job (tests, shutdown). */
  async idle(): Promise<void> {
    await this.queues.idle();
  }

  /** SIGTERM: no new jobs; the running one finishes its batch and rolls back to one version; queued ones are cancelled. */
  async close(timeoutMs = 120_000): Promise<void> {
    this.closing = true;
    this.stop.abort();
    await Promise.race([this.idle(), new Promise((r) => setTimeout(r, timeoutMs).unref())]);
  }
}
