import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { RE2JS } from 're2js';
import { isScalar, parseDocument } from 'yaml';
import { KibokoError, invalidArgument } from '../common/errors.js';
import type { ServiceSpec, TagPolicy } from './model.js';

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

/** `1.2.3`, `v1.2.3`, `1.2.3-rc.1` (build metadata `+…` allowed and ignored when comparing). */
export function parseSemver(tag: string): { major: number; minor: number; patch: number; pre: string[] } | undefined {
  const m = /^v?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$/.exec(tag);
  if (!m) return undefined;
  const pre = m[4] ? m[4].split('.') : [];
  if (pre.some((p) => p === '')) return undefined;
  return { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3]), pre };
}

/** SemVer 2.0 precedence: numbers, then a pre-release sorts before its release. */
export function compareSemver(a: string, b: string): number {
  const x = parseSemver(a);
  const y = parseSemver(b);
  if (!x || !y) return a.localeCompare(b);
  for (const k of ['major', 'minor', 'patch'] as const) if (x[k] !== y[k]) return x[k] - y[k];
  if (!x.pre.length || !y.pre.length) return y.pre.length - x.pre.length;
  for (let i = 0; i < Math.max(x.pre.length, y.pre.length); i++) {
    const p = x.pre[i];
    const q = y.pre[i];
    if (p === undefined || q === undefined) return p === undefined ? -1 : 1;
    const pn = /^\d+$/.test(p);
    const qn = /^\d+$/.test(q);
    if (pn && qn && Number(p) !== Number(q)) return Number(p) - Number(q);
    if (pn !== qn) return pn ? -1 : 1;
    if (p !== q) return p < q ? -1 : 1;
  }
  return 0;
}

const POLICY_NAMES = 'pinned (or any), semver, semver-major-locked, follow:<branch>, regex:<re2>';

/**
 * A tag policy written as one word: `pinned`/`any` (a hook may set any tag), `semver` (semver
 * tags only, never older than the running one), `semver-major-locked` (and the same major
 * version), `follow:<branch>` (`<build>-<branch>` tags, never an older build), `regex:<re2>` (the
 * whole tag matches the RE2 pattern).
 */
export function parseTagPolicy(text: string): TagPolicy {
  const t = text.trim();
  if (t === 'pinned' || t === 'any') return { kind: 'pinned' };
  if (t === 'semver') return { kind: 'semver' };
  if (t === 'semver-major-locked') return { kind: 'semver', lock: 'major' };
  if (t.startsWith('follow:')) {
    const branch = t.slice('follow:'.length);
    if (!/^[A-Za-z0-9_.-]{1,120}$/.test(branch)) throw invalidArgument(`invalid tag policy '${t}': expected a branch name as it appears in <build>-<branch> tags`, 'tags hold only letters, digits, _ . and -');
    return { kind: 'follow-branch', branch };
  }
  if (t.startsWith('regex:')) {
    const pattern = t.slice('regex:'.length);
    if (pattern === '') throw invalidArgument(`invalid tag policy '${t}': empty pattern`, "e.g. 'regex:^v[0-9]+$'");
    try {
      RE2JS.compile(pattern);
    } catch (cause) {
      throw invalidArgument(`invalid tag policy '${t}': ${(cause as { error?: string }).error ?? (cause as Error).message}`, 'RE2 syntax: no backreferences or lookaround', cause);
    }
    return { kind: 'regex', pattern };
  }
  throw invalidArgument(`invalid tag policy '${t.slice(0, 80)}': expected one of ${POLICY_NAMES}`, "e.g. x-kiboko: {tag-policy: semver}");
}

export function formatTagPolicy(p: TagPolicy): string {
  switch (p.kind) {
    case 'pinned':
      return 'pinned';
    case 'follow-branch':
      return `follow:${p.branch}`;
    case 'semver':
      return p.lock === 'major' ? 'semver-major-locked' : 'semver';
    case 'regex':
      return `regex:${p.pattern}`;
  }
}

/**
 * Pure: may a deploy hook move a service from `current` to `next` under its policy? Equal tags
 * are always allowed (a redeploy); the ordered policies refuse going back (use a rollback).
 */
export function checkTagPolicy(policy: TagPolicy, current: string, next: string): { ok: true } | { ok: false; reason: string } {
  const no = (reason: string) => ({ ok: false as const, reason });
  if (next === current) return { ok: true };
  switch (policy.kind) {
    case 'pinned':
      return { ok: true };
    case 'follow-branch': {
      const b = parseBuildTag(next);
      if (!b || b.branch !== policy.branch) return no(`tag ${next} is not a <build>-${policy.branch} tag`);
      const c = parseBuildTag(current);
      if (c && c.branch === policy.branch && c.build > b.build) return no(`tag ${next} is an older build than the running ${current}`);
      return { ok: true };
    }
    case 'semver': {
      const v = parseSemver(next);
      if (!v) return no(`tag ${next} is not a semantic version (MAJOR.MINOR.PATCH)`);
      const c = parseSemver(current);
      if (c && policy.lock === 'major' && c.major !== v.major) return no(`tag ${next} changes the major version of the running ${current}`);
      if (c && compareSemver(next, current) < 0) return no(`tag ${next} is older than the running ${current}`);
      return { ok: true };
    }
    case 'regex':
      return RE2JS.compile(policy.pattern).matches(next) ? { ok: true } : no(`tag ${next} does not match ${policy.pattern}`);
  }
}
