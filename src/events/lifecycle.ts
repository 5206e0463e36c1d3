import { KibokoError } from '../common/errors.js';
import type { Engine } from '../engine/index.js';

/** Runs a container's declared `kiboko.method.<name>` lifecycle method (src/packages); exit 0 is success. */
export async function runLifecycleMethod(engine: Engine, container: string, method: string, signal: AbortSignal, timeoutMs: number): Promise<string> {
  const { runMethod } = await import('../methods/index.js');
  const r = await runMethod(engine, container, method, { signal, timeoutMs });
  if (r.code !== 0) {
    const why = r.reason ?? (r.exitCode !== undefined ? `exited with ${r.exitCode}` : r.outcome);
    const err = r.stderr.trim().split('\n').slice(-1)[0];
    throw new KibokoError('ACTION_FAILED', `lifecycle ${method} in ${r.container.name}: ${why}${r.code === 1 && err ? ` — ${err.slice(0, 200)}` : ''}`);
  }
  return `lifecycle ${method} in ${r.container.name}: ok`;
}
