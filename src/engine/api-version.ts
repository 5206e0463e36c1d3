import { KibokoError } from '../common/errors.js';

/** Compares dotted API versions numerically: `1.9` < `1.41`. */
export function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** HostConfig.Annotations (compose's `annotations:`) came with Engine API 1.43 (Docker Engine 24). */
export const ANNOTATIONS_API = '1.43';

/**
 * The refusal for `annotations` on an older engine: it would accept the create and drop them
 * without a word (unknown fields of a create body are ignored), so kiboko says so instead.
 */
export function annotationsUnsupported(endpoint: string, apiVersion: string, services: readonly string[] = []): KibokoError {
  return new KibokoError('INVALID_ARGUMENT', `annotations${services.length ? ` (service ${services.join(', ')})` : ''} need Engine API ${ANNOTATIONS_API} (Docker Engine 24 or newer); the engine at ${endpoint} speaks ${apiVersion} and would drop them silently`, {
    hint: 'upgrade the Docker engine, or remove annotations: (labels: are kept by every engine, if a label serves the same purpose)',
  });
}
