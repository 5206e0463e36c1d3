import type { ENGINE_OPTIONS, EveryOptionOf, OptionsOf } from './command-options.js';
import type { chaosGlobals, CONTAINER_FAULT_TABLES } from './chaos-options.js';
import type { iptablesParent, NETEM_EFFECT_TABLES, NETWORK_FAULT_TABLES, netemParent } from './chaos-network-options.js';

type Tables = typeof CONTAINER_FAULT_TABLES & typeof NETWORK_FAULT_TABLES & typeof NETEM_EFFECT_TABLES;
type Parents = ReturnType<typeof chaosGlobals> & typeof ENGINE_OPTIONS & ReturnType<typeof netemParent> & ReturnType<typeof iptablesParent>;

/**
 * Every option some chaos command reads, from all their tables: the chaos code reads one
 * command's options through the shared helpers, and each command's own type is a part of this one.
 */
export type ChaosOptions = OptionsOf<Parents> & EveryOptionOf<Tables>;

/** The own table of one chaos command (the globals and engine flags are added to it). */
export type ChaosTable = Tables[keyof Tables];
