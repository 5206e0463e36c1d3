import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { isScalar, parseDocument } from 'yaml';
import { KibokoError, invalidArgument } from '../common/errors.js';
import type { ServiceSpec } from './model.js';

/** `repo/name:58-develop` → { repo, tag, build: 58, branch: 'develop' }. */
export function parseImageRef(ref: string): { repo: string; tag: string } {
  const at = ref.indexOf('@');
  const base = at >= 0 ? ref.slice(0, at) : ref;
  const slash = base.lastIndexOf('/');
  const colon = base.lastIndexOf(':');
  if (colon > slash) return { repo: base.slice(0, colon), tag: base.slice(colon + 1) };
  return { repo: base, tag: 'latest' };
}

/** A CI build tag `<build number>-<branch>`; the branch may itself contain dashes. */
export function parseBuildTag(tag: string): { build: number; branch: string } | undefined {
  const m = /^(\d+)-(.+)$/.exec(tag);
  return m ? { build: Number(m[1]), branch: m[2]! } : undefined;
}

/** Compares build tags of one branch numerically: `100-develop` is newer than `58-develop`. */
export function compareBuildTags(a: string, b: string): number {
  const pa = parseBuildTag(a);
  const pb = parseBuildTag(b);
  if (!pa || !pb) return a.localeCompare(b);
  return pa.build - pb.build;
}

/**
 * The image a service should run under its tag policy: pinned → as written; follow-branch → the
 * newest `<build>-<branch>` tag of the same repository among `available` (the written tag counts).
 */
export function resolveImage(service: ServiceSpec, available: readonly string[]): { image: string; cause?: string | undefined } {
  if (service.tagPolicy.kind !== 'follow-branch') return { image: service.image };
  const branch = service.tagPolicy.branch;
  const { repo } = parseImageRef(service.image);
  const candidates = [service.image, ...available]
    .map(parseImageRef)
    .filter((r) => r.repo === repo && parseBuildTag(r.tag)?.branch === branch)
    .map((r) => r.tag);
  if (candidates.length === 0) return { image: service.image };
  const newest = candidates.sort(compareBuildTags).at(-1)!;
  const image = `${repo}:${newest}`;
  return image === service.image ? { image } : { image, cause: `newest build of ${branch}: ${newest}` };
}

/**
 * `kiboko deploy set-tag`: rewrites one service's image tag in a compose file in place, keeping
 * comments and formatting, atomically. This is the step CI runs after a build.
 */
export function setTagInComposeFile(file: string, service: string, tag: string): { before: string; after: string } {
  if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/.test(tag)) {
    throw invalidArgument(`invalid tag '${tag}': a Docker tag is letters, digits, _ . - (at most 128, not starting with . or -)`, 'e.g. 100-develop');
  }
  const text = readFileSync(file, 'utf8');
  const doc = parseDocument(text);
  if (doc.errors.length) throw invalidArgument(`${file}: not valid YAML: ${doc.errors[0]!.message}`, 'fix the file first');
  const node = doc.getIn(['services', service, 'image'], true);
  if (!isScalar(node) || typeof node.value !== 'string' || !node.range) {
    throw new KibokoError('TARGET_NOT_FOUND', `${file}: no service '${service}' with an image`, { hint: 'check the service name (services.<name>.image)' });
  }
  const current = node.value;
  const { repo } = parseImageRef(current);
  const next = `${repo}:${tag}`;
  // Replace only the scalar's own source text, in its own quoting style: every other byte of the
  // file (comments, spacing, flow style) stays as it was.
  const quoted = node.type === 'QUOTE_DOUBLE' ? JSON.stringify(next) : node.type === 'QUOTE_SINGLE' ? `'${next.replace(/'/g, "''")}'` : next;
  const updated = text.slice(0, node.range[0]) + quoted + text.slice(node.range[1]);
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, updated);
  renameSync(tmp, file);
  return { before: current, after: next };
}
