import { accessSync, constants } from 'node:fs';
import type { ContainerDetails, ContainerRef, Engine } from '../../engine/index.js';
import { helperExec, nsenterExec, type NetnsExec } from './exec.js';
import { helperProbeRunner, hostProbeRunner, type ProbeRunner } from './probe.js';

/** The helper image kiboko builds locally (images/nettools); override with --tc-image. */
export const DEFAULT_HELPER_IMAGE = 'kiboko/nettools:local';

export type ExecMode = { via: 'nsenter' } | { via: 'helper'; image: string };

function onPath(bin: string): boolean {
  for (const dir of (process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin').split(':')) {
    try {
      accessSync(`${dir}/${bin}`, constants.X_OK);
      return true;
    } catch {
      // keep looking
    }
  }
  return false;
}

/**
 * nsenter when kiboko runs as root beside a local engine and the host has the tools (no helper
 * at all); otherwise a helper container joining the target's namespace. An explicit helper image
 * always wins.
 */
export function chooseExecMode(engine: Engine, helperImage?: string): ExecMode {
  if (helperImage) return { via: 'helper', image: helperImage };
  const local = engine.endpoint.startsWith('unix://');
  const root = typeof process.getuid === 'function' && process.getuid() === 0;
  if (local && root && onPath('nsenter') && onPath('tc') && onPath('iptables')) return { via: 'nsenter' };
  return { via: 'helper', image: DEFAULT_HELPER_IMAGE };
}

export async function openExec(engine: Engine, target: ContainerDetails | ContainerRef & { pid: number }, mode: ExecMode, runId: string): Promise<NetnsExec> {
  if (mode.via === 'nsenter') return nsenterExec(target.pid);
  return helperExec(engine, { id: target.id, name: target.name }, { image: mode.image, runId });
}

export async function openProbe(engine: Engine, mode: ExecMode, runId: string): Promise<{ run: ProbeRunner; close: () => Promise<void> }> {
  if (mode.via === 'nsenter') return { run: hostProbeRunner, close: async () => undefined };
  return helperProbeRunner(engine, mode.image, runId);
}
