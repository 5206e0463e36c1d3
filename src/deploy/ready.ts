import { formatDuration } from '../common/duration.js';
import { LABELS } from '../common/labels.js';
import type { ContainerDetails } from '../engine/index.js';
import { iso, type ApplyCtx } from './apply-context.js';
import type { ContainerConfig } from './hash.js';
import type { DeployGate } from './model.js';

/** One run of a deploy gate method; a run that takes longer counts as a failed attempt. */
const GATE_TIMEOUT_MS = 30_000;
/** A failing gate is retried at most once a second (each attempt is an exec in the replica). */
const GATE_RETRY_MS = 1_000;

/**
 * Ready means: healthy when the container has a healthcheck (its own or its image's), running
 * otherwise — and still so after `monitor` (Swarm's rule: a failure within monitor counts).
 * One-shot services (a dependency with service_completed_successfully) are ready when they exit 0.
 * A service labelled `kiboko.deploy.gate=<method>` — or with `x-kiboko.gate` (`serviceGate`, which
 * wins) — must also pass that lifecycle method (run in the replica, retried until the health
 * timeout or the gate's own timeout; a method the image does not declare fails at once).
 */
export async function waitReady(
  id: string,
  cfg: ContainerConfig,
  monitorMs: number,
  ctx: ApplyCtx,
  job = false,
  serviceGate?: DeployGate,
  who?: { service: string; slot: number },
): Promise<{ ok: true; health: string } | { ok: false; reason: string }> {
  const hc = cfg.healthcheck;
  const derived = hc ? (hc.startPeriodMs ?? 0) + ((hc.intervalMs ?? 30_000) + (hc.timeoutMs ?? 30_000)) * ((hc.retries ?? 3) + 1) : 0;
  const timeout = ctx.healthTimeoutMs ?? Math.max(60_000, derived + 10_000);
  const start = ctx.clock.now();
  let gate: string | undefined;
  let gateFailure: string | undefined;
  let gateAt = -Infinity;
  let gateStart: number | undefined;
  let readyAt: number | undefined;
  let d: ContainerDetails;
  const runs = new Set<string>();
  let reported = '';
  const since = iso(ctx);
  for (;;) {
    d = await ctx.engine.inspect(id);
    if (d.lastHealthcheck) runs.add(d.lastHealthcheck.start);
    if (who) {
      const last = d.lastHealthcheck ? { exitCode: d.lastHealthcheck.exitCode, output: oneLine(d.lastHealthcheck.output) } : undefined;
      const key = JSON.stringify([d.status, d.health, runs.size, last, readyAt]);
      if (key !== reported) {
        reported = key;
        const readySince = readyAt === undefined ? undefined : new Date(readyAt).toISOString();
        ctx.emit({ type: 'replica-waiting', at: iso(ctx), service: who.service, slot: who.slot, id, since, status: d.status, health: d.health, attempts: runs.size, failingStreak: d.failingStreak ?? 0, lastCheck: last, readySince, monitorMs });
      }
    }
    // `kiboko.deploy.gate=<method>` (service or image label): the replica must also pass that lifecycle method.
    gate = job ? undefined : (serviceGate?.method ?? cfg.labels[LABELS.deployGate] ?? d.labels[LABELS.deployGate]) || undefined;
    if (job) {
      if (d.status === 'exited') return d.exitCode === 0 ? { ok: true, health: 'completed' } : { ok: false, reason: `exited with ${d.exitCode}` };
    } else {
      if (d.status === 'exited' || d.status === 'dead') return { ok: false, reason: `exited with ${d.exitCode}` };
      if (d.status === 'restarting') return { ok: false, reason: 'restarting (crash loop)' };
      if (d.health === 'unhealthy') return { ok: false, reason: `unhealthy${healthDetail(d, runs.size)}` };
      const ready = d.hasHealthcheck ? d.health === 'healthy' : d.status === 'running';
      if (ready && readyAt === undefined && gate) {
        if (ctx.clock.now() - gateAt < GATE_RETRY_MS) {
          await ctx.clock.sleep(ctx.pollMs);
          continue;
        }
        gateAt = ctx.clock.now();
        gateStart ??= gateAt;
        const { checkMethodGate } = await import('../methods/index.js');
        // No cancel signal: like the health wait, a gate in flight finishes. Its timeout is real
        // time (the engine call it bounds is), not the deploy's clock.
        const g = await checkMethodGate(ctx.engine, id, gate, { timeoutMs: GATE_TIMEOUT_MS });
        if (g.ok) readyAt = ctx.clock.now();
        else if (!g.retry) return { ok: false, reason: `gate ${g.reason}` };
        else if (serviceGate?.timeoutMs !== undefined && ctx.clock.now() - gateStart >= serviceGate.timeoutMs) {
          return { ok: false, reason: `gate not passed within ${formatDuration(serviceGate.timeoutMs)} (${g.reason})` };
        } else gateFailure = g.reason;
      } else if (ready) readyAt ??= ctx.clock.now();
      const health = `${d.hasHealthcheck ? 'healthy' : 'running'}${gate ? `, ${gate} passed` : ''}`;
      if (readyAt !== undefined && ctx.clock.now() - readyAt >= monitorMs) return { ok: true, health };
    }
    if (ctx.clock.now() - start > timeout + monitorMs || (job && ctx.signal.aborted)) {
      if (job) return { ok: false, reason: `did not finish within ${Math.round(timeout / 1000)}s` };
      if (gateFailure && readyAt === undefined) return { ok: false, reason: `gate not passed within ${Math.round(timeout / 1000)}s (${gateFailure})` };
      return { ok: false, reason: d.hasHealthcheck ? `not healthy within ${Math.round(timeout / 1000)}s (${d.health}${healthDetail(d, runs.size, '; ')})` : `not running within ${Math.round(timeout / 1000)}s` };
    }
    await ctx.clock.sleep(ctx.pollMs);
  }
}

/** A healthcheck's output on one line, bounded (the engine keeps up to 4 KiB of it). */
export function oneLine(output: string, max = 200): string {
  const text = output.replace(/\s+/g, ' ').trim();
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** Why a replica is unhealthy, from the engine's health log: ` (N failed checks, last exit E: output)`. */
function healthDetail(d: ContainerDetails, attempts: number, sep = ' ('): string {
  const last = d.lastHealthcheck;
  if (!last) return '';
  const streak = d.failingStreak ? `${d.failingStreak} failed check${d.failingStreak === 1 ? '' : 's'} in a row, ` : attempts ? `${attempts} check${attempts === 1 ? '' : 's'}, ` : '';
  const out = oneLine(last.output);
  const body = `${streak}last exit ${last.exitCode}${out ? `: ${out}` : ' (no output)'}`;
  return sep === ' (' ? ` (${body})` : `${sep}${body}`;
}
