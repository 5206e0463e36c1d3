/**
 * kiboko's own view of containers; nothing above the engine module sees dockerode types.
 * The types live by resource under types/; the rest of src/engine imports them from here.
 */
export type * from './types/containers.js';
export type * from './types/container-spec.js';
export type * from './types/networks.js';
export type * from './types/swarm.js';
export type * from './types/images.js';
export type * from './types/system.js';
