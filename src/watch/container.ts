import type { Clock } from '../common/clock.js';
import { asKibokoError, errorSummary, KibokoError } from '../common/errors.js';
import type { ContainerSummary, Engine } from '../engine/index.js';
import type { Journal, JournalEntry } from '../journal/index.js';
import { formatReference, parseReference } from '../registry/index.js';
import type { ContainerUpdateSettings, WatchItem } from './types.js';
import { WATCH_JOURNAL_KIND, type ContainerUpdateRecord } from './recover.js';
import { WATCHTOWER_LABELS as W } from './watchtower.js';

interface Deps {
  engine: Engine;
  pull: (image: string) => Promise<unknown>;
  clock: Clock;
  signal?: AbortSignal | undefined;
  options: ContainerUpdateSettings;
  warn: (m: string) => void;
  /** Records the update before anything is touched, so `kiboko chaos recover` can undo it after a crash. */
  journal?: Journal | undefined;
}

/** Watchtower's pre-update exit code that means "skip this update". */
const EX_TEMPFAIL = 75;

/**
 * Recreates a standalone container with the new image and the same configuration. The image is
 * pulled first; nothing is touched when that fails. Without published ports the new container
 * starts beside the old one (start-first) and the old one goes only once the new is healthy;
 * with published ports the old one stops first. An unhealthy new container is removed and the
 * old one comes back, under its name.
 */
export async function updateContainer(c: ContainerSummary, item: WatchItem, deps: Deps): Promise<WatchItem> {
  const { engine, options: o } = deps;
  const failed = (err: unknown, status: 'failed' | 'rolled-back' = 'failed'): WatchItem => {
    const e = asKibokoError(err);
    return { ...item, status, reason: e.message, error: errorSummary(e) };
  };
  // The container keeps following its tag: a new digest is pulled under the tag it names.
  const ref = parseReference(c.image);
  const image = item.change === 'digest' ? formatReference(ref) : item.newImage!;
  try {
    await deps.pull(image);
  } catch (err) {
    return failed(err);
  }
  const old = await engine.inspect(c.id);
  const hooks = Boolean(o.lifecycleHooks);
  if (hooks && c.labels[W.preUpdate] && old.status === 'running') {
    const r = await runHook(engine, c.id, c.labels[W.preUpdate]!, hookTimeout(c.labels[W.preUpdateTimeout]), deps.signal);
    if (r.exitCode === EX_TEMPFAIL) return { ...item, status: 'skipped', reason: 'the pre-update command exited 75 (EX_TEMPFAIL): update skipped' };
    if (r.exitCode !== 0) deps.warn(`${c.name}: pre-update command exited ${r.exitCode}`);
  }
  const wasRunning = old.status === 'running';
  const stopFirst = Boolean(old.publishesPorts);
  const stopTimeoutS = Math.ceil((o.stopTimeoutMs ?? 10_000) / 1000);
  const parked = `${c.name}.kiboko-old-${Date.now().toString(36)}`;
  const stopOld = async () => {
    const sig = c.labels[W.stopSignal];
    if (sig) {
      await engine.kill(c.id, sig).catch(() => undefined);
      const ctl = AbortSignal.timeout(stopTimeoutS * 1000);
      await engine.wait(c.id, ctl).catch(() => undefined);
    }
    await engine.stop(c.id, sig ? 0 : stopTimeoutS);
  };
  let created: string | undefined;
  // Written durably before the old container is stopped or renamed: after a crash (SIGKILL,
  // power loss) `kiboko chaos recover` — and the next `kiboko watch` — puts the old one back.
  let entry: JournalEntry<ContainerUpdateRecord> | undefined;
  try {
    entry = await deps.journal?.record<ContainerUpdateRecord>({
      runId: `watch-${process.pid}`,
      kind: WATCH_JOURNAL_KIND,
      target: { id: c.id, name: c.name },
      deadline: new Date(deps.clock.now() + (o.healthTimeoutMs ?? 60_000) + 10 * 60_000).toISOString(),
      data: { name: c.name, oldId: c.id, parked, image, wasRunning },
    });
  } catch (err) {
    return failed(err);
  }
  const closeEntry = async (outcome: string) => {
    if (entry) await deps.journal!.close(entry, outcome).catch((e: unknown) => deps.warn(`${c.name}: could not close the journal entry: ${asKibokoError(e).message}`));
  };
  try {
    if (stopFirst && wasRunning) await stopOld();
    await engine.rename(c.id, parked);
    const ref2 = await engine.cloneContainer(c.id, { image, name: c.name });
    created = ref2.id;
    if (wasRunning || o.reviveStopped) {
      await engine.start(created);
      const verdict = await ready(engine, created, deps);
      if (!verdict.ok) throw new KibokoError('ACTION_FAILED', `${c.name}: the new container ${verdict.reason}; the old one is back`, { hint: `the image ${image} is broken; see docker logs of a manual run` });
    }
  } catch (err) {
    // Undo: the new container goes, the old one gets its name back and runs as before.
    let undone = true;
    if (created) await engine.remove(created, { force: true }).catch(() => undefined);
    await engine.rename(c.id, c.name).catch((e: unknown) => ((undone = false), deps.warn(`${c.name}: could not rename the old container back: ${asKibokoError(e).message}`)));
    if (wasRunning) await engine.start(c.id).catch((e: unknown) => ((undone = false), deps.warn(`${c.name}: could not restart the old container: ${asKibokoError(e).message}`)));
    // An undo that did not complete stays journaled for `kiboko chaos recover`.
    if (undone) await closeEntry('rolled-back');
    return failed(err, created ? 'rolled-back' : 'failed');
  }
  if (!stopFirst && wasRunning) await stopOld().catch(() => undefined);
  await engine.remove(c.id, { force: true });
  await closeEntry('updated');
  if (o.cleanup && old.imageId) {
    // Only when nothing else uses it (the engine refuses otherwise, which is fine).
    await engine.removeImage(old.imageId).catch(() => undefined);
  }
  if (hooks && c.labels[W.postUpdate] && (wasRunning || o.reviveStopped)) {
    const r = await runHook(engine, created!, c.labels[W.postUpdate]!, hookTimeout(c.labels[W.postUpdateTimeout]), deps.signal).catch((e: unknown) => ({ exitCode: -1, error: asKibokoError(e).message }));
    if (r.exitCode !== 0) deps.warn(`${c.name}: post-update command exited ${r.exitCode}`);
  }
  await restartDependents(engine, c.name, stopTimeoutS, deps.warn);
  return { ...item, status: 'updated' };
}

/** Healthy (with a healthcheck) or still running after the settle time (without). */
async function ready(engine: Engine, id: string, deps: Deps): Promise<{ ok: true } | { ok: false; reason: string }> {
  const deadline = deps.clock.now() + (deps.options.healthTimeoutMs ?? 60_000);
  const settle = deps.options.settleMs ?? 2000;
  const startedAt = deps.clock.now();
  for (;;) {
    const d = await engine.inspect(id);
    if (d.status !== 'running' && d.status !== 'restarting') return { ok: false, reason: `exited with code ${d.exitCode}` };
    if (d.hasHealthcheck) {
      if (d.health === 'healthy') return { ok: true };
      if (d.health === 'unhealthy') return { ok: false, reason: 'became unhealthy' };
    } else if (deps.clock.now() - startedAt >= settle) return { ok: true };
    if (deps.clock.now() > deadline) return { ok: false, reason: `was not healthy within ${Math.round((deps.options.healthTimeoutMs ?? 60_000) / 1000)}s` };
    await deps.clock.sleep(250, deps.signal);
  }
}

function hookTimeout(label: string | undefined): number {
  // Watchtower: minutes, 0 = no timeout; default 1 minute.
  if (label === undefined || !/^\d+$/.test(label)) return 60_000;
  return Number(label) === 0 ? 24 * 3_600_000 : Number(label) * 60_000;
}

/** A lifecycle label command runs in the container with sh -c, as Watchtower runs it. */
async function runHook(engine: Engine, id: string, command: string, timeoutMs: number, signal?: AbortSignal): Promise<{ exitCode: number }> {
  const ctl = AbortSignal.any([AbortSignal.timeout(timeoutMs), ...(signal ? [signal] : [])]);
  const r = await engine.exec(id, { cmd: ['sh', '-c', command], signal: ctl });
  return { exitCode: r.exitCode };
}

/** Containers whose depends-on label names the updated one are restarted, as Watchtower does. */
async function restartDependents(engine: Engine, name: string, stopTimeoutS: number, warn: (m: string) => void): Promise<void> {
  const all = await engine.list({ labels: [W.dependsOn] });
  for (const d of all) {
    const names = (d.labels[W.dependsOn] ?? '').split(',').map((s) => s.trim().replace(/^\//, ''));
    if (!names.includes(name)) continue;
    await engine.restart(d.id, stopTimeoutS).catch((e: unknown) => warn(`${d.name}: restart after ${name} was updated failed: ${asKibokoError(e).message}`));
  }
}
