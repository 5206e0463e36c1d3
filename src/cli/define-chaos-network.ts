import type { Command } from 'commander';
import { chaosCommand } from './chaos-command.js';
import { iptablesParent, netemEffectTables, netemParent, networkFaultTables } from './chaos-network-options.js';
import { NET_SHORTS } from './chaos-options.js';
import { addOptions, type OptionTable } from './command-options.js';
import type { NetemEffectName } from './command-names.js';
import type { Register } from './register.js';

/** The network faults of `kiboko chaos`: netem, iptables, partition, proxy, delay and rate, in the order help lists them. */
export function addNetworkCommands(chaos: Command, register: Register, wanted: (word: string) => boolean = () => true): void {
  if (wanted('netem')) addNetemCommands(chaos, register);
  if (wanted('iptables')) addIptablesCommands(chaos, register);
  const t = networkFaultTables();
  if (wanted('partition')) chaosCommand(chaos, 'partition', 'cut containers off from named peers or CIDRs, both directions, for a duration', register, NET_SHORTS, t.partition);
  if (wanted('proxy')) chaosCommand(chaos, 'proxy', "put a fault proxy in the target's network namespace and redirect its traffic through it (toxiproxy toxics, HTTP faults), for a duration", register, NET_SHORTS, t.proxy);
  if (wanted('delay')) chaosCommand(chaos, 'delay', 'delay traffic: netem when the kernel has it, else the transparent proxy (it says which)', register, { ...NET_SHORTS, j: false }, t.delay);
  if (wanted('rate')) chaosCommand(chaos, 'rate', 'limit egress bandwidth with tc tbf/htb (no netem needed)', register, NET_SHORTS, t.rate);
}

/** What help says of each netem effect, in the order it lists them. */
const NETEM_EFFECTS: readonly (readonly [NetemEffectName, string])[] = [
  ['delay', 'delay egress packets'],
  ['loss', 'drop egress packets at random (Bernoulli)'],
  ['loss-state', 'drop packets with a 4-state Markov model'],
  ['loss-gemodel', 'drop packets with the Gilbert-Elliott model'],
  ['rate', 'limit egress bandwidth with netem (falls back to tbf/htb when the kernel has no netem)'],
  ['duplicate', 'duplicate egress packets'],
  ['corrupt', 'corrupt egress packets'],
  ['combine', 'several netem effects at once on one interface'],
];

/** netem and iptables: a parent command with flags of its own (before the effect, as Pumba takes them). */
const parentCommand = (chaos: Command, name: string, description: string, table: OptionTable) =>
  addOptions(chaos.command(name).description(description).enablePositionalOptions(), table);

function addNetemCommands(chaos: Command, register: Register) {
  const netem = parentCommand(chaos, 'netem', 'network emulation with tc netem (egress): delay, loss, rate, duplicate, corrupt — restored after --duration', netemParent(true));
  const effects = netemEffectTables();
  for (const [name, summary] of NETEM_EFFECTS) {
    chaosCommand(netem, `netem:${name}`, summary, register, { ...NET_SHORTS, j: false }, { ...effects[name], ...netemParent(false) });
  }
}

function addIptablesCommands(chaos: Command, register: Register) {
  const iptables = parentCommand(chaos, 'iptables', 'packet loss on ingress with iptables (tagged rules, exact teardown) — restored after --duration', iptablesParent(true));
  chaosCommand(iptables, 'iptables:loss', 'drop incoming packets (random probability or every nth)', register, NET_SHORTS, networkFaultTables()['iptables:loss']);
}
