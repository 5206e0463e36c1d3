import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { UnitRegistry } from '../units/index.js';
import type { EventBus } from './bus.js';
import { singleFlight } from './once.js';

export interface MetricsSources {
  registry?: UnitRegistry | undefined;
  bus?: EventBus | undefined;
  /** True while the engine answers (the daemon's health check). */
  engineUp?: (() => boolean) | undefined;
  /** Deploy jobs waiting or running, by status. */
  activeJobs?: (() => { queued: number; running: number }) | undefined;
  chaosRunning?: (() => number) | undefined;
  sseClients?: (() => number) | undefined;
  /** How old the unit counts may be (default 5 s): a scrape never lists every unit itself. */
  unitsTtlMs?: number | undefined;
}

/**
 * The daemon's Prometheus metrics (`GET /metrics`), in a registry of its own: HTTP requests by
 * route and status with their duration, units by state, deploy jobs and chaos experiments by
 * outcome, engine up, authentication failures, SSE clients and the process metrics.
 */
export class Metrics {
  readonly register = new Registry();
  private readonly requests: Counter<'method' | 'route' | 'status'>;
  private readonly duration: Histogram<'method' | 'route'>;
  private readonly authFailures: Counter<'reason'>;
  private readonly deployJobs: Counter<'outcome'>;
  private readonly chaosTotal: Counter<'outcome'>;
  private unsubscribe: (() => void) | undefined;
  private readonly render: () => Promise<{ contentType: string; body: string }>;

  constructor(sources: MetricsSources = {}) {
    const register = this.register;
    collectDefaultMetrics({ register, prefix: 'kiboko_' });
    this.requests = new Counter({ name: 'kiboko_http_requests_total', help: 'HTTP requests by method, route and status', labelNames: ['method', 'route', 'status'], registers: [register] });
    this.duration = new Histogram({
      name: 'kiboko_http_request_duration_seconds',
      help: 'HTTP request duration (streams: until the stream ends)',
      labelNames: ['method', 'route'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [register],
    });
    this.authFailures = new Counter({ name: 'kiboko_auth_failures_total', help: 'Requests refused for a missing or wrong token or signature', labelNames: ['reason'], registers: [register] });
    this.deployJobs = new Counter({ name: 'kiboko_deploy_jobs_total', help: 'Deploy jobs finished, by outcome', labelNames: ['outcome'], registers: [register] });
    this.chaosTotal = new Counter({ name: 'kiboko_chaos_experiments_total', help: 'Chaos experiments finished, by outcome', labelNames: ['outcome'], registers: [register] });
    new Gauge({
      name: 'kiboko_deploy_jobs_active',
      help: 'Deploy jobs queued or running',
      labelNames: ['status'],
      registers: [register],
      collect() {
        const a = sources.activeJobs?.() ?? { queued: 0, running: 0 };
        this.set({ status: 'queued' }, a.queued);
        this.set({ status: 'running' }, a.running);
      },
    });
    new Gauge({
      name: 'kiboko_chaos_experiments_running',
      help: 'Chaos experiments running now',
      registers: [register],
      collect() {
        this.set(sources.chaosRunning?.() ?? 0);
      },
    });
    new Gauge({
      name: 'kiboko_engine_up',
      help: '1 when the engine answered the last health check',
      registers: [register],
      collect() {
        this.set(sources.engineUp?.() === false ? 0 : sources.engineUp ? 1 : 0);
      },
    });
    new Gauge({
      name: 'kiboko_sse_clients',
      help: 'Clients connected to GET /v1/events',
      registers: [register],
      collect() {
        this.set(sources.sseClients?.() ?? 0);
      },
    });
    new Gauge({
      name: 'kiboko_events_published_total',
      help: 'Events published on the daemon bus (engine and kiboko events)',
      registers: [register],
      collect() {
        this.set(sources.bus?.lastId ?? 0);
      },
    });
    const unitRegistry = sources.registry;
    // Counted at most once per unitsTtlMs, concurrent scrapes sharing the one count.
    const unitCounts = singleFlight(async () => {
      const counts = new Map<string, number>();
      for (const u of await unitRegistry!.list()) {
        const k = `${u.desiredState}\u0000${u.currentState ?? 'inactive'}`;
        counts.set(k, (counts.get(k) ?? 0) + 1);
      }
      return counts;
    }, sources.unitsTtlMs ?? 5000);
    new Gauge({
      name: 'kiboko_units',
      help: 'Units by desired and current state (counted at most every few seconds)',
      labelNames: ['desired', 'current'],
      registers: [register],
      async collect() {
        this.reset();
        if (!unitRegistry) return;
        try {
          for (const [k, n] of await unitCounts()) {
            const [desired, current] = k.split('\u0000');
            this.set({ desired: desired!, current: current! }, n);
          }
        } catch {
          // The engine is down: kiboko_engine_up says so; the unit gauge stays empty.
        }
      },
    });
    // Concurrent scrapes share one rendering.
    this.render = singleFlight(async () => ({ contentType: this.register.contentType, body: await this.register.metrics() }), 0);
    this.unsubscribe = sources.bus?.subscribe((e) => {
      if (e.type === 'deploy.job.finished') this.deployJobs.inc({ outcome: String(e.data.status) });
      if (e.type === 'chaos.experiment.finished') this.chaosTotal.inc({ outcome: String(e.data.status) });
    });
  }

  observeRequest(method: string, route: string, status: number, seconds: number): void {
    this.requests.inc({ method, route, status: String(status) });
    this.duration.observe({ method, route }, seconds);
  }

  authFailed(reason: 'token' | 'signature'): void {
    this.authFailures.inc({ reason });
  }

  text(): Promise<{ contentType: string; body: string }> {
    return this.render();
  }

  close(): void {
    this.unsubscribe?.();
  }
}
