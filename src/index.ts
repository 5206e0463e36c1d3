/**
 * kiboko as a library: `import { chaos, targets, connectEngine } from 'kiboko'`.
 * The CLI is a thin layer over exactly these.
 */
export * as chaos from './chaos/index.js';
export * as targets from './targets/index.js';
export * as journal from './journal/index.js';
export * as template from './template/index.js';
export * as events from './events/index.js';
export * as packages from './packages/index.js';
export * as methods from './methods/index.js';
export * as registry from './registry/index.js';
export * as watch from './watch/index.js';
export { connectEngine, resolveConnection, FakeEngine, type Engine } from './engine/index.js';
export type * from './engine/types.js';
export { KibokoError, InternalError, EXIT_CODES, type ErrorCode } from './common/errors.js';
export { parseDuration, formatDuration } from './common/duration.js';
export { parseSignal } from './common/signals.js';
export { VERSION } from './common/version.js';
