/**
 * Test doubles for code built on kiboko: `FakeEngine`, an in-memory `Engine` (the same contract
 * suite runs against it and the real engine), and `MemoryRegistry`, an in-memory fleet unit
 * registry. Not for production use; kept out of the main entry.
 *
 * @example
 * ```ts
 * import { FakeEngine } from 'kiboko/testing';
 * import { Journal, parseTargetArgs, runExperiment } from 'kiboko/chaos';
 *
 * const engine = new FakeEngine();
 * engine.add({ name: 'web-1', status: 'running' });
 * const report = await runExperiment(
 *   { action: { kind: 'kill', signal: 'SIGKILL' }, targets: parseTargetArgs(['web-1'], []) },
 *   { engine, journal: new Journal('/tmp/kiboko-example') },
 * );
 * console.log(report.totals.ok); // 1
 * ```
 *
 * @module kiboko/testing
 */
export { FakeEngine } from '../engine/index.js';
export { MemoryRegistry } from '../units/index.js';
