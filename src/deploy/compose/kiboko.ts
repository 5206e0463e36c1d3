/** kiboko's own extension keys: `x-kiboko` tag policy, config templates, deploy gate, post-deploy tests. */
import path from 'node:path';
import * as z from 'zod/mini';
import { errorMessage } from '../../common/errors.js';
import { LABELS } from '../../common/labels.js';
import type { ServiceSpec, SystemConfig, TagPolicy } from '../model.js';
import { parseTagPolicy } from '../tags.js';
import { readCommand } from './command.js';
import type { Context } from './context.js';
import { isDirectory } from './files.js';
import { closest } from './problems.js';
import { duration, mapOf, scalarValue, str } from './scalars.js';
import { show, type Entry, type Node } from './yaml.js';

export function readKibokoExtension(entry: Entry | undefined, ctx: Context, fallback: TagPolicy): TagPolicy {
  if (!entry) return fallback;
  const docs = 'write x-kiboko: { tag-policy: { follow: <branch> } } or tag-policy: pinned | semver | semver-major-locked | regex:<re2>';
  const map = mapOf(entry.value, ctx, 'a mapping', docs);
  if (!map) return fallback;
  let policy = fallback;
  for (const e of map.entries.values()) {
    // A service's config templates are read by readServiceTemplates; gate and post_deploy_tests by readGate / readPostDeployTests.
    if (e.key === 'config' || e.key === 'gate' || e.key === 'post_deploy_tests') continue;
    if (e.key !== 'tag-policy') {
      const guess = closest(e.key, ['tag-policy', 'config', 'gate', 'post_deploy_tests']);
      ctx.problems.add(e.keyLoc, `unknown x-kiboko key ${JSON.stringify(e.key)}`, guess ? `did you mean ${guess}?` : docs);
      continue;
    }
    const v = e.value;
    if (v.kind === 'scalar' && typeof v.value === 'string') {
      // One word: pinned, any, semver, semver-major-locked, follow:<branch>, regex:<re2>.
      try {
        policy = parseTagPolicy(v.value);
      } catch (err) {
        ctx.problems.add(v.loc, errorMessage(err), docs);
      }
      continue;
    }
    const m = mapOf(v, ctx, '{ follow: <branch> } or pinned', docs);
    if (!m) continue;
    for (const k of m.entries.values()) {
      if (k.key !== 'follow') {
        ctx.problems.add(k.keyLoc, `unknown tag-policy key ${JSON.stringify(k.key)}`, docs);
        continue;
      }
      const branch = str(k.value, ctx, 'a branch name', docs);
      if (branch === undefined) continue;
      if (!/^[A-Za-z0-9_.-]{1,120}$/.test(branch)) {
        ctx.problems.add(
          k.value.loc,
          `expected a branch name as it appears in image tags (<build>-<branch>), got ${JSON.stringify(branch)}`,
          'tags hold only letters, digits, _ . and -; use the name your CI puts in the tag',
        );
        continue;
      }
      policy = { kind: 'follow-branch', branch };
    }
  }
  return policy;
}

/**
 * `x-kiboko: { config: { confdir: ./web-conf, reload: [nginx, -s, reload] } }` on a service: a
 * confd folder rendered into its containers with its dependencies' addresses (src/events/deps).
 */
export function readServiceTemplates(entry: Entry | undefined, ctx: Context): ServiceSpec['templates'] {
  const map = entry?.value.kind === 'map' ? entry.value : undefined;
  const config = map?.entries.get('config');
  if (!config) return undefined;
  const docs = 'write x-kiboko: { config: { confdir: ./conf, reload: [cmd, arg] } } — a confd folder (conf.d/*.toml, templates/)';
  const m = mapOf(config.value, ctx, 'a mapping with confdir (and reload)', docs);
  if (!m) return undefined;
  let confdir: string | undefined;
  let reload: string[] | undefined;
  for (const e of m.entries.values()) {
    if (e.key === 'confdir') {
      const dir = str(e.value, ctx, 'a folder path', docs);
      if (dir === undefined) continue;
      const abs = path.resolve(ctx.projectDir, dir);
      if (!isDirectory(abs)) ctx.problems.add(e.value.loc, `config folder ${dir} does not exist (${abs})`, docs);
      else confdir = abs;
    } else if (e.key === 'reload') {
      reload = readCommand(e, ctx);
    } else {
      const guess = closest(e.key, ['confdir', 'reload']);
      ctx.problems.add(e.keyLoc, `unknown x-kiboko.config key ${JSON.stringify(e.key)}`, guess ? `did you mean ${guess}?` : docs);
    }
  }
  if (!m.entries.has('confdir')) ctx.problems.add(config.keyLoc, 'x-kiboko.config needs confdir', docs);
  return confdir ? { confdir, ...(reload?.length ? { reload } : {}) } : undefined;
}

const GATE_DOCS = 'write x-kiboko: { gate: validate } or { gate: { method: validate, timeout: 20s } } on a service — a lifecycle method its image declares (LABEL kiboko.method.validate=…)';
const TESTS_DOCS = 'write x-kiboko: { post_deploy_tests: { type: integration, timeout: 5m } } at the top level — test images labelled test.type=<type>';
// The lifecycle method and test.type grammars of src/packages (lifecycle.ts, integration.ts).
// Built on first use: most files have no x-kiboko gate or tests.
let methodNameSchema: z.ZodMiniString | undefined;
let testTypeSchema: z.ZodMiniString | undefined;
const methodName = () => (methodNameSchema ??= z.string().check(z.regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/)));
const testType = () => (testTypeSchema ??= z.string().check(z.regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/)));

/** A word checked by a zod schema: `expected <what>, got …` at the node's line. */
function word(node: Node, ctx: Context, schema: z.ZodMiniString, what: string, docs: string): string | undefined {
  const r = schema.safeParse(scalarValue(node));
  if (!r.success) {
    ctx.problems.add(node.loc, `expected ${what}, got ${show(node)}`, docs);
    return undefined;
  }
  return r.data;
}

/** A timeout: a duration above zero. */
function positiveDuration(node: Node, ctx: Context, docs: string): number | undefined {
  const ms = duration(node, ctx, docs);
  if (ms === 0) ctx.problems.add(node.loc, `expected a timeout above zero, got ${show(node)}`, docs);
  return ms ? ms : undefined;
}

/** The `x-kiboko` mapping's entry for `key`, when x-kiboko is a mapping (readKibokoExtension reports it otherwise). */
function kibokoKey(entry: Entry | undefined, key: string): Entry | undefined {
  const e = entry?.value.kind === 'map' ? entry.value.entries.get(key) : undefined;
  return e && !(e.value.kind === 'scalar' && e.value.value === null) ? e : undefined;
}

/**
 * `x-kiboko: { gate: validate }` or `{ gate: { method: validate, timeout: 20s } }` on a service:
 * the lifecycle method a new replica must pass (the `kiboko.deploy.gate` label's equivalent).
 * At the top level it is refused: a gate names a method of one service's image.
 */
export function readGate(entry: Entry | undefined, ctx: Context, scope: 'project' | 'service'): ServiceSpec['gate'] {
  const e = kibokoKey(entry, 'gate');
  if (!e) return undefined;
  if (scope === 'project') {
    ctx.problems.add(e.keyLoc, 'x-kiboko.gate is set per service, not for the whole file', GATE_DOCS);
    return undefined;
  }
  if (e.value.kind !== 'map') {
    const method = word(e.value, ctx, methodName(), 'a lifecycle method name like validate', GATE_DOCS);
    return method === undefined ? undefined : { method };
  }
  let method: string | undefined;
  let timeoutMs: number | undefined;
  for (const k of e.value.entries.values()) {
    if (k.key === 'method') method = word(k.value, ctx, methodName(), 'a lifecycle method name like validate', GATE_DOCS);
    else if (k.key === 'timeout') timeoutMs = positiveDuration(k.value, ctx, GATE_DOCS);
    else {
      const guess = closest(k.key, ['method', 'timeout']);
      ctx.problems.add(k.keyLoc, `unknown x-kiboko.gate key ${JSON.stringify(k.key)}`, guess ? `did you mean ${guess}?` : GATE_DOCS);
    }
  }
  if (!e.value.entries.has('method')) ctx.problems.add(e.keyLoc, 'x-kiboko.gate needs method', GATE_DOCS);
  return method === undefined ? undefined : { method, ...(timeoutMs !== undefined ? { timeoutMs } : {}) };
}

/** A service label `kiboko.deploy.gate` and `x-kiboko.gate` may both be written only when they agree. */
export function checkGateLabel(spec: ServiceSpec, entry: Entry | undefined, ctx: Context): void {
  const label = spec.labels[LABELS.deployGate];
  const e = kibokoKey(entry, 'gate');
  if (!spec.gate || label === undefined || label === spec.gate.method || !e) return;
  ctx.problems.add(
    e.keyLoc,
    `x-kiboko.gate says ${JSON.stringify(spec.gate.method)} but the label ${LABELS.deployGate} says ${JSON.stringify(label)}`,
    'keep one of them (x-kiboko.gate can also set a timeout)',
  );
}

/**
 * Top-level `x-kiboko: { post_deploy_tests: { type: integration, timeout: 5m } }` (or just
 * `post_deploy_tests: integration`): after a successful apply the project's test containers must
 * pass, else the deploy is rolled back. On a service it is refused: the tests judge the project.
 */
export function readPostDeployTests(entry: Entry | undefined, ctx: Context, scope: 'project' | 'service'): SystemConfig['postDeployTests'] {
  const e = kibokoKey(entry, 'post_deploy_tests');
  if (!e) return undefined;
  if (scope === 'service') {
    ctx.problems.add(e.keyLoc, 'x-kiboko.post_deploy_tests applies to the whole project, not to one service', `move it to the top-level x-kiboko; ${TESTS_DOCS}`);
    return undefined;
  }
  if (e.value.kind !== 'map') {
    const type = word(e.value, ctx, testType(), 'a test type like integration (or a mapping with type and timeout)', TESTS_DOCS);
    return type === undefined ? undefined : { type };
  }
  let type = 'integration';
  let timeoutMs: number | undefined;
  let ok = true;
  for (const k of e.value.entries.values()) {
    if (k.key === 'type') {
      const t = word(k.value, ctx, testType(), 'a test type like integration (letters, digits, _ . -)', TESTS_DOCS);
      if (t === undefined) ok = false;
      else type = t;
    } else if (k.key === 'timeout') {
      timeoutMs = positiveDuration(k.value, ctx, TESTS_DOCS);
      if (timeoutMs === undefined) ok = false;
    } else {
      const guess = closest(k.key, ['type', 'timeout']);
      ctx.problems.add(k.keyLoc, `unknown x-kiboko.post_deploy_tests key ${JSON.stringify(k.key)}`, guess ? `did you mean ${guess}?` : TESTS_DOCS);
      ok = false;
    }
  }
  return ok ? { type, ...(timeoutMs !== undefined ? { timeoutMs } : {}) } : undefined;
}
