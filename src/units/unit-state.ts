import { KibokoError } from '../common/errors.js';
import type { ContainerStatus } from '../engine/index.js';

/** Container states in which a unit counts as launched. */
export const ACTIVE: ReadonlySet<ContainerStatus> = new Set(['running', 'restarting', 'paused']);
/** How /state shows a unit whose stop was answered while its container still runs (systemd's words). */
export const DEACTIVATING_RECORD = { systemdActiveState: 'deactivating', systemdSubState: 'stop-sigterm', message: 'stopping: the change is recorded, the container is being stopped' } as const;
export const DEACTIVATING = { active: DEACTIVATING_RECORD.systemdActiveState, sub: DEACTIVATING_RECORD.systemdSubState, message: DEACTIVATING_RECORD.message };
/** Docker reports `0001-01-01T00:00:00Z` for a container that never ran. */
export const neverStarted = (startedAt: string) => !startedAt || startedAt.startsWith('0001-') || !(Date.parse(startedAt) > 0);
export const isUnreachable = (err: unknown) => err instanceof KibokoError && err.code === 'ENGINE_UNREACHABLE';

/** systemd's view of a unit kiboko runs as a container (fleet's /state passes it through). */
export function systemdState(s: {
  notRunnable?: string | undefined;
  error?: string | null | undefined;
  waiting?: string | null | undefined;
  status?: ContainerStatus | undefined;
  exitCode?: number | undefined;
}): { active: string; sub: string; message?: string } {
  if (s.notRunnable) return { active: 'failed', sub: 'failed', message: `not runnable: ${s.notRunnable}` };
  if (s.status === 'running' || s.status === 'paused') return { active: 'active', sub: 'running' };
  if (s.status === 'restarting') return { active: 'activating', sub: 'auto-restart', message: 'the container is restarting (restart policy)' };
  if (s.error) return { active: 'failed', sub: 'failed', message: s.error };
  if (s.waiting) return { active: 'inactive', sub: 'dead', message: s.waiting };
  if ((s.status === 'exited' || s.status === 'dead') && s.exitCode !== undefined) {
    return s.exitCode === 0 ? { active: 'inactive', sub: 'dead', message: 'the container exited with code 0' } : { active: 'failed', sub: 'failed', message: `the container exited with code ${s.exitCode}` };
  }
  return { active: 'inactive', sub: 'dead' };
}
