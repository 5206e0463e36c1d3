import type { ContainerRef } from '../engine/index.js';
import type { Selection } from '../targets/index.js';
import { formatDuration } from '../common/duration.js';
import type { LifecycleAction, TrafficScope } from './types.js';

const scopeText = (s: TrafficScope) => {
  const parts = [
    ...(s.targets.length ? [`to ${s.targets.join(', ')}`] : []),
    ...(s.egressPorts.length ? [`from port ${s.egressPorts.join(', ')}`] : []),
    ...(s.ingressPorts.length ? [`to port ${s.ingressPorts.join(', ')}`] : []),
  ];
  return parts.length ? ` (only traffic ${parts.join(', ')})` : '';
};

export interface PlannedStep {
  target: ContainerRef;
  action: LifecycleAction;
  /** For temporary faults: what undoes it and after how long. */
  restore?: { kind: 'unpause' | 'start' | 'remove-fault' | 'stop-stressor'; afterMs: number } | undefined;
}

export interface ChaosPlan {
  seed: number;
  steps: PlannedStep[];
  skipped: Selection['skipped'];
  unmatched: string[];
}

/** Pure: what one cycle will do to which containers. `--dry-run` prints this and stops. */
export function planChaos(selection: Selection, action: LifecycleAction): ChaosPlan {
  return {
    seed: selection.seed,
    steps: selection.selected.map((c) => ({ target: { id: c.id, name: c.name }, action, restore: restoreOf(action) })),
    skipped: selection.skipped,
    unmatched: selection.unmatched,
  };
}

function restoreOf(action: LifecycleAction): PlannedStep['restore'] {
  if (action.kind === 'pause') return { kind: 'unpause', afterMs: action.durationMs };
  if (action.kind === 'stop' && action.restart) return { kind: 'start', afterMs: action.restart.durationMs };
  if (action.kind === 'stress') return { kind: 'stop-stressor', afterMs: action.durationMs };
  if ('durationMs' in action) return { kind: 'remove-fault', afterMs: action.durationMs };
  return undefined;
}

/** The action in words, for logs and dry-run output. */
export function describeAction(action: LifecycleAction): string {
  switch (action.kind) {
    case 'kill':
      return `kill with ${action.signal}`;
    case 'stop':
      return `stop (grace ${action.timeSeconds}s)${action.restart ? `, start again after ${action.restart.durationMs}ms` : ''}`;
    case 'pause':
      return `pause for ${action.durationMs}ms, then unpause`;
    case 'rm':
      return `remove${action.force ? ' (force)' : ''}${action.volumes ? ' with volumes' : ''}${action.links ? ' and links' : ''}`;
    case 'restart':
      return `restart (timeout ${action.timeoutSeconds}s)`;
    case 'exec':
      return `exec ${JSON.stringify(action.command)}`;
    case 'netem':
      return `netem on ${action.iface} for ${formatDuration(action.durationMs)}${scopeText(action.scope)}`;
    case 'rate':
      return `limit ${action.iface} to ${action.rate} for ${formatDuration(action.durationMs)}${scopeText(action.scope)}`;
    case 'iptables':
      return `drop ${action.loss.mode === 'random' ? `${action.loss.probability * 100}% of` : `every ${action.loss.every}th of`} incoming ${action.protocol === 'any' ? '' : `${action.protocol} `}packets for ${formatDuration(action.durationMs)}`;
    case 'partition':
      return `partition ${action.direction === 'to' ? 'traffic to' : action.direction === 'from' ? 'traffic from' : 'from'} ${action.peers.join(', ')} for ${formatDuration(action.durationMs)}`;
    case 'proxy': {
      const what = [
        ...(action.incomingPorts.length ? [`incoming port ${action.incomingPorts.join(', ')}`] : []),
        ...(action.outgoing.length ? [`outgoing to ${action.outgoing.map((o) => `${o.host ?? '*'}${o.port ? `:${o.port}` : ''}`).join(', ')}`] : []),
      ].join(' and ');
      const faults = [...action.toxics.map((t) => `${t.type}(${t.stream}${t.toxicity < 1 ? `, ${t.toxicity * 100}%` : ''})`), ...(action.httpFaults.length ? [`${action.httpFaults.length} HTTP fault(s)`] : [])].join(', ');
      return `proxy ${what} through ${faults} for ${formatDuration(action.durationMs)}`;
    }
    case 'stress':
      return `stress-ng ${action.stressors.join(' ')} for ${formatDuration(action.durationMs)}`;
  }
}
