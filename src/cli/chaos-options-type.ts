import type { ENGINE_OPTIONS, EveryOptionOf, OptionsOf } from './command-options.js';
import type { chaosGlobals, containerFaultTables } from './chaos-options.js';
import type { iptablesParent, netemEffectTables, networkFaultTables, netemParent } from './chaos-network-options.js';

type Tables = ReturnType<typeof containerFaultTables> & ReturnType<typeof networkFaultTables> & ReturnType<typeof netemEffectTables>;
type Parents = ReturnType<typeof chaosGlobals> & typeof ENGINE_OPTIONS & ReturnType<typeof netemParent> & ReturnType<typeof iptablesParent>;

/**
 * Every option some chaos command reads, from all their tables: the chaos code reads one
 * command's options through the shared helpers, and each command's own type is a part of this one.
 */
export type ChaosOptions = OptionsOf<Parents> & EveryOptionOf<Tables>;

/** The own table of one chaos command (the globals and engine flags are added to it). */
export type ChaosTable = Tables[keyof Tables];
