/** The names of the commands whose implementation serves several of them (chaos, units): what their run functions switch on. */

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
