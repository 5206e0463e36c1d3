import { asKibokoError, KibokoError } from '../common/errors.js';
import { LABELS } from '../common/labels.js';
import { parseSignal } from '../common/signals.js';
import type { ContainerRef } from '../engine/index.js';
import type { JournalEntry } from '../journal/index.js';
import type { PlannedStep } from './plan.js';
import { holdUntil } from './wait.js';
import { JOURNAL_KINDS, type TargetIdentity } from './restore.js';
import type { ActionResult, ApplyContext, LifecycleAction, Outcome } from './types.js';

const STOP_POLL_MS = 100;

/** Applies one planned step and returns its outcome; never throws for a per-target failure. */
export async function applyStep(step: PlannedStep, ctx: ApplyContext): Promise<ActionResult> {
  const startedAt = new Date(ctx.clock.now()).toISOString();
  const finish = (outcome: Outcome, extra: Partial<ActionResult> = {}): ActionResult => ({
    target: step.target,
    action: step.action.kind,
    outcome,
    startedAt,
    endedAt: new Date(ctx.clock.now()).toISOString(),
    ...extra,
  });
  if (ctx.signal.aborted) return finish('cancelled');
  ctx.emit({ type: 'action-started', at: startedAt, cycle: ctx.cycle, target: step.target, action: step.action.kind, dryRun: false });
  try {
    const detail = await perform(step.action, step.target, ctx);
    if (detail?.restoreFailed) {
      return finish('failed', { detail, error: { code: 'ACTION_FAILED', message: String(detail.restoreError) } });
    }
    return finish(detail?.gone ? 'target-gone' : 'ok', { detail });
  } catch (err) {
    const e = asKibokoError(err);
    if (e.code === 'TARGET_NOT_FOUND') return finish('target-gone', { error: { code: e.code, message: e.message } });
    return finish('failed', { error: { code: e.code, message: e.message }, detail: e.details });
  }
}

async function perform(action: LifecycleAction, target: ContainerRef, ctx: ApplyContext): Promise<Record<string, unknown> | undefined> {
  const { engine } = ctx;
  switch (action.kind) {
    case 'kill':
      await engine.kill(target.id, action.signal);
      return { signal: action.signal };
    case 'restart':
      await engine.restart(target.id, action.timeoutSeconds);
      return undefined;
    case 'rm':
      await engine.remove(target.id, { force: action.force, links: action.links, volumes: action.volumes });
      return undefined;
    case 'exec': {
      const r = await engine.exec(target.id, { cmd: action.command, ...(action.user ? { user: action.user } : {}), signal: ctx.signal });
      const detail = { exitCode: r.exitCode, stdout: truncate(r.stdout), stderr: truncate(r.stderr) };
      if (r.exitCode !== 0) {
        throw new KibokoError('ACTION_FAILED', `${JSON.stringify(action.command)} exited with ${r.exitCode}${r.stderr.trim() ? `: ${truncate(r.stderr.trim(), 200)}` : ''}`, {
          details: detail,
        });
      }
      return detail;
    }
    case 'stop': {
      if (!action.restart) return stopContainer(target, action.timeSeconds, ctx);
      return holdFault(target, JOURNAL_KINDS.stopRestart, action.restart.durationMs, ctx, {
        apply: () => stopContainer(target, action.timeSeconds, ctx),
        restore: () => engine.start(target.id),
        isRestored: (s) => s === 'running' || s === 'restarting',
      });
    }
    case 'netem':
    case 'rate':
    case 'iptables':
    case 'partition':
      return (await import('./net/hold.js')).holdNetFault(target, action, ctx);
    case 'stress':
      return (await import('./stress.js')).holdStress(target, action, ctx);
    case 'proxy':
      return (await import('./proxy/hold.js')).holdProxyFault(target, action, ctx);
    case 'pause':
      return holdFault(target, JOURNAL_KINDS.pause, action.durationMs, ctx, {
        apply: () => engine.pause(target.id),
        restore: () => engine.unpause(target.id),
        isRestored: (s) => s !== 'paused',
      });
  }
}

/**
 * Stops like Pumba: a container labelled com.gaiaadm.pumba.stop-signal gets that signal, then
 * SIGKILL after the grace period; otherwise the engine's own stop (the container's StopSignal,
 * then SIGKILL after `timeSeconds`).
 */
async function stopContainer(target: ContainerRef, timeSeconds: number, ctx: ApplyContext): Promise<Record<string, unknown>> {
  const { engine, clock } = ctx;
  const details = await engine.inspect(target.id);
  const labelled = details.labels[LABELS.pumbaStopSignal];
  if (!labelled) {
    await engine.stop(target.id, timeSeconds);
    return { signal: details.stopSignal ?? 'SIGTERM', graceSeconds: timeSeconds };
  }
  const signal = parseSignal(labelled);
  await engine.kill(target.id, signal);
  const deadline = clock.now() + timeSeconds * 1000;
  while (clock.now() < deadline) {
    const now = await engine.inspect(target.id);
    if (now.status !== 'running' && now.status !== 'paused') return { signal, graceSeconds: timeSeconds, escalated: false };
    await clock.sleep(STOP_POLL_MS);
  }
  try {
    await engine.kill(target.id, 'SIGKILL');
  } catch (err) {
    if (!(err instanceof KibokoError && err.code === 'CONFLICT')) throw err; // exited just in time
  }
  return { signal, graceSeconds: timeSeconds, escalated: true };
}

interface HeldFault {
  apply: () => Promise<unknown>;
  restore: () => Promise<void>;
  isRestored: (status: string) => boolean;
}

/**
 * A temporary fault: journal first (durably), then apply, hold for the duration (or until
 * cancelled), then restore and close the entry. If the restore fails the entry stays open so
 * `kiboko chaos recover` (or the next run) finishes the job.
 */
async function holdFault(target: ContainerRef, kind: string, durationMs: number, ctx: ApplyContext, fault: HeldFault): Promise<Record<string, unknown>> {
  const { engine, journal, clock } = ctx;
  const before = await engine.inspect(target.id);
  const deadline = clock.now() + durationMs;
  const entry: JournalEntry = await journal.record<Record<string, unknown>>({
    runId: ctx.runId,
    kind,
    target,
    deadline: new Date(deadline).toISOString(),
    data: { startedAt: before.startedAt } satisfies TargetIdentity,
  });
  try {
    await fault.apply();
  } catch (err) {
    await journal.close(entry, 'not-applied');
    throw err;
  }
  ctx.emit({ type: 'fault-held', at: new Date(clock.now()).toISOString(), cycle: ctx.cycle, target, action: kind === JOURNAL_KINDS.pause ? 'pause' : 'stop', untilMs: deadline });
  const interrupted = await holdUntil(clock, deadline, ctx.signal);
  const restoredAt = clock.now();
  try {
    await fault.restore();
    await journal.close(entry, 'restored');
    return { heldMs: restoredAt - (deadline - durationMs), interrupted, restore: 'restored' };
  } catch (err) {
    const e = asKibokoError(err);
    if (e.code === 'TARGET_NOT_FOUND') {
      await journal.close(entry, 'target-gone');
      return { interrupted, restore: 'target-gone', gone: true };
    }
    if (e.code === 'CONFLICT') {
      // Not paused / already running: someone (or the container's restart policy) got there first.
      const now = await engine.inspect(target.id).catch(() => undefined);
      if (!now || fault.isRestored(now.status)) {
        await journal.close(entry, now ? 'already-restored' : 'target-gone');
        return { interrupted, restore: now ? 'already-restored' : 'target-gone', gone: !now };
      }
    }
    return { interrupted, restore: 'failed', restoreFailed: true, restoreError: `restore of ${target.name} failed: ${e.message}; run \`kiboko chaos recover\`` };
  }
}

function truncate(text: string, max = 4096): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}
