import type { Command } from 'commander';

/** What the command tree calls: each action loads its module lazily, so defining commands stays cheap. */
export type ActionHandler = (cmd: Command, args: string[]) => Promise<number>;

export type DeploySub = 'plan' | 'apply' | 'up' | 'down' | 'ps' | 'logs' | 'restart' | 'pull' | 'history' | 'rollback' | 'set-tag' | 'config';

export interface Handlers {
  chaos: (kind: ChaosCommandName) => ActionHandler;
  recover: ActionHandler;
  doctor: ActionHandler;
  deploy: (sub: DeploySub) => ActionHandler;
  serve?: ActionHandler;
}

export type NetemEffectName = 'delay' | 'loss' | 'loss-state' | 'loss-gemodel' | 'rate' | 'duplicate' | 'corrupt' | 'combine';
export type ChaosCommandName =
  | 'kill'
  | 'stop'
  | 'pause'
  | 'rm'
  | 'restart'
  | 'exec'
  | `netem:${NetemEffectName}`
  | 'iptables:loss'
  | 'partition'
  | 'proxy'
  | 'delay'
  | 'rate'
  | 'stress';

/** The `kiboko units` subcommands (fleetctl's names and flags). */
export type UnitsCommandName =
  | 'submit'
  | 'load'
  | 'start'
  | 'stop'
  | 'restart'
  | 'unload'
  | 'destroy'
  | 'list-units'
  | 'list-unit-files'
  | 'list-machines'
  | 'cat'
  | 'status'
  | 'journal';
